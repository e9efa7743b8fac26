import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleState } from '../../src/tasks/index.js';
import { quantile } from '../../src/stats/index.js';
import { runsQuantile } from '../../src/tasks/tuned/runs-quantile.js';
import { ZDetector } from '../../src/tasks/tuned/zdetect.js';
import { fitTunedDetector } from '../../src/tasks/tuned/detect.js';
import { lcgNoise } from '../helpers/rng.js';

const MIN = 60_000;
/** `n` windows of 5 min, one every `step` minutes (step ≥ 5: none overlap). */
const grid = (n: number, step: number, source = 's') => Array.from({ length: n }, (_, i) => ({ start: i * step * MIN, end: (i * step + 5) * MIN, source }));

test('runsQuantile: with no overlapping exceedances it is the (⌊(1 − q)n⌋ + 1)-th largest value', () => {
  const r = lcgNoise(3);
  const v = Array.from({ length: 400 }, () => r());
  const spans = grid(400, 10);
  const sorted = v.slice().sort((a, b) => b - a);
  assert.equal(runsQuantile(v, spans, 0.99), sorted[4]);
  // the plain quantile interpolates between that value and the next larger one
  const plain = quantile(v, 0.99);
  assert.ok(plain >= sorted[4] && plain <= sorted[3]);
  // q = 1: no exceedance allowed, the largest value; q = 0: the smallest
  assert.equal(runsQuantile(v, spans, 1), sorted[0]);
  assert.equal(runsQuantile(v, spans, 0), sorted[399]);
  assert.ok(Number.isNaN(runsQuantile([NaN], grid(1, 10), 0.99)));
});

test('runsQuantile: one episode of overlapping windows takes one place in the tail, wherever it sits', () => {
  const r = lcgNoise(5);
  // 400 references 3 min apart (5-min windows overlap their neighbours), values in [-0.5, 0.5)
  const v = Array.from({ length: 400 }, () => r());
  const spans = grid(400, 3);
  const quiet = runsQuantile(v, spans, 0.99);
  // an episode: 6 consecutive references far above everything else
  for (const at of [10, 200, 390]) {
    const w = v.slice();
    for (let i = at; i < at + 6; i++) w[i] = 5 + i / 100;
    const t = runsQuantile(w, spans, 0.99);
    // the plain quantile is inside the episode; the runs quantile stays among the ordinary values
    assert.ok(quantile(w, 0.99) >= 5, 'the plain 0.99 quantile is set by the episode');
    assert.ok(t < 1, `runs quantile ${t} stays below the episode`);
    // the episode takes one of the four places above the level: the level is an ordinary value
    // within a rank or two of the quiet series' (neighbours 3 min apart may merge)
    const ordinary = v.filter((_, i) => i < at || i >= at + 6).sort((a, b) => b - a);
    const rank = ordinary.indexOf(t);
    assert.ok(rank >= 2 && rank <= 5, `level at rank ${rank} of the ordinary values`);
    assert.ok(Math.abs(t - quiet) < 0.05);
  }
  // the same values on windows that never overlap: six separate exceedances, the plain order statistic
  const w = v.slice();
  for (let i = 100; i < 106; i++) w[i] = 5;
  assert.equal(runsQuantile(w, grid(400, 10), 0.99), 5);
  // two sources never form one run
  const twoSources = spans.map((s, i) => ({ ...s, source: i % 2 === 0 ? 'a' : 'b' }));
  assert.ok(runsQuantile(w.map((x, i) => (i >= 100 && i < 106 ? x : v[i])), twoSources, 0.99) >= 0);
});

test('ZDetector with reference spans: an episode in the references no longer sets a feature’s calibration', () => {
  const r = lcgNoise(7);
  const rows = Array.from({ length: 400 }, () => Float64Array.from({ length: 3 }, () => r()));
  // feature 0 jumps for 6 overlapping references (a warm-up); faults move feature 0 by 2
  for (let i = 50; i < 56; i++) rows[i][0] = 8;
  const spans = grid(400, 3);
  const plain = ZDetector.fit(rows, singleState(rows.length));
  const runs = ZDetector.fit(rows, singleState(rows.length), { spans });
  const fault = Float64Array.from([2, 0, 0]);
  assert.equal(plain.alarm(fault, 0), false, 'plain: the episode inflates feature 0’s tail, the fault is missed');
  assert.equal(runs.alarm(fault, 0), true, 'runs: the fault is caught');
  // without an episode or overlaps the two agree closely
  const clean = Array.from({ length: 400 }, () => Float64Array.from({ length: 3 }, () => r()));
  const a = ZDetector.fit(clean, singleState(400)).threshold(0);
  const b = ZDetector.fit(clean, singleState(400), { spans: grid(400, 10) }).threshold(0);
  assert.ok(Math.abs(a - b) / a < 0.1, `${a} vs ${b}`);
});

test('fitTunedDetector with runs: the threshold ignores a repeated episode among the references', () => {
  const r = lcgNoise(9);
  const refs = grid(300, 3).map((s) => ({ ...s, row: Float64Array.from({ length: 2 }, () => r()) }));
  for (let i = 100; i < 106; i++) refs[i].row = Float64Array.from([6 + (i - 100) * 0.01, 6]);
  const distance = (a: Float64Array, b: Float64Array) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const plain = fitTunedDetector(refs, singleState(refs.length), { distance });
  const runs = fitTunedDetector(refs, singleState(refs.length), { distance, runs: true });
  assert.ok(runs.globalThreshold < plain.globalThreshold, `${runs.globalThreshold} < ${plain.globalThreshold}`);
  assert.ok(runs.globalThreshold < 2);
});
