/**
 * Writes the data model as OTLP/HTTP JSON in the OpenTelemetry collector's file-exporter layout:
 * metrics.jsonl, traces.jsonl, logs.jsonl, one Export*ServiceRequest per line, records grouped
 * by resource (= entity). Streaming: each call appends lines; nothing is kept but the entity
 * table. Atomic: the files get their names on close(). Mapping: docs/formats/otlp-mapping.md.
 */
import { mkdir } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { msToNanos, serviceOfPod } from '../../telemetry/index.js';
import type { Dataset, Entity, FaultLabel, LogRecord, MetricSeries, Span } from '../../telemetry/index.js';
import { AtomicFile } from './atomic.js';
import { writeFaults as writeFaultsFile } from './faults.js';
import { encodeAttributes, encodeDouble, encodeSeverity, encodeSpanKind, encodeStatus, encodeValue } from './values.js';
import type { KeyValue } from './values.js';
import { seriesName } from './decode.js';

/** What the write calls accept as the entity table: a list, or a map by id. */
export type EntityLookup = Iterable<Entity> | ReadonlyMap<string, Entity>;

export interface OtlpWriterOptions {
  /** Records (metric points, spans or logs) per request line. Default 5000. */
  maxRecordsPerLine?: number;
  /** Instrumentation scope name written with every record. Default "runtimeslicer". */
  scope?: string;
  /** Write metrics.jsonl.gz etc. (gzip level 1: fast, and telemetry JSON still shrinks 10×+; the reader streams them). Default false. */
  gzip?: boolean;
}

export const OTLP_FILES = { metrics: 'metrics.jsonl', traces: 'traces.jsonl', logs: 'logs.jsonl' } as const;
type Kind = keyof typeof OTLP_FILES;

const NO_RECORDED_VALUE = 1;
const HEX = /^[0-9a-fA-F]+$/;

/**
 * Trace and span ids must be hex in OTLP JSON. Hex ids are written lower-cased (lossless: the
 * reader lower-cases too); any other id is replaced by a stable hash of it, so parent links
 * survive but the original text does not.
 */
export function otlpId(id: string, hexDigits: 32 | 16): string {
  if (HEX.test(id) && id.length % 2 === 0) return id.toLowerCase();
  return createHash('sha256').update(id).digest('hex').slice(0, hexDigits);
}

/**
 * A series name `metric{k=v,...}` (the reader's naming for data-point attributes) back to the
 * metric name and attributes, when re-rendering them gives exactly the same name; otherwise the
 * whole name is the metric name. Either way the reader gives back the same series name.
 */
