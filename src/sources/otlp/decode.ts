/**
 * One Export*ServiceRequest (already JSON-parsed) to the data model. The mapping is documented
 * in docs/formats/otlp-mapping.md; keep the two in step.
 */
import { serviceOfPod, structuredLogLine } from '../../telemetry/index.js';
import type { Entity, LogRecord, Modality, ProblemKind, Span, SpanEvent } from '../../telemetry/index.js';
import type { PointKind, RawPoint, Temporality } from './temporality.js';
import {
  asArray,
  bigNanosToMs,
  bodyText,
  double,
  flattenAttributes,
  hexId,
  int64,
  isObject,
  nanosBig,
  nanosTime,
  primitiveValue,
  severityOf,
  spanKind,
  spanStatus,
  stringAttributes,
} from './values.js';
import type { Json } from './values.js';

/**
 * Longest string kept in a span event attribute or status message (characters): exception
 * stack traces run to many kB each, and the type and message are the evidence. Cut text ends
 * with "…".
 */
export const MAX_EVENT_TEXT = 2000;

function capText(s: string): string {
  return s.length > MAX_EVENT_TEXT ? s.slice(0, MAX_EVENT_TEXT - 1) + '…' : s;
}

/** OTel SDKs name a service they were not told about `unknown_service`; we do the same. */
export const UNKNOWN_SERVICE = 'unknown_service';

/** Entity of a resource: pod (k8s.pod.name), else service (service.name), else node (host.name). */
export function entityOfResource(resource: unknown): Entity {
  const attrs = stringAttributes(isObject(resource) ? resource.attributes : undefined);
  const pod = attrs.get('k8s.pod.name');
  const service = attrs.get('service.name');
  const host = attrs.get('host.name');
  const node = attrs.get('k8s.node.name') ?? host;
  if (pod !== undefined) {
    const e: Entity = { id: pod, kind: 'pod', service: service ?? serviceOfPod(pod) };
    if (node !== undefined) e.node = node;
    return e;
  }
  if (service !== undefined) {
    const e: Entity = { id: service, kind: 'service', service };
    if (node !== undefined) e.node = node;
    return e;
  }
  if (host !== undefined) return { id: host, kind: 'node' };
  const k8sNode = attrs.get('k8s.node.name');
  if (k8sNode !== undefined) return { id: k8sNode, kind: 'node' };
  return { id: UNKNOWN_SERVICE, kind: 'service', service: UNKNOWN_SERVICE };
}

/** Receives what a request holds. `time` callbacks let a metadata pass skip building records. */
export interface DecodeSink {
  /** every resource, records or not */
  resource?(entity: Entity): void;
  /** a metric data point; DeltaConverter (temporality.ts) turns it into series points */
  metric?(point: RawPoint): void;
  span?(span: Span): void;
  log?(log: LogRecord): void;
  /** a record that cannot be read (the caller knows file and line) */
  problem?(reason: string, kind?: ProblemKind): void;
}

export interface DecodeOptions {
  /** skip attribute flattening (metadata pass: only times and entities are needed) */
  light?: boolean;
}

/** Which modalities a request holds, by its top-level keys. */
export function requestKinds(req: Json): Modality[] {
  const out: Modality[] = [];
  if ('resourceMetrics' in req) out.push('metrics');
  if ('resourceSpans' in req) out.push('traces');
  if ('resourceLogs' in req) out.push('logs');
  return out;
}

export function decodeRequest(req: Json, sink: DecodeSink, want: ReadonlySet<Modality>, opts: DecodeOptions = {}): void {
  if (want.has('metrics')) for (const rm of resources(req, 'resourceMetrics', sink)) decodeResourceMetrics(rm, sink);
  if (want.has('traces')) for (const rs of resources(req, 'resourceSpans', sink)) decodeResourceSpans(rs, sink, opts);
  if (want.has('logs')) for (const rl of resources(req, 'resourceLogs', sink)) decodeResourceLogs(rl, sink, opts);
}

