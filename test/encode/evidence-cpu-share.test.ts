// The pod's CPU over the rest of the system's, against its own history (`PodResources.cpuShare`,
// feature `res_cpu_share_z`): a load change that moves every pod's CPU together must leave it
// quiet while the own-history deviation (`cpuOwn`) is extreme, a pod that burns CPU for itself
// must stand out, and the value must be what a naive computation over the whole series gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceHistory } from '../../src/encode/views/evidence-resources.js';
import { SeededRandom } from '../../src/encode/views/stats.js';
import { sliceOf, type FullSeries as Full } from '../helpers/metric-slices.js';
import type { TimeRange } from '../../src/telemetry/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);
const HISTORY = 30 * MIN;
const PODS = 10;
const LOAD_STEP = 120; // minute at which every pod's load doubles
const HOT = { pod: 3, from: 200, to: 206 }; // minutes a pod burns CPU for itself

/** Ten pods' CPU, one point a minute at a pod-specific second; memory beside it (not a share). */
function generate(seed: number): Full[] {
  const rng = new SeededRandom(seed);
  const out: Full[] = [];
  for (let p = 0; p < PODS; p++) {
    const level = 20 + 60 * rng.next();
    const offset = Math.floor(rng.next() * 50_000);
    const times: number[] = [];
    const cpu: number[] = [];
    const mem: number[] = [];
    for (let m = 0; m < 300; m++) {
      times.push(T0 + m * MIN + offset);
      const load = m >= LOAD_STEP ? 2 : 1;
      const hot = p === HOT.pod && m >= HOT.from && m < HOT.to ? 2 * level : 0;
      cpu.push(level * load * (1 + 0.02 * (rng.next() - 0.5)) + hot);
      mem.push(500 + 10 * rng.next());
    }
    out.push({ entity: `pod${p}`, name: 'CpuUsage(m)', times: Float64Array.from(times), values: Float64Array.from(cpu) });
    out.push({ entity: `pod${p}`, name: 'MemoryUsage(Mi)', times: Float64Array.from(times), values: Float64Array.from(mem) });
  }
  return out;
}

function q(s: Float64Array, p: number): number {
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** The share deviations computed naively: totals per minute over all pods, each pod's share series, the robust z. */
function naive(all: Full[], range: TimeRange): Map<string, number> {
  const cpu = all.filter((s) => s.name === 'CpuUsage(m)');
  const total = new Map<number, number>();
  for (const s of cpu) s.times.forEach((t, i) => total.set(Math.floor(t / MIN), (total.get(Math.floor(t / MIN)) ?? 0) + s.values[i]));
  const parts: { pod: string; mean: number; center: number; scale: number; level: number }[] = [];
  for (const s of cpu) {
    const share = (i: number) => s.values[i] / (total.get(Math.floor(s.times[i] / MIN))! - s.values[i]);
    const win: number[] = [];
    const hist: number[] = [];
    s.times.forEach((t, i) => {
      if (t >= range.start && t < range.end) win.push(share(i));
      else if (t >= range.start - HISTORY && t < range.start) hist.push(share(i));
    });
    if (!win.length || hist.length < 5) continue;
    const h = Float64Array.from(hist).sort();
    const center = q(h, 0.5);
    const d = Float64Array.from(h, (x) => Math.abs(x - center)).sort();
    const meanAbs = d.reduce((a, b) => a + b, 0) / d.length;
    parts.push({ pod: s.entity, mean: win.reduce((a, b) => a + b, 0) / win.length, center, scale: Math.max(1.4826 * q(d, 0.5), meanAbs), level: Math.abs(h[h.length >> 1]) });
  }
  const levels = Float64Array.from(parts, (x) => x.level).sort();
  const typical = levels[levels.length >> 1];
  return new Map(parts.map((x) => [x.pod, (x.mean - x.center) / Math.max(x.scale, 0.05 * Math.max(x.level, typical), 1e-12)]));
}

function run(all: Full[], onWindow: (start: number, res: ReturnType<ResourceHistory['deviations']>, range: TimeRange) => void): void {
  const hist = new ResourceHistory(HISTORY);
  for (let m = 0; m + 5 <= 300; m++) {
    const range = { start: T0 + m * MIN, end: T0 + (m + 5) * MIN };
    hist.add(sliceOf(all, range), range);
    onWindow(m, hist.deviations(range, (e) => e, () => undefined), range);
  }
}

test('cpu share: a load change that moves every pod is quiet; the own-history deviation is not', () => {
  const all = generate(1);
  let checked = 0;
  run(all, (m, res) => {
    if (m !== LOAD_STEP) return;
    for (const [pod, r] of res) {
      assert.ok(Math.abs(r.cpuOwn) > 5, `${pod} own ${r.cpuOwn}`);
      assert.ok(Math.abs(r.cpuShare) < 3, `${pod} share ${r.cpuShare}`);
      checked++;
    }
  });
  assert.equal(checked, PODS);
});

test('cpu share: a pod that burns CPU for itself stands out, the others stay within a few z', () => {
  const all = generate(2);
  let checked = 0;
  run(all, (m, res) => {
    if (m !== HOT.from) return;
    const hot = res.get(`pod${HOT.pod}`)!;
    assert.ok(hot.cpuShare > 8, `hot share ${hot.cpuShare}`);
    for (const [pod, r] of res) if (pod !== `pod${HOT.pod}`) assert.ok(Math.abs(r.cpuShare) < hot.cpuShare / 4, `${pod} share ${r.cpuShare}`);
    checked++;
  });
  assert.equal(checked, 1);
});

test('cpu share: window by window equal to the naive computation over the whole series', () => {
  const all = generate(3);
  let compared = 0;
  run(all, (_m, res, range) => {
    const ref = naive(all, range);
    for (const [pod, d] of ref) {
      const mine = res.get(pod)!.cpuShare;
      assert.ok(Math.abs(mine - d) <= 1e-9 * Math.max(1, Math.abs(d)), `${pod} at ${(range.start - T0) / MIN} min: ${mine} vs ${d}`);
      compared++;
    }
    for (const [pod, r] of res) if (!ref.has(pod)) assert.ok(Number.isNaN(r.cpuShare), `${pod}: no history, no share`);
  });
  assert.ok(compared > 2500, `${compared}`);
});
