// The cuts of the evidence's cost in `encode` (issue 11, deliverable 6) held to the plain
// definitions they replaced: the call-outcome fit's pooled quantile (a typed-array sort instead
// of the shared `quantile`'s copy and comparator sort), and the slice memo's reused buffers
// (two arrays taken in turn instead of a new array per window).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pooledQuantile } from '../../src/encode/evidence/call-outcomes.js';
import { quantile } from '../../src/stats/index.js';
import { SliceMemo } from '../../src/encode/views/memo.js';
import { seededRandom } from '../helpers/rng.js';

test('pooled quantile: the shared quantile, value for value (ties, ±0, NaN and ±Infinity left out)', () => {
  const rnd = seededRandom(11);
  const specials = [NaN, Infinity, -Infinity, 0, -0];
  let checked = 0;
  for (let trial = 0; trial < 400; trial++) {
    const n = Math.floor(rnd() * 40);
    const xs: number[] = [];
    for (let i = 0; i < n; i++) {
      const u = rnd();
      // integers give ties; a few specials; the rest continuous
      xs.push(u < 0.1 ? specials[Math.floor(rnd() * specials.length)] : u < 0.5 ? Math.floor(rnd() * 5) : (rnd() - 0.3) * 1e3);
    }
    for (const q of [0, 0.01, 0.5, 0.9, 0.99, 1]) {
      const want = quantile(xs, q);
      const got = pooledQuantile(xs, q);
      assert.ok(Object.is(got, want) || (got === 0 && want === 0), `trial ${trial}, q ${q}: ${got} against ${want}`);
      checked++;
    }
  }
  assert.ok(checked > 2000);
  assert.ok(Number.isNaN(pooledQuantile([], 0.5)));
  assert.ok(Number.isNaN(pooledQuantile([NaN, Infinity], 0.5)));
});

test('slice memo with reused buffers: the same values as a new array per slice, computed as often', () => {
  const rnd = seededRandom(5);
  const items = Array.from({ length: 400 }, (_, i) => ({ i }));
  let plainCalls = 0;
  let reuseCalls = 0;
  const plain = new SliceMemo<{ i: number }, string>((x) => (plainCalls++, `v${x.i}`));
  const reused = new SliceMemo<{ i: number }, string>((x) => (reuseCalls++, `v${x.i}`), true);
  let lo = 0;
  let last: { out: string[]; copy: string[] } | undefined;
  for (let w = 0; w < 120; w++) {
    // mostly a window one step on (shared items first, new ones after); now and then a jump or
    // the same slice again, and slices that shrink and grow
    const r = rnd();
    if (r < 0.1) lo = Math.floor(rnd() * 300);
    else if (r > 0.2) lo += 1 + Math.floor(rnd() * 4);
    lo = Math.min(lo, 380);
    const hi = Math.min(items.length, lo + 5 + Math.floor(rnd() * 30));
    const slice = items.slice(lo, hi);
    const a = plain.map(slice);
    const b = reused.map(slice);
    assert.deepEqual([...b], a, `slice ${w}`);
    assert.equal(b.length, slice.length);
    // the array handed out by the call before is still valid after this one
    if (last) assert.deepEqual(last.out, last.copy, `slice ${w - 1} after slice ${w}`);
    last = { out: b, copy: [...b] };
  }
  assert.equal(reuseCalls, plainCalls, 'values reused exactly where the plain memo reused them');
});
