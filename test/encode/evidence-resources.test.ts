import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricStore, resourceFamily, COMMON_MODE_MIN_PODS } from '../../src/encode/index.js';
import type { MetricSeries } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const MIN = 60_000;
const WINDOW = { start: T0 + 40 * MIN, end: T0 + 41 * MIN };

/** Six pods, one CPU series each, one point every 15 s for 41 min; `factor(pod)` scales the last minute. */
function store(factor: (pod: string) => number): MetricStore {
  let seed = 3;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const series: MetricSeries[] = [];
  for (let p = 0; p < 6; p++) {
    const pod = `p${p}-1`;
    const times: number[] = [];
    const values: number[] = [];
    for (let t = T0; t < WINDOW.end; t += 15_000) {
      times.push(t);
      values.push((20 + r() * 2) * (t >= WINDOW.start ? factor(pod) : 1));
    }
    series.push({ entity: pod, name: 'CpuUsage(m)', unit: 'm', times: Float64Array.from(times), values: Float64Array.from(values) });
  }
  const m = new MetricStore();
  m.add(series);
  m.seal();
  return m;
}

function scores(factor: (pod: string) => number): Map<string, number> {
  const fam = resourceFamily();
  const s = fam.summarize({ range: WINDOW, spans: [], logs: [], metrics: store(factor), serviceOf: (e) => e.split('-')[0] });
  assert.ok(s);
  return new Map([...fam.score(s, null)].map(([svc, r]) => [svc, r.score]));
}

test('resource: a load change that moves every pod together is not a fault of any pod (common mode)', () => {
  assert.ok(COMMON_MODE_MIN_PODS <= 6);
  const all = scores(() => 3);
  for (const [svc, z] of all) assert.ok(z < 3, `${svc} ${z}`);
});

test('resource: one pod moving alone keeps its full deviation', () => {
  const one = scores((pod) => (pod === 'p2-1' ? 3 : 1));
  const top = [...one].sort((a, b) => b[1] - a[1]);
  assert.equal(top[0][0], 'p2');
  assert.ok(top[0][1] > 10, `${top[0][1]}`);
  assert.ok(top[1][1] < 3, `${top[1][0]} ${top[1][1]}`);
});
