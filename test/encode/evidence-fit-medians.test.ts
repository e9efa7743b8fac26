// The reference sample keeps only what the edge and self-time fits read (each key's count and
// median, `fitMedians`): the fit from those must be the families' fit from every value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeGaps, fitMedians, keyMedian, type EdgeSummary } from '../../src/encode/evidence/edges.js';
import { selfTime, type SelfSummary } from '../../src/encode/evidence/self-time.js';
import { median, supportedLocation } from '../../src/encode/evidence/stats.js';
import { SeededRandom } from '../../src/encode/views/stats.js';

/** The edge and self-time fits as they read every value (the definition before `fitMedians`). */
function plainFit(windows: { key: string; values: number[] }[][]) {
  const per = new Map<string, { v: number[]; n: number[] }>();
  for (const w of windows) for (const { key, values } of w) {
    if (values.length < 3) continue;
    let l = per.get(key);
    if (!l) per.set(key, (l = { v: [], n: [] }));
    l.v.push(Math.log1p(median(values)));
    l.n.push(values.length);
  }
  return new Map([...per].filter(([, l]) => l.v.length >= 3).map(([k, l]) => [k, supportedLocation(l.v, l.n, 0.1)]));
}

test('the fit from each key\'s count and median is the families\' fit from every value', () => {
  const rng = new SeededRandom(9);
  const keys = ['a\tb', 'b\tc', 'c\td', 'a\tc'];
  const windows = Array.from({ length: 40 }, () =>
    keys.filter(() => rng.next() < 0.8).map((key) => ({ key, values: Array.from({ length: Math.floor(rng.next() * 7) }, () => Math.round(rng.next() * 300) / 10) })),
  );
  const want = plainFit(windows);
  assert.ok(want.size >= 3);
  const edges: EdgeSummary[] = windows.map((w) => new Map(w.map(({ key, values }) => [key, { caller: key.split('\t')[0], callee: key.split('\t')[1], gaps: values, byPod: new Map() }])));
  const self: SelfSummary[] = windows.map((w) => new Map(w.map(({ key, values }) => [key, { service: key.split('\t')[0], operation: key.split('\t')[1], selfMs: values, byPod: new Map() }])));
  assert.deepEqual([...edgeGaps.fit(edges)], [...want]);
  assert.deepEqual([...selfTime.fit(self)], [...want]);
  // as the pass keeps them: sorted values, count and median only
  assert.deepEqual([...fitMedians(windows.map((w) => w.map(({ key, values }) => keyMedian(key, Float64Array.from(values).sort()))))], [...want]);
});
