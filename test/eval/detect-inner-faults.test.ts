import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossValidateDetectors, DETECTOR_INNER_SPLIT, faultSplits, rawFeatures, tunedDetect, type DetectionSet } from '../../src/eval/evaluate/index.js';
import { faultTimeline, stepBump } from '../helpers/timeline.js';

/** Eight hours of 5-min windows at a 1-min stride, two features, 12 three-minute faults of varying size in three folds. */
function timeline(): { set: DetectionSet; rows: Float64Array[] } {
  // one window on a fold border is in no fold (as setup's windows touching two folds)
  const foldOf = (minute: number) => (minute === 160 ? undefined : Math.min(2, Math.floor(minute / 160)));
  return faultTimeline({ seed: 5, minutes: 480, faultsAt: Array.from({ length: 12 }, (_, k) => 20 + k * 38), bump: stepBump(4), foldOf });
}

test('faultSplits: every training window goes with its nearest training fault; other folds and border windows with none', () => {
  const { set } = timeline();
  const { set: s, groups } = faultSplits(set, [0, 2]);
  const training = set.injections.filter((x) => x.fold !== 1);
  assert.equal(groups.length, training.length);
  assert.deepEqual(s.injections.map((x) => x.start), training.map((x) => x.start));
  assert.deepEqual(s.injections.map((x) => x.fold), groups);
  set.windows.forEach((w, i) => {
    const g = s.folds[i];
    if (set.folds[i] === undefined || set.folds[i] === 1) return assert.equal(g, undefined, `window ${i}`);
    assert.notEqual(g, undefined, `window ${i}`);
    const gap = (f: { start: number; end: number }) => Math.max(0, f.start - w.window.end, w.window.start - f.end);
    const nearest = Math.min(...s.injections.map(gap));
    assert.equal(gap(s.injections[g as number]), nearest, `window ${i} goes with a nearest fault`);
    // ties go to the earlier fault
    assert.equal(s.injections.findIndex((f) => gap(f) === nearest), g);
  });
  // the set itself is untouched
  assert.equal(set.injections.length, 12);
});

test("crossValidateDetectors 'faults': one inner fold per training fault, each fitted on every other training window", () => {
  const { set, rows } = timeline();
  const rep = rawFeatures(2);
  const cands = [{ family: 'robust-z' as const, states: false }, { family: 'knn' as const, states: false }];
  const cv = crossValidateDetectors(rep, set, rows, [0, 2], cands, 0, 0, 1, 'faults');
  const { set: s, groups } = faultSplits(set, [0, 2]);
  const byFolds = crossValidateDetectors(rep, s, rows, groups, cands, 0, 0, undefined, 'folds');
  assert.deepEqual(cv, byFolds, 'the same as the protocol splits over the relabelled windows');
  assert.ok(cv.every((x) => x.perFold.length === 8), 'eight training faults');
  assert.ok(cv[0].f1 > 0.5, `robust-z catches the training faults held out one by one: ${cv[0].f1}`);
  // the held-out fold's labels are never read: relabel its windows and faults, the scores stay
  const moved: DetectionSet = {
    ...set,
    windows: set.windows.map((w, i) => (set.folds[i] === 1 ? { ...w, label: { abnormal: !w.label.abnormal } } : w)),
    injections: set.injections.map((x) => (x.fold === 1 ? { ...x, start: x.start + 600_000, end: x.end + 600_000 } : x)),
  };
  assert.deepEqual(crossValidateDetectors(rep, moved, rows, [0, 2], cands, 0, 0, 1, 'faults'), cv);
  // 'faults-apart': the same inner folds, each fitted on nothing within 60 min of its fault
  const apart = crossValidateDetectors(rep, set, rows, [0, 2], cands, 0, 0, 1, 'faults-apart');
  assert.ok(apart.every((x) => x.perFold.length === 8));
  assert.notDeepEqual(apart, cv, 'the faults 38 min apart are no longer fitted on');
});

test("tunedDetect with the 'faults' split: each fold's choice rests on one inner score per training fault", () => {
  const { set, rows } = timeline();
  const rep = rawFeatures(2);
  const cands = [{ family: 'robust-z' as const, states: false }, { family: 'knn' as const, states: false }];
  const d = tunedDetect(rep, set, rows, 3, true, 0, 0, cands, 'best', 'faults');
  assert.equal(d.folds.length, 3);
  for (const f of d.folds) {
    const training = set.injections.filter((x) => x.fold !== f.fold).length;
    assert.ok((f.inner ?? []).every((x) => x.perFold.length === training), `fold ${f.fold}: ${training} inner folds`);
  }
  // an option: the protocol's folds stay the default (docs/tasks.md, "Leave-one-fault-out inner scoring": cost)
  assert.equal(DETECTOR_INNER_SPLIT, 'folds');
});
