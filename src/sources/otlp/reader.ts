/**
 * OTLP/HTTP JSON reader: a folder (or one file) of Export{Metrics,Trace,Logs}ServiceRequest
 * documents or collector file-exporter lines (.json, .jsonl, .json.gz), plus faults.json.
 *
 * Opening makes one metadata pass over every file (entities, time range, counts, and how far
 * out of order each file's records are) without keeping records. The modality streams read the
 * files again, skip files and tails outside the requested range, and restore time order in a
 * bounded buffer whose horizon is the measured disorder (capped; the rest is `disorderMs`).
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { MODALITIES, ProblemLog, UserError, isoTime, sortEntities } from '../../telemetry/index.js';
import type {
  CallEdge,
  Dataset,
  Entity,
  FaultLabel,
  LoadOptions,
  LogRecord,
  MetricSeries,
  Modality,
  ProblemKind,
  Span,
  TimeRange,
  Topology,
} from '../../telemetry/index.js';
import { decodeRequest, requestKinds } from './decode.js';
import type { DecodeSink } from './decode.js';
import { listDataFiles, readRequests, sniffOtlp } from './files.js';
import type { DataFile, FileMode, ReadRequestsOptions } from './files.js';
import { readFaults } from './faults.js';
import { LatenessMeter, ReorderBuffer } from './reorder.js';
import { DeltaConverter } from './temporality.js';
import type { EmitPoint, RawPoint } from './temporality.js';
import { registerLogReader } from '../threadlogs.js';
import type { LogReaderDescriptor, ThreadLogSource } from '../threadlogs.js';

export interface OtlpLoadOptions extends LoadOptions {
  /**
   * Longest time a record is held back to restore order (ms). Input more out of order than
   * this is passed on with `disorderMs` = the excess. Default 10 minutes.
   */
  maxReorderMs?: number;
  /** How long a trace is remembered to link late children to parents (topology). Default 30 min. */
  traceHorizonMs?: number;
  /**
   * How far before a range a metric read starts, to find each cumulative stream's previous
   * point (its per-interval amount is the difference). Streams exported less often than this
   * get NaN for their first point in the range. Default 10 minutes.
   */
  metricLookbackMs?: number;
}

export const DEFAULT_MAX_REORDER_MS = 10 * 60_000;
const DEFAULT_TRACE_HORIZON_MS = 30 * 60_000;
export const DEFAULT_METRIC_LOOKBACK_MS = 10 * 60_000;

interface FileStats {
  min: number;
  max: number;
  /** how late records arrive within the file, in reading order */
  lateness: number;
  count: number;
}

/** Per line (one-request-per-line files): the span of times of one modality's records there. */
interface LineIndex {
  line: number[];
  min: number[];
  max: number[];
}

interface FileInfo extends DataFile {
  mode?: FileMode;
  stats: Partial<Record<Modality, FileStats>>;
  /** lets a range read skip parsing lines outside the range (lines mode only) */
  lines: Partial<Record<Modality, LineIndex>>;
}

/** Above this many indexed lines a file keeps no line index (memory); range reads then parse all. */
const MAX_INDEXED_LINES = 2_000_000;

export interface OtlpCounts {
  files: number;
  requests: number;
  resources: number;
  metricPoints: number;
  spans: number;
  logs: number;
}

const ALL: ReadonlySet<Modality> = new Set<Modality>(MODALITIES);
const ONLY: Record<Modality, ReadonlySet<Modality>> = {
  metrics: new Set<Modality>(['metrics']),
  traces: new Set<Modality>(['traces']),
  logs: new Set<Modality>(['logs']),
};

/** True when `path` is an OTLP JSON file, or a folder holding at least one. */
export async function detectOtlp(path: string): Promise<boolean> {
  try {
    const { files } = await listDataFiles(path);
    // A handful is enough: a folder of another format does not hide OTLP files among its JSON.
    for (const f of files.slice(0, 20)) if (await sniffOtlp(f.path)) return true;
  } catch {
    /* missing or unreadable: not ours */
  }
  return false;
}

