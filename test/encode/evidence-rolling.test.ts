// The views' rolling resource history (src/encode/views/evidence-resources.ts) keeps each
// series' history sorted from one window to the next instead of sorting it per window. These
// tests hold it to a naive reference — every window's history gathered from all points and
// sorted afresh, as the computation was before — exactly, over histories that move a stride
// at a time, jump over gaps, hold NaNs, ties and zeros, and outgrow their buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceHistory } from '../../src/encode/views/evidence-resources.js';
import { SeededRandom } from '../../src/encode/views/stats.js';
import type { MetricParts } from '../../src/encode/views/parts.js';
import type { MetricSeries, TimeRange } from '../../src/telemetry/index.js';
import type { Baseline } from '../../src/encode/views/stats.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const HISTORY = 30 * MIN;
const NAMES = ['CpuUsage(m)', 'CpuUsageRate(%)', 'MemoryUsage(Mi)', 'FsWrite', 'NetworkReceiveBytes'];

interface Full {
  entity: string;
  name: string;
  times: Float64Array;
  values: Float64Array;
}

/** Six pods × five metrics (one not a resource); irregular steps, NaNs, ties, a silent hour. */
function generate(seed: number): Full[] {
  const rng = new SeededRandom(seed);
  const out: Full[] = [];
  for (let p = 0; p < 6; p++) {
    for (const name of NAMES) {
      const times: number[] = [];
      const values: number[] = [];
      const level = p === 5 ? 0 : 10 + 90 * rng.next();
      for (let t = T0 + Math.floor(rng.next() * 20_000); t < T0 + 300 * MIN; t += 5_000 + Math.floor(rng.next() * 70_000)) {
        if (t > T0 + 120 * MIN && t < T0 + 190 * MIN && p % 2 === 0) continue; // a gap longer than the history
        times.push(t);
        const u = rng.next();
        // coarse values repeat (ties); a few are missing; one pod sits at zero
        values.push(u < 0.03 ? NaN : p === 5 ? (u < 0.5 ? 0 : -0) : Math.round(level + 8 * (rng.next() - 0.5) + (t > T0 + 250 * MIN && p === 2 ? 40 : 0)));
      }
      out.push({ entity: `pod${p}`, name, times: Float64Array.from(times), values: Float64Array.from(values) });
    }
  }
  return out;
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function q(s: Float64Array, p: number): number {
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The deviations the old per-window code computed: sort the history, then its |x − median|. */
function reference(all: Full[], range: TimeRange): Map<string, Map<string, number>> {
  const seen: { pod: string; name: string; mean: number; center: number; madScale: number; level: number }[] = [];
  const levels = new Map<string, number[]>();
  for (const s of all) {
    if (!/cpu|mem|disk|fs_|_io|threads/i.test(s.name) || /^node|latency|success|workload/i.test(s.name)) continue;
    const win: number[] = [];
    const hist: number[] = [];
    for (let i = 0; i < s.times.length; i++) {
      if (!Number.isFinite(s.values[i])) continue;
      if (s.times[i] >= range.start && s.times[i] < range.end) win.push(s.values[i]);
      else if (s.times[i] >= range.start - HISTORY && s.times[i] < range.start) hist.push(s.values[i]);
    }
    if (!win.length || hist.length < 5) continue;
    const h = Float64Array.from(hist).sort();
    const center = q(h, 0.5);
    let absSum = 0;
    const d = new Float64Array(h.length);
    for (let i = 0; i < h.length; i++) absSum += d[i] = Math.abs(h[i] - center);
    d.sort();
    const level = Math.abs(h[h.length >> 1]);
    seen.push({ pod: s.entity, name: s.name, mean: win.reduce((a, b) => a + b, 0) / win.length, center, madScale: Math.max(1.4826 * q(d, 0.5), absSum / h.length), level });
    levels.set(s.name, [...(levels.get(s.name) ?? []), level]);
  }
  const out = new Map<string, Map<string, number>>();
  for (const x of seen) {
    const v = Float64Array.from(levels.get(x.name)!).sort();
    const floor = Math.max(0.05 * Math.max(x.level, v[v.length >> 1]), 1e-9);
    const dev = (x.mean - x.center) / Math.max(x.madScale, floor);
    (out.get(x.pod) ?? out.set(x.pod, new Map()).get(x.pod)!).set(x.name, dev);
  }
  return out;
}

/** A window's points as windowStream hands them out: new series objects every window. */
function sliceOf(all: Full[], range: TimeRange): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const s of all) {
    const lo = lowerBound(s.times, range.start);
    const hi = lowerBound(s.times, range.end);
    if (hi > lo) out.push({ entity: s.entity, name: s.name, unit: '', times: s.times.subarray(lo, hi), values: s.values.subarray(lo, hi) });
  }
  return out;
}

/** A window's points as parts of long-lived chunks (each series cut in two chunks), in a shuffled order. */
function partsOf(chunks: MetricSeries[], range: TimeRange): MetricParts {
  const chunk: number[] = [];
  const lo: number[] = [];
  const hi: number[] = [];
  for (let c = 0; c < chunks.length; c++) {
    const t = chunks[c].times as Float64Array;
    const a = lowerBound(t, range.start);
    const b = lowerBound(t, range.end);
    if (b > a) (chunk.push(c), lo.push(a), hi.push(b));
  }
  const first = Int32Array.from({ length: chunk.length + 1 }, (_, i) => i);
  return { count: chunk.length, chunks, chunk: Int32Array.from(chunk), lo: Int32Array.from(lo), hi: Int32Array.from(hi), first };
}

