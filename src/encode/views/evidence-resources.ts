import type { MetricSeries, TimeRange } from '../../telemetry/index.js';
import { DEFAULT_HISTORY_MS, LEVEL_FLOOR_SHARE, MIN_HISTORY_POINTS, NOT_RESOURCE, RESOURCE_METRIC } from '../evidence/index.js';
import { ITEM_MIN, fmt, qn, sig, type Item } from './evidence-util.js';
import { isParts, type MetricData } from './parts.js';
import type { Baseline } from './stats.js';
import { lowerBound } from '../../stats/index.js';

/** One resource series of a pod, time-ordered, old points dropped as windows move on. */
interface RollingSeries {
  pod: string;
  name: string;
  /** metric name number (the typical pod's level is per name) */
  nameId: number;
  /** the name says CPU / memory (the `res_cpu_*` / `res_mem_*` features) */
  cpu: boolean;
  mem: boolean;
  times: Float64Array;
  values: Float64Array;
  /** points held: [head, len) */
  head: number;
  len: number;
  /**
   * The values of points [hLo, hHi) — the history of the last window judged — kept sorted, so
   * the next window (one stride on) only takes out the points that left the history and puts in
   * those that entered it, instead of sorting the whole history again.
   */
  sorted: Float64Array;
  hLo: number;
  hHi: number;
  /** the global baseline, once looked up (null: none) */
  global?: Baseline | null;
  /**
   * CPU series: each point's share of the rest of the system's CPU (`shares`; NaN: none), kept
   * for points [head, sFinal) once final — once every point of its minute has been added,
   * the minute's total no longer changes (`ResourceHistory.finalShares`) — so a window works out
   * only its own points' shares, not its whole history's again (thirty-odd look-ups a series
   * and window on Nezha).
   */
  share?: Float64Array;
  sFinal: number;
  /** the final shares (NaN left out) of points [sLo, sHi), kept sorted as `sorted` is (`syncShares`) */
  shSorted?: Float64Array;
  shN: number;
  sLo: number;
  sHi: number;
}

/** sort buffer of `deviations` (|x − median|, merged in order), grown as needed */
let scratch = new Float64Array(64);

/** Takes one occurrence of `v` out of the sorted `a[0, n)`; the new length. */
function sortedRemove(a: Float64Array, n: number, v: number): number {
  const i = lowerBound(a, v, 0, n);
  // always there: the set holds exactly the values of [hLo, hHi)
  a.copyWithin(i, i + 1, n);
  return n - 1;
}

/** Puts `v` into the sorted `a[0, n)` (room for it assumed); the new length. */
function sortedInsert(a: Float64Array, n: number, v: number): number {
  const i = lowerBound(a, v, 0, n);
  a.copyWithin(i + 1, i, n);
  a[i] = v;
  return n + 1;
}