export async function openOtlp(path: string, opts: OtlpLoadOptions = {}): Promise<OtlpDataset> {
  const root = resolve(path);
  try {
    await stat(root);
  } catch {
    throw new UserError(`no such file or folder: ${path} (expected a folder or file of OTLP JSON)`);
  }
  const { dir, files: all } = await listDataFiles(root);
  const problems = opts.problems ?? new ProblemLog();
  const files: FileInfo[] = [];
  for (const f of all) {
    if (await sniffOtlp(f.path)) files.push({ ...f, stats: {}, lines: {} });
    else problems.add(f.rel, 0, 'not OTLP JSON or protobuf (no resourceMetrics, resourceSpans or resourceLogs near its start, and no Export*ServiceRequest message): skipped', 'layout');
  }
  if (files.length === 0) {
    throw new UserError(
      `no OTLP JSON or protobuf in ${path} (expected .json, .jsonl or .json.gz files holding resourceMetrics, resourceSpans or resourceLogs, or .binpb/.pb/.protobuf[.gz] Export*ServiceRequest messages)${firstProblems(problems)}`,
    );
  }
  const ds = new OtlpDataset(root, files, problems, opts);
  await ds.scan();
  // Files that looked like OTLP but held nothing readable (broken JSON, another shape, every
  // record invalid) must not pass as an empty dataset of 1970.
  const { metricPoints, spans, logs } = ds.counts;
  if (metricPoints + spans + logs === 0) throw new UserError(`no readable telemetry in ${path}${firstProblems(problems)}`);
  // faults.json sits beside the data: in the folder, or beside a single file.
  const issues: string[] = [];
  ds.setLabels(await readFaults(dir, problems, undefined, issues));
  if (issues.length > 0) ds.labelIssues = issues;
  return ds;
}

/** ": a.json:1 reason; b.json:3 reason (and N more)" for one-line errors; '' when none. */
function firstProblems(problems: ProblemLog, n = 3): string {
  const items = problems.items;
  if (items.length === 0) return '';
  const shown = items.slice(0, n).map((p) => `${p.file}${p.line > 0 ? `:${p.line}` : ''} ${p.reason}`);
  const more = problems.total > n ? ` (and ${problems.total - n} more problems)` : '';
  return `: ${shown.join('; ')}${more}`;
}

export class OtlpDataset implements Dataset, ThreadLogSource {
  readonly format = 'otlp' as const;
  entities: Entity[] = [];
  timeRange: TimeRange = { start: 0, end: 0 };
  labels: FaultLabel[] = [];
  /** faults.json problems, one line each (see Dataset.labelIssues) */
  labelIssues?: string[];
  disorderMs = 0;
  readonly notes: string[] = [];
  readonly counts: OtlpCounts = { files: 0, requests: 0, resources: 0, metricPoints: 0, spans: 0, logs: 0 };
  /** per modality: how long the streams hold records back, and the measured input disorder */
  readonly reorder: Record<Modality, { horizonMs: number; measuredMs: number }> = {
    metrics: { horizonMs: 0, measuredMs: 0 },
    traces: { horizonMs: 0, measuredMs: 0 },
    logs: { horizonMs: 0, measuredMs: 0 },
  };
  /** most records the last stream of each modality held at once (memory is bounded by this) */
  readonly peakBuffered: Record<Modality, number> = { metrics: 0, traces: 0, logs: 0 };
  private dataRange = { start: Infinity, end: -Infinity };
  /** earliest record of any modality (labels not included): where the data begins */
  private telemetryStart = -Infinity;
  private topo: Promise<Topology> | null = null;
  private readonly maxReorderMs: number;
  private readonly traceHorizonMs: number;
  private readonly metricLookbackMs: number;

  constructor(
    readonly root: string,
    private readonly files: FileInfo[],
    readonly problems: ProblemLog,
    opts: OtlpLoadOptions,
  ) {
    this.maxReorderMs = Math.max(0, opts.maxReorderMs ?? DEFAULT_MAX_REORDER_MS);
    this.traceHorizonMs = opts.traceHorizonMs ?? DEFAULT_TRACE_HORIZON_MS;
    this.metricLookbackMs = Math.max(0, opts.metricLookbackMs ?? DEFAULT_METRIC_LOOKBACK_MS);
  }

