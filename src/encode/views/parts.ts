import type { MetricSeries, TimeRange } from '../../telemetry/index.js';
import type { Window } from '../../windows/index.js';
import { lowerBound } from '../../stats/index.js';

/**
 * A window's metric points as index ranges into series chunks, instead of one typed-array view
 * per series and window (a day of one-minute windows over a thousand series would make millions
 * of them). Series j of the window is made of parts `first[j] .. first[j + 1] − 1`, in time
 * order; part p holds points `lo[p] .. hi[p] − 1` of `chunks[chunk[p]]`.
 *
 * The typed arrays may be reused for the next window: read a window's parts before asking for
 * the next one.
 */
export interface MetricParts {
  /** series in the window */
  count: number;
  chunks: readonly MetricSeries[];
  chunk: Int32Array;
  lo: Int32Array;
  hi: Int32Array;
  /** count + 1 entries */
  first: Int32Array;
}

/** Metric series as windowStream hands them out, or their parts. */
export type MetricData = readonly MetricSeries[] | MetricParts;

export function isParts(m: MetricData): m is MetricParts {
  return !Array.isArray(m);
}

export function metricCount(m: MetricData): number {
  return isParts(m) ? m.count : (m as readonly MetricSeries[]).length;
}

/** Growable scratch arrays for parts, reused window after window. */
class PartsBuffer implements MetricParts {
  count = 0;
  chunks: readonly MetricSeries[] = [];
  chunk = new Int32Array(256);
  lo = new Int32Array(256);
  hi = new Int32Array(256);
  first = new Int32Array(257);
  parts = 0;

  reset(chunks: readonly MetricSeries[]): void {
    this.chunks = chunks;
    this.count = 0;
    this.parts = 0;
  }

  push(c: number, lo: number, hi: number): void {
    if (this.parts === this.chunk.length) {
      const grow = (a: Int32Array) => {
        const b = new Int32Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.chunk = grow(this.chunk);
      this.lo = grow(this.lo);
      this.hi = grow(this.hi);
    }
    this.chunk[this.parts] = c;
    this.lo[this.parts] = lo;
    this.hi[this.parts] = hi;
    this.parts++;
  }

  /** Closes a series made of the parts pushed since the previous one. */
  endSeries(firstPart: number): void {
    if (this.count + 2 > this.first.length) {
      const b = new Int32Array(this.first.length * 2);
      b.set(this.first);
      this.first = b;
    }
    this.first[this.count] = firstPart;
    this.count++;
    this.first[this.count] = this.parts;
  }
}

/** Parts of whole series (one part each): what metric views read when given plain series. */
export class SeriesParts {
  private buf = new PartsBuffer();
  of(series: readonly MetricSeries[]): MetricParts {
    const b = this.buf;
    b.reset(series);
    for (let i = 0; i < series.length; i++) {
      b.push(i, 0, series[i].times.length);
      b.endSeries(i);
    }
    return b;
  }
}


const lastTime = (s: MetricSeries) => (s.times.length ? s.times[s.times.length - 1] : -Infinity);

/**
 * Cuts a metric stream into windows exactly as `windowStream` does (the same chunks are read
 * and kept, the same points fall in each window, series come in the same order, and a series
 * split over two chunks is joined in time order), but hands out parts instead of views.
 * Windows must be asked for in stream order.
 */
export class MetricWindows {
  private buf: MetricSeries[] = [];
  /** per buffered chunk: its series number ((entity, name) pairs numbered once) */
  private ids: number[] = [];
  private watermark = -Infinity;
  private done = false;
  private readonly it: AsyncIterator<MetricSeries[]>;
  private readonly seriesIds = new Map<string, Map<string, number>>();
  private nextId = 0;
  private stamp = new Int32Array(1024);
  private windowNo = 0;
  private readonly parts = new PartsBuffer();
  private pendingEvict: number | undefined;

  constructor(
    source: AsyncIterable<MetricSeries[]>,
    private readonly disorderMs: number,
  ) {
    this.it = source[Symbol.asyncIterator]();
  }

