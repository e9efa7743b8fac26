import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tunedDetect, DETECTOR_TAILS, type DetectorCandidate } from '../../src/eval/evaluate/tuned-detect.js';
import { rawFeatures } from '../../src/eval/evaluate/represent.js';
import { eventPRF } from '../../src/stats/index.js';
import { faultTimeline } from '../helpers/timeline.js';

// Three folds of 200 minutes; two faults (level +3 for 3 min) per fold; fold 2 also holds a
// 12-minute episode of normal time (level +6: a warm-up after a gap) that no fault is near.
const faultsAt = [50, 120, 250, 320, 450, 520];
function data() {
  return faultTimeline({
    seed: 4,
    minutes: 600,
    faultsAt,
    bump: (level, t0) => {
      for (let m = 0; m < 3; m++) level[t0 + m] += 3;
    },
    foldOf: (m) => Math.floor(m / 200),
  });
}
const only: DetectorCandidate[] = [{ family: 'robust-z', states: false }];
const caughtIn = (alarms: (boolean | undefined)[], set: ReturnType<typeof data>['set'], folds: number[]) => {
  const idx = alarms.map((a, i) => (a !== undefined && folds.includes(set.folds[i] as number) ? i : -1)).filter((i) => i >= 0);
  return eventPRF(idx.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: alarms[i] as boolean })), set.injections.filter((f) => folds.includes(f.fold))).caught;
};

test('tails by runs: an episode in the training folds no longer hides the test folds’ faults', () => {
  const { set, rows } = data();
  for (let m = 400; m < 412; m++) rows[m][0] += 6;
  const rep = rawFeatures(0);
  const plain = tunedDetect(rep, set, rows, 3, true, 0, 0, only, 'best', 'folds', 'plain');
  const runs = tunedDetect(rep, set, rows, 3, true, 0, 0, only, 'best', 'folds', 'runs');
  assert.equal(DETECTOR_TAILS, 'plain', 'the default is unchanged');
  // folds 0 and 1 are fitted with the episode among their references
  const p = caughtIn(plain.alarms, set, [0, 1]);
  const r = caughtIn(runs.alarms, set, [0, 1]);
  assert.ok(r > p, `runs caught ${r}, plain ${p}`);
  assert.equal(r, 4);
  // fold 2's own references hold no episode: the two rules see the same tail there
  assert.equal(caughtIn(runs.alarms, set, [2]), caughtIn(plain.alarms, set, [2]));
});

test('tails by runs read no test-fold label', () => {
  const { set, rows } = data();
  const rep = rawFeatures(0);
  const a = tunedDetect(rep, set, rows, 3, true, 0, 0, undefined, 'best', 'folds', 'runs');
  // corrupt every label of fold 1: its alarms stay the same
  const bad = { ...set, windows: set.windows.map((w, i) => (set.folds[i] === 1 ? { ...w, label: { abnormal: !w.label.abnormal } } : w)), injections: set.injections.map((f) => (f.fold === 1 ? { ...f, start: f.start + 30 * 60_000, end: f.end + 30 * 60_000 } : f)) };
  const b = tunedDetect(rep, bad, rows, 3, true, 0, 0, undefined, 'best', 'folds', 'runs');
  set.windows.forEach((_, i) => {
    if (set.folds[i] === 1) assert.equal(b.alarms[i], a.alarms[i]);
  });
});
