import { csvField, csvFieldBounds, lineBatches, splitCsvLine } from '../io/index.js';
import { serviceOfPod, structuredLogLine } from '../../telemetry/index.js';
import type { LogRecord, ProblemLog, Severity, Span, TimeRange } from '../../telemetry/index.js';
import type { MinuteFile } from './layout.js';
import { intField, nanosFieldToMs } from './numbers.js';
import { CLOCK_TOLERANCE_MS, ClockTally, dayBounds, textTimeMs } from './clocks.js';

/**
 * The per-minute trace and log files. Both are parsed field-by-field from the line's
 * characters (csvFieldBounds): one substring per kept text field, no per-field regex, no
 * JSON.parse unless a log body holds a JSON escape.
 */

/**
 * A copy of `s` that shares no memory with the line it was cut from: V8 keeps a substring as a
 * view of its parent, and a name kept for the whole run must not pin a 256 KB chunk of text.
 */
export function detach(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}

/** Names shared by every file of a dataset: one string per pod, one attributes object per node/container. */
export class Names {
  private pods = new Map<string, { pod: string; service: string }>();

  pod(name: string): { pod: string; service: string } {
    let p = this.pods.get(name);
    if (!p) {
      const pod = detach(name);
      p = { pod, service: serviceOfPod(pod) };
      this.pods.set(pod, p);
    }
    return p;
  }

  private attrs = new Map<string, Readonly<Record<string, string>>>();

  /**
   * Log attributes shared by every record with the same node and container (frozen: a record
   * that needs its own attributes copies them).
   */
  attributes(node: string, container: string): Readonly<Record<string, string>> {
    const key = node + '\u0000' + container;
    let a = this.attrs.get(key);
    if (!a) {
      const own: Record<string, string> = {};
      if (node) own.node = detach(node);
      if (container) own.container = detach(container);
      a = Object.freeze(own);
      this.attrs.set(detach(key), a);
    }
    return a;
  }
}

const NO_POD = { pod: '\u0000', service: '' };

/** Whether line[s, e) is exactly `text`, without cutting a substring. */
function sameText(line: string, s: number, e: number, text: string): boolean {
  return e - s === text.length && line.startsWith(text, s);
}

export interface MinuteContext {
  problems: ProblemLog;
  names: Names;
}

/**
 * lineBatches' onError for a data file: the damage (truncated or corrupt gzip, ...) is one
 * problem naming the file and how far it got; the rows read before it stay.
 */
export function reportDamage(problems: ProblemLog, rel: string) {
  return (d: { linesRead: number; bytesRead: number; reason: string }): void => {
    const rows = Math.max(0, d.linesRead - 1); // the header is line 1
    const kept = rows > 0 ? `the ${rows} row(s) before it were kept` : 'no row was readable';
    problems.add(rel, d.linesRead, `damaged file: ${d.reason} after ${d.linesRead} line(s) (${d.bytesRead} bytes); ${kept}`, 'damaged-file');
  };
}

/** Duration (µs) and End − Start (ns) of the exported spans agree to the µs. */
const DURATION_TOLERANCE_MS = 1;

function columnsOf(line: string, file: MinuteFile, required: string[], ctx: MinuteContext): string[] | null {
  const header = splitCsvLine(line);
  if (!header) {
    ctx.problems.add(file.rel, 1, 'malformed CSV header; file skipped', 'layout');
    return null;
  }
  const missing = required.filter((r) => !r.split('|').some((alt) => header.includes(alt)));
  if (missing.length > 0) {
    ctx.problems.add(file.rel, 1, `missing column(s) ${missing.join(', ')}; file skipped`, 'layout');
    return null;
  }
  return header;
}

/**
 * Locates the fields of a data line; false (reported) when it cannot be read as one record.
 * A quoted field followed by stray text (two writes run together) is kept when the line still
 * has the header's field count, and reported either way.
 */
