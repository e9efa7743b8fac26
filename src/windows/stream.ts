import { MODALITIES, type Dataset, type LogRecord, type MetricSeries, type Modality, type Span, type TimeRange } from '../telemetry/index.js';
import { caseWindows, gridWindows, labelWindows, type Window, type WindowLabel, type WindowLimits, type WindowSpec } from './grid.js';
import { lowerBound } from '../stats/index.js';

/** The data of one window: metric points, spans and logs whose own timestamp lies in it. */
export interface WindowSlice {
  window: Window;
  label: WindowLabel;
  /** one entry per series with points in the window (views into the reader's arrays) */
  metrics: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
}

export interface WindowStreamOptions extends WindowLimits {
  /** restrict to windows inside this range */
  range?: TimeRange;
  /** modalities to read (default all three); the others stay empty */
  modalities?: readonly Modality[];
}

/**
 * The windows a dataset is cut into: its cases where it has them, else the stride grid.
 * Every window plan goes through here, so this is where a plan above `limits.maxWindows`
 * (default `MAX_WINDOWS`) is refused, from the time range alone, before any data is read.
 */
export function datasetWindows(ds: Dataset, spec: WindowSpec, range?: TimeRange, limits: WindowLimits = {}): Window[] {
  const all = ds.cases && ds.cases.length > 0 ? caseWindows(ds.cases, limits) : gridWindows(range ?? ds.timeRange, spec, limits);
  if (!range) return all;
  const kept: Window[] = [];
  for (const w of all) if (w.start >= range.start && w.end <= range.end) kept.push({ ...w, index: kept.length });
  return kept;
}

/** The time span a list of windows covers (a loop: spreading millions of values into Math.min overflows the stack). */
export function windowsHull(windows: readonly Window[]): TimeRange {
  let start = Infinity;
  let end = -Infinity;
  for (const w of windows) {
    if (w.start < start) start = w.start;
    if (w.end > end) end = w.end;
  }
  return { start, end };
}

/**
 * Pulls one modality stream forward on demand and keeps only records that a window still
 * needs, so memory follows the window length (plus the source's disorder), not the file size.
 */
class Feed<T> {
  buf: T[] = [];
  watermark = -Infinity;
  done = false;
  private it: AsyncIterator<T[]>;

  constructor(source: AsyncIterable<T[]>, private timeOf: (r: T) => number) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** Reads until every record earlier than `t` has arrived (or the stream ends). */
  async fill(t: number, disorder: number): Promise<void> {
    while (!this.done && this.watermark < t + disorder) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      for (const rec of r.value) {
        const time = this.timeOf(rec);
        if (time > this.watermark) this.watermark = time;
        this.buf.push(rec);
      }
    }
  }

  take(w: Window): T[] {
    const out: T[] = [];
    for (const r of this.buf) {
      const t = this.timeOf(r);
      if (t >= w.start && t < w.end) out.push(r);
    }
    return out;
  }

  /** Drops records no later window can contain. */
  evict(before: number): void {
    if (this.buf.length === 0) return;
    let keep = 0;
    for (const r of this.buf) if (this.timeOf(r) >= before) keep++;
    if (keep === this.buf.length) return;
    const next: T[] = new Array(keep);
    let j = 0;
    for (const r of this.buf) if (this.timeOf(r) >= before) next[j++] = r;
    this.buf = next;
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}

const lastTime = (s: MetricSeries) => (s.times.length ? s.times[s.times.length - 1] : -Infinity);


const seriesKeys = new WeakMap<MetricSeries, string>();
function seriesKey(c: MetricSeries): string {
  let k = seriesKeys.get(c);
  if (k === undefined) seriesKeys.set(c, (k = c.entity + '\u0000' + c.name));
  return k;
}

