import type { MetricSeries, TimeRange } from '../../telemetry/index.js';
import { DEFAULT_HISTORY_MS, LEVEL_FLOOR_SHARE, MIN_HISTORY_POINTS, NOT_RESOURCE, RESOURCE_METRIC } from '../evidence/index.js';
import { ITEM_MIN, fmt, push, q, sig, sorted, type Item } from './evidence-util.js';
import { isParts, type MetricData } from './parts.js';
import type { Baseline } from './stats.js';

/** One resource series of a pod, time-ordered, old points dropped as windows move on. */
interface RollingSeries {
  pod: string;
  name: string;
  times: Float64Array;
  values: Float64Array;
  /** points held: [head, len) */
  head: number;
  len: number;
  /** the global baseline, once looked up (null: none) */
  global?: Baseline | null;
}

/** sort buffers of `deviations`, grown as needed */
let scratchA = new Float64Array(64);
let scratchB = new Float64Array(64);

function lowerBound(a: Float64Array, from: number, to: number, x: number): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Resource metrics of the pods, kept from the windows rendered so far, so each window is
 * compared with the pod's own rolling history (`historyMs`, default the resource family's 30
 * min). Only the family's resource metrics (`RESOURCE_METRIC`, not `NOT_RESOURCE`) are kept,
 * and only as far back as the history reaches.
 *
 * The deviation is the resource family's (src/encode/evidence/resources.ts `summarize`, which
 * the tests compare it with): window mean against the median of the history, scaled by
 * max(1.4826·MAD, mean |x − median|, 5 % of the larger of the pod's own level and the typical
 * pod's). It is computed here on typed arrays because the family, made for one query at a
 * time, copied and sorted every history through generic arrays: on Nezha that alone added
 * ≈20 % to `encode`.
 */
export class ResourceHistory {
  private readonly series = new Map<string, Map<string, RollingSeries>>();
  private readonly isResource = new Map<string, boolean>();
  /** the reader's chunks are handed out again window after window: their series, once looked up */
  private readonly ofChunk = new WeakMap<MetricSeries, RollingSeries | null>();

  constructor(readonly historyMs = DEFAULT_HISTORY_MS) {}

  private seriesOf(c: MetricSeries): RollingSeries | null {
    let s = this.ofChunk.get(c);
    if (s !== undefined) return s;
    s = null;
    if (this.resource(c.name)) {
      let byName = this.series.get(c.entity);
      if (!byName) this.series.set(c.entity, (byName = new Map()));
      s = byName.get(c.name) ?? null;
      if (!s) byName.set(c.name, (s = { pod: c.entity, name: c.name, times: new Float64Array(16), values: new Float64Array(16), head: 0, len: 0 }));
    }
    this.ofChunk.set(c, s);
    return s;
  }

  private resource(name: string): boolean {
    let r = this.isResource.get(name);
    if (r === undefined) this.isResource.set(name, (r = RESOURCE_METRIC.test(name) && !NOT_RESOURCE.test(name)));
    return r;
  }

  /** Adds a window's points not seen yet (windows in time order) and drops points older than its history. */
  add(m: MetricData, range: TimeRange): void {
    const keepFrom = range.start - this.historyMs;
    const take = (c: MetricSeries, lo: number, hi: number) => {
      const s = this.seriesOf(c);
      if (!s) return;
      const last = s.len > s.head ? s.times[s.len - 1] : -Infinity;
      if (c.times[hi - 1] <= last) return;
      // first point after the last one kept
      let a = lo;
      let b = hi;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (c.times[mid] <= last) a = mid + 1;
        else b = mid;
      }
      // drop what no history reaches any more, then make room
      const drop = lowerBound(s.times, s.head, s.len, keepFrom);
      if (drop > s.head) s.head = drop;
      const need = s.len - s.head + (hi - a);
      if (s.len + (hi - a) > s.times.length) {
        const cap = Math.max(16, need * 2);
        const t = new Float64Array(cap);
        const v = new Float64Array(cap);
        t.set(s.times.subarray(s.head, s.len));
        v.set(s.values.subarray(s.head, s.len));
        s.times = t;
        s.values = v;
        s.len -= s.head;
        s.head = 0;
      }
      for (let i = a; i < hi; i++) {
        const v = c.values[i];
        if (!Number.isFinite(v)) continue;
        s.times[s.len] = c.times[i];
        s.values[s.len++] = v;
      }
    };
    if (isParts(m)) {
      for (let j = 0; j < m.count; j++) for (let p = m.first[j]; p < m.first[j + 1]; p++) take(m.chunks[m.chunk[p]], m.lo[p], m.hi[p]);
    } else for (const s of m) take(s, 0, s.times.length);
  }

  /**
   * Per pod: each resource metric's deviation from the pod's own history, and its window mean
   * against the global baseline (`global(service, metric)`: the views' metric baseline of the
   * service, fitted on training windows).
   */
  deviations(range: TimeRange, serviceOf: (e: string) => string | undefined, global: (service: string, metric: string) => Baseline | undefined): Map<string, PodResources> {
    interface Seen {
      s: RollingSeries;
      service: string;
      mean: number;
      n: number;
      center: number;
      madScale: number;
      level: number;
    }
    const seen: Seen[] = [];
    const levels = new Map<string, number[]>();
    for (const [pod, byName] of this.series) {
      const service = serviceOf(pod);
      if (!service) continue;
      for (const s of byName.values()) {
        const w0 = lowerBound(s.times, s.head, s.len, range.start);
        const w1 = lowerBound(s.times, w0, s.len, range.end);
        if (w1 === w0) continue;
        const h0 = lowerBound(s.times, s.head, w0, range.start - this.historyMs);
        const hn = w0 - h0;
        if (hn < MIN_HISTORY_POINTS) continue;
        let sum = 0;
        for (let i = w0; i < w1; i++) sum += s.values[i];
        if (scratchA.length < hn) ((scratchA = new Float64Array(hn * 2)), (scratchB = new Float64Array(hn * 2)));
        const h = scratchA.subarray(0, hn);
        h.set(s.values.subarray(h0, w0));
        h.sort();
        const center = q(h, 0.5);
        const level = Math.abs(h[hn >> 1]);
        const d = scratchB.subarray(0, hn);
        let absSum = 0;
        for (let i = 0; i < hn; i++) absSum += d[i] = Math.abs(h[i] - center);
        d.sort();
        seen.push({ s, service, mean: sum / (w1 - w0), n: w1 - w0, center, madScale: Math.max(1.4826 * q(d, 0.5), absSum / hn), level });
        push(levels, s.name, level);
      }
    }
    const typical = new Map<string, number>();
    for (const [name, v] of levels) typical.set(name, sorted(v)[v.length >> 1]);
    const out = new Map<string, PodResources>();
    const ranked = new Map<string, Item[]>();
    for (const x of seen) {
      const floor = Math.max(LEVEL_FLOOR_SHARE * Math.max(x.level, typical.get(x.s.name) ?? 0), 1e-9);
      const scale = Math.max(x.madScale, floor);
      const dev = (x.mean - x.center) / scale;
      let r = out.get(x.s.pod);
      if (!r) out.set(x.s.pod, (r = { service: x.service, own: new Map(), global: new Map(), items: [] }));
      r.own.set(x.s.name, dev);
      if (Math.abs(dev) >= ITEM_MIN) push(ranked, x.s.pod, { dev, text: () => `resource ${x.s.pod} ${x.s.name} ${fmt(x.mean)} (own ${fmt(x.center)}, z ${sig(dev)})` });
      if (x.s.global === undefined) x.s.global = global(x.service, x.s.name) ?? null;
      const b = x.s.global;
      if (b && b.scale > 0) r.global.set(x.s.name, (x.mean - b.median) / b.scale);
    }
    for (const [pod, items] of ranked) {
      out.get(pod)!.items = items
        .sort((a, b) => Math.abs(b.dev) - Math.abs(a.dev))
        .slice(0, 3);
    }
    return out;
  }
}

export interface PodResources {
  service: string;
  /** metric → deviation from the pod's own rolling history */
  own: Map<string, number>;
  /** metric → z of the window mean against the service's training baseline */
  global: Map<string, number>;
  /** the pod's three strongest, as items */
  items: Item[];
}

