import {
  DEFAULT_FAULT_DURATION_MS,
  ProblemLog,
  UserError,
  edgesFromSpans,
  isoTime,
  serviceOfPod,
  sortEntities,
} from '../../telemetry/index.js';
import type {
  CallEdge,
  Dataset,
  Entity,
  FaultLabel,
  LoadOptions,
  LogRecord,
  MetricSeries,
  Span,
  TimeRange,
  Topology,
} from '../../telemetry/index.js';
import { findDays, scanLayout } from './layout.js';
import type { MetricFile, MinuteFile, NezhaLayout } from './layout.js';
import { readFaultList } from './faults.js';
import { readMetricFile, sliceTables } from './metrics.js';
import type { MetricTable } from './metrics.js';
import { Names, detach, podNodesFromLogHead, readLogFile, readTraceFile } from './minutes.js';
import { registerLogReader } from '../threadlogs.js';
import type { LogReaderDescriptor, ThreadLogSource } from '../threadlogs.js';

/**
 * How construct_data is exposed: it is fault-free reference data from the same system. Its
 * trace and log minute files are distinct data and are streamed with the rca_data ones (their
 * time ranges are listed in `referenceRanges`, so a user can pick them as known-normal
 * minutes); its metric files repeat rca_data's verbatim and are read only for a day that has
 * no rca_data metrics. It has no fault list, so it adds no labels.
 */
export interface NezhaDataset extends Dataset {
  readonly format: 'nezha';
  /** the day folders found (YYYY-MM-DD), ascending */
  readonly days: string[];
  /** time spans of the construct_data (fault-free reference) trace/log minute files */
  readonly referenceRanges: TimeRange[];
  /** the files the streams and labels read, relative to `root` (duplicate metric folders left out) */
  readonly sourceFiles: string[];
}

/**
 * How far a minute file's records may lie from the HH:MM of its name. Measured on the
 * TrainTicket export: [−51 s, +9 s) on one day, [−7 s, +53 s) on the other, and files that
 * hold three minutes reach −111 s and +69 s.
 */
const MINUTE_SLACK_MS = 2 * 60_000;
/**
 * Minute records are emitted in time order (see reorderMinutes); this bound covers records
 * that sit further from their file's name than the slack.
 */
const MINUTE_DISORDER_MS = 2 * 60_000;
const METRIC_BLOCK_MS = 3_600_000;
const EMIT_BATCH = 4096;
/** Parsed metric tables kept from opening to streaming, at most. */
const METRIC_CACHE_BYTES = 256 * 2 ** 20;
/** Enough of a log file's head to see the node of nearly every pod that logs in it. */
const NODE_HEAD_BYTES = 64 * 1024;
const IO_CONCURRENCY = 4;

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Earliest and latest record time of a minute file (read in full, problems not reported). */
async function minuteFileSpan(file: MinuteFile, modality: 'trace' | 'log', names: Names): Promise<{ min: number; max: number }> {
  let min = Infinity;
  let max = -Infinity;
  const ctx = { problems: new ProblemLog(0), names };
  if (modality === 'trace') {
    for await (const b of readTraceFile(file, undefined, ctx)) for (const r of b) {
      if (r.start < min) min = r.start;
      if (r.start > max) max = r.start;
    }
  } else {
    for await (const b of readLogFile(file, undefined, ctx)) for (const r of b) {
      if (r.time < min) min = r.time;
      if (r.time > max) max = r.time;
    }
  }
  return { min, max };
}

/**
 * Records of the minute files in time order. No record of a file is expected before its
 * name − MINUTE_SLACK_MS (see there), so records
 * are held back until the next file's name says nothing earlier can come, then emitted sorted.
 * At most the slack plus one file is held. A record that still comes late is yielded anyway
 * and reported when it is later than the stream's `disorderMs` allows.
 */
