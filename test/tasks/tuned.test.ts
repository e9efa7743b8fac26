import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitFoldStates, fitTunedClassifier, fitTunedDetector, shrinkWeight, singleState, SHRINKAGE_N0, type DetectorRow } from '../../src/tasks/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

const euclid = (a: Float64Array, b: Float64Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
};

/** Normal windows of two regimes: a wide one around 0 and a tight one around (10, 10). */
function regimes(nWide: number, nTight: number, seed = 1): { rows: DetectorRow[]; truth: number[] } {
  const rng = new SeededRng(seed, 'tuned');
  const rows: DetectorRow[] = [];
  const truth: number[] = [];
  for (let i = 0; i < nWide + nTight; i++) {
    const tight = i >= nWide;
    const sd = tight ? 0.1 : 2;
    const c = tight ? 10 : 0;
    const row = Float64Array.from([c + sd * rng.normal(), c + sd * rng.normal()]);
    rows.push({ row, start: i * 600_000, end: i * 600_000 + 60_000, source: 's' });
    truth.push(tight ? 1 : 0);
  }
  return { rows, truth };
}

const at = (x: number, y: number, t = 1e12): DetectorRow => ({ row: Float64Array.from([x, y]), start: t, end: t + 60_000, source: 's' });

test('shrinkage weight: n/(n+n0), 0 without rows, ½ at n0', () => {
  assert.equal(shrinkWeight(0), 0);
  assert.equal(shrinkWeight(SHRINKAGE_N0), 0.5);
  assert.ok(shrinkWeight(400) > 0.9);
});

test('states separate two regimes; the per-state threshold catches what the global one misses', () => {
  const { rows, truth } = regimes(200, 200);
  const st = fitFoldStates(rows.map((r) => r.row));
  assert.equal(st.k, 2);
  const agree = st.labels.filter((l, i) => (l === st.labels[0]) === (truth[i] === truth[0])).length;
  assert.equal(agree, rows.length, 'states follow the regimes');
  const tuned = fitTunedDetector(rows, st, { distance: euclid });
  const global = fitTunedDetector(rows, singleState(rows.length), { distance: euclid });
  // a shift of 1.5 in the tight regime: far outside its spread, ordinary within the wide one
  const q = at(11.5, 10);
  const s = st.assign([q.row])[0];
  assert.equal(s, st.labels[rows.length - 1]);
  assert.equal(tuned.alarm(q, s), true);
  assert.equal(global.alarm(q, 0), false, 'one global threshold is set by the wide regime');
  assert.ok(tuned.perState[s].threshold < global.globalThreshold, 'the tight state has the tighter threshold');
  // ordinary points of either regime do not alarm
  assert.equal(tuned.alarm(at(0.5, -0.5), st.assign([Float64Array.from([0.5, -0.5])])[0]), false);
  assert.equal(tuned.alarm(at(10.02, 9.98), s), false);
  // one state is the global model exactly
  assert.equal(global.perState.length, 1);
  assert.equal(global.perState[0].weight, 0);
});

test('a rare state shrinks toward the global model', () => {
  const { rows } = regimes(300, 25, 2);
  const st = fitFoldStates(rows.map((r) => r.row));
  const det = fitTunedDetector(rows, st, { distance: euclid });
  const rare = det.perState.reduce((a, b) => (b.n < a.n ? b : a));
  const common = det.perState.reduce((a, b) => (b.n > a.n ? b : a));
  assert.ok(rare.weight < common.weight);
  assert.ok(Math.abs(rare.weight - 25 / (25 + SHRINKAGE_N0)) < 1e-9);
  // the rare state's threshold lies between its own quantile and the global one: not its own tight value
  assert.ok(rare.threshold > 0.1 && rare.threshold <= det.globalThreshold + 1e-9);
});

test('too few rows: one state', () => {
  const st = fitFoldStates([Float64Array.from([1]), Float64Array.from([2])]);
  assert.equal(st.k, 1);
  assert.deepEqual(st.assign([Float64Array.from([5])]), [0]);
});

test('classifier: per-state prototypes where a state has enough examples, global ones otherwise', () => {
  // type "a" sits at x=+1 in state 0 and x=-1 in state 1; type "b" the opposite; state 1 has only 2 "b"s
  const rows: Float64Array[] = [];
  const labels: string[] = [];
  const states: number[] = [];
  const add = (x: number, t: string, s: number, n: number) => {
    for (let i = 0; i < n; i++) {
      rows.push(Float64Array.from([x + i * 0.01]));
      labels.push(t);
      states.push(s);
    }
  };
  add(1, 'a', 0, 5);
  add(-1, 'b', 0, 5);
  add(-1, 'a', 1, 5);
  add(1, 'b', 1, 2);
  const st = { k: 2, labels: states, assign: (r: readonly Float64Array[]) => r.map(() => 0) };
  const clf = fitTunedClassifier(rows, labels, st, { distance: euclid, n0: 1 });
  assert.deepEqual(clf.types, ['a', 'b']);
  assert.equal(clf.rank(Float64Array.from([1]), 0)[0], 'a');
  assert.equal(clf.rank(Float64Array.from([-1]), 1)[0], 'a', 'state 1 has its own "a" prototype');
  // "b" in state 1 has 2 < 3 examples: its prototype is the global "b" mean (≈ -0.4), still nearer +1 than state 1's "a" (−1)
  const g = clf.rank(Float64Array.from([1]), 1);
  assert.equal(g[0], 'b');
  // shrinkage: with n0 = 10 state 1's five "a"s are a third of its "a" prototype, so −1 is nearer the global "b"
  assert.equal(fitTunedClassifier(rows, labels, st, { distance: euclid }).rank(Float64Array.from([-1]), 1)[0], 'b');
  const flat = fitTunedClassifier(rows, labels, singleState(rows.length), { distance: euclid });
  assert.equal(flat.rank(Float64Array.from([-1]), 0)[0], 'b', 'without states, -1 is "b" (mostly)');
});
