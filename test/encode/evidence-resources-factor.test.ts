import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricStore } from '../../src/encode/index.js';
import { resourceFamily, COMMON_MODE_MIN_PODS, RESOURCE_DEFAULTS, type CommonMovement } from '../../src/encode/evidence/resources.js';
import type { MetricSeries } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
const MIN = 60_000;
const WINDOW = { start: T0 + 40 * MIN, end: T0 + 41 * MIN };

/**
 * Eight pods of eight services at different CPU levels (so their own-history z under one load
 * factor differ: the scale's floor is 5 % of the larger of the pod's and the typical pod's
 * level), and a flat memory each; a point every 15 s for 41 min, ±1 % noise (seeded).
 * `cpu(pod)` and `mem(pod)` scale the last minute.
 */
const LEVELS: Record<string, number> = { a: 8, b: 12, c: 16, d: 20, e: 24, f: 30, g: 40, h: 50 };

function store(cpu: (svc: string) => number, mem: (svc: string) => number): MetricStore {
  let seed = 11;
  const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const series: MetricSeries[] = [];
  for (const [svc, level] of Object.entries(LEVELS)) {
    const pod = `${svc}-0`;
    const times: number[] = [];
    const c: number[] = [];
    const m: number[] = [];
    for (let t = T0; t < WINDOW.end; t += 15_000) {
      const last = t >= WINDOW.start;
      times.push(t);
      c.push(level * (0.99 + 0.02 * r()) * (last ? cpu(svc) : 1));
      m.push(200 * (0.99 + 0.02 * r()) * (last ? mem(svc) : 1));
    }
    series.push({ entity: pod, name: 'container.cpu.usage', unit: '{cpu}', times: Float64Array.from(times), values: Float64Array.from(c) });
    series.push({ entity: pod, name: 'container.memory.usage', unit: 'By', times: Float64Array.from(times), values: Float64Array.from(m) });
  }
  const s = new MetricStore();
  s.add(series);
  return s.seal();
}

/** Services by the resource family's raw score, strongest first. */
function ranked(common: CommonMovement, cpu: (svc: string) => number, mem: (svc: string) => number = () => 1): [string, number][] {
  const fam = resourceFamily(undefined, { common });
  const s = fam.summarize({ range: WINDOW, spans: [], logs: [], metrics: store(cpu, mem), serviceOf: (e) => e.split('-')[0] });
  assert.ok(s);
  return [...fam.score(s, null)].map(([svc, r]): [string, number] => [svc, r.score]).sort((x, y) => y[1] - x[1]);
}

// a burst doubles every pod's CPU; pod g (level 40, above the typical pod's) rises 10 % more
const burst = (svc: string) => (svc === 'g' ? 2.2 : 2);
// a real fault elsewhere: pod c's memory grows 30 % (memory does not follow the load)
const leak = (svc: string) => (svc === 'c' ? 1.3 : 1);

const WITH_FACTOR: CommonMovement[] = ['factor', 'either'];

test('resource factor: a burst doubling every pod, one a bit more, does not outrank a real fault elsewhere', () => {
  assert.ok(COMMON_MODE_MIN_PODS <= Object.keys(LEVELS).length);
  assert.equal(RESOURCE_DEFAULTS.common, 'either');
  for (const mode of WITH_FACTOR) {
    const factor = ranked(mode, burst, leak);
    assert.equal(factor[0][0], 'c', `${mode}: ${JSON.stringify(factor)}`);
    const g = factor.find(([s]) => s === 'g')![1];
    assert.ok(g < 3, `${mode}: g ${g}`);
    assert.ok(factor[0][1] > 2 * g, `${mode}: ${JSON.stringify(factor)}`);
  }
  // the common shift alone (the median pod's z subtracted) leaves pods whose level/scale is
  // away from the median pod's with a share of the burst (here the small pods a and b, below
  // the typical level, above the leak): what the factor is for
  const shift = ranked('shift', burst, leak);
  assert.notEqual(shift[0][0], 'c', JSON.stringify(shift));
});