  /** The metadata pass. Called once by openOtlp. */
  async scan(): Promise<void> {
    const entities = new Map<string, Entity>();
    let series = new Map<string, Set<string>>();
    // only for the series names (values are not kept here)
    const scanConverter = new DeltaConverter();
    const fresh = (): Record<Modality, LatenessMeter> => ({ metrics: new LatenessMeter(), traces: new LatenessMeter(), logs: new LatenessMeter() });
    let meters = fresh();
    // times of the current request, per modality, for the line index
    const req = { metrics: { min: Infinity, max: -Infinity }, traces: { min: Infinity, max: -Infinity }, logs: { min: Infinity, max: -Infinity } };
    const seen = (mod: Modality, t: number) => {
      meters[mod].add(t);
      const r = req[mod];
      if (t < r.min) r.min = t;
      if (t > r.max) r.max = t;
    };
    let file!: FileInfo;
    let line = 0;
    const sink: DecodeSink = {
      resource: (e) => {
        this.counts.resources++;
        const old = entities.get(e.id);
        if (!old) entities.set(e.id, e);
        else if (old.node === undefined && e.node !== undefined && old.kind === e.kind) old.node = e.node;
      },
      metric: (p) =>
        scanConverter.convert(p, (name, _unit, t) => {
          seen('metrics', t);
          let names = series.get(p.entity);
          if (!names) series.set(p.entity, (names = new Set()));
          names.add(name);
          this.cover(t, t);
        }),
      span: (s) => {
        seen('traces', s.start);
        this.cover(s.start, s.start + s.duration);
      },
      log: (l) => {
        seen('logs', l.time);
        this.cover(l.time, l.time);
      },
      problem: (reason, kind) => this.problems.add(file.rel, line, reason, kind ?? 'malformed-record'),
    };
    for (file of this.files) {
      meters = fresh();
      let unknown = 0;
      const f = file;
      const index: Record<Modality, LineIndex> = { metrics: { line: [], min: [], max: [] }, traces: { line: [], min: [], max: [] }, logs: { line: [], min: [], max: [] } };
      let indexed = 0;
      const report = (l: number, reason: string, kind: ProblemKind = 'malformed-record') => this.problems.add(f.rel, l, reason, kind);
      for await (const r of readRequests(file.path, { report, onMode: (m) => (f.mode = m) })) {
        line = r.line;
        this.counts.requests++;
        if (requestKinds(r.req).length === 0) {
          if (unknown++ < 1) this.problems.add(file.rel, r.line, 'not an OTLP export request (no resourceMetrics, resourceSpans or resourceLogs)', 'layout');
          continue;
        }
        decodeRequest(r.req, sink, ALL, { light: true });
        for (const mod of MODALITIES) {
          const q = req[mod];
          if (q.max < q.min) continue;
          const ix = index[mod];
          const last = ix.line.length - 1;
          if (last >= 0 && ix.line[last] === r.line) {
            // several requests on one line (a JSON array): one entry
            ix.min[last] = Math.min(ix.min[last], q.min);
            ix.max[last] = Math.max(ix.max[last], q.max);
          } else {
            ix.line.push(r.line);
            ix.min.push(q.min);
            ix.max.push(q.max);
            indexed++;
          }
          q.min = Infinity;
          q.max = -Infinity;
        }
      }
      if (file.mode === 'lines' && indexed <= MAX_INDEXED_LINES) {
        for (const mod of MODALITIES) if (index[mod].line.length > 0) file.lines[mod] = index[mod];
      }
      for (const mod of Object.keys(meters) as Modality[]) {
        const m = meters[mod];
        if (m.count > 0) file.stats[mod] = { min: m.min, max: m.max, lateness: m.lateness, count: m.count };
      }
      this.counts.metricPoints += meters.metrics.count;
      this.counts.spans += meters.traces.count;
      this.counts.logs += meters.logs.count;
    }
    this.counts.files = this.files.length;
    this.entities = sortEntities(entities.values());
    for (const mod of MODALITIES) {
      const measured = this.measuredLateness(mod);
      const horizonMs = Math.min(measured, this.maxReorderMs);
      this.reorder[mod] = { horizonMs, measuredMs: measured };
      this.disorderMs = Math.max(this.disorderMs, measured - horizonMs);
    }
    this.telemetryStart = this.dataRange.start;
    this.updateRange();
    let seriesCount = 0;
    for (const names of series.values()) seriesCount += names.size;
    series = new Map();
    this.notes.push(
      `OTLP JSON: ${this.counts.files} file(s), ${this.counts.metricPoints} metric points in ${seriesCount} series, ` +
        `${this.counts.spans} spans, ${this.counts.logs} log records, ${this.entities.length} entities.`,
      'Metric series are named <metric>{k=v,...} when data points carry attributes; histograms and summaries ' +
        'become <metric>.count/.sum/.mean (and .min/.max for delta histograms, .q<quantile>) series; counters give ' +
        'per-interval increases and <metric>.rate. Cumulative sums and histograms are turned into per-interval ' +
        'amounts (resets by start time), so delta and cumulative series mean the same (docs/formats/otlp-mapping.md).',
    );
    if (this.disorderMs > 0) {
      this.notes.push(`Records arrive up to ${this.disorderMs} ms more out of order than the reorder buffer holds (disorderMs).`);
    }
  }