/** Points of every buffered series chunk inside the window, one series per (entity, name). */
function sliceMetrics(chunks: readonly MetricSeries[], w: Window): MetricSeries[] {
  const parts: MetricSeries[] = [];
  const keys: string[] = [];
  const seen = new Set<string>();
  let repeated = false;
  for (const c of chunks) {
    const n = c.times.length;
    if (n === 0 || c.times[0] >= w.end || c.times[n - 1] < w.start) continue;
    const lo = c.times[0] >= w.start ? 0 : lowerBound(c.times, w.start);
    const hi = c.times[n - 1] < w.end ? n : lowerBound(c.times, w.end);
    if (hi <= lo) continue;
    parts.push(lo === 0 && hi === n ? c : { entity: c.entity, name: c.name, unit: c.unit, times: c.times.subarray(lo, hi), values: c.values.subarray(lo, hi) });
    const key = seriesKey(c);
    keys.push(key);
    if (seen.has(key)) repeated = true;
    else seen.add(key);
  }
  // A series split over two reader chunks (a window across a chunk boundary) is joined again.
  if (!repeated) return parts;
  const bySeries = new Map<string, MetricSeries[]>();
  parts.forEach((p, i) => {
    const list = bySeries.get(keys[i]);
    if (list) list.push(p);
    else bySeries.set(keys[i], [p]);
  });
  const out: MetricSeries[] = [];
  for (const list of bySeries.values()) out.push(list.length === 1 ? list[0] : concatSeries(list));
  return out;
}

function concatSeries(parts: MetricSeries[]): MetricSeries {
  parts.sort((a, b) => a.times[0] - b.times[0]);
  const n = parts.reduce((s, p) => s + p.times.length, 0);
  const times = new Float64Array(n);
  const values = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    times.set(p.times, o);
    values.set(p.values, o);
    o += p.times.length;
  }
  return { entity: parts[0].entity, name: parts[0].name, unit: parts[0].unit, times, values };
}

/**
 * Streams a dataset window by window, in window order. Each window is emitted once every
 * modality stream has moved past its end (plus the source's declared disorder).
 */
export async function* windowStream(ds: Dataset, spec: WindowSpec, opts: WindowStreamOptions = {}): AsyncGenerator<WindowSlice> {
  const windows = datasetWindows(ds, spec, opts.range, opts);
  if (windows.length === 0) return;
  const labels = labelWindows(windows, ds.labels, ds.cases);
  const want = new Set<Modality>(opts.modalities ?? MODALITIES);
  if (ds.caseData && windows.every((w) => w.caseId !== undefined)) {
    // Cases can overlap in time: each case window gets exactly its own case's data.
    for (let i = 0; i < windows.length; i++) {
      const d = ds.caseData(windows[i].caseId!);
      yield {
        window: windows[i],
        label: labels[i],
        metrics: want.has('metrics') && d ? d.metrics : [],
        spans: want.has('traces') && d ? d.spans : [],
        logs: want.has('logs') && d ? d.logs : [],
      };
    }
    return;
  }
  // Case windows can be out of order in time relative to the stride grid; read the span they cover.
  const readRange = windowsHull(windows);
  const empty = async function* <T>(): AsyncGenerator<T[]> {};
  // Metric chunks are timed by their last point: a chunk is kept while any of its points may be needed.
  const metrics = new Feed<MetricSeries>(want.has('metrics') ? ds.metrics(readRange) : empty<MetricSeries>(), lastTime);
  const spans = new Feed<Span>(want.has('traces') ? ds.spans(readRange) : empty<Span>(), (s) => s.start);
  const logs = new Feed<LogRecord>(want.has('logs') ? ds.logs(readRange) : empty<LogRecord>(), (l) => l.time);
  const disorder = ds.disorderMs;
  // Window ends are not monotone for case windows of different lengths: look ahead to the max.
  try {
    for (let i = 0; i < windows.length; i++) {
      const w = windows[i];
      await Promise.all([metrics.fill(w.end, disorder), spans.fill(w.end, disorder), logs.fill(w.end, disorder)]);
      yield {
        window: w,
        label: labels[i],
        metrics: sliceMetrics(metrics.buf, w),
        spans: spans.take(w),
        logs: logs.take(w),
      };
      const next = i + 1 < windows.length ? windows[i + 1].start : Infinity;
      metrics.evict(next);
      spans.evict(next);
      logs.evict(next);
    }
  } finally {
    await Promise.all([metrics.close(), spans.close(), logs.close()]);
  }
}
