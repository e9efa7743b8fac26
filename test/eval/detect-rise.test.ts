import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectorCandidates, rawFeatures, SETTLE_MS, tunedDetect, type DetectionSet } from '../../src/eval/evaluate/index.js';
import { eventPRF } from '../../src/stats/index.js';
import { faultTimeline } from '../helpers/timeline.js';

const names = (cs: ReturnType<typeof detectorCandidates>) => cs.map((c) => `${c.input ?? 'features'}:${c.family}${c.states ? '+states' : ''}${c.rise ? '+rise' : ''}`);

test('the rise gate and the supervised detector are opt-in candidates, after the others', () => {
  assert.deepEqual(names(detectorCandidates('features', true, true)), ['features:robust-z', 'features:knn', 'evidence:robust-z', 'evidence:knn'], 'tune sees the old candidates');
  assert.deepEqual(names(detectorCandidates('features', false, false, { rise: true })), ['features:robust-z', 'features:knn', 'features:robust-z+states', 'features:knn+states', 'features:robust-z+rise', 'features:knn+rise']);
  assert.deepEqual(names(detectorCandidates('features', true, true, { rise: true, supervised: true })).slice(4), ['features:robust-z+rise', 'features:knn+rise', 'evidence:robust-z+rise', 'evidence:knn+rise', 'features:logit']);
  assert.deepEqual(names(detectorCandidates('vector', true, false, { supervised: true })), ['features:knn'], 'the logistic detector reads features only');
});

/**
 * Ten hours of 5-min windows at a 1-min stride, one feature: noise, and per fault a 3-min effect
 * whose aftermath decays over the 8 minutes after it (the labelled fault is the 3 min only).
 */
function timeline(): { set: DetectionSet; rows: Float64Array[] } {
  const bump = (level: Float64Array, t0: number) => {
    for (let m = 0; m < 3; m++) level[t0 + m] += 10;
    for (let m = 3; m < 11; m++) level[t0 + m] += 10 - (m - 2) * 1.1;
  };
  return faultTimeline({ seed: 3, minutes: 600, faultsAt: Array.from({ length: 16 }, (_, k) => 20 + k * 36), bump, foldOf: (minute) => (minute < 300 ? 0 : 1) });
}

test('the rise gate keeps the catches and drops the falling windows after a fault', () => {
  const { set, rows } = timeline();
  const rep = rawFeatures(2);
  const run = (rise: boolean) => {
    // the aftermath is not a reference (as on Nezha, SETTLE_MS): the detector has to judge it
    const d = tunedDetect(rep, set, rows, 2, true, 0, SETTLE_MS, [{ family: 'robust-z', states: false, rise }]);
    const idx = d.alarms.map((a, i) => (a === undefined ? -1 : i)).filter((i) => i >= 0);
    return { d, e: eventPRF(idx.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: d.alarms[i] as boolean })), set.injections) };
  };
  const plain = run(false);
  const gated = run(true);
  assert.equal(plain.e.caught, 16);
  assert.equal(gated.e.caught, 16, 'every onset scores above the calm window before it');
  assert.ok(plain.e.falseAlarms >= 8, `the aftermath alarms without the gate: ${plain.e.falseAlarms}`);
  assert.ok(gated.e.falseAlarms < plain.e.falseAlarms / 2, `gated ${gated.e.falseAlarms} against ${plain.e.falseAlarms}`);
  // the gate only removes alarms, never adds one
  gated.d.alarms.forEach((a, i) => assert.ok(!a || plain.d.alarms[i], `window ${i}`));
  assert.match(gated.d.folds[0].chosen, /\+rise$/);
});