  setLabels(labels: FaultLabel[]): void {
    this.labels = labels;
    for (const l of labels) this.cover(l.start, l.end);
    this.updateRange();
  }

  private cover(start: number, end: number): void {
    if (start < this.dataRange.start) this.dataRange.start = start;
    if (end > this.dataRange.end) this.dataRange.end = end;
  }

  private updateRange(): void {
    // `end` is exclusive: one ms past the last instant so the last record falls inside.
    if (this.dataRange.end >= this.dataRange.start) this.timeRange = { start: this.dataRange.start, end: this.dataRange.end + 1 };
  }

  /** Lateness of the concatenation of a modality's files in reading order. */
  private measuredLateness(mod: Modality): number {
    let runMax = -Infinity;
    let late = 0;
    for (const f of filesOf(this.files, mod)) {
      const s = f.stats[mod]!;
      late = Math.max(late, s.lateness, runMax - s.min);
      runMax = Math.max(runMax, s.max);
    }
    return late;
  }

  /** Records of one modality in time order (within disorderMs), restricted to `range` (see `orderedRecords`). */
  private ordered<T>(
    mod: Modality,
    range: TimeRange | undefined,
    batch: number,
    timeOf: (x: T) => number,
    decode: (req: Record<string, unknown>, push: (x: T) => void) => void,
  ): AsyncGenerator<T[]> {
    return orderedRecords({ files: this.files, ...this.reorder[mod] }, mod, range, batch, timeOf, decode, this.problems, (peak) => (this.peakBuffered[mod] = peak));
  }

  async *metrics(range?: TimeRange): AsyncGenerator<MetricSeries[]> {
    // Cumulative points become per-interval amounts by difference to the stream's previous
    // point, so a range read starts a look-back early to find it (temporality.ts).
    const read: TimeRange | undefined = range && { start: range.start - this.metricLookbackMs, end: range.end };
    const from = range?.start ?? -Infinity;
    // A cumulative stream that started before what is read may have had points there: its first
    // point's amount is unknown. Nothing is before the data's first record.
    const converter = new DeltaConverter(Math.max(read?.start ?? -Infinity, this.telemetryStart));
    // entity → name → series number; two levels spare a string concatenation per point
    const index = new Map<string, Map<string, number>>();
    const meta: { entity: string; name: string; unit: string; temporality?: 'delta' | 'cumulative' }[] = [];
    const decode = (req: Record<string, unknown>, push: (x: RawPoint) => void) => decodeRequest(req, { metric: push }, ONLY.metrics);
    let entity = '';
    let groups = new Map<number, { times: number[]; values: number[] }>();
    // one emitter for all points (no closure per point); `entity` is the current point's
    const emit: EmitPoint = (name, unit, t, v, temporality) => {
      if (t < from) return; // look-back only
      let names = index.get(entity);
      if (!names) index.set(entity, (names = new Map()));
      let s = names.get(name);
      if (s === undefined) {
        s = meta.length;
        names.set(name, s);
        meta.push(temporality ? { entity, name, unit, temporality } : { entity, name, unit });
      }
      let g = groups.get(s);
      if (!g) groups.set(s, (g = { times: [], values: [] }));
      g.times.push(t);
      g.values.push(v);
    };
    for await (const pts of this.ordered<RawPoint>('metrics', read, 20_000, (p) => p.time, decode)) {
      groups = new Map();
      for (const p of pts) {
        entity = p.entity;
        converter.convert(p, emit);
      }
      const out: MetricSeries[] = [];
      for (const [s, g] of groups) {
        const m = meta[s];
        const series: MetricSeries = { entity: m.entity, name: m.name, unit: m.unit, times: Float64Array.from(g.times), values: Float64Array.from(g.values) };
        if (m.temporality) series.temporality = m.temporality;
        out.push(series);
      }
      if (out.length > 0) yield out;
    }
  }

