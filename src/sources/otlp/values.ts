/**
 * Encoding rules of OTLP/HTTP JSON (the protobuf JSON mapping with OTLP's exceptions): AnyValue,
 * attributes, 64-bit integers, doubles, hex ids, enums. Shared by the reader and the writer so
 * both sides agree on every corner.
 */
import { severityFromText, type Severity, type SpanKind, type SpanStatus } from '../../telemetry/index.js';

export type Primitive = string | number | boolean;

/** A JSON object as parsed; OTLP fields are checked one by one, never trusted. */
export type Json = Record<string, unknown>;

export interface KeyValue {
  key: string;
  value?: AnyValue;
}

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string | number;
  doubleValue?: number | string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
  bytesValue?: string;
}

export function isObject(x: unknown): x is Json {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function asArray(x: unknown): unknown[] {
  return Array.isArray(x) ? x : [];
}

/**
 * int64/uint64 fields: the JSON mapping writes them as decimal strings, but many producers
 * write plain numbers. Returns NaN when absent or unreadable.
 */
export function int64(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string' && x.length > 0) return Number(x);
  return NaN;
}

/** double fields: a number, or one of the strings "NaN", "Infinity", "-Infinity". */
export function double(x: unknown): number {
  if (typeof x === 'number') return x;
  if (typeof x === 'string') {
    if (x === 'NaN') return NaN;
    if (x === 'Infinity') return Infinity;
    if (x === '-Infinity') return -Infinity;
    if (x.length > 0) return Number(x);
  }
  return NaN;
}

/** How a double goes into JSON: numbers as numbers, the non-finite ones as the spec's strings. */
export function encodeDouble(v: number): number | string {
  if (Number.isFinite(v)) return v;
  if (Number.isNaN(v)) return 'NaN';
  return v > 0 ? 'Infinity' : '-Infinity';
}

/** A nanosecond timestamp field as a BigInt (exact), or null when absent, zero or unreadable. */
export function nanosBig(x: unknown): bigint | null {
  try {
    if (typeof x === 'string' && /^\d+$/.test(x)) {
      const b = BigInt(x);
      return b === 0n ? null : b;
    }
    if (typeof x === 'number' && Number.isFinite(x) && x > 0) return BigInt(Math.round(x));
  } catch {
    /* unreadable: treated as absent */
  }
  return null;
}

/**
 * The range of times a record may carry. Outside it a time is a producer bug (or a unit
 * mistake), and a year-1970 or year-33658 record would stretch the dataset's time range into
 * millions of windows; such records are reported and dropped.
 */
export const MIN_TIME_MS = Date.UTC(2000, 0, 1);
export const MAX_TIME_MS = Date.UTC(2100, 0, 1);

/**
 * A nanosecond timestamp field to ms: null when absent or 0 (OTLP's "unset"); a reason (string)
 * when present but unusable: not a decimal integer, negative, not finite, or outside
 * [MIN_TIME_MS, MAX_TIME_MS). Never throws.
 */
export function nanosTime(x: unknown): number | null | string {
  if (x === undefined || x === null || x === 0 || x === '0' || x === '') return null;
  let n: bigint;
  if (typeof x === 'string') {
    if (!/^\d+$/.test(x)) return `time ${JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x)} is not a decimal integer of nanoseconds`;
    n = BigInt(x);
  } else if (typeof x === 'number') {
    if (!Number.isFinite(x) || x < 0) return `time ${x} ns is not a finite non-negative number`;
    n = BigInt(Math.round(x));
  } else {
    return `time is a ${Array.isArray(x) ? 'array' : typeof x}, not nanoseconds`;
  }
  if (n === 0n) return null;
  const ms = bigNanosToMs(n);
  if (!(ms >= MIN_TIME_MS && ms < MAX_TIME_MS)) return `time ${n} ns is outside 2000-01-01..2100-01-01`;
  return ms;
}

/** Nanoseconds (exact) to ms, keeping sub-ms digits down to the float's resolution. */
export function bigNanosToMs(n: bigint): number {
  const whole = n / 1_000_000n;
  return Number(whole) + Number(n - whole * 1_000_000n) / 1e6;
}

/**
 * Trace/span id as lower-case hex, or undefined when absent/empty. OTLP JSON writes ids as hex,
 * but exporters built on the plain protobuf JSON mapping write base64 (24 or 12 characters):
 * those are converted. Anything else is kept, lower-cased.
 */
export function hexId(x: unknown): string | undefined {
  if (typeof x !== 'string' || x.length === 0) return undefined;
  if (/^[0-9a-fA-F]+$/.test(x)) return x.toLowerCase();
  if ((x.length === 24 || x.length === 12) && /^[A-Za-z0-9+/]+=*$/.test(x)) {
    const hex = Buffer.from(x, 'base64').toString('hex');
    if (hex.length === (x.length === 24 ? 32 : 16)) return hex;
  }
  return x.toLowerCase();
}

/** AnyValue to a plain JS value (objects for kvlists, arrays for arrays). */
export function plainValue(v: unknown): unknown {
  if (!isObject(v)) return null;
  if (typeof v.stringValue === 'string') return v.stringValue;
  if (typeof v.boolValue === 'boolean') return v.boolValue;
  if (v.intValue !== undefined) return int64(v.intValue);
  if (v.doubleValue !== undefined) return double(v.doubleValue);
  if (isObject(v.arrayValue)) return asArray(v.arrayValue.values).map(plainValue);
  if (isObject(v.kvlistValue)) {
    const o: Record<string, unknown> = {};
    for (const kv of asArray(v.kvlistValue.values)) if (isObject(kv) && typeof kv.key === 'string') o[kv.key] = plainValue(kv.value);
    return o;
  }
  if (typeof v.bytesValue === 'string') return v.bytesValue;
  // Proto3 JSON drops default values, so {"stringValue": ""} may arrive as {} or a bool false
  // as {}: an empty AnyValue is the empty/default value, which we cannot tell apart.
  return null;
}

/** AnyValue to a primitive: arrays and kvlists become their JSON text, bytes stay base64. */
export function primitiveValue(v: unknown): Primitive {
  const p = plainValue(v);
  if (typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean') return p;
  if (p === null) return '';
  return JSON.stringify(p);
}

/** Log body: a string body as is, anything else as JSON text. */
export function bodyText(v: unknown): string {
  const p = plainValue(v);
  if (typeof p === 'string') return p;
  if (p === null) return '';
  return JSON.stringify(p);
}

/** KeyValue list to a flat record of primitives; undefined when empty. */
export function flattenAttributes(list: unknown): Record<string, Primitive> | undefined {
  if (!Array.isArray(list) || list.length === 0) return undefined;
  const out: Record<string, Primitive> = {};
  let n = 0;
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string') continue;
    out[kv.key] = primitiveValue(kv.value);
    n++;
  }
  return n > 0 ? out : undefined;
}

/** Only the string-valued resource attributes matter for entities. */
export function stringAttributes(list: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const kv of asArray(list)) {
    if (!isObject(kv) || typeof kv.key !== 'string') continue;
    const p = plainValue(kv.value);
    if (typeof p === 'string' && p.length > 0) out.set(kv.key, p);
    else if (typeof p === 'number' || typeof p === 'boolean') out.set(kv.key, String(p));
  }
  return out;
}