  /** The source's read range for a list of windows (what windowStream reads). */
  static readRange(windows: readonly Window[]): TimeRange {
    let start = Infinity;
    let end = -Infinity;
    for (const w of windows) {
      if (w.start < start) start = w.start;
      if (w.end > end) end = w.end;
    }
    return { start, end };
  }

  private idOf(c: MetricSeries): number {
    let m = this.seriesIds.get(c.entity);
    if (!m) this.seriesIds.set(c.entity, (m = new Map()));
    let id = m.get(c.name);
    if (id === undefined) {
      id = this.nextId++;
      m.set(c.name, id);
    }
    return id;
  }

  /** Parts of window `w`; `nextStart` is the next window's start (Infinity after the last). */
  async window(w: Window, nextStart: number): Promise<MetricParts> {
    if (this.pendingEvict !== undefined) this.evict(this.pendingEvict);
    await this.fill(w.end);
    this.pendingEvict = nextStart;
    return this.slice(w);
  }

  private async fill(t: number): Promise<void> {
    while (!this.done && this.watermark < t + this.disorderMs) {
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        break;
      }
      for (const c of r.value) {
        const time = lastTime(c);
        if (time > this.watermark) this.watermark = time;
        this.buf.push(c);
        this.ids.push(this.idOf(c));
      }
    }
  }

  private evict(before: number): void {
    const buf = this.buf;
    let keep = 0;
    for (let i = 0; i < buf.length; i++) if (lastTime(buf[i]) >= before) keep++;
    if (keep === buf.length) return;
    const next: MetricSeries[] = new Array(keep);
    const ids: number[] = new Array(keep);
    let j = 0;
    for (let i = 0; i < buf.length; i++) {
      if (lastTime(buf[i]) >= before) {
        next[j] = buf[i];
        ids[j++] = this.ids[i];
      }
    }
    this.buf = next;
    this.ids = ids;
  }

  private slice(w: Window): MetricParts {
    const buf = this.buf;
    const p = this.parts;
    p.reset(buf);
    const stamp = ++this.windowNo;
    if (this.stamp.length < this.nextId) {
      const s = new Int32Array(Math.max(this.nextId, 2 * this.stamp.length));
      s.set(this.stamp);
      this.stamp = s;
    }
    let repeated = false;
    for (let c = 0; c < buf.length; c++) {
      const times = buf[c].times;
      const n = times.length;
      if (n === 0 || times[0] >= w.end || times[n - 1] < w.start) continue;
      const lo = times[0] >= w.start ? 0 : lowerBound(times, w.start);
      const hi = times[n - 1] < w.end ? n : lowerBound(times, w.end);
      if (hi <= lo) continue;
      const id = this.ids[c];
      if (this.stamp[id] === stamp) repeated = true;
      else this.stamp[id] = stamp;
      p.push(c, lo, hi);
      p.endSeries(p.parts - 1);
    }
    if (repeated) this.join(p);
    return p;
  }

  /**
   * A series split over chunks (a window across a chunk boundary): its parts become one
   * series at its first appearance, ordered by their first point (as windowStream joins them).
   */
  private join(p: PartsBuffer): void {
    const n = p.parts;
    const chunk = p.chunk.slice(0, n);
    const lo = p.lo.slice(0, n);
    const hi = p.hi.slice(0, n);
    const groups = new Map<number, number[]>();
    const order: number[][] = [];
    for (let q = 0; q < n; q++) {
      const id = this.ids[chunk[q]];
      const g = groups.get(id);
      if (g) g.push(q);
      else {
        const list = [q];
        groups.set(id, list);
        order.push(list);
      }
    }
    const chunks = p.chunks;
    p.reset(chunks);
    for (const list of order) {
      if (list.length > 1) list.sort((a, b) => chunks[chunk[a]].times[lo[a]] - chunks[chunk[b]].times[lo[b]]);
      const from = p.parts;
      for (const q of list) p.push(chunk[q], lo[q], hi[q]);
      p.endSeries(from);
    }
  }

  async close(): Promise<void> {
    if (!this.done) await this.it.return?.();
  }
}