const serviceOf = (e: string) => e;
const baseline = (): Baseline => ({ n: 10, median: 50, scale: 5 });

function check(hist: ResourceHistory, all: Full[], range: TimeRange): number {
  const mine = hist.deviations(range, serviceOf, () => baseline(), true);
  const ref = reference(all, range);
  assert.deepEqual([...mine.keys()].sort(), [...ref.keys()].sort(), `pods at ${range.start}`);
  let n = 0;
  for (const [pod, devs] of ref) {
    const r = mine.get(pod)!;
    assert.equal(r.metrics, devs.size);
    for (const [name, d] of devs) {
      // exact: the same sorted history, the same arithmetic
      assert.equal(r.own!.get(name), d, `${pod} ${name} at ${(range.start - T0) / MIN} min`);
      n++;
    }
    const v = [...devs.values()];
    const maxAbs = (xs: number[]) => xs.reduce((b, x) => (Math.abs(x) <= Math.abs(b) ? b : x), NaN);
    assert.equal(r.ownMax, maxAbs(v));
    assert.equal(r.cpuOwn, maxAbs([...devs].filter(([k]) => /cpu/i.test(k)).map(([, x]) => x)));
    assert.equal(r.memOwn, maxAbs([...devs].filter(([k]) => /mem/i.test(k)).map(([, x]) => x)));
  }
  return n;
}

test('rolling resource history: window by window equal to sorting each history afresh (series slices)', () => {
  for (const seed of [1, 2]) {
    const all = generate(seed);
    const hist = new ResourceHistory(HISTORY);
    let compared = 0;
    for (let t = T0; t + 5 * MIN <= T0 + 300 * MIN; t += MIN) {
      const range = { start: t, end: t + 5 * MIN };
      hist.add(sliceOf(all, range), range);
      compared += check(hist, all, range);
    }
    assert.ok(compared > 3000, `${compared}`);
  }
});

test('rolling resource history: parts of long-lived chunks, strides of 1, 2 and 5 min (windows of 5 min)', () => {
  const all = generate(3);
  // each series in two chunks, split at 100 min, listed in an order that is not the series'
  const chunks: MetricSeries[] = [];
  for (const s of all) {
    const cut = lowerBound(s.times, T0 + 100 * MIN);
    chunks.push({ entity: s.entity, name: s.name, unit: '', times: s.times.subarray(cut), values: s.values.subarray(cut) });
    chunks.unshift({ entity: s.entity, name: s.name, unit: '', times: s.times.subarray(0, cut), values: s.values.subarray(0, cut) });
  }
  for (const stride of [1, 2, 5]) {
    const hist = new ResourceHistory(HISTORY);
    let compared = 0;
    let list = chunks;
    for (let t = T0, i = 0; t + 5 * MIN <= T0 + 300 * MIN; t += stride * MIN, i++) {
      // a window whose chunks come in another order (their places change; the history must not)
      if (i % 17 === 5) list = [...list].reverse();
      const range = { start: t, end: t + 5 * MIN };
      const parts = partsOf(list, range);
      // a window split over two chunks hands both parts of one series; windowStream joins them
      // in time order, which the order of `list` may not keep: sort this window's parts by time
      const order = [...Array(parts.count).keys()].sort((a, b) => list[parts.chunk[a]].times[parts.lo[a]] - list[parts.chunk[b]].times[parts.lo[b]]);
      const sortedParts: MetricParts = { ...parts, chunk: Int32Array.from(order, (k) => parts.chunk[k]), lo: Int32Array.from(order, (k) => parts.lo[k]), hi: Int32Array.from(order, (k) => parts.hi[k]) };
      hist.add(sortedParts, range);
      compared += check(hist, all, range);
    }
    assert.ok(compared > 3000 / stride, `stride ${stride}: ${compared}`);
  }
});

test('rolling resource history: global z maxima against the training baseline', () => {
  const all = generate(4);
  const hist = new ResourceHistory(HISTORY);
  let checked = 0;
  for (let t = T0; t + 5 * MIN <= T0 + 100 * MIN; t += MIN) {
    const range = { start: t, end: t + 5 * MIN };
    hist.add(sliceOf(all, range), range);
    for (const r of hist.deviations(range, serviceOf, (_s, name) => (name.startsWith('Cpu') ? baseline() : undefined), true).values()) {
      const g = [...(r.global ?? new Map<string, number>())];
      assert.ok(g.every(([k]) => k.startsWith('Cpu')));
      const maxAbs = (xs: number[]) => xs.reduce((b, x) => (Math.abs(x) <= Math.abs(b) ? b : x), NaN);
      assert.equal(r.globalMax, maxAbs(g.map(([, x]) => x)));
      assert.equal(r.cpuGlobal, r.globalMax);
      if (g.length) checked++;
    }
  }
  assert.ok(checked > 100, `${checked}`);
});