test('resource factor: under a burst no pod reads as a fault', () => {
  for (const mode of WITH_FACTOR) for (const [svc, z] of ranked(mode, () => 2)) assert.ok(z < 1.5, `${mode}: ${svc} ${z}`);
  // the shift alone leaves the pods far from the median's level/scale with several z
  assert.ok(ranked('shift', () => 2)[0][1] > 3);
});

test('resource factor: a real CPU hog still ranks first, in a burst and without one', () => {
  for (const mode of WITH_FACTOR) {
    for (const load of [1, 2]) {
      const hog = ranked(mode, (svc) => load * (svc === 'd' ? 2.5 : 1));
      assert.equal(hog[0][0], 'd', `${mode} load ${load}: ${JSON.stringify(hog)}`);
      assert.ok(hog[0][1] > 10, `${mode} load ${load}: ${hog[0][1]}`);
      assert.ok(hog[1][1] < 2, `${mode} load ${load}: ${JSON.stringify(hog)}`);
    }
    // without a common movement the factor is ≈ 1 and the hog reads as under the shift alone
    const f = ranked(mode, (svc) => (svc === 'd' ? 2.5 : 1))[0][1];
    const s = ranked('shift', (svc) => (svc === 'd' ? 2.5 : 1))[0][1];
    assert.ok(Math.abs(f - s) < 0.05 * s, `${mode}: ${f} vs ${s}`);
  }
});

test('resource factor: a CPU drop at one pod (a stalled pod) in a burst is still seen', () => {
  for (const mode of WITH_FACTOR) {
    const stalled = ranked(mode, (svc) => (svc === 'f' ? 0.5 : 2));
    assert.equal(stalled[0][0], 'f', `${mode}: ${JSON.stringify(stalled)}`);
    assert.ok(stalled[0][1] > 10, `${mode}: ${stalled[0][1]}`);
  }
});

test('resource either: a pod the load moves more than the others in ratio, but by as many of its own scales, is not a fault', () => {
  // pod e's CPU varies with the load in its history (±16 %, the others ±1 %): it follows the
  // load more steeply, and a load change moves it by about as many of its scales as the median
  // pod but by more in ratio: the factor alone reads it, the shift explains it
  const fam = (mode: CommonMovement) => resourceFamily(undefined, { common: mode });
  const rows = (mode: CommonMovement) => {
    let seed = 5;
    const r = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const series: MetricSeries[] = [];
    for (const [svc, level] of Object.entries(LEVELS)) {
      const times: number[] = [];
      const c: number[] = [];
      const noisy = svc === 'e';
      for (let t = T0; t < WINDOW.end; t += 15_000) {
        times.push(t);
        const base = level * (noisy ? 0.84 + 0.32 * r() : 0.99 + 0.02 * r());
        c.push(t >= WINDOW.start ? (noisy ? level * 2.4 : base * 1.6) : base);
      }
      series.push({ entity: `${svc}-0`, name: 'container.cpu.usage', unit: '{cpu}', times: Float64Array.from(times), values: Float64Array.from(c) });
    }
    const st = new MetricStore();
    st.add(series);
    const f = fam(mode);
    const s = f.summarize({ range: WINDOW, spans: [], logs: [], metrics: st.seal(), serviceOf: (e) => e.split('-')[0] });
    return new Map([...f.score(s!, null)].map(([svc, x]) => [svc, x.score]));
  };
  const e = { shift: rows('shift').get('e')!, factor: rows('factor').get('e')!, either: rows('either').get('e')! };
  assert.ok(e.factor > 3, JSON.stringify(e));
  assert.ok(e.either <= Math.min(e.shift, e.factor) + 1e-9, JSON.stringify(e));
  assert.ok(e.either < 2, JSON.stringify(e));
});