async function* reorderMinutes<T>(
  files: MinuteFile[],
  read: (f: MinuteFile) => AsyncIterable<T[]>,
  timeOf: (r: T) => number,
  disorderMs: number,
  problems: ProblemLog,
): AsyncGenerator<T[]> {
  let held: T[] = [];
  let emitted = -Infinity;
  for (let k = 0; k < files.length; k++) {
    let fresh: T[] = [];
    for await (const batch of read(files[k])) {
      if (fresh.length === 0) fresh = batch;
      else for (const r of batch) fresh.push(r);
    }
    fresh = sortByTime(fresh, timeOf);
    let late = 0;
    for (const r of fresh) if (timeOf(r) < emitted - disorderMs) late++;
    if (late > 0) problems.add(files[k].rel, 0, `${late} record(s) more than ${disorderMs / 1000} s earlier than records already streamed from earlier minute files`, 'time');
    held = mergeSorted(held, fresh, timeOf);
    const watermark = k + 1 < files.length ? files[k + 1].nominal - MINUTE_SLACK_MS : Infinity;
    let cut = 0;
    while (cut < held.length && timeOf(held[cut]) < watermark) cut++;
    for (let i = 0; i < cut; i += EMIT_BATCH) yield held.slice(i, Math.min(cut, i + EMIT_BATCH));
    if (cut > 0) emitted = Math.max(emitted, timeOf(held[cut - 1]));
    held = cut > 0 ? held.slice(cut) : held;
  }
}

const IDX_BITS = 2 ** 22;

/**
 * Sorts records by time, stably. The usual case (a minute file: a few thousand records within
 * minutes) packs µs-since-the-earliest and the index into one double and uses the typed-array
 * sort, which needs no comparator call per comparison.
 */
function sortByTime<T>(recs: T[], timeOf: (r: T) => number): T[] {
  const n = recs.length;
  if (n < 2) return recs;
  let min = Infinity;
  let max = -Infinity;
  let sorted = true;
  let prev = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = timeOf(recs[i]);
    if (t < min) min = t;
    if (t > max) max = t;
    if (t < prev) sorted = false;
    prev = t;
  }
  if (sorted) return recs;
  const spanUs = (max - min) * 1000;
  if (n >= IDX_BITS || !(spanUs * IDX_BITS < Number.MAX_SAFE_INTEGER)) {
    return recs.map((r, i) => [timeOf(r), i, r] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
  }
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = Math.floor((timeOf(recs[i]) - min) * 1000) * IDX_BITS + i;
  keys.sort();
  const out = new Array<T>(n);
  for (let i = 0; i < n; i++) out[i] = recs[keys[i] % IDX_BITS];
  // Records within the same µs are in file order; an insertion pass orders them exactly (it
  // only moves records past neighbours of the same µs, so it is linear here).
  for (let i = 1; i < n; i++) {
    const r = out[i];
    const t = timeOf(r);
    let j = i - 1;
    while (j >= 0 && timeOf(out[j]) > t) {
      out[j + 1] = out[j];
      j--;
    }
    out[j + 1] = r;
  }
  return out;
}

