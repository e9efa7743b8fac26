import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KSmallest, lowerBound } from '../../src/stats/index.js';

test('lowerBound: first index at or after t, on typed and plain arrays', () => {
  const a = new Float64Array([1, 3, 3, 7]);
  assert.deepEqual([0, 1, 3, 4, 5, 7, 8].map((t) => lowerBound(a, t)), [0, 0, 1, 3, 3, 3, 4]);
  assert.equal(lowerBound([], 5), 0);
  assert.equal(lowerBound([2, 4], 4), 1);
});

test('KSmallest keeps the k smallest offered and means them; NaN when empty', () => {
  const k = new KSmallest(3);
  assert.ok(Number.isNaN(k.mean()));
  for (const v of [9, 4, 7, 1, 8, 2]) k.offer(v);
  assert.equal(k.mean(), (1 + 2 + 4) / 3);
  const one = new KSmallest(5);
  one.offer(6);
  assert.equal(one.mean(), 6);
});