export function encodeValue(v: Primitive): AnyValue {
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  // Integers go as intValue strings (the int64 mapping); -0 and non-integers keep the double.
  if (Number.isSafeInteger(v) && !Object.is(v, -0)) return { intValue: String(v) };
  return { doubleValue: encodeDouble(v) };
}

export function encodeAttributes(attrs: Record<string, Primitive> | undefined): KeyValue[] | undefined {
  if (!attrs) return undefined;
  const keys = Object.keys(attrs);
  if (keys.length === 0) return undefined;
  return keys.map((key) => ({ key, value: encodeValue(attrs[key]) }));
}

// ---- enums ---------------------------------------------------------------------------------

/** Status.code: 2 / STATUS_CODE_ERROR → error, 1 / STATUS_CODE_OK → ok, anything else unset. */
export function spanStatus(status: unknown): SpanStatus {
  if (!isObject(status)) return 'unset';
  const c = status.code;
  if (c === 2 || c === '2' || c === 'STATUS_CODE_ERROR') return 'error';
  if (c === 1 || c === '1' || c === 'STATUS_CODE_OK') return 'ok';
  return 'unset';
}

export function encodeStatus(s: SpanStatus): { code: number } | undefined {
  if (s === 'error') return { code: 2 };
  if (s === 'ok') return { code: 1 };
  return undefined;
}

const SPAN_KINDS: (SpanKind | undefined)[] = [undefined, 'internal', 'server', 'client', 'producer', 'consumer'];

/** Span.kind as an int (1..5) or enum name (SPAN_KIND_SERVER); undefined when unspecified. */
export function spanKind(k: unknown): SpanKind | undefined {
  if (typeof k === 'number') return SPAN_KINDS[k];
  if (typeof k === 'string') {
    const m = /^SPAN_KIND_(INTERNAL|SERVER|CLIENT|PRODUCER|CONSUMER)$/.exec(k);
    if (m) return m[1].toLowerCase() as SpanKind;
    if (/^\d$/.test(k)) return SPAN_KINDS[Number(k)];
  }
  return undefined;
}

export function encodeSpanKind(k: SpanKind | undefined): number | undefined {
  if (k === undefined) return undefined;
  const i = SPAN_KINDS.indexOf(k);
  return i > 0 ? i : undefined;
}

const SEVERITY_BY_RANGE: Severity[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const SEVERITY_NAME = /^SEVERITY_NUMBER_(TRACE|DEBUG|INFO|WARN|ERROR|FATAL)([234])?$/;

/** severityNumber (int or enum name) by its ranges of four; else severityText; else unknown. */
export function severityOf(num: unknown, text: unknown): Severity {
  let n = NaN;
  if (typeof num === 'number') n = num;
  else if (typeof num === 'string') {
    const m = SEVERITY_NAME.exec(num);
    if (m) return m[1].toLowerCase() as Severity;
    n = Number(num);
  }
  if (Number.isInteger(n) && n >= 1 && n <= 24) return SEVERITY_BY_RANGE[Math.floor((n - 1) / 4)];
  return typeof text === 'string' ? severityFromText(text) : 'unknown';
}

/** The first number of each range, and the usual short text. 'unknown' writes neither. */
export function encodeSeverity(s: Severity): { severityNumber?: number; severityText?: string } {
  const i = SEVERITY_BY_RANGE.indexOf(s);
  if (i < 0) return {};
  return { severityNumber: i * 4 + 1, severityText: s.toUpperCase() };
}
