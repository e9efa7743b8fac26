import { test } from 'node:test';
import assert from 'node:assert/strict';
import { knnLooAccuracy, knnPurity, silhouette, cosineDistances } from '../../src/stats/index.js';
import { lcgUniform } from '../helpers/rng.js';

function clusters(sep: number, seed = 1) {
  const r = lcgUniform(seed);
  const rows: Float32Array[] = [];
  const labels: string[] = [];
  const centres = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < 20; i++) {
      rows.push(Float32Array.from(centres[c], (x) => sep * x + (r() - 0.5)));
      labels.push('c' + c);
    }
  }
  return { rows, labels };
}

test('well separated clusters score high, noise scores near chance', () => {
  const good = clusters(10);
  assert.equal(knnLooAccuracy(good.rows, good.labels, 5), 1);
  assert.equal(knnPurity(good.rows, good.labels, 5), 1);
  assert.ok(silhouette(good.rows, good.labels) > 0.8);
  const bad = clusters(0);
  assert.ok(knnLooAccuracy(bad.rows, bad.labels, 5) < 0.7);
  assert.ok(Math.abs(silhouette(bad.rows, bad.labels)) < 0.2);
});

test('hand-computed silhouette and kNN', () => {
  const rows = [[1, 0], [1, 0.1], [0, 1], [0.1, 1]].map((r) => Float32Array.from(r));
  const labels = ['a', 'a', 'b', 'b'];
  const d = cosineDistances(rows);
  const D = (i: number, j: number) => d[i * 4 + j];
  // each point: a = distance to its one partner, b = mean distance to the other pair
  const s = (i: number, partner: number, o1: number, o2: number) => {
    const a = D(i, partner);
    const b = (D(i, o1) + D(i, o2)) / 2;
    return (b - a) / Math.max(a, b);
  };
  const expected = (s(0, 1, 2, 3) + s(1, 0, 2, 3) + s(2, 3, 0, 1) + s(3, 2, 0, 1)) / 4;
  assert.ok(Math.abs(silhouette(rows, labels) - expected) < 1e-9);
  // the cosine distance itself: 1 - cos
  assert.ok(Math.abs(D(0, 2) - 1) < 1e-9);
  assert.ok(Math.abs(D(0, 1) - (1 - 1 / Math.sqrt(1.01))) < 1e-7);
  assert.equal(knnLooAccuracy(rows, labels, 1), 1);
  assert.equal(knnLooAccuracy(rows, ['a', 'b', 'a', 'b'], 1), 0);
  assert.ok(Number.isNaN(silhouette(rows, ['a', 'a', 'a', 'a'])));
});