  async *spans(range?: TimeRange): AsyncGenerator<Span[]> {
    yield* this.ordered<Span>('traces', range, 5000, (s) => s.start, (req, push) => decodeRequest(req, { span: push }, ONLY.traces));
  }

  async *logs(range?: TimeRange): AsyncGenerator<LogRecord[]> {
    yield* this.ordered<LogRecord>('logs', range, LOG_BATCH, logTime, decodeLogs);
  }

  /**
   * The log stream is files on disk: another thread reads it with `readOtlpLogs` from the file
   * list, line index and reorder bounds of the metadata pass (src/sources/threadlogs.ts).
   */
  threadLogReader(): LogReaderDescriptor<OtlpLogStream> {
    const files = this.files
      .filter((f) => f.stats.logs !== undefined)
      .map((f): FileInfo => ({ path: f.path, rel: f.rel, mode: f.mode, stats: { logs: f.stats.logs }, lines: f.lines.logs ? { logs: f.lines.logs } : {} }));
    return { reader: OTLP_LOG_READER, module: import.meta.url, args: { files, ...this.reorder.logs } };
  }

  topology(): Promise<Topology> {
    return (this.topo ??= this.buildTopology());
  }

  /**
   * Call edges from parent/child links, streaming: a trace is remembered until no span of it
   * was seen for traceHorizonMs, so memory follows the traces in flight, not the file.
   */
  private async buildTopology(): Promise<Topology> {
    interface Trace {
      last: number;
      spans: Map<string, string>;
      orphans: { parent: string; entity: string }[];
    }
    const traces = new Map<string, Trace>();
    const edges = new Map<string, CallEdge>();
    const link = (caller: string, callee: string) => {
      if (caller === callee) return;
      const key = caller + '\u0000' + callee;
      const e = edges.get(key);
      if (e) e.count++;
      else edges.set(key, { caller, callee, count: 1 });
    };
    let sinceSweep = 0;
    for await (const batch of this.spans()) {
      for (const s of batch) {
        let tr = traces.get(s.traceId);
        if (!tr) traces.set(s.traceId, (tr = { last: s.start, spans: new Map(), orphans: [] }));
        tr.last = Math.max(tr.last, s.start);
        tr.spans.set(s.spanId, s.entity);
        // With kinds, only a server (consumer) span is the callee end of a call; client,
        // producer and internal children are the caller's own work.
        if (s.parentId && !(s.kind === 'client' || s.kind === 'producer' || s.kind === 'internal')) {
          const p = tr.spans.get(s.parentId);
          if (p !== undefined) link(p, s.entity);
          else tr.orphans.push({ parent: s.parentId, entity: s.entity });
        }
        // children that arrived before this parent (clock skew between services)
        if (tr.orphans.length > 0) {
          tr.orphans = tr.orphans.filter((o) => {
            if (o.parent !== s.spanId) return true;
            link(s.entity, o.entity);
            return false;
          });
        }
      }
      sinceSweep += batch.length;
      if (sinceSweep >= 50_000 && batch.length > 0) {
        sinceSweep = 0;
        const cutoff = batch[batch.length - 1].start - this.traceHorizonMs;
        for (const [id, tr] of traces) if (tr.last < cutoff) traces.delete(id);
      }
    }
    const list = [...edges.values()].sort((a, b) => (a.caller === b.caller ? a.callee.localeCompare(b.callee) : a.caller.localeCompare(b.caller)));
    return { entities: this.entities, edges: list };
  }
}

