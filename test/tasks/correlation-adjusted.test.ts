import { test } from 'node:test';
import assert from 'node:assert/strict';
import { correlationRatios, fitTunedClassifier, singleState, weightedDistance } from '../../src/tasks/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

// k types, `perType` cases each: one name that tells the types apart (its mean moves by type) and
// `noise` names that do not (the same distribution for every type)
function cases(rng: SeededRng, k: number, perType: number, noise: number): { rows: Float64Array[]; labels: string[] } {
  const rows: Float64Array[] = [];
  const labels: string[] = [];
  for (let t = 0; t < k; t++)
    for (let i = 0; i < perType; i++) {
      const r = new Float64Array(1 + noise);
      r[0] = t + 0.6 * rng.normal();
      for (let j = 1; j <= noise; j++) r[j] = rng.normal();
      rows.push(r);
      labels.push(`t${t}`);
    }
  return { rows, labels };
}

const mean = (a: Float64Array, from = 0) => a.subarray(from).reduce((s, v) => s + v, 0) / (a.length - from);

test('correlation ratios: η² of names the types do not explain is (k − 1)/(n − 1) on average; the bias-corrected ratio removes it', () => {
  const rng = new SeededRng(3, 'correlation-adjusted');
  const k = 7;
  const { rows, labels } = cases(rng, k, 4, 400);
  const n = rows.length;
  const plain = correlationRatios(rows, labels);
  const adjusted = correlationRatios(rows, labels, { adjusted: true });
  // the chance level of η² with 7 types and 28 cases: 6/27 ≈ 0.22
  assert.ok(Math.abs(mean(plain, 1) - (k - 1) / (n - 1)) < 0.03, `plain noise η² ${mean(plain, 1)}`);
  // what is left is the floor at 0 of ε²'s own noise (its unfloored mean is ≈ 0)
  assert.ok(mean(adjusted, 1) < mean(plain, 1) / 3, `adjusted noise ${mean(adjusted, 1)}`);
  for (let j = 0; j < plain.length; j++) {
    assert.ok(adjusted[j] >= 0 && adjusted[j] <= plain[j] + 1e-12);
    // ε² = η² − (k − 1)/(n − k)·(1 − η²), floored at 0
    assert.ok(Math.abs(adjusted[j] - Math.max(0, plain[j] - ((k - 1) / (n - k)) * (1 - plain[j]))) < 1e-12);
  }
  // the telling name keeps most of its weight
  assert.ok(adjusted[0] > 0.8 && plain[0] > 0.8);
});

test('correlation ratios: plain η² is the default; a name the types fully explain weighs 1 either way; with every case its own type nothing is corrected', () => {
  const rows = [[0], [0], [1], [1]].map((r) => Float64Array.from(r));
  assert.deepEqual([...correlationRatios(rows, ['a', 'a', 'b', 'b'], { adjusted: true })], [1]);
  const own = [[0, 1], [1, 3], [2, 2]].map((r) => Float64Array.from(r));
  assert.deepEqual([...correlationRatios(own, ['a', 'b', 'c'], { adjusted: true })], [...correlationRatios(own, ['a', 'b', 'c'])]);
});

test('weighted prototypes from few cases: the bias-corrected weights let the telling name decide over many chance names', () => {
  const rng = new SeededRng(11, 'correlation-adjusted-classify');
  const k = 5;
  const train = cases(rng, k, 3, 60);
  const test_ = cases(rng, k, 40, 60);
  const accuracy = (adjusted: boolean) => {
    const w = correlationRatios(train.rows, train.labels, { adjusted });
    const clf = fitTunedClassifier(train.rows, train.labels, singleState(train.rows.length), { distance: weightedDistance(w) });
    return test_.rows.filter((r, i) => clf.rank(r, 0)[0] === test_.labels[i]).length / test_.rows.length;
  };
  const plain = accuracy(false);
  const adjusted = accuracy(true);
  assert.ok(adjusted > plain + 0.05, `adjusted ${adjusted} vs plain ${plain}`);
});
