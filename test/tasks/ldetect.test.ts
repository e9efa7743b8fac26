import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitLogistic, LogitDetector } from '../../src/tasks/index.js';
import { lcgUniform } from '../helpers/rng.js';

const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

test('fitLogistic recovers the sign of a separating feature and leaves a noise feature near 0', () => {
  const r = lcgUniform(1);
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 400; i++) {
    const lab = i % 2;
    X.push([lab + 0.5 * gauss(r), gauss(r)]);
    y.push(lab);
  }
  const { w } = fitLogistic(X, y, y.map(() => 1 / 400), 1e-3);
  assert.ok(w[0] > 2, `informative weight ${w[0]}`);
  assert.ok(Math.abs(w[1]) < 0.5, `noise weight ${w[1]}`);
});

test('LogitDetector adds up small deviations that no single feature shows beyond its normal extremes', () => {
  const r = lcgUniform(7);
  const d = 6;
  const row = (shift: number) => Float64Array.from({ length: d }, (_, j) => (j < 3 ? shift : 0) + gauss(r));
  const normal = Array.from({ length: 300 }, () => row(0));
  const abnormal = Array.from({ length: 120 }, () => row(1.6));
  const det = LogitDetector.fit(normal, abnormal);
  assert.ok(det);
  // the three shifted features get the weight, the three others far less
  const w = det.weights;
  assert.ok(Math.min(w[0], w[1], w[2]) > 2 * Math.max(...w.slice(3).map(Math.abs)), `weights ${w.map((v) => v.toFixed(2)).join(' ')}`);
  const testNormal = Array.from({ length: 300 }, () => row(0));
  const testFault = Array.from({ length: 300 }, () => row(1.6));
  const rate = (rs: Float64Array[]) => rs.filter((x) => det.alarm(x)).length / rs.length;
  assert.ok(rate(testNormal) < 0.05, `false-alarm rate ${rate(testNormal)}`);
  assert.ok(rate(testFault) > 0.3, `detection rate ${rate(testFault)}`);
  // a missing feature reads as normal, a row of NaN scores the intercept (below the threshold)
  assert.equal(det.alarm(new Float64Array(d).fill(NaN)), false);
  // JSON round trip keeps every score
  const back = LogitDetector.fromJSON(JSON.parse(JSON.stringify(det.toJSON())));
  for (const x of testFault.slice(0, 20)) assert.equal(back.score(x), det.score(x));
  assert.equal(back.threshold, det.threshold);
});

test('LogitDetector needs labelled abnormal windows', () => {
  assert.equal(LogitDetector.fit([Float64Array.of(1), Float64Array.of(2), Float64Array.of(3)], []), undefined);
});