/** Files holding a modality, in the order the streams read them: by earliest record. */
function filesOf(files: readonly FileInfo[], mod: Modality, range?: TimeRange): FileInfo[] {
  return files
    .filter((f) => {
      const s = f.stats[mod];
      // spans are ordered (and filtered) by start, and `max` is a start time too
      return s !== undefined && (!range || (s.min < range.end && s.max >= range.start));
    })
    .sort((a, b) => a.stats[mod]!.min - b.stats[mod]!.min);
}

/** What a modality's stream reads: the files (with their metadata-pass stats) and the reorder bounds. */
interface OrderedStream {
  files: readonly FileInfo[];
  horizonMs: number;
  measuredMs: number;
}

/**
 * Records of one modality in time order (within disorderMs), restricted to `range`. `decode`
 * turns a request into (time, record) pairs. Plain data in, so that another thread can read a
 * stream too; `onPeak` gets the most records held at once, at the end.
 */
async function* orderedRecords<T>(
  stream: OrderedStream,
  mod: Modality,
  range: TimeRange | undefined,
  batch: number,
  timeOf: (x: T) => number,
  decode: (req: Record<string, unknown>, push: (x: T) => void) => void,
  problems: ProblemLog,
  onPeak?: (peak: number) => void,
): AsyncGenerator<T[]> {
  const { horizonMs, measuredMs } = stream;
  let file = '';
  let line = 0;
  // Records later than measured cannot happen unless a file changed since the metadata pass;
  // they are reported and dropped rather than breaking the ordering contract.
  const buf = new ReorderBuffer<T>(timeOf, horizonMs, measuredMs - horizonMs, batch, (x, behind) =>
    problems.add(file, line, `late record: ${mod} at ${isoTime(timeOf(x))} came ${behind} ms behind the stream (dropped)`, 'clock'),
  );
  const start = range?.start ?? -Infinity;
  const end = range?.end ?? Infinity;
  for (const f of filesOf(stream.files, mod, range)) {
    file = f.rel;
    const lateness = f.stats[mod]!.lateness;
    let runMax = -Infinity;
    const found: T[] = [];
    const opts: ReadRequestsOptions = { mode: f.mode };
    const ix = f.lines[mod];
    if (ix && range) {
      // From the metadata pass: parse only lines with records in range, stop at the line
      // after which nothing can be in range any more.
      let m = -Infinity;
      let lastLine = Infinity;
      for (let k = 0; k < ix.line.length; k++) {
        m = Math.max(m, ix.max[k]);
        if (m - lateness >= end) {
          lastLine = ix.line[k];
          break;
        }
      }
      let p = 0;
      opts.lastLine = lastLine;
      opts.skipLine = (lineNo) => {
        while (p < ix.line.length && ix.line[p] < lineNo) p++;
        return p >= ix.line.length || ix.line[p] !== lineNo || ix.max[p] < start || ix.min[p] >= end;
      };
    }
    for await (const r of readRequests(f.path, opts)) {
      line = r.line;
      found.length = 0;
      decode(r.req, (x) => found.push(x));
      for (const x of found) {
        const t = timeOf(x);
        if (t > runMax) runMax = t;
        if (t >= start && t < end) buf.push(x);
      }
      const out = buf.take();
      if (out) yield out;
      // Nothing later in this file can be earlier than runMax − its lateness: past the range.
      if (runMax - lateness >= end) break;
    }
  }
  const rest = buf.drain();
  onPeak?.(buf.peak);
  if (rest.length > 0) yield rest;
}

/** A log stream as plain data, for `readOtlpLogs` in another thread. */
export interface OtlpLogStream extends OrderedStream {
  files: FileInfo[];
}

const LOG_BATCH = 5000;
const logTime = (l: LogRecord) => l.time;
const decodeLogs = (req: Record<string, unknown>, push: (x: LogRecord) => void) => decodeRequest(req, { log: push }, ONLY.logs);

/** The same records, in the same order, as the dataset's `logs(range)`; problems go to `problems`. */
export function readOtlpLogs(stream: OtlpLogStream, range: TimeRange | undefined, problems: ProblemLog): AsyncIterable<LogRecord[]> {
  return orderedRecords(stream, 'logs', range, LOG_BATCH, logTime, decodeLogs, problems);
}

const OTLP_LOG_READER = 'otlp';
registerLogReader(OTLP_LOG_READER, readOtlpLogs);
