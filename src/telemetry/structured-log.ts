/**
 * Structured log lines. Many services write one JSON object per line (Go's zap and logrus,
 * Node's pino and bunyan, Python's JSON formatters, .NET's Serilog compact format, a collector
 * that did not parse the line). Kept whole as a record's body, such a line hands the template
 * miner words that are keys, timestamps and request ids glued to the message's first and last
 * words (`{"message":"Request` … `complete","session":"…","severity":"info"}` when the object
 * has no spaces), so two messages that differ only in their last word fall into one template,
 * and a level written in lower case (`"severity":"error"`, pino's `"level":50`) is never read.
 * Readers take the message and the level out here; the rest of the object is dropped.
 */
import type { Severity } from './types.js';

/** Keys that hold the human message, in order of preference. */
const MESSAGE_KEYS = ['message', 'msg', '@m', '@mt', 'Message', 'event', 'text', 'log', 'body'];
/** Keys that hold the level. */
const LEVEL_KEYS = ['severity', 'level', 'lvl', '@l', 'levelname', 'log.level', 'loglevel', 'Level', 'Severity', 'LogLevel'];
/** Keys that hold an error's text, which is what tells one failure from another. */
const ERROR_KEYS = ['error', 'err', 'exception', '@x', 'exc_info', 'stack_trace', 'stack'];

export interface StructuredLine {
  /** the message, with the first line of an error field after it when there is one */
  message: string;
  /** from the level field; 'unknown' when the object has none the reader understands */
  severity: Severity;
}

/**
 * The message and level of a body that is one JSON object, or null when it is not (most plain
 * text lines are rejected by their first character, so the check costs nothing for them). An
 * object without a message key keeps the whole body as its message.
 */
export function structuredLogLine(body: string): StructuredLine | null {
  if (body.charCodeAt(0) !== 123) return null; // '{'
  let end = body.length - 1;
  while (end > 0 && body.charCodeAt(end) <= 32) end--;
  if (body.charCodeAt(end) !== 125) return null; // '}'
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const o = v as Record<string, unknown>;
  let message: string | undefined;
  for (const k of MESSAGE_KEYS) {
    const m = o[k];
    if (typeof m === 'string') {
      message = m;
      break;
    }
  }
  if (message === undefined) message = body;
  else {
    const detail = errorText(o);
    if (detail && !message.includes(detail)) message = message.length > 0 ? `${message} ${detail}` : detail;
  }
  let severity: Severity = 'unknown';
  for (const k of LEVEL_KEYS) {
    if (o[k] === undefined) continue;
    severity = severityFromLevel(o[k]);
    if (severity !== 'unknown') break;
  }
  return { message, severity };
}

function errorText(o: Record<string, unknown>): string | undefined {
  for (const k of ERROR_KEYS) {
    let e = o[k];
    // pino and bunyan serialize an Error as { type, message, stack }
    if (typeof e === 'object' && e !== null && !Array.isArray(e)) e = (e as Record<string, unknown>).message;
    if (typeof e === 'string' && e.length > 0) {
      const nl = e.indexOf('\n');
      return (nl < 0 ? e : e.slice(0, nl)).trim();
    }
  }
  return undefined;
}

/**
 * A level field's value: a name in any case (`info`, `WARNING`, `Error`, Serilog's
 * `Information`), or pino's and bunyan's numbers (10 trace … 60 fatal). Other numbers
 * (syslog's 0–7 run the other way) are not guessed.
 */
export function severityFromLevel(v: unknown): Severity {
  if (typeof v === 'string') return severityFromText(v);
  if (typeof v === 'number' && Number.isInteger(v) && v >= 10 && v <= 60 && v % 10 === 0) {
    return (['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)[v / 10 - 1];
  }
  return 'unknown';
}

/** A level name as log frameworks print it, in any case. */
export function severityFromText(text: string): Severity {
  const t = text.trim().toLowerCase();
  if (t.length === 0) return 'unknown';
  if (/^(trace|finest|finer)/.test(t)) return 'trace';
  if (/^(debug|fine|dbg|verbose)/.test(t)) return 'debug';
  if (/^(info|information|notice|informational)/.test(t)) return 'info';
  if (/^(warn|warning)/.test(t)) return 'warn';
  if (/^(error|err|severe)/.test(t)) return 'error';
  if (/^(fatal|critical|crit|emerg|emergency|alert|panic)/.test(t)) return 'fatal';
  return 'unknown';
}