export function splitSeriesName(name: string): { metric: string; attributes?: KeyValue[] } {
  const m = /^([^{}]+)\{([^{}]*)\}$/.exec(name);
  if (!m) return { metric: name };
  const attrs: KeyValue[] = [];
  for (const part of m[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return { metric: name };
    attrs.push({ key: part.slice(0, eq), value: { stringValue: part.slice(eq + 1) } });
  }
  if (seriesName(m[1], attrs) !== name) return { metric: name };
  return { metric: m[1], attributes: attrs };
}

interface Resource {
  key: string;
  attributes: KeyValue[];
}

export class OtlpWriter {
  private readonly files: Record<Kind, AtomicFile>;
  private readonly maxPerLine: number;
  private readonly scope: { name: string };
  private ready: Promise<unknown> | null = null;
  /** every entity the caller told us about, and which of them got a resource line */
  private readonly known = new Map<string, Entity>();
  private readonly written = new Set<string>();
  private readonly resources = new Map<string, Resource>();
  private chain: Promise<void> = Promise.resolve();
  private state: 'open' | 'closed' | 'aborted' = 'open';
  /** counts of what was written, for progress and reports */
  readonly counts = { points: 0, spans: 0, logs: 0, lines: 0 };

  constructor(readonly dir: string, opts: OtlpWriterOptions = {}) {
    this.maxPerLine = Math.max(1, opts.maxRecordsPerLine ?? 5000);
    this.scope = { name: opts.scope ?? 'runtimeslicer' };
    const gz = opts.gzip ?? false;
    const file = (name: string) => new AtomicFile(join(dir, gz ? name + '.gz' : name), gz);
    this.files = { metrics: file(OTLP_FILES.metrics), traces: file(OTLP_FILES.traces), logs: file(OTLP_FILES.logs) };
  }

  writeMetrics(series: MetricSeries[], entities: EntityLookup): Promise<void> {
    return this.serial(async () => {
      this.learn(entities);
      let byRes = new Map<string, { res: Resource; metrics: unknown[] }>();
      const flush = async () => {
        if (byRes.size === 0) return;
        const resourceMetrics = [...byRes.values()].map(({ res, metrics }) => ({
          resource: { attributes: res.attributes },
          scopeMetrics: [{ scope: this.scope, metrics }],
        }));
        byRes = new Map();
        await this.line('metrics', { resourceMetrics });
      };
      // Lines are cut in time order across all series of the batch (not series after series),
      // so a reader sees the file nearly sorted: a line spans a short time, not the batch's.
      const order = timeOrder(series);
      const parts = series.map((s) => ({ s, ...splitSeriesName(s.name), from: 0 }));
      for (let at = 0; at < order.length; ) {
        const end = Math.min(order.length, at + this.maxPerLine);
        const taken = new Map<number, number>(); // series → points in this line
        for (let k = at; k < end; k++) taken.set(order[k], (taken.get(order[k]) ?? 0) + 1);
        for (const [si, count] of taken) {
          const p = parts[si];
          const { s, metric, attributes } = p;
          const res = this.resource(s.entity, undefined);
          const dataPoints: unknown[] = [];
          for (let i = p.from; i < p.from + count; i++) {
            const v = s.values[i];
            const dp: Record<string, unknown> = { timeUnixNano: msToNanos(s.times[i]) };
            if (Number.isNaN(v)) dp.flags = NO_RECORDED_VALUE;
            else dp.asDouble = encodeDouble(v);
            if (attributes) dp.attributes = attributes;
            dataPoints.push(dp);
          }
          p.from += count;
          const m: Record<string, unknown> = { name: metric };
          if (s.unit) m.unit = s.unit;
          m.gauge = { dataPoints };
          let g = byRes.get(res.key);
          if (!g) byRes.set(res.key, (g = { res, metrics: [] }));
          g.metrics.push(m);
        }
        this.counts.points += end - at;
        at = end;
        await flush();
      }
      // series without points still name their entity
      for (const s of series) if (s.times.length === 0) this.resource(s.entity, undefined);
      await flush();
    });
  }

  writeSpans(spans: Span[], entities: EntityLookup): Promise<void> {
    return this.serial(async () => {
      this.learn(entities);
      for (let from = 0; from < spans.length; from += this.maxPerLine) {
        const byRes = new Map<string, { res: Resource; spans: unknown[] }>();
        for (let i = from; i < Math.min(spans.length, from + this.maxPerLine); i++) {
          const s = spans[i];
          const res = this.resource(s.entity, s.service);
          let g = byRes.get(res.key);
          if (!g) byRes.set(res.key, (g = { res, spans: [] }));
          const startNanos = msToNanos(s.start);
          // End from start + duration in integer nanoseconds, so the duration read back is
          // exact to the nanosecond whatever the float resolution of the start time.
          const endNanos = (BigInt(startNanos) + BigInt(Math.max(0, Math.round(s.duration * 1e6)))).toString();
          const o: Record<string, unknown> = {
            traceId: otlpId(s.traceId, 32),
            spanId: otlpId(s.spanId, 16),
          };
          if (s.parentId) o.parentSpanId = otlpId(s.parentId, 16);
          o.name = s.operation;
          o.startTimeUnixNano = startNanos;
          o.endTimeUnixNano = endNanos;
          const attributes = encodeAttributes(s.attributes);
          if (attributes) o.attributes = attributes;
          const kind = encodeSpanKind(s.kind);
          if (kind !== undefined) o.kind = kind;
          if (s.events && s.events.length > 0) {
            o.events = s.events.map((e) => {
              const ev: Record<string, unknown> = { timeUnixNano: msToNanos(e.time), name: e.name };
              const a = encodeAttributes(e.attributes);
              if (a) ev.attributes = a;
              return ev;
            });
          }
          const status: Record<string, unknown> | undefined = encodeStatus(s.status);
          if (s.statusMessage) {
            // a message without a code is allowed (code unset): it is kept either way
            if (status) status.message = s.statusMessage;
            else o.status = { message: s.statusMessage };
          }
          if (status) o.status = status;
          g.spans.push(o);
          this.counts.spans++;
        }
        await this.line('traces', {
          resourceSpans: [...byRes.values()].map(({ res, spans: list }) => ({
            resource: { attributes: res.attributes },
            scopeSpans: [{ scope: this.scope, spans: list }],
          })),
        });
      }
    });
  }

  writeLogs(logs: LogRecord[], entities: EntityLookup): Promise<void> {
    return this.serial(async () => {
      this.learn(entities);
      for (let from = 0; from < logs.length; from += this.maxPerLine) {
        const byRes = new Map<string, { res: Resource; logRecords: unknown[] }>();
        for (let i = from; i < Math.min(logs.length, from + this.maxPerLine); i++) {
          const l = logs[i];
          const res = this.resource(l.entity, l.service);
          let g = byRes.get(res.key);
          if (!g) byRes.set(res.key, (g = { res, logRecords: [] }));
          const t = msToNanos(l.time);
          const o: Record<string, unknown> = { timeUnixNano: t, observedTimeUnixNano: t, ...encodeSeverity(l.severity) };
          o.body = { stringValue: l.body };
          const attributes = encodeAttributes(l.attributes);
          if (attributes) o.attributes = attributes;
          if (l.traceId) o.traceId = otlpId(l.traceId, 32);
          if (l.spanId) o.spanId = otlpId(l.spanId, 16);
          g.logRecords.push(o);
          this.counts.logs++;
        }
        await this.line('logs', {
          resourceLogs: [...byRes.values()].map(({ res, logRecords }) => ({
            resource: { attributes: res.attributes },
            scopeLogs: [{ scope: this.scope, logRecords }],
          })),
        });
      }
    });
  }

  /**
   * Entities that never got a record still exist in the data model: they are written as
   * resources without metrics, so a reader finds the same entity table. Then every file is
   * renamed into place (all three exist afterwards, possibly empty).
   */
  close(): Promise<void> {
    return this.serial(async () => {
      const silent = [...this.known.values()].filter((e) => !this.written.has(e.id));
      for (let from = 0; from < silent.length; from += this.maxPerLine) {
        const resourceMetrics = silent.slice(from, from + this.maxPerLine).map((e) => ({
          resource: { attributes: this.resource(e.id, undefined).attributes },
          scopeMetrics: [],
        }));
        await this.line('metrics', { resourceMetrics });
      }
      await this.mkdir();
      for (const f of Object.values(this.files)) await f.commit();
      this.state = 'closed';
    });
  }

  /** Drops what was written so far: no file appears. */
  async abort(): Promise<void> {
    await this.chain.catch(() => undefined);
    this.state = 'aborted';
    for (const f of Object.values(this.files)) await f.abort();
  }

  // ---- internals ---------------------------------------------------------------------------

  private serial(work: () => Promise<void>): Promise<void> {
    if (this.state !== 'open') return Promise.reject(new Error(`OtlpWriter(${this.dir}) is ${this.state}`));
    const p = this.chain.then(work);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private mkdir(): Promise<unknown> {
    return (this.ready ??= mkdir(this.dir, { recursive: true }));
  }

  private async line(kind: Kind, request: unknown): Promise<void> {
    await this.mkdir();
    await this.files[kind].append(JSON.stringify(request) + '\n');
    this.counts.lines++;
  }

  private learn(entities: EntityLookup): void {
    // Walked on every call (cheap next to the records): a caller may add entities to the same
    // table, or change one in place, between batches. Copies are kept so a change shows.
    const list: Iterable<Entity> = isMap(entities) ? entities.values() : entities;
    for (const e of list) {
      const old = this.known.get(e.id);
      if (!old || old.kind !== e.kind || old.service !== e.service || old.node !== e.node) {
        this.known.set(e.id, { ...e });
        // the entity changed: its cached resource attributes are stale
        for (const k of [...this.resources.keys()]) if (k === e.id || k.startsWith(e.id + '\u0000')) this.resources.delete(k);
      }
    }
  }

  /** The resource of an entity; `service` is the record's service when it may differ. */
  private resource(entityId: string, service: string | undefined): Resource {
    const e = this.known.get(entityId);
    // A record whose service differs from its pod's gets a resource of its own, so the reader
    // gives back the record's service.
    const own = e?.kind === 'pod' ? e.service ?? serviceOfPod(e.id) : e?.kind === 'service' ? e.id : undefined;
    const override = e === undefined ? service : e.kind === 'pod' && service !== undefined && service !== own ? service : undefined;
    const key = override === undefined ? entityId : entityId + '\u0000' + override;
    let r = this.resources.get(key);
    if (r) return r;
    const attrs: KeyValue[] = [];
    const add = (k: string, v: string | undefined) => {
      if (v !== undefined && v.length > 0) attrs.push({ key: k, value: encodeValue(v) });
    };
    if (!e) {
      // Not in the table: a pod of `service` when the record names a different service.
      if (service !== undefined && service !== entityId) {
        add('service.name', service);
        add('k8s.pod.name', entityId);
      } else add('service.name', entityId);
    } else if (e.kind === 'pod') {
      add('service.name', override ?? own);
      add('k8s.pod.name', e.id);
      add('k8s.node.name', e.node);
    } else if (e.kind === 'service') {
      add('service.name', e.id);
      add('host.name', e.node);
    } else {
      add('host.name', e.id);
    }
    r = { key, attributes: attrs };
    this.resources.set(key, r);
    this.written.add(entityId);
    return r;
  }
}

/**
 * Series index of every point of the batch, in time order (ties by series). Each series is
 * ascending, so taking points in this order walks each series from its start.
 */
function timeOrder(series: MetricSeries[]): Int32Array {
  let n = 0;
  for (const s of series) n += s.times.length;
  const idx = new Int32Array(n);
  const time = new Float64Array(n);
  let k = 0;
  for (let si = 0; si < series.length; si++) {
    const t = series[si].times;
    for (let i = 0; i < t.length; i++, k++) {
      idx[k] = si;
      time[k] = t[i];
    }
  }
  const perm = Array.from({ length: n }, (_, i) => i);
  // stable on ties: a series keeps its own order even where its times repeat
  perm.sort((a, b) => time[a] - time[b] || a - b);
  return Int32Array.from(perm, (i) => idx[i]);
}

function isMap(x: EntityLookup): x is ReadonlyMap<string, Entity> {
  return x instanceof Map;
}

/** Writes faults.json into dir, atomically. Schema: docs/formats/faults-json.md. */
export async function writeFaults(dir: string, labels: FaultLabel[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFaultsFile(dir, labels);
}

/**
 * Copies any Dataset (e.g. Nezha) to OTLP JSON files plus faults.json in dir, streaming modality
 * by modality. Case windows of case-based sources are not carried over (labels are).
 */
export async function writeOtlpDataset(dir: string, dataset: Dataset, opts: OtlpWriterOptions = {}): Promise<OtlpWriter['counts']> {
  const w = new OtlpWriter(dir, opts);
  const entities = new Map(dataset.entities.map((e) => [e.id, e] as const));
  try {
    for await (const batch of dataset.metrics()) await w.writeMetrics(batch, entities);
    for await (const batch of dataset.spans()) await w.writeSpans(batch, entities);
    for await (const batch of dataset.logs()) await w.writeLogs(batch, entities);
    await w.close();
  } catch (e) {
    await w.abort();
    throw e;
  }
  await writeFaults(dir, dataset.labels);
  return w.counts;
}