/** The resource list under `key`; one of another shape ("nope", {…}, [1, 2]) is reported. */
function resources(req: Json, key: string, sink: DecodeSink): Json[] {
  const v = req[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    sink.problem?.(`${key} is ${typeof v === 'object' ? 'an object' : `a ${typeof v}`}, not an array: ignored`, 'layout');
    return [];
  }
  const out = v.filter(isObject);
  if (out.length < v.length) sink.problem?.(`${key} has ${v.length - out.length} element(s) that are not objects: ignored`, 'layout');
  return out;
}

// ---- metrics -------------------------------------------------------------------------------

/** `name{k=v,...}` with keys sorted, so the same attribute set always names the same series. */
export function seriesName(name: string, attributes: unknown): string {
  const list = asArray(attributes);
  if (list.length === 0) return name;
  const parts: [string, string][] = [];
  for (const kv of list) {
    if (!isObject(kv) || typeof kv.key !== 'string') continue;
    parts.push([kv.key, String(primitiveValue(kv.value))]);
  }
  if (parts.length === 0) return name;
  parts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${name}{${parts.map(([k, v]) => `${k}=${v}`).join(',')}}`;
}

const NO_RECORDED_VALUE = 1;

/** aggregationTemporality as an int or enum name. */
function temporalityOf(x: unknown): Temporality {
  if (x === 1 || x === '1' || x === 'AGGREGATION_TEMPORALITY_DELTA') return 'delta';
  if (x === 2 || x === '2' || x === 'AGGREGATION_TEMPORALITY_CUMULATIVE') return 'cumulative';
  return 'unspecified';
}

function decodeResourceMetrics(rm: unknown, sink: DecodeSink): void {
  if (!isObject(rm)) return;
  const entity = entityOfResource(rm.resource);
  sink.resource?.(entity);
  if (!sink.metric) return;
  const out = sink.metric;
  const id = entity.id;
  for (const sm of asArray(rm.scopeMetrics)) {
    if (!isObject(sm)) continue;
    for (const m of asArray(sm.metrics)) {
      if (!isObject(m) || typeof m.name !== 'string' || m.name.length === 0) {
        sink.problem?.('metric without a name', 'malformed-record');
        continue;
      }
      const metric = m.name;
      const unit = typeof m.unit === 'string' ? m.unit : '';
      let kind: PointKind;
      let data: Json;
      if (isObject(m.gauge)) [kind, data] = ['gauge', m.gauge];
      else if (isObject(m.sum)) [kind, data] = ['sum', m.sum];
      else if (isObject(m.histogram)) [kind, data] = ['histogram', m.histogram];
      else if (isObject(m.exponentialHistogram)) [kind, data] = ['histogram', m.exponentialHistogram];
      else if (isObject(m.summary)) [kind, data] = ['summary', m.summary];
      else continue; // a metric with no data field (or one we do not know) carries nothing to sample
      const temporality = kind === 'sum' || kind === 'histogram' ? temporalityOf(data.aggregationTemporality) : 'unspecified';
      const monotonic = kind === 'sum' ? data.isMonotonic === true : undefined;
      for (const dp of asArray(data.dataPoints)) {
        if (!isObject(dp)) continue;
        const time = pointTime(dp, sink);
        if (time === null) continue;
        const st = nanosTime(dp.startTimeUnixNano);
        const p: RawPoint = { entity: id, metric, series: seriesName(metric, dp.attributes), unit, kind, temporality, time, start: typeof st === 'number' ? st : null };
        if (monotonic !== undefined) p.monotonic = monotonic;
        const none = (int64(dp.flags) & NO_RECORDED_VALUE) !== 0;
        if (kind === 'gauge' || kind === 'sum') {
          if (none) p.value = NaN;
          else if (dp.asDouble !== undefined) p.value = double(dp.asDouble);
          else if (dp.asInt !== undefined) p.value = checkedInt(dp.asInt, 'asInt', sink);
          else p.value = NaN; // no value at all: missing, never a silent 0
        } else {
          p.count = none ? NaN : checkedInt(dp.count, 'count', sink);
          // sum, min and max are optional fields: a point without them yields no sample there.
          if (dp.sum !== undefined || none) p.sum = none ? NaN : double(dp.sum);
          if (kind === 'histogram') {
            if (dp.min !== undefined) p.min = none ? NaN : double(dp.min);
            if (dp.max !== undefined) p.max = none ? NaN : double(dp.max);
          } else {
            const qs: [number, number][] = [];
            for (const q of asArray(dp.quantileValues)) {
              if (!isObject(q)) continue;
              qs.push([double(q.quantile ?? 0), none ? NaN : double(q.value ?? 0)]);
            }
            p.quantiles = qs;
          }
        }
        out(p);
      }
    }
  }
}

/** A 64-bit integer field; junk ("12abc", 1.5) is reported and read as NaN (missing). */
function checkedInt(x: unknown, field: string, sink: DecodeSink): number {
  const v = int64(x);
  if (!Number.isInteger(v) && x !== undefined) {
    const text = typeof x === 'string' ? JSON.stringify(x.length > 40 ? x.slice(0, 40) + '…' : x) : String(x);
    sink.problem?.(`data point ${field} ${text} is not an integer (value missing)`, 'malformed-record');
    return NaN;
  }
  return v;
}

function pointTime(dp: Json, sink: DecodeSink): number | null {
  const t = nanosTime(dp.timeUnixNano);
  if (t === null) {
    sink.problem?.('data point without timeUnixNano', 'malformed-record');
    return null;
  }
  if (typeof t === 'string') {
    sink.problem?.(`data point dropped: ${t}`, 'time');
    return null;
  }
  return t;
}

// ---- traces --------------------------------------------------------------------------------

function decodeResourceSpans(rs: unknown, sink: DecodeSink, opts: DecodeOptions): void {
  if (!isObject(rs)) return;
  const entity = entityOfResource(rs.resource);
  sink.resource?.(entity);
  if (!sink.span) return;
  const service = entity.service ?? entity.id;
  for (const ss of asArray(rs.scopeSpans)) {
    if (!isObject(ss)) continue;
    for (const s of asArray(ss.spans)) {
      if (!isObject(s)) continue;
      const traceId = hexId(s.traceId);
      const spanId = hexId(s.spanId);
      if (!traceId || !spanId) {
        sink.problem?.('span without traceId or spanId');
        continue;
      }
      const start = nanosTime(s.startTimeUnixNano);
      if (start === null) {
        sink.problem?.('span without startTimeUnixNano', 'malformed-record');
        continue;
      }
      if (typeof start === 'string') {
        sink.problem?.(`span dropped: start ${start}`, 'time');
        continue;
      }
      const end = nanosTime(s.endTimeUnixNano);
      let duration = 0;
      if (typeof end === 'string') sink.problem?.(`span end ${end} (duration set to 0)`, 'time');
      else if (end !== null) {
        // the difference of the exact nanoseconds (both valid, so nanosBig reads them)
        const nanos = nanosBig(s.endTimeUnixNano)! - nanosBig(s.startTimeUnixNano)!;
        duration = nanos < 0n ? -1 : bigNanosToMs(nanos);
        if (duration < 0) {
          sink.problem?.('span ends before it starts (duration set to 0)', 'time');
          duration = 0;
        }
      }
      const span: Span = {
        traceId,
        spanId,
        entity: entity.id,
        service,
        operation: typeof s.name === 'string' ? s.name : '',
        start,
        duration,
        status: spanStatus(s.status),
      };
      const parent = hexId(s.parentSpanId);
      if (parent) span.parentId = parent;
      const kind = spanKind(s.kind);
      if (kind) span.kind = kind;
      if (!opts.light) {
        const attrs = flattenAttributes(s.attributes);
        if (attrs) span.attributes = attrs;
        if (isObject(s.status) && typeof s.status.message === 'string' && s.status.message.length > 0) span.statusMessage = capText(s.status.message);
        const events = spanEvents(s.events, sink);
        if (events.length > 0) span.events = events;
      } else checkEventTimes(s.events, sink);
      sink.span(span);
    }
  }
}

/**
 * The metadata pass (light) builds no events but reports the ones that will be dropped: the
 * streams report nothing, so problems are reported once.
 */
function checkEventTimes(list: unknown, sink: DecodeSink): void {
  if (!sink.problem) return;
  for (const e of asArray(list)) if (isObject(e)) eventTime(e, sink);
}

function eventTime(e: Json, sink: DecodeSink): number | null {
  const time = nanosTime(e.timeUnixNano);
  if (typeof time === 'number') return time;
  sink.problem?.(`span event dropped: ${time ?? 'no timeUnixNano'}`, time === null ? 'malformed-record' : 'time');
  return null;
}

/** Span events, times validated, text capped (MAX_EVENT_TEXT). */
function spanEvents(list: unknown, sink: DecodeSink): SpanEvent[] {
  const out: SpanEvent[] = [];
  for (const e of asArray(list)) {
    if (!isObject(e)) continue;
    const time = eventTime(e, sink);
    if (time === null) continue;
    const ev: SpanEvent = { time, name: typeof e.name === 'string' ? e.name : '' };
    const attrs = flattenAttributes(e.attributes);
    if (attrs) {
      for (const k of Object.keys(attrs)) {
        const v = attrs[k];
        if (typeof v === 'string') attrs[k] = capText(v);
      }
      ev.attributes = attrs;
    }
    out.push(ev);
  }
  return out;
}

// ---- logs ----------------------------------------------------------------------------------

function decodeResourceLogs(rl: unknown, sink: DecodeSink, opts: DecodeOptions): void {
  if (!isObject(rl)) return;
  const entity = entityOfResource(rl.resource);
  sink.resource?.(entity);
  if (!sink.log) return;
  const service = entity.service ?? entity.id;
  for (const sl of asArray(rl.scopeLogs)) {
    if (!isObject(sl)) continue;
    for (const r of asArray(sl.logRecords)) {
      if (!isObject(r)) continue;
      // timeUnixNano 0 means unknown: the spec says to use observedTimeUnixNano then.
      const own = nanosTime(r.timeUnixNano);
      const time = typeof own === 'number' ? own : nanosTime(r.observedTimeUnixNano);
      if (typeof time !== 'number') {
        if (typeof own === 'string' || typeof time === 'string') sink.problem?.(`log record dropped: ${typeof own === 'string' ? own : time}`, 'time');
        else sink.problem?.('log record without timeUnixNano or observedTimeUnixNano', 'malformed-record');
        continue;
      }
      if (typeof own === 'string') sink.problem?.(`log record ${own}: observedTimeUnixNano used`, 'time');
      const log: LogRecord = {
        time,
        entity: entity.id,
        service,
        severity: severityOf(r.severityNumber, r.severityText),
        body: opts.light ? '' : bodyText(r.body),
      };
      // A JSON line the collector did not parse (or a map body): its message and level.
      const structured = structuredLogLine(log.body);
      if (structured) {
        log.body = structured.message;
        if (log.severity === 'unknown') log.severity = structured.severity;
      }
      const traceId = hexId(r.traceId);
      if (traceId) log.traceId = traceId;
      const spanId = hexId(r.spanId);
      if (spanId) log.spanId = spanId;
      if (!opts.light) {
        let attrs = flattenAttributes(r.attributes);
        // Events (logs with an eventName) keep their name where the model can carry it.
        if (typeof r.eventName === 'string' && r.eventName.length > 0 && !(attrs && 'event.name' in attrs)) {
          attrs = { ...attrs, 'event.name': r.eventName };
        }
        if (attrs) log.attributes = attrs;
      }
      sink.log(log);
    }
  }
}