function locate(line: string, width: number, starts: Int32Array, ends: Int32Array, file: MinuteFile, lineNo: number, ctx: MinuteContext): boolean {
  const n = csvFieldBounds(line, starts, ends);
  if (n === width) return true;
  if (n === -2) {
    const m = csvFieldBounds(line, starts, ends, true);
    if (m === width) {
      ctx.problems.add(file.rel, lineNo, 'text after a closing quote ignored (two records run together?); record kept', 'malformed-record');
      return true;
    }
    ctx.problems.add(file.rel, lineNo, `malformed CSV: text after a closing quote, ${m} fields instead of ${width} (two records run together?); skipped`, 'malformed-record');
    return false;
  }
  ctx.problems.add(file.rel, lineNo, n === -1 ? 'malformed CSV: unterminated quote; skipped' : `${n} fields instead of ${width}; skipped`, 'malformed-record');
  return false;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/;

/** ISO-8601 date-time to ms; a time without a zone is UTC (never the machine's local time). */
export function parseIsoUtc(text: string): number {
  const m = ISO_RE.exec(text.trim());
  if (!m) return NaN;
  let ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (m[7]) ms += Number(m[7]) * 1000;
  const z = m[8];
  if (z && z !== 'Z') {
    const sign = z[0] === '-' ? -1 : 1;
    const digits = z.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return ms;
}

const inRange = (t: number, range: TimeRange | undefined) => !range || (t >= range.start && t < range.end);

/**
 * Spans of a trace file: TraceID, SpanID, ParentID (`root` for a root span), PodName,
 * OperationName, StartTimeUnixNano, EndTimeUnixNano, Duration (µs). The data has no status.
 */
export async function* readTraceFile(file: MinuteFile, range: TimeRange | undefined, ctx: MinuteContext): AsyncGenerator<Span[]> {
  let width = 0;
  let cTrace = -1, cSpan = -1, cParent = -1, cPod = -1, cOp = -1, cStart = -1, cEnd = -1, cDur = -1;
  let starts = new Int32Array(16);
  let ends = new Int32Array(16);
  let started = false;
  // Start is checked against End − Duration; a start outside the day is repaired from them.
  const clock = new ClockTally(dayBounds(file.day), 'StartTimeUnixNano', 'EndTimeUnixNano − Duration');
  const { lo, hi } = clock.bounds;
  let durationOff = 0;
  let durationLine = 0;
  for await (const { lines, firstLine } of lineBatches(file.path, { onError: reportDamage(ctx.problems, file.rel) })) {
    let i = 0;
    if (!started) {
      started = true;
      const h = columnsOf(lines[0], file, ['TraceID', 'SpanID', 'PodName', 'StartTimeUnixNano', 'Duration|EndTimeUnixNano'], ctx);
      if (!h) return;
      width = h.length;
      [cTrace, cSpan, cParent, cPod, cOp, cStart, cEnd, cDur] = ['TraceID', 'SpanID', 'ParentID', 'PodName', 'OperationName', 'StartTimeUnixNano', 'EndTimeUnixNano', 'Duration'].map((n) => h.indexOf(n));
      starts = new Int32Array(width + 1);
      ends = new Int32Array(width + 1);
      i = 1;
    }
    const out: Span[] = [];
    let pod = NO_POD;
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (line.length === 0) continue;
      if (!locate(line, width, starts, ends, file, firstLine + i, ctx)) continue;
      let start = nanosFieldToMs(line, starts[cStart], ends[cStart]);
      if (!(start > 0)) {
        ctx.problems.add(file.rel, firstLine + i, 'StartTimeUnixNano is not a valid time; skipped', 'time');
        continue;
      }
      const end = cEnd >= 0 ? nanosFieldToMs(line, starts[cEnd], ends[cEnd]) : NaN;
      let duration = cDur >= 0 ? intField(line, starts[cDur], ends[cDur]) / 1000 : NaN;
      if (!Number.isFinite(duration)) duration = end - start;
      else if (end === end) {
        const alt = end - duration;
        const off = Math.abs(start - alt);
        if (off > DURATION_TOLERANCE_MS && off <= CLOCK_TOLERANCE_MS && durationOff++ === 0) durationLine = firstLine + i;
        if (off > CLOCK_TOLERANCE_MS) {
          clock.noteDisagree(start - alt, firstLine + i);
          if (start >= lo && start < hi) clock.kept++;
          else if (alt >= lo && alt < hi) {
            start = alt;
            clock.repaired++;
          } else {
            clock.dropped++;
            continue;
          }
        }
      }
      if (!(start >= lo && start < hi)) {
        clock.noteOutside(start, firstLine + i);
        continue;
      }
      if (range && !inRange(start, range)) continue;
      if (!sameText(line, starts[cPod], ends[cPod], pod.pod)) pod = ctx.names.pod(csvField(line, starts[cPod], ends[cPod]));
      let parentId: string | undefined;
      if (cParent >= 0) {
        const ps = starts[cParent];
        const pe = ends[cParent];
        if (pe > ps && !(pe - ps === 4 && line.startsWith('root', ps))) parentId = line.slice(ps, pe);
      }
      out.push({
        traceId: line.slice(starts[cTrace], ends[cTrace]),
        spanId: line.slice(starts[cSpan], ends[cSpan]),
        parentId,
        entity: pod.pod,
        service: pod.service,
        operation: cOp >= 0 ? csvField(line, starts[cOp], ends[cOp]) : '',
        start,
        duration,
        status: 'unset',
      });
    }
    if (out.length > 0) yield out;
  }
  clock.report(ctx.problems, file.rel);
  if (durationOff > 0) {
    ctx.problems.add(
      file.rel,
      durationLine,
      `Duration disagrees with EndTimeUnixNano − StartTimeUnixNano by more than ${DURATION_TOLERANCE_MS} ms on ${durationOff} span(s) (first line ${durationLine}); Duration kept`,
      'clock',
    );
  }
}

// Level words as log frameworks print them; the first one in the head of the body wins.
const SEVERITY_RE = /(?:^|[^A-Za-z])(TRACE|DEBUG|INFO|WARN|WARNING|ERROR|ERR|FATAL|CRITICAL|SEVERE|PANIC)(?![A-Za-z])/;
const SEVERITY_OF: Record<string, Severity> = {
  TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', WARNING: 'warn', ERROR: 'error', ERR: 'error',
  FATAL: 'fatal', CRITICAL: 'fatal', SEVERE: 'error', PANIC: 'fatal',
};

/** Severity from a log body, e.g. `16:42:22.382 INFO  t.s.TravelServiceImpl ...`. */
export function severityOf(body: string): Severity {
  const m = SEVERITY_RE.exec(body.length > 120 ? body.slice(0, 120) : body);
  return m ? SEVERITY_OF[m[1]] : 'unknown';
}

const ENVELOPE_CSV = '{""log"":""';

/**
 * The "log" string of a Docker JSON envelope `{"log":"...\n","stream":...}` held in
 * line[s, e) as a quoted CSV field (quotes doubled), without its trailing newline. Slices the
 * string out instead of parsing the envelope; only a body with a JSON escape goes through
 * JSON.parse. Returns null when the field is not such an envelope.
 */
export function dockerLogBody(line: string, s: number, e: number): string | null {
  if (!line.startsWith(ENVELOPE_CSV, s)) return null;
  const from = s + ENVELOPE_CSV.length;
  // The JSON string ends at the first `""` (a CSV-doubled quote) not escaped by an odd run of backslashes.
  let q = from;
  for (;;) {
    q = line.indexOf('""', q);
    if (q < 0 || q >= e) return null;
    let bs = 0;
    while (q - 1 - bs >= from && line.charCodeAt(q - 1 - bs) === 92) bs++;
    if (bs % 2 === 0) break;
    q += 2;
  }
  // Drop the escaped trailing newline (`\n`, unless its backslash is itself escaped) before
  // anything else: most bodies then hold no escape at all and need no JSON.parse.
  let to = q;
  if (to - from >= 2 && line.charCodeAt(to - 1) === 110 && line.charCodeAt(to - 2) === 92) {
    let bs = 1;
    while (to - 2 - bs >= from && line.charCodeAt(to - 2 - bs) === 92) bs++;
    if (bs % 2 === 1) to -= 2;
  }
  let raw = line.slice(from, to);
  if (raw.includes('""')) raw = raw.replaceAll('""', '"');
  if (raw.includes('\\')) {
    try {
      raw = JSON.parse('"' + raw + '"') as string;
    } catch {
      // an invalid escape: keep the text as written rather than lose the record
    }
  }
  return raw;
}

/** Same for an envelope that is not CSV-quoted (already unquoted text). */
function jsonLogBody(text: string): string | null {
  if (!text.startsWith('{') || !text.includes('"log"')) return null;
  try {
    const v = JSON.parse(text) as { log?: unknown };
    if (typeof v.log === 'string') return v.log.endsWith('\n') ? v.log.slice(0, -1) : v.log;
  } catch {
    // not JSON after all
  }
  return null;
}

/**
 * Logs of a log file: Timestamp, TimeUnixNano, Node, PodName, Container, TraceID, SpanID, Log
 * (a Docker JSON envelope). `onNode` learns the node of each pod.
 */
export async function* readLogFile(file: MinuteFile, range: TimeRange | undefined, ctx: MinuteContext): AsyncGenerator<LogRecord[]> {
  let width = 0;
  let cTime = -1, cIso = -1, cNode = -1, cPod = -1, cContainer = -1, cTrace = -1, cSpan = -1, cLog = -1;
  let starts = new Int32Array(16);
  let ends = new Int32Array(16);
  let started = false;
  // TimeUnixNano is checked against the Timestamp text; on disagreement the text wins when it
  // lies within the day (as for metrics, where the text column is the trustworthy one).
  const clock = new ClockTally(dayBounds(file.day), 'TimeUnixNano', 'Timestamp');
  const { lo, hi } = clock.bounds;
  for await (const { lines, firstLine } of lineBatches(file.path, { onError: reportDamage(ctx.problems, file.rel) })) {
    let i = 0;
    if (!started) {
      started = true;
      const h = columnsOf(lines[0], file, ['PodName', 'Log', 'TimeUnixNano|Timestamp'], ctx);
      if (!h) return;
      width = h.length;
      [cTime, cIso, cNode, cPod, cContainer, cTrace, cSpan, cLog] = ['TimeUnixNano', 'Timestamp', 'Node', 'PodName', 'Container', 'TraceID', 'SpanID', 'Log'].map((n) => h.indexOf(n));
      starts = new Int32Array(width + 1);
      ends = new Int32Array(width + 1);
      i = 1;
    }
    const out: LogRecord[] = [];
    let pod = NO_POD;
    let attrs: Readonly<Record<string, string>> | null = null;
    let attrNode = '';
    let attrContainer = '';
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (line.length === 0) continue;
      if (!locate(line, width, starts, ends, file, firstLine + i, ctx)) continue;
      let time = cTime >= 0 ? nanosFieldToMs(line, starts[cTime], ends[cTime]) : NaN;
      // Some exporters write Go's zero time as TimeUnixNano (-6795364578871345152): the
      // Timestamp text of the same row is then the only time there is.
      if (!(time > 0)) {
        const iso = cIso >= 0 ? parseIsoUtc(line.slice(starts[cIso], ends[cIso])) : NaN;
        if (!(iso > 0)) {
          ctx.problems.add(file.rel, firstLine + i, 'no valid time in TimeUnixNano or Timestamp; skipped', 'time');
          continue;
        }
        if (cTime >= 0) ctx.problems.add(file.rel, firstLine + i, 'TimeUnixNano is not a valid time; time taken from Timestamp', 'time');
        time = iso;
      } else if (cIso >= 0) {
        const text = textTimeMs(line, starts[cIso], ends[cIso]);
        if (text === text && Math.abs(time - text) > CLOCK_TOLERANCE_MS) {
          clock.noteDisagree(time - text, firstLine + i);
          if (text >= lo && text < hi) {
            time = text;
            clock.repaired++;
          } else if (time >= lo && time < hi) clock.kept++;
          else {
            clock.dropped++;
            continue;
          }
        }
      }
      if (!(time >= lo && time < hi)) {
        clock.noteOutside(time, firstLine + i);
        continue;
      }
      if (range && !inRange(time, range)) continue;
      const ls = starts[cLog];
      const le = ends[cLog];
      let body = line.charCodeAt(ls - 1) === 34 ? dockerLogBody(line, ls, le) : null;
      if (body === null) {
        const text = csvField(line, ls, le);
        body = jsonLogBody(text) ?? text;
      }
      if (!sameText(line, starts[cPod], ends[cPod], pod.pod)) pod = ctx.names.pod(csvField(line, starts[cPod], ends[cPod]));
      // A JSON line (Go, Node and Python services log so): its message and level, not the object.
      const structured = structuredLogLine(body);
      let severity: Severity;
      if (structured) {
        body = structured.message;
        severity = structured.severity !== 'unknown' ? structured.severity : severityOf(body);
      } else severity = severityOf(body);
      const rec: LogRecord = { time, entity: pod.pod, service: pod.service, severity, body };
      if (cTrace >= 0 && ends[cTrace] > starts[cTrace]) rec.traceId = line.slice(starts[cTrace], ends[cTrace]);
      if (cSpan >= 0 && ends[cSpan] > starts[cSpan]) rec.spanId = line.slice(starts[cSpan], ends[cSpan]);
      if (cNode >= 0 || cContainer >= 0) {
        // Rows come grouped by pod: one shared attributes object per (node, container) pair.
        if (
          !attrs ||
          (cNode >= 0 && !sameText(line, starts[cNode], ends[cNode], attrNode)) ||
          (cContainer >= 0 && !sameText(line, starts[cContainer], ends[cContainer], attrContainer))
        ) {
          attrNode = cNode >= 0 ? csvField(line, starts[cNode], ends[cNode]) : '';
          attrContainer = cContainer >= 0 ? csvField(line, starts[cContainer], ends[cContainer]) : '';
          attrs = ctx.names.attributes(attrNode, attrContainer);
        }
        rec.attributes = attrs;
      }
      out.push(rec);
    }
    if (out.length > 0) yield out;
  }
  clock.report(ctx.problems, file.rel);
}

/**
 * Pod → node pairs from the head of a log file (the first `bytes` or so): log rows are the
 * only place the export names nodes, and a pod stays on its node for the whole run.
 */
export async function podNodesFromLogHead(path: string, bytes: number, into: Map<string, string>): Promise<void> {
  let header: string[] | null = null;
  let cNode = -1;
  let cPod = -1;
  const starts = new Int32Array(64);
  const ends = new Int32Array(64);
  // A damaged file is reported when its rows are read; its head is enough here.
  for await (const { lines } of lineBatches(path, { chunkSize: bytes, onError: () => {} })) {
    let i = 0;
    if (!header) {
      header = splitCsvLine(lines[0]) ?? [];
      cNode = header.indexOf('Node');
      cPod = header.indexOf('PodName');
      if (cNode < 0 || cPod < 0) return;
      i = 1;
    }
    for (; i < lines.length; i++) {
      const n = csvFieldBounds(lines[i], starts, ends);
      if (n !== header.length) continue;
      const pod = csvField(lines[i], starts[cPod], ends[cPod]);
      const node = csvField(lines[i], starts[cNode], ends[cNode]);
      if (pod && node && !into.has(pod)) into.set(detach(pod), detach(node));
    }
    return; // the first chunk is enough
  }
}
