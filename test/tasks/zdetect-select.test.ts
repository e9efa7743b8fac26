import { test } from 'node:test';
import assert from 'node:assert/strict';
import { singleState } from '../../src/tasks/index.js';
import { aucOf, ZDetector } from '../../src/tasks/tuned/zdetect.js';
import { candidateName, detectorCandidates, DETECTOR_SELECT_CUTOFFS, EVALUATE_DETECTOR_OPTIONS } from '../../src/eval/evaluate/tuned-detect.js';
import { lcgNoise } from '../helpers/rng.js';

// deterministic noise in [-0.5, 0.5)

test('aucOf: the Mann–Whitney probability, ties counted half', () => {
  assert.equal(aucOf([3, 4], [1, 2]), 1);
  assert.equal(aucOf([1, 2], [3, 4]), 0);
  assert.equal(aucOf([1], [1]), 0.5);
  // pairs: 2>1, 2=2 (½), 2<3; 4 beats all three → (1 + 0.5 + 0 + 3) / 6
  assert.equal(aucOf([2, 4], [1, 2, 3]), 4.5 / 6);
  assert.ok(Number.isNaN(aucOf([], [1])));
});

/**
 * Normal rows: feature 0 moves with faults (a small shift), features 1..8 are heavy-tailed noise
 * that never moves with faults, feature 9 is always missing.
 */
const noisy = (r: () => number) => r() / (Math.abs(r()) + 0.02);
function data() {
  const r = lcgNoise(11);
  const row = (shift: number) => Float64Array.from({ length: 10 }, (_, j) => (j === 0 ? shift + r() : j === 9 ? NaN : noisy(r)));
  const normal = Array.from({ length: 400 }, () => row(0));
  const faults = Array.from({ length: 40 }, () => row(0.7));
  return { normal, faults, row };
}

test('feature selection keeps the features that separate the fault windows, and only they score', () => {
  const { normal, faults } = data();
  const sel = ZDetector.fit(normal, singleState(normal.length), { select: 0.7, positives: faults });
  assert.deepEqual(sel.kept, [true, false, false, false, false, false, false, false, false, false]);
  const all = ZDetector.fit(normal, singleState(normal.length));
  assert.equal(all.kept, undefined, 'no selection without `select`');
  // a huge value in a dropped feature does not move the selected detector's score
  const x = Float64Array.from(normal[0]);
  const before = sel.score(x, 0);
  x[3] = 1e6;
  assert.equal(sel.score(x, 0), before);
  assert.ok(all.score(x, 0) > 1000 * all.threshold(0), 'the unselected detector still reads it');
  assert.equal(sel.top(x, 0), 0);
  // the selected detector catches more of the small shifts than the max over every feature
  const r = lcgNoise(5);
  const shifted = Array.from({ length: 200 }, () => Float64Array.from({ length: 10 }, (_, j) => (j === 0 ? 0.7 + r() : j === 9 ? NaN : noisy(r))));
  const caught = (d: ZDetector) => shifted.filter((s) => d.alarm(s, 0)).length;
  assert.ok(caught(sel) > caught(all) + 20, `selected ${caught(sel)} vs all ${caught(all)}`);
  // the selection survives the tasks file's JSON
  const back = ZDetector.fromJSON(JSON.parse(JSON.stringify(sel.toJSON())));
  assert.deepEqual(back.kept, sel.kept);
  assert.equal(back.score(x, 0), sel.score(x, 0));
  assert.equal(back.threshold(0), sel.threshold(0));
});

test('no feature separates: nothing is kept (the candidate is then unavailable)', () => {
  const { normal, row } = data();
  const same = Array.from({ length: 40 }, () => row(0));
  const sel = ZDetector.fit(normal, singleState(normal.length), { select: 0.8, positives: same });
  assert.ok(sel.kept && !sel.kept.some(Boolean));
  const none = ZDetector.fit(normal, singleState(normal.length), { select: 0.6, positives: [] });
  assert.ok(none.kept && !none.kept.some(Boolean), 'too few fault windows: nothing selected');
});

test('selection candidates: offered by evaluate on features only, not in the options tune reads', () => {
  const names = (cs: ReturnType<typeof detectorCandidates>) => cs.map(candidateName);
  assert.deepEqual(names(detectorCandidates('features', true, false, { select: [0.6, 0.7] })), ['robust-z', 'knn', 'robust-z@auc0.6', 'robust-z@auc0.7']);
  assert.deepEqual(names(detectorCandidates('features', true, false, { rise: true, select: [0.7] })).slice(3), ['robust-z+rise', 'knn+rise', 'robust-z@auc0.7+rise']);
  assert.deepEqual(names(detectorCandidates('vector', true, false, { select: [0.7] })), ['knn']);
  assert.equal(names(detectorCandidates('features', false, true, EVALUATE_DETECTOR_OPTIONS)).some((n) => n.includes('@auc')), false);
  assert.deepEqual([...DETECTOR_SELECT_CUTOFFS], [0.6, 0.7, 0.8]);
});