function mergeSorted<T>(a: T[], b: T[], timeOf: (r: T) => number): T[] {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Array<T>(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = timeOf(a[i]) <= timeOf(b[j]) ? a[i++] : b[j++];
  while (i < a.length) out[k++] = a[i++];
  while (j < b.length) out[k++] = b[j++];
  return out;
}

/** The files near the first and the last file name, which hold the earliest and latest records. */
function extremeFiles(files: MinuteFile[]): MinuteFile[] {
  if (files.length === 0) return [];
  const first = files[0].nominal;
  const last = files[files.length - 1].nominal;
  return files.filter((f) => f.nominal - first <= MINUTE_SLACK_MS || last - f.nominal <= MINUTE_SLACK_MS);
}

const selectMinuteFiles = (files: MinuteFile[], range?: TimeRange) =>
  range ? files.filter((f) => f.nominal - MINUTE_SLACK_MS < range.end && f.nominal + MINUTE_SLACK_MS > range.start) : files;

/**
 * How a metric file's tables are taken: a service-level table's ServiceName is renamed to the
 * service its pods have (front_service.csv says "Frontend" where the pods are frontend-…), and
 * a table that repeats one already read from another file of the day is dropped.
 */
interface TableAdjust {
  rename: Map<string, string>;
  drop: Set<string>;
}

function adjustTables(tables: MetricTable[], adj: TableAdjust | undefined): MetricTable[] {
  if (!adj) return tables;
  const out: MetricTable[] = [];
  for (const t of tables) {
    if (adj.drop.has(t.entity)) continue;
    const to = adj.rename.get(t.entity);
    out.push(to ? { ...t, entity: to } : t);
  }
  return out;
}

/** Service names compared the way exports vary them: case, '-', '_' and spaces ignored. */
const serviceKey = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');

interface MetricCluster {
  files: MetricFile[];
  adjust: (TableAdjust | undefined)[];
  /** the files' tables as parsed when the dataset was opened, while within the cache budget */
  cached: (MetricTable[] | undefined)[];
  start: number;
  /** exclusive */
  end: number;
}

class NezhaSource implements NezhaDataset, ThreadLogSource {
  readonly format = 'nezha' as const;
  readonly disorderMs: number;
  readonly sourceFiles: string[];
  private topologyPromise?: Promise<Topology>;
  private readonly names = new Names();

  constructor(
    readonly root: string,
    private readonly layout: NezhaLayout,
    private readonly clusters: MetricCluster[],
    readonly entities: Entity[],
    readonly timeRange: TimeRange,
    readonly labels: FaultLabel[],
    readonly problems: ProblemLog,
    readonly notes: string[],
    readonly days: string[],
    readonly referenceRanges: TimeRange[],
    readonly labelIssues: string[],
  ) {
    this.sourceFiles = [...layout.faultLists, ...layout.metricFiles, ...layout.traceFiles, ...layout.logFiles].map((f) => f.rel);
    this.disorderMs = layout.traceFiles.length + layout.logFiles.length > 0 ? MINUTE_DISORDER_MS : 0;
  }

  /** Whole-day metric files are small: a cluster of days is read at once and handed out an hour at a time. */
  async *metrics(range?: TimeRange): AsyncIterable<MetricSeries[]> {
    for (const c of this.clusters) {
      const from = Math.max(c.start, range?.start ?? -Infinity);
      const to = Math.min(c.end, range?.end ?? Infinity);
      if (!(from < to)) continue;
      // Bad rows were reported when the dataset was opened: a re-read stays quiet.
      const quiet = new ProblemLog(0);
      const tables: MetricTable[] = (
        await mapLimit(c.files, IO_CONCURRENCY, async (f, i) => c.cached[i] ?? adjustTables((await readMetricFile(f, quiet)).tables, c.adjust[i]))
      ).flat();
      for (let t = Math.floor(from / METRIC_BLOCK_MS) * METRIC_BLOCK_MS; t < to; t += METRIC_BLOCK_MS) {
        const batch = sliceTables(tables, { start: Math.max(t, from), end: Math.min(t + METRIC_BLOCK_MS, to) });
        if (batch.length > 0) yield batch;
      }
    }
  }

  spans(range?: TimeRange): AsyncIterable<Span[]> {
    return this.readSpans(range, this.problems);
  }

  private readSpans(range: TimeRange | undefined, problems: ProblemLog): AsyncIterable<Span[]> {
    const ctx = { problems, names: this.names };
    const files = selectMinuteFiles(this.layout.traceFiles, range);
    return reorderMinutes(files, (f) => readTraceFile(f, range, ctx), (s) => s.start, this.disorderMs, problems);
  }

  logs(range?: TimeRange): AsyncIterable<LogRecord[]> {
    return minuteLogs(this.layout.logFiles, range, this.disorderMs, { problems: this.problems, names: this.names });
  }

  /** The log stream is plain files: another thread reads it with `readNezhaLogs` (src/sources/threadlogs.ts). */
  threadLogReader(): LogReaderDescriptor<NezhaLogStream> {
    return { reader: NEZHA_LOG_READER, module: import.meta.url, args: { logFiles: this.layout.logFiles.map((f) => ({ ...f })), disorderMs: this.disorderMs } };
  }

  topology(): Promise<Topology> {
    this.topologyPromise ??= this.buildTopology();
    return this.topologyPromise;
  }

  /**
   * Edges from parent/child spans. A trace's spans are gathered until the stream has moved well
   * past it (spans arrive in time order within `disorderMs`), then handed to edgesFromSpans,
   * so only a few minutes of spans are held at once.
   */
  private async buildTopology(): Promise<Topology> {
    const edges = new Map<string, CallEdge>();
    const open = new Map<string, { spans: Span[]; last: number }>();
    const entities = new Map(this.entities.map((e) => [e.id, e]));
    const horizon = this.disorderMs + MINUTE_SLACK_MS;
    let latest = -Infinity;
    let sinceFlush = 0;
    const flush = (before: number) => {
      for (const [id, t] of open) {
        if (t.last < before) {
          edgesFromSpans(t.spans, edges);
          open.delete(id);
        }
      }
    };
    // Bad lines are left to the span stream to report, so each is reported once.
    for await (const batch of this.readSpans(undefined, new ProblemLog(0))) {
      for (const s of batch) {
        if (!entities.has(s.entity)) entities.set(s.entity, { id: s.entity, kind: 'pod', service: s.service });
        if (!entities.has(s.service)) entities.set(s.service, { id: s.service, kind: 'service', service: s.service });
        let t = open.get(s.traceId);
        if (!t) {
          t = { spans: [], last: s.start };
          open.set(s.traceId, t);
        }
        t.spans.push(s);
        if (s.start > t.last) t.last = s.start;
        if (s.start > latest) latest = s.start;
      }
      sinceFlush += batch.length;
      if (sinceFlush > 50_000) {
        flush(latest - horizon);
        sinceFlush = 0;
      }
    }
    flush(Infinity);
    const list = [...edges.values()].sort((a, b) => b.count - a.count || (a.caller + a.callee < b.caller + b.callee ? -1 : 1));
    return { entities: sortEntities(entities.values()), edges: list };
  }
}

function minuteLogs(logFiles: MinuteFile[], range: TimeRange | undefined, disorderMs: number, ctx: { problems: ProblemLog; names: Names }): AsyncIterable<LogRecord[]> {
  const files = selectMinuteFiles(logFiles, range);
  return reorderMinutes(files, (f) => readLogFile(f, range, ctx), (r) => r.time, disorderMs, ctx.problems);
}

/**
 * A Nezha dataset's log stream as plain data (file list and ordering bound), so that another
 * thread can read the same stream (`readNezhaLogs`) without opening the dataset again.
 */
export interface NezhaLogStream {
  logFiles: MinuteFile[];
  disorderMs: number;
}

/** The same records, in the same order, as the dataset's `logs(range)`; problems go to `problems`. */
export function readNezhaLogs(spec: NezhaLogStream, range: TimeRange | undefined, problems: ProblemLog): AsyncIterable<LogRecord[]> {
  return minuteLogs(spec.logFiles, range, spec.disorderMs, { problems, names: new Names() });
}

const NEZHA_LOG_READER = 'nezha';
registerLogReader(NEZHA_LOG_READER, readNezhaLogs);

export async function openNezha(path: string, opts: LoadOptions = {}): Promise<NezhaDataset> {
  const found = await findDays(path);
  if (!found) {
    throw new UserError(`not a Nezha export: expected rca_data/<YYYY-MM-DD>/ or construct_data/<YYYY-MM-DD>/ (with metric/, trace/, log/) at ${path}`);
  }
  const problems = opts.problems ?? new ProblemLog();
  const faultDurationMs = opts.faultDurationMs ?? DEFAULT_FAULT_DURATION_MS;
  if (!(faultDurationMs > 0)) throw new UserError(`faultDurationMs must be a positive number of milliseconds, got ${faultDurationMs}`);
  const layout = await scanLayout(found.root, found.days);
  if (layout.metricFiles.length + layout.traceFiles.length + layout.logFiles.length + layout.faultLists.length === 0) {
    throw new UserError(`no metric, trace, log or fault-list files in the Nezha export at ${path} (expected <day>/metric/*.csv(.gz), <day>/trace/HH_MM_trace.csv(.gz), ...)`);
  }

  const faultLists = await Promise.all(layout.faultLists.map((f) => readFaultList(f.path, f.rel, f.day, faultDurationMs, problems)));
  const labels = faultLists.flatMap((f) => f.labels);
  const labelIssues = faultLists.flatMap((f) => f.issues);
  labels.sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));

  // Metric files are parsed here, once: their time spans and entities are needed now, and the
  // whole-day files are small, so the tables are kept for the metric stream (within a budget).
  const derived: string[] = [];
  const parsed = await mapLimit(layout.metricFiles, IO_CONCURRENCY, async (file) => {
    const read = await readMetricFile(file, problems);
    if (read.skipped) derived.push(`${file.rel} (${read.skipped})`);
    return read.tables;
  });
  // Service-level tables take the name of the service whose pods emit telemetry.
  const podServices = new Map<string, string>();
  for (const tables of parsed) for (const t of tables) if (t.kind === 'pod') podServices.set(serviceKey(serviceOfPod(t.entity)), serviceOfPod(t.entity));
  const adjusts: (TableAdjust | undefined)[] = parsed.map(() => undefined);
  // Service-level tables of one service and day that share columns repeat each other: the one
  // with the most rows is read (a damaged copy loses to a whole one), the others are noted.
  const serviceTables = new Map<string, { i: number; t: MetricTable; name: string }[]>();
  parsed.forEach((tables, i) => {
    for (const t of tables) {
      if (t.kind !== 'service') continue;
      const name = podServices.get(serviceKey(t.entity)) ?? t.entity;
      const adj = (adjusts[i] ??= { rename: new Map(), drop: new Set() });
      if (name !== t.entity) adj.rename.set(t.entity, name);
      const key = layout.metricFiles[i].day + '\u0000' + name;
      const list = serviceTables.get(key) ?? [];
      list.push({ i, t, name });
      serviceTables.set(key, list);
    }
  });
  for (const list of serviceTables.values()) {
    if (list.length < 2) continue;
    const best = list.reduce((a, b) => (b.t.times.length > a.t.times.length ? b : a));
    const columns = new Set(best.t.columns.map((c) => c.name));
    for (const o of list) {
      if (o === best || !o.t.columns.some((c) => columns.has(c.name))) continue;
      adjusts[o.i]!.drop.add(o.t.entity);
      derived.push(`${layout.metricFiles[o.i].rel} (service-level table of ${o.name} ("${o.t.entity}"), also in ${layout.metricFiles[best.i].rel}, which has more or as many rows; not read twice)`);
    }
  }
  let cacheLeft = METRIC_CACHE_BYTES;
  const scans = (
    await mapLimit(layout.metricFiles, IO_CONCURRENCY, async (file, i) => {
      const adjust = adjusts[i];
      const tables = adjustTables(parsed[i], adjust);
      let rows = 0;
      let start = Infinity;
      let last = -Infinity;
      let bytes = 0;
      for (const t of tables) {
        rows += t.times.length;
        if (t.times.length > 0) {
          start = Math.min(start, t.times[0]);
          last = Math.max(last, t.times[t.times.length - 1]);
        }
        bytes += t.times.byteLength + t.columns.reduce((sum, c) => sum + c.values.byteLength, 0);
      }
      cacheLeft -= bytes;
      return { file, adjust, tables: cacheLeft >= 0 ? tables : undefined, entities: tables.map((t) => [t.entity, t.kind] as const), rows, start, last };
    })
  ).filter((s) => s.rows > 0);
  const podNodes = new Map<string, string>();
  await mapLimit(layout.logFiles, IO_CONCURRENCY, (f) => podNodesFromLogHead(f.path, NODE_HEAD_BYTES, podNodes));
  const names = new Names();
  const traceEdges = await mapLimit(extremeFiles(layout.traceFiles), IO_CONCURRENCY, (f) => minuteFileSpan(f, 'trace', names));
  const logEdges = await mapLimit(extremeFiles(layout.logFiles), IO_CONCURRENCY, (f) => minuteFileSpan(f, 'log', names));

  // Metric clusters: days whose metric spans overlap are read together, so the metric stream
  // stays in time order even where a day folder runs past midnight.
  const perDay = new Map<string, MetricCluster>();
  for (const s of scans) {
    const c = perDay.get(s.file.day) ?? { files: [], adjust: [], cached: [], start: Infinity, end: -Infinity };
    c.files.push(s.file);
    c.adjust.push(s.adjust);
    c.cached.push(s.tables);
    c.start = Math.min(c.start, s.start);
    c.end = Math.max(c.end, s.last + 1);
    perDay.set(s.file.day, c);
  }
  const clusters: MetricCluster[] = [];
  for (const c of [...perDay.values()].sort((a, b) => a.start - b.start)) {
    const prev = clusters[clusters.length - 1];
    if (prev && c.start < prev.end) {
      prev.files.push(...c.files);
      prev.adjust.push(...c.adjust);
      prev.cached.push(...c.cached);
      prev.end = Math.max(prev.end, c.end);
    } else clusters.push({ ...c, files: [...c.files], adjust: [...c.adjust], cached: [...c.cached] });
  }

  let start = Infinity;
  let end = -Infinity;
  const cover = (a: number, b: number) => {
    if (a < start) start = a;
    if (b > end) end = b;
  };
  for (const c of clusters) cover(c.start, c.end);
  for (const l of labels) cover(l.start, l.end);
  for (const e of [...traceEdges, ...logEdges]) if (e.min <= e.max) cover(e.min, e.max + 1);
  if (!(start < end)) throw new UserError(`no timestamped records in the Nezha export at ${path}`);

  const entities = new Map<string, Entity>();
  const addService = (s: string) => {
    if (!entities.has(s)) entities.set(s, { id: s, kind: 'service', service: s });
  };
  const addPod = (p: string) => {
    if (entities.has(p)) return;
    const service = serviceOfPod(p);
    const node = podNodes.get(p);
    entities.set(p, node ? { id: p, kind: 'pod', service, node } : { id: p, kind: 'pod', service });
    addService(service);
  };
  for (const s of scans) for (const [e, kind] of s.entities) (kind === 'pod' ? addPod : addService)(detach(e));
  for (const l of labels) addPod(l.rootCause);
  for (const p of podNodes.keys()) addPod(p);
  for (const n of new Set(podNodes.values())) if (!entities.has(n)) entities.set(n, { id: n, kind: 'node' });

  const dayNames = [...new Set(found.days.map((d) => d.day))].sort();
  // The reference minutes' own record times (the files are few and small) rather than their names.
  const reference = new Map<number, TimeRange>();
  const refFiles = [...layout.traceFiles.map((f) => [f, 'trace'] as const), ...layout.logFiles.map((f) => [f, 'log'] as const)].filter(
    ([f]) => f.kind === 'construct',
  );
  await mapLimit(refFiles, IO_CONCURRENCY, async ([f, col]) => {
    const e = await minuteFileSpan(f, col, names);
    if (!(e.min <= e.max)) return;
    const r = reference.get(f.nominal);
    if (r) {
      r.start = Math.min(r.start, e.min);
      r.end = Math.max(r.end, e.max + 1);
    } else reference.set(f.nominal, { start: e.min, end: e.max + 1 });
  });
  const referenceRanges = [...reference.values()].sort((a, b) => a.start - b.start);
  const minutes = new Set([...layout.traceFiles, ...layout.logFiles].map((f) => f.nominal)).size;
  const notes = [
    `Nezha export: ${dayNames.length} day(s) (${dayNames.join(', ')}), ${labels.length} injected fault(s); metrics ${clusters.length ? `cover ${isoTime(clusters[0].start)} – ${isoTime(clusters[clusters.length - 1].end)}` : 'absent'}.`,
    `Traces and logs exist only in ${minutes} minute file(s): the minutes around each fault injection (rca_data) plus the fault-free construct_data minutes; metrics cover whole days. The presence or absence of trace/log data is therefore NOT a signal: detect across the timeline on metrics only, or mask modalities identically for normal and abnormal windows.`,
    'construct_data is fault-free reference data: its trace/log minutes are included (see referenceRanges); its metric files duplicate rca_data and are read once per day.',
    `Fault times come from inject_time (UTC; inject_timestamp is ignored); faults state no duration, each is taken as active for ${faultDurationMs / 60_000} min from injection.`,
    'Spans carry no status (status is "unset"); span durations were microseconds in the source and are ms here. Log severity is read from the log text.',
    'Pod names change when a system is redeployed (e.g. between days): key anything learned across days on the service.',
  ];
  if (labels.length === 0) notes.push(labelIssues.length > 0 ? 'Fault list(s) unreadable: no labels (see labelIssues).' : 'No fault list found: no labels.');
  if (derived.length > 0) notes.push(`Derived tables in metric/ not read as entities: ${derived.sort().join('; ')}.`);

  return new NezhaSource(found.root, layout, clusters, sortEntities(entities.values()), { start, end }, labels, problems, notes, dayNames, referenceRanges, labelIssues);
}
