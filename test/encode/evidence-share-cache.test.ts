// The CPU-share deviations (`PodResources.cpuShare`) keep each point's share once its minute is
// complete and the history's shares sorted from window to window (`ResourceHistory.finalShares`,
// `syncShares`). Whatever windows come — a minute stride, windows shorter than a minute whose
// history has minutes not yet complete, a jump — a history rolled window by window must give
// exactly what a history fed the same windows and asked only at the end gives (shares worked
// out and sorted afresh), and the own-history figures must not move either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResourceHistory } from '../../src/encode/views/evidence-resources.js';
import { SeededRandom } from '../../src/encode/views/stats.js';
import { sliceOf, type FullSeries as Full } from '../helpers/metric-slices.js';
import type { TimeRange } from '../../src/telemetry/index.js';

const SEC = 1000;
const MIN = 60 * SEC;
const T0 = Date.UTC(2024, 0, 1);

/** Pods' CPU at pod-specific periods and offsets (some points missing, one pod idle at 0), memory beside it. */
function generate(seed: number, minutes: number): Full[] {
  const rng = new SeededRandom(seed);
  const out: Full[] = [];
  for (let p = 0; p < 6; p++) {
    const period = [MIN, MIN, 30 * SEC, 45 * SEC, MIN, 20 * SEC][p];
    const offset = Math.floor(rng.next() * period);
    const level = p === 4 ? 0 : 10 + 50 * rng.next();
    const times: number[] = [];
    const cpu: number[] = [];
    for (let t = T0 + offset; t < T0 + minutes * MIN; t += period) {
      if (rng.next() < 0.05) continue;
      times.push(t);
      cpu.push(level * (1 + 0.3 * (rng.next() - 0.5)) + (p === 2 && t > T0 + 100 * MIN ? 40 : 0));
    }
    out.push({ entity: `pod${p}`, name: 'CpuUsage(m)', times: Float64Array.from(times), values: Float64Array.from(cpu) });
    out.push({ entity: `pod${p}`, name: 'MemoryUsage(Mi)', times: Float64Array.from(times), values: Float64Array.from(cpu, (v) => 500 + v) });
  }
  return out;
}

const figures = (res: ReturnType<ResourceHistory['deviations']>) => [...res].map(([pod, r]) => [pod, r.cpuShare, r.cpuOwn, r.memOwn, r.ownMax, r.metrics]);

function check(all: Full[], ranges: TimeRange[], historyMs: number): number {
  const slices = ranges.map((r) => sliceOf(all, r));
  const rolled = new ResourceHistory(historyMs);
  let shares = 0;
  for (let w = 0; w < ranges.length; w++) {
    rolled.add(slices[w], ranges[w]);
    const got = rolled.deviations(ranges[w], (e) => e, () => undefined);
    // afresh: the same windows added, deviations asked only now
    const fresh = new ResourceHistory(historyMs);
    for (let v = 0; v <= w; v++) fresh.add(slices[v], ranges[v]);
    const want = fresh.deviations(ranges[w], (e) => e, () => undefined);
    assert.deepEqual(figures(got), figures(want), `window ${w}`);
    for (const r of got.values()) if (Number.isFinite(r.cpuShare)) shares++;
  }
  return shares;
}

const windows = (from: number, n: number, length: number, stride: number): TimeRange[] => Array.from({ length: n }, (_, i) => ({ start: T0 + from + i * stride, end: T0 + from + i * stride + length }));

test('cpu share: 5 min windows stepped by 1 min, a short history (its buffers moved often) — rolled equals afresh', () => {
  const all = generate(3, 200);
  const n = check(all, windows(0, 150, 5 * MIN, MIN), 10 * MIN);
  assert.ok(n > 300, `${n} shares judged`);
});

test('cpu share: windows shorter than a minute, unaligned, and a jump — rolled equals afresh', () => {
  const all = generate(4, 200);
  const ranges = [...windows(7 * SEC, 60, 30 * SEC, 20 * SEC), ...windows(90 * MIN + 13 * SEC, 50, 3 * MIN, 70 * SEC)];
  const n = check(all, ranges, 8 * MIN);
  assert.ok(n > 100, `${n} shares judged`);
});
