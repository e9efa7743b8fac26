/**
 * One Export*ServiceRequest (already JSON-parsed) to the data model. The mapping is documented
 * in docs/formats/otlp-mapping.md; keep the two in step.
 */
import { serviceOfPod } from '../../telemetry/index.js';
import type { Entity, LogRecord, Modality, Span } from '../../telemetry/index.js';
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
  primitiveValue,
  severityOf,
  spanStatus,
  stringAttributes,
} from './values.js';
import type { Json } from './values.js';

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
  point?(entity: string, name: string, unit: string, time: number, value: number): void;
  span?(span: Span): void;
  log?(log: LogRecord): void;
  /** a record that cannot be read (the caller knows file and line) */
  problem?(reason: string): void;
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
  if (want.has('metrics')) for (const rm of asArray(req.resourceMetrics)) decodeResourceMetrics(rm, sink);
  if (want.has('traces')) for (const rs of asArray(req.resourceSpans)) decodeResourceSpans(rs, sink, opts);
  if (want.has('logs')) for (const rl of asArray(req.resourceLogs)) decodeResourceLogs(rl, sink, opts);
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

function decodeResourceMetrics(rm: unknown, sink: DecodeSink): void {
  if (!isObject(rm)) return;
  const entity = entityOfResource(rm.resource);
  sink.resource?.(entity);
  if (!sink.point) return;
  const point = sink.point;
  const id = entity.id;
  for (const sm of asArray(rm.scopeMetrics)) {
    if (!isObject(sm)) continue;
    for (const m of asArray(sm.metrics)) {
      if (!isObject(m) || typeof m.name !== 'string' || m.name.length === 0) {
        sink.problem?.('metric without a name');
        continue;
      }
      const name = m.name;
      const unit = typeof m.unit === 'string' ? m.unit : '';
      const numeric = isObject(m.gauge) ? m.gauge : isObject(m.sum) ? m.sum : null;
      if (numeric) {
        for (const dp of asArray(numeric.dataPoints)) {
          if (!isObject(dp)) continue;
          const t = pointTime(dp, sink);
          if (t === null) continue;
          let v: number;
          if ((int64(dp.flags) & NO_RECORDED_VALUE) !== 0) v = NaN;
          else if (dp.asDouble !== undefined) v = double(dp.asDouble);
          else if (dp.asInt !== undefined) v = int64(dp.asInt);
          else v = NaN; // no value at all: missing, never a silent 0
          point(id, seriesName(name, dp.attributes), unit, t, v);
        }
        continue;
      }
      const hist = isObject(m.histogram) ? m.histogram : isObject(m.exponentialHistogram) ? m.exponentialHistogram : null;
      if (hist) {
        for (const dp of asArray(hist.dataPoints)) {
          if (!isObject(dp)) continue;
          const t = pointTime(dp, sink);
          if (t === null) continue;
          const none = (int64(dp.flags) & NO_RECORDED_VALUE) !== 0;
          const count = none ? NaN : int64(dp.count);
          const emit = (suffix: string, u: string, v: number) => point(id, seriesName(name + suffix, dp.attributes), u, t, v);
          emit('.count', '1', count);
          // sum, min and max are optional fields: a point without them yields no sample there.
          if (dp.sum !== undefined || none) {
            const sum = none ? NaN : double(dp.sum);
            emit('.sum', unit, sum);
            emit('.mean', unit, count > 0 ? sum / count : NaN);
          }
          if (dp.min !== undefined) emit('.min', unit, none ? NaN : double(dp.min));
          if (dp.max !== undefined) emit('.max', unit, none ? NaN : double(dp.max));
        }
        continue;
      }
      if (isObject(m.summary)) {
        for (const dp of asArray(m.summary.dataPoints)) {
          if (!isObject(dp)) continue;
          const t = pointTime(dp, sink);
          if (t === null) continue;
          const none = (int64(dp.flags) & NO_RECORDED_VALUE) !== 0;
          const count = none ? NaN : int64(dp.count);
          const sum = none ? NaN : double(dp.sum);
          const emit = (suffix: string, u: string, v: number) => point(id, seriesName(name + suffix, dp.attributes), u, t, v);
          emit('.count', '1', count);
          emit('.sum', unit, sum);
          emit('.mean', unit, count > 0 ? sum / count : NaN);
          for (const q of asArray(dp.quantileValues)) {
            if (!isObject(q)) continue;
            const quantile = double(q.quantile ?? 0);
            emit(`.q${quantile}`, unit, none ? NaN : double(q.value ?? 0));
          }
        }
        continue;
      }
      // A metric with no data field (or one we do not know) carries nothing to sample.
    }
  }
}

function pointTime(dp: Json, sink: DecodeSink): number | null {
  const n = nanosBig(dp.timeUnixNano);
  if (n === null) {
    sink.problem?.('data point without timeUnixNano');
    return null;
  }
  return bigNanosToMs(n);
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
      const start = nanosBig(s.startTimeUnixNano);
      if (start === null) {
        sink.problem?.('span without startTimeUnixNano');
        continue;
      }
      const end = nanosBig(s.endTimeUnixNano);
      let durNanos = end === null ? 0n : end - start;
      if (durNanos < 0n) {
        sink.problem?.('span ends before it starts (duration set to 0)');
        durNanos = 0n;
      }
      const span: Span = {
        traceId,
        spanId,
        entity: entity.id,
        service,
        operation: typeof s.name === 'string' ? s.name : '',
        start: bigNanosToMs(start),
        duration: bigNanosToMs(durNanos),
        status: spanStatus(s.status),
      };
      const parent = hexId(s.parentSpanId);
      if (parent) span.parentId = parent;
      if (!opts.light) {
        const attrs = flattenAttributes(s.attributes);
        if (attrs) span.attributes = attrs;
      }
      sink.span(span);
    }
  }
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
      const n = nanosBig(r.timeUnixNano) ?? nanosBig(r.observedTimeUnixNano);
      if (n === null) {
        sink.problem?.('log record without timeUnixNano or observedTimeUnixNano');
        continue;
      }
      const log: LogRecord = {
        time: bigNanosToMs(n),
        entity: entity.id,
        service,
        severity: severityOf(r.severityNumber, r.severityText),
        body: opts.light ? '' : bodyText(r.body),
      };
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
