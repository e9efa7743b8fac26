import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type TuneInput } from '../../src/tasks/index.js';
import { lcgNoise } from '../helpers/rng.js';
import { detectionTasks } from '../helpers/tasks.js';

const MIN = 60_000;

/** 1-min windows, four features: 0 moves by 3 under a fault, 1–3 are noise with one wild spike each day. */
function rows(): TuneInput['detection'] {
  const r = lcgNoise(5);
  return Array.from({ length: 1200 }, (_, i) => {
    const abnormal = i % 100 >= 50 && i % 100 < 53;
    const spike = i % 97 === 0 ? 6 : 0;
    return { source: 's', start: i * MIN, end: (i + 1) * MIN, row: Float64Array.of(r() + (abnormal ? 3 : 0), r() + spike, r(), r()), abnormal };
  });
}

function fitted(candidates: NonNullable<TuneInput['crossValidation']>['candidates']) {
  return detectionTasks(rows(), candidates, { folds: 4 });
}

test('a tasks file whose cross-validation chose a feature selection keeps only the features that separate the fault windows', () => {
  const tasks = fitted([
    { family: 'robust-z', states: false, f1: 0.5 },
    { family: 'knn', states: false, f1: 0.4 },
    { family: 'robust-z', states: false, select: 0.7, f1: 0.8 },
  ]);
  const keep = tasks.doc.detection.global.keep;
  assert.ok(keep, 'the saved detector carries its selection');
  assert.deepEqual(keep, [true, false, false, false]);
  assert.equal(tasks.doc.detection.global.select, 0.7);
  assert.deepEqual(tasks.doc.detection.state.keep, keep, 'the state detector reads the same features');
  assert.ok(tasks.doc.detection.crossValidation?.candidates.some((c) => c.candidate === 'robust-z@auc0.7'));
  // a spike on a noise feature no longer sets a window's score; a fault still alarms
  const day = rows();
  const alarms = tasks.detect(day, { states: false });
  assert.equal(alarms[97].alarm, false, 'noise spike ignored');
  assert.equal(alarms[51].alarm, true, 'fault window alarmed');
});

test('without a selection winning, every feature is compared', () => {
  const tasks = fitted([
    { family: 'robust-z', states: false, f1: 0.8 },
    { family: 'robust-z', states: false, select: 0.7, f1: 0.6 },
  ]);
  assert.equal(tasks.doc.detection.global.keep, undefined);
  assert.equal(tasks.detect(rows(), { states: false })[97].alarm, true, 'the noise spike alarms when every feature counts');
});