/** Sorts the values of points [h0, h1) of `s` into `s.sorted[0, h1 − h0)` (windows in stream order: a stride on from the last). */
function syncHistory(s: RollingSeries, h0: number, h1: number): void {
  const n = h1 - h0;
  const incremental = h0 >= s.hLo && h1 >= s.hHi && h0 <= s.hHi && h0 - s.hLo + (h1 - s.hHi) <= n;
  if (s.sorted.length < n) {
    const grown = new Float64Array(Math.max(16, n * 2));
    if (incremental) grown.set(s.sorted.subarray(0, s.hHi - s.hLo));
    s.sorted = grown;
  }
  if (incremental) {
    // out first, then in: the set never holds more than n values
    let k = s.hHi - s.hLo;
    for (let i = s.hLo; i < h0; i++) k = sortedRemove(s.sorted, k, s.values[i]);
    for (let i = s.hHi; i < h1; i++) k = sortedInsert(s.sorted, k, s.values[i]);
  } else {
    // the first window, a jump, or most of the history changed: sort afresh
    const a = s.sorted.subarray(0, n);
    a.set(s.values.subarray(h0, h1));
    a.sort();
  }
  s.hLo = h0;
  s.hHi = h1;
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
 * ≈20 % to `encode`. Each series keeps its history sorted from one window to the next (a
 * window one stride on changes a stride's worth of points), and the deviations from the
 * median come out sorted by merging the two sides of the median, so no window sorts anything
 * but the few per-metric levels.
 */
export class ResourceHistory {
  private readonly series = new Map<string, Map<string, RollingSeries>>();
  private readonly isResource = new Map<string, boolean>();
  private readonly nameIds = new Map<string, number>();
  /** the reader's chunks are handed out again window after window: their series, once looked up */
  private readonly ofChunk = new WeakMap<MetricSeries, RollingSeries | null>();
  /** the same by the chunk's place in a window's parts (checked by identity: places change) */
  private chunkAt: (MetricSeries | undefined)[] = [];
  private seriesAt: (RollingSeries | null)[] = [];
  // per-window scratch of `deviations`, reused
  private seenS: RollingSeries[] = [];
  private seenService: string[] = [];
  private seenF = new Float64Array(0);
  private levels: number[][] = [];
  private typical: number[] = [];
  /** the current pod's strongest deviations (places in `seen`), strongest first */
  private readonly top: number[] = [];
  /**
   * Per CPU metric name: the sum over every pod of that metric in each minute (`SHARE_BUCKET_MS`),
   * whence the rest of the system's CPU beside a pod's (`PodResources.cpuShare`). Buckets older than any
   * history are dropped as windows move on.
   */
  private readonly totals = new Map<number, Map<number, number>>();
  private totalsFrom = -Infinity;
  // per-window scratch of the share deviations, reused
  private shareBuf = new Float64Array(64);
  private shareLevels: number[][] = [];

  constructor(readonly historyMs = DEFAULT_HISTORY_MS) {}

  private seriesOf(c: MetricSeries): RollingSeries | null {
    let s = this.ofChunk.get(c);
    if (s !== undefined) return s;
    s = null;
    if (this.resource(c.name)) {
      let byName = this.series.get(c.entity);
      if (!byName) this.series.set(c.entity, (byName = new Map()));
      s = byName.get(c.name) ?? null;
      if (!s) {
        let nameId = this.nameIds.get(c.name);
        if (nameId === undefined) this.nameIds.set(c.name, (nameId = this.nameIds.size));
        s = { pod: c.entity, name: c.name, nameId, cpu: CPU.test(c.name), mem: MEM.test(c.name), times: new Float64Array(16), values: new Float64Array(16), head: 0, len: 0, sorted: new Float64Array(16), hLo: 0, hHi: 0, share: undefined, sFinal: 0, shSorted: undefined, shN: 0, sLo: 0, sHi: 0 };
        byName.set(c.name, s);
      }
    }
    this.ofChunk.set(c, s);
    return s;
  }

  private seriesOfPart(chunks: readonly MetricSeries[], at: number): RollingSeries | null {
    const c = chunks[at];
    if (this.chunkAt[at] === c) return this.seriesAt[at];
    const s = this.seriesOf(c);
    this.chunkAt[at] = c;
    this.seriesAt[at] = s;
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
    // every point before the window's end is in by now (the window held those it reaches; any
    // later window starts no earlier, so adds none before this end)
    if (range.end > this.addedTo) this.addedTo = range.end;
    if (isParts(m)) {
      for (let j = 0; j < m.count; j++) for (let p = m.first[j]; p < m.first[j + 1]; p++) this.take(this.seriesOfPart(m.chunks, m.chunk[p]), m.chunks[m.chunk[p]], m.lo[p], m.hi[p], keepFrom);
    } else for (const c of m) this.take(this.seriesOf(c), c, 0, c.times.length, keepFrom);
  }

  /** Points [lo, hi) of chunk `c` newer than the series' last one, into the series. */
  private take(s: RollingSeries | null, c: MetricSeries, lo: number, hi: number, keepFrom: number): void {
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
    const drop = lowerBound(s.times, keepFrom, s.head, s.len);
    if (drop > s.head) s.head = drop;
    const need = s.len - s.head + (hi - a);
    if (s.len + (hi - a) > s.times.length) {
      // points before `head` leave the sorted history first: their values go with the copy
      let k = s.hHi - s.hLo;
      if (s.hHi <= s.head) k = 0;
      else for (let i = s.hLo; i < s.head; i++) k = sortedRemove(s.sorted, k, s.values[i]);
      s.hLo = Math.max(s.hLo, s.head) - s.head;
      s.hHi = Math.max(s.hHi, s.head) - s.head;
      const cap = Math.max(16, need * 2);
      if (s.share) moveShares(s, cap);
      const t = new Float64Array(cap);
      const v = new Float64Array(cap);
      t.set(s.times.subarray(s.head, s.len));
      v.set(s.values.subarray(s.head, s.len));
      s.times = t;
      s.values = v;
      s.len -= s.head;
      s.head = 0;
    }
    const totals = s.cpu ? this.totalOf(s.nameId) : undefined;
    for (let i = a; i < hi; i++) {
      const v = c.values[i];
      if (!Number.isFinite(v)) continue;
      s.times[s.len] = c.times[i];
      s.values[s.len++] = v;
      if (totals && v > 0) {
        const b = Math.floor(c.times[i] / SHARE_BUCKET_MS);
        totals.set(b, (totals.get(b) ?? 0) + v);
      }
    }
    if (keepFrom - this.historyMs > this.totalsFrom) {
      // prune once per history length: a bucket is needed while some history reaches it
      this.totalsFrom = keepFrom;
      const oldest = Math.floor(keepFrom / SHARE_BUCKET_MS) - 1;
      for (const m of this.totals.values()) for (const b of m.keys()) if (b < oldest) m.delete(b);
    }
  }

  private totalOf(nameId: number): Map<number, number> {
    let m = this.totals.get(nameId);
    if (!m) this.totals.set(nameId, (m = new Map()));
    return m;
  }

  /**
   * The pod's CPU against the rest of the system's (this metric summed over every other pod in
   * the same minute) at points [i0, i1) of `s`, into `out[0, i1 − i0)`; points whose minute has
   * no other pod's CPU are skipped. The count written. The rest, not the whole: a pod that burns
   * a large part of the system's CPU would otherwise damp its own ratio (on Nezha a stressed pod
   * takes most of it).
   */
  private shares(s: RollingSeries, i0: number, i1: number, out: Float64Array): number {
    const totals = this.totals.get(s.nameId);
    if (!totals) return 0;
    let n = 0;
    for (let i = i0; i < i1; i++) {
      const t = totals.get(Math.floor(s.times[i] / SHARE_BUCKET_MS));
      if (t === undefined) continue;
      const v = Math.max(0, s.values[i]);
      const rest = t - v;
      if (rest > 0) out[n++] = v / rest;
    }
    return n;
  }

  /**
   * Per pod: each resource metric's deviation from the pod's own history, and its window mean
   * against the global baseline (`global(service, metric)`: the views' metric baseline of the
   * service, fitted on training windows). With `detail`, also each metric's deviations by name
   * (`PodResources.own`/`global`; the features need only their maxima).
   */
  deviations(range: TimeRange, serviceOf: (e: string) => string | undefined, global: (service: string, metric: string) => Baseline | undefined, detail = false): Map<string, PodResources> {
    // per seen series: mean, n, center, MAD-based scale, level (struct of arrays, reused)
    const seenS = this.seenS;
    const seenService = this.seenService;
    let seen = 0;
    const levels = this.levels;
    for (const l of levels) if (l) l.length = 0;
    for (const l of this.shareLevels) if (l) l.length = 0;
    for (const [pod, byName] of this.series) {
      const service = serviceOf(pod);
      if (!service) continue;
      for (const s of byName.values()) {
        const w0 = lowerBound(s.times, range.start, s.head, s.len);
        const w1 = lowerBound(s.times, range.end, w0, s.len);
        if (w1 === w0) continue;
        const h0 = lowerBound(s.times, range.start - this.historyMs, s.head, w0);
        const hn = w0 - h0;
        if (hn < MIN_HISTORY_POINTS) continue;
        let sum = 0;
        for (let i = w0; i < w1; i++) sum += s.values[i];
        syncHistory(s, h0, w0);
        const h = s.sorted;
        const center = qn(h, hn, 0.5);
        const level = Math.abs(h[hn >> 1]);
        let absSum = 0;
        for (let i = 0; i < hn; i++) absSum += Math.abs(h[i] - center);
        if (seen * 5 + 5 > this.seenF.length) {
          const grown = new Float64Array(Math.max(320, this.seenF.length * 2));
          grown.set(this.seenF);
          this.seenF = grown;
        }
        const f = this.seenF;
        f[seen * 5] = sum / (w1 - w0);
        f[seen * 5 + 2] = center;
        f[seen * 5 + 3] = Math.max(1.4826 * medianAbsDeviation(h, hn, center), absSum / hn);
        f[seen * 5 + 4] = level;
        seenS[seen] = s;
        seenService[seen] = service;
        if (s.cpu) this.shareDeviation(s, seen, h0, w0, w1);
        seen++;
        (levels[s.nameId] ??= []).push(level);
      }
    }
    const typical = this.typical;
    for (let i = 0; i < levels.length; i++) if (levels[i]?.length) typical[i] = upperMedian(levels[i]);
    const typicalShare = this.shareLevels.map((v) => (v?.length ? upperMedian(v) : 0));
    const out = new Map<string, PodResources>();
    const f = this.seenF;
    // a pod's strongest deviations (its series are consecutive in `seen`): an item is made only
    // for those, not for every deviation beyond ITEM_MIN (most of them, sorted and cut to three)
    const top = this.top;
    let nTop = 0;
    let topOf: PodResources | undefined;
    const flush = () => {
      if (nTop) topOf!.items = top.slice(0, nTop).map((k) => resourceItem(seenS[k].pod, seenS[k].name, f[k * 5], f[k * 5 + 2], f[k * 5 + 1]));
      nTop = 0;
    };
    for (let k = 0; k < seen; k++) {
      const s = seenS[k];
      const service = seenService[k];
      const mean = f[k * 5];
      const center = f[k * 5 + 2];
      const level = f[k * 5 + 4];
      const floor = Math.max(LEVEL_FLOOR_SHARE * Math.max(level, typical[s.nameId] ?? 0), 1e-9);
      const scale = Math.max(f[k * 5 + 3], floor);
      const dev = (mean - center) / scale;
      let r = out.get(s.pod);
      if (!r) out.set(s.pod, (r = { service, metrics: 0, ownMax: NaN, cpuOwn: NaN, memOwn: NaN, globalMax: NaN, cpuGlobal: NaN, cpuShare: NaN, items: NO_ITEMS }));
      if (s.cpu) {
        const sh = this.shareF;
        if (!Number.isNaN(sh[k * 4])) {
          const shScale = Math.max(sh[k * 4 + 2], LEVEL_FLOOR_SHARE * Math.max(sh[k * 4 + 3], typicalShare[s.nameId] ?? 0), 1e-12);
          const d = (sh[k * 4] - sh[k * 4 + 1]) / shScale;
          if (Number.isFinite(d) && !(Math.abs(d) <= Math.abs(r.cpuShare))) r.cpuShare = d;
        }
      }
      if (r !== topOf) {
        flush();
        topOf = r;
      }
      r.metrics++;
      // the value of largest magnitude, the first of equals (as the features always took it)
      if (Number.isFinite(dev)) {
        if (!(Math.abs(dev) <= Math.abs(r.ownMax))) r.ownMax = dev;
        if (s.cpu && !(Math.abs(dev) <= Math.abs(r.cpuOwn))) r.cpuOwn = dev;
        if (s.mem && !(Math.abs(dev) <= Math.abs(r.memOwn))) r.memOwn = dev;
      }
      if (detail) (r.own ??= new Map()).set(s.name, dev);
      if (Math.abs(dev) >= ITEM_MIN) {
        // the order of a stable sort by |dev|, descending: after the equals that came first
        f[k * 5 + 1] = dev;
        const a = Math.abs(dev);
        let i = nTop;
        while (i > 0 && Math.abs(f[top[i - 1] * 5 + 1]) < a) i--;
        if (i < ITEMS_KEPT) {
          for (let j = Math.min(nTop, ITEMS_KEPT - 1); j > i; j--) top[j] = top[j - 1];
          top[i] = k;
          if (nTop < ITEMS_KEPT) nTop++;
        }
      }
      if (s.global === undefined) s.global = global(service, s.name) ?? null;
      const b = s.global;
      if (b && b.scale > 0) {
        const z = (mean - b.median) / b.scale;
        if (Number.isFinite(z)) {
          if (!(Math.abs(z) <= Math.abs(r.globalMax))) r.globalMax = z;
          if (s.cpu && !(Math.abs(z) <= Math.abs(r.cpuGlobal))) r.cpuGlobal = z;
        }
        if (detail) (r.global ??= new Map()).set(s.name, z);
      }
    }
    flush();
    seenS.length = 0;
    seenService.length = 0;
    return out;
  }

  /** the ratio deviations' parts of this window's series, by place in `seen`: mean, centre, scale, level (NaN mean: none) */
  private shareF = new Float64Array(0);
  /** the latest window end added: points before it are all in (`add`) */
  private addedTo = -Infinity;

  /**
   * Works out and keeps the shares of `s`'s points up to `upTo` whose minute is complete: its
   * end no later than the latest window end added. No point of that minute can come later
   * (`add`), so its total, hence the share, is what any later window would compute; buckets
   * are dropped only once older than every history (`take`), so none a history reads is gone.
   */
  private finalShares(s: RollingSeries, totals: Map<number, number>, upTo: number): void {
    if (!s.share || s.share.length < s.values.length) {
      const grown = new Float64Array(s.values.length);
      if (s.share) grown.set(s.share.subarray(0, Math.min(s.share.length, grown.length)));
      s.share = grown;
    }
    const share = s.share;
    let i = Math.max(s.sFinal, s.head);
    for (; i < upTo; i++) {
      const b = Math.floor(s.times[i] / SHARE_BUCKET_MS);
      if ((b + 1) * SHARE_BUCKET_MS > this.addedTo) break;
      const t = totals.get(b);
      let x = NaN;
      if (t !== undefined) {
        const v = Math.max(0, s.values[i]);
        const rest = t - v;
        if (rest > 0) x = v / rest;
      }
      share[i] = x;
    }
    s.sFinal = i;
  }

  /**
   * The pod's CPU against the rest of the system's (`shares`) in the window [w0, w1) against its
   * history [h0, w0): the same robust centre and scale as the own-history deviation, its level
   * kept for the typical pod's floor. Why a ratio: a load change moves every pod's CPU together,
   * so against its own history a pod's CPU looks extreme at every change of load, while its
   * ratio to the rest stays put; a pod that burns CPU for itself (contention, a hot loop) moves
   * its ratio alone.
   */
  private shareDeviation(s: RollingSeries, at: number, h0: number, w0: number, w1: number): void {
    if (at * 4 + 4 > this.shareF.length) {
      const grown = new Float64Array(Math.max(256, this.shareF.length * 2));
      grown.set(this.shareF);
      this.shareF = grown;
    }
    this.shareF[at * 4] = NaN;
    const totals = this.totals.get(s.nameId);
    if (!totals) return;
    const n = w1 - h0;
    if (this.shareBuf.length < n) this.shareBuf = new Float64Array(n * 2);
    this.finalShares(s, totals, w0);
    let h: Float64Array;
    let hn: number;
    if (s.sFinal >= w0) {
      // every history point's share is final: the sorted history moves on by a stride
      syncShares(s, h0, w0);
      h = s.shSorted!;
      hn = s.shN;
    } else {
      // a minute of the history not complete yet (windows shorter than a minute): afresh
      const hist = this.shareBuf.subarray(0, w0 - h0);
      hn = this.shares(s, h0, w0, hist);
      h = hist.subarray(0, hn).sort();
    }
    if (hn < MIN_HISTORY_POINTS) return;
    const now = this.shareBuf.subarray(w0 - h0, n);
    const wn = this.shares(s, w0, w1, now);
    if (wn === 0) return;
    let sum = 0;
    for (let i = 0; i < wn; i++) sum += now[i];
    const center = qn(h, hn, 0.5);
    let absSum = 0;
    for (let i = 0; i < hn; i++) absSum += Math.abs(h[i] - center);
    const level = Math.abs(h[hn >> 1]);
    const f = this.shareF;
    f[at * 4] = sum / wn;
    f[at * 4 + 1] = center;
    f[at * 4 + 2] = Math.max(1.4826 * medianAbsDeviation(h, hn, center), absSum / hn);
    f[at * 4 + 3] = level;
    (this.shareLevels[s.nameId] ??= []).push(level);
  }
}

/**
 * The final shares of points [h0, h1) of `s` (NaN left out) into `s.shSorted[0, s.shN)`, sorted:
 * a stride on from the last window, only the points that left and those that came in (as
 * `syncHistory`). A sorted array is the same whatever order its values came in, so the
 * figures read from it are those of a fresh sort.
 */
function syncShares(s: RollingSeries, h0: number, h1: number): void {
  const n = h1 - h0;
  const share = s.share!;
  const incremental = s.shSorted !== undefined && h0 >= s.sLo && h1 >= s.sHi && h0 <= s.sHi && h0 - s.sLo + (h1 - s.sHi) <= n;
  if (!s.shSorted || s.shSorted.length < n) {
    const grown = new Float64Array(Math.max(16, n * 2));
    if (incremental) grown.set(s.shSorted!.subarray(0, s.shN));
    s.shSorted = grown;
  }
  const a = s.shSorted;
  let k = 0;
  if (incremental) {
    k = s.shN;
    for (let i = s.sLo; i < h0; i++) if (share[i] === share[i]) k = sortedRemove(a, k, share[i]);
    for (let i = s.sHi; i < h1; i++) if (share[i] === share[i]) k = sortedInsert(a, k, share[i]);
  } else {
    for (let i = h0; i < h1; i++) if (share[i] === share[i]) a[k++] = share[i];
    a.subarray(0, k).sort();
  }
  s.shN = k;
  s.sLo = h0;
  s.sHi = h1;
}

/** The shares of a series whose buffers are copied to a capacity `cap` from `s.head` on (`take`): points before it leave the sorted shares. */
function moveShares(s: RollingSeries, cap: number): void {
  const share = s.share!;
  let k = s.shN;
  if (s.sHi <= s.head) k = 0;
  else for (let i = s.sLo; i < s.head; i++) if (share[i] === share[i]) k = sortedRemove(s.shSorted!, k, share[i]);
  s.shN = k;
  s.sLo = Math.max(s.sLo, s.head) - s.head;
  s.sHi = Math.max(s.sHi, s.head) - s.head;
  s.sFinal = Math.max(s.sFinal, s.head) - s.head;
  const moved = new Float64Array(cap);
  moved.set(share.subarray(s.head, Math.min(s.len, s.head + cap, share.length)));
  s.share = moved;
}

/** The upper median of `v` (the value at n >> 1 once sorted), sorted in the module's scratch buffer. */
function upperMedian(v: readonly number[]): number {
  if (scratch.length < v.length) scratch = new Float64Array(v.length * 2);
  const a = scratch.subarray(0, v.length);
  for (let j = 0; j < v.length; j++) a[j] = v[j];
  return a.sort()[v.length >> 1];
}

/**
 * The median of |h − center| over the sorted `h[0, n)`: the deviations of the values below the center
 * and of those above it are each in order already, so merging the two sides up to the middle
 * gives the sorted deviations' median without a sort.
 */
function medianAbsDeviation(h: Float64Array, n: number, center: number): number {
  const pos = 0.5 * (n - 1);
  const upTo = Math.ceil(pos);
  if (scratch.length < upTo + 1) scratch = new Float64Array((upTo + 1) * 2);
  let r = lowerBound(h, center, 0, n);
  let l = r - 1;
  for (let k = 0; k <= upTo; k++) {
    const dl = l >= 0 ? Math.abs(h[l] - center) : Infinity;
    const dr = r < n ? Math.abs(h[r] - center) : Infinity;
    if (dl <= dr) ((scratch[k] = dl), l--);
    else ((scratch[k] = dr), r++);
  }
  return qn(scratch, n, 0.5);
}

/** Minute buckets the system's CPU is summed over (pods report at different seconds of a minute). */
export const SHARE_BUCKET_MS = 60_000;

/** Items a pod keeps (its strongest deviations). */
const ITEMS_KEPT = 3;

function resourceItem(pod: string, name: string, mean: number, center: number, dev: number): Item {
  return { dev, text: () => `resource ${pod} ${name} ${fmt(mean)} (own ${fmt(center)}, z ${sig(dev)})` };
}

/** the items of a pod with none (shared: never added to) */
const NO_ITEMS: Item[] = [];

/** Metric names the `res_cpu_*` and `res_mem_*` features take. */
export const CPU = /cpu/i;
export const MEM = /mem/i;

export interface PodResources {
  service: string;
  /** resource metrics judged (against their own history) */
  metrics: number;
  /** of the deviations from the own rolling history: the largest in magnitude (signed; NaN: none), over CPU metrics, over memory metrics */
  ownMax: number;
  cpuOwn: number;
  memOwn: number;
  /** of the z of the window mean against the service's training baseline: the same */
  globalMax: number;
  cpuGlobal: number;
  /**
   * the deviation of the pod's CPU over the rest of the system's (a CPU metric over its sum across
   * the other pods, minute by minute) from its own history, robust centre and scale as `cpuOwn`
   * (NaN: none)
   */
  cpuShare: number;
  /** the pod's three strongest, as items */
  items: Item[];
  /** with `detail`: metric → deviation from the pod's own rolling history */
  own?: Map<string, number>;
  /** with `detail`: metric → z against the training baseline */
  global?: Map<string, number>;
}
