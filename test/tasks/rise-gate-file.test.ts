import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EncodedWindow } from '../../src/model/index.js';
import { rawFeatures, tunedDetect, type DetectionSet } from '../../src/eval/evaluate/index.js';
import { previousWindows, TASKS_SCHEMA_READABLE, TASKS_SCHEMA_VERSION, TasksFile, type TuneInput } from '../../src/tasks/index.js';
import { lcgNoise } from '../helpers/rng.js';
import { detectionTasks } from '../helpers/tasks.js';

const MIN = 60_000;

interface Win {
  source: string;
  start: number;
  end: number;
  row: Float64Array;
  abnormal: boolean;
}

/**
 * 5-min windows at a 1-min stride from minute `from`, two features: noise, and per fault (minutes
 * `faultsAt`) a 3-min effect on feature 0 whose aftermath decays over the next 8 minutes — the
 * falling windows the gate is for.
 */
function timeline(seed: number, from: number, minutes: number, faultsAt: readonly number[]): Win[] {
  const r = lcgNoise(seed);
  const level = new Float64Array(minutes + 5);
  for (const t0 of faultsAt) {
    for (let m = 0; m < 3; m++) level[t0 + m] += 10;
    for (let m = 3; m < 11; m++) level[t0 + m] += 10 - (m - 2) * 1.1;
  }
  return Array.from({ length: minutes }, (_, i) => {
    const mean = (level[i] + level[i + 1] + level[i + 2] + level[i + 3] + level[i + 4]) / 5;
    const start = (from + i) * MIN;
    return { source: 's', start, end: start + 5 * MIN, row: Float64Array.of(mean + r(), r()), abnormal: faultsAt.some((t0) => i < t0 + 3 && t0 < i + 5) };
  });
}

/** A tasks file fitted on `train` (normal windows only), its cross-validation as given. */
function fitted(train: readonly Win[], candidates: NonNullable<TuneInput['crossValidation']>['candidates']): TasksFile {
  return detectionTasks(train, candidates, { windowMs: 5 * MIN });
}

const GATE_WINS = [
  { family: 'robust-z' as const, states: false, f1: 0.6 },
  { family: 'knn' as const, states: false, f1: 0.5 },
  { family: 'robust-z' as const, states: true, f1: 0.6 },
  { family: 'robust-z' as const, states: false, rise: true, f1: 0.9 },
  { family: 'knn' as const, states: false, rise: true, f1: 0.8 },
];

const train = timeline(1, 0, 300, []);
const test_ = timeline(2, 1000, 300, [20, 60, 100, 140, 180, 220, 260]);

/**
 * evaluate's alarms on the test windows: the same robust-z detector fitted on the same normal
 * windows (fold 1) and applied to fold 0, with the gate or not (`tunedDetect`, one candidate).
 */
function evaluateAlarms(rise: boolean): boolean[] {
  const all = [...train, ...test_];
  const windows = all.map((w, i) => ({ source: w.source, window: { index: i, start: w.start, end: w.end }, label: { abnormal: w.abnormal }, inputs: {} }) as EncodedWindow);
  const set: DetectionSet = { level: 'all-modalities', windows, folds: all.map((_, i) => (i < train.length ? 1 : 0)), mask: [], injections: [20, 60, 100, 140, 180, 220, 260].map((t0) => ({ start: (1000 + t0) * MIN, end: (1003 + t0) * MIN, fold: 0 })) };
  const d = tunedDetect(rawFeatures(2), set, all.map((w) => w.row), 1, true, 0, 0, [{ family: 'robust-z', states: false, rise }]);
  return d.alarms.slice(train.length).map((a) => a === true);
}

test('a tasks file with the rise gate alarms where evaluate\'s gated detector does, and says which alarms the gate held back', () => {
  const tasks = fitted(train, GATE_WINS);
  assert.equal(tasks.doc.schemaVersion, TASKS_SCHEMA_VERSION);
  assert.equal(tasks.doc.detection.rise, true, 'the cross-validation chose the gate: the file says so');
  assert.equal(tasks.doc.detection.family, 'robust-z');
  assert.equal(tasks.doc.detection.useStates, false);
  assert.ok(tasks.doc.detection.crossValidation?.candidates.some((c) => c.candidate === 'robust-z+rise'), JSON.stringify(tasks.doc.detection.crossValidation));
  const gated = tasks.detect(test_);
  const plain = tasks.detect(test_, { rise: false });
  const evGated = evaluateAlarms(true);
  const evPlain = evaluateAlarms(false);
  assert.deepEqual(plain.map((a) => a.alarm), evPlain, 'ungated: the same alarms as evaluate');
  assert.deepEqual(gated.map((a) => a.alarm), evGated, 'gated: the same alarms as evaluate');
  const held = gated.filter((a) => a.gated).length;
  assert.ok(held >= 7, `the aftermath windows are held back: ${held}`);
  gated.forEach((a, i) => {
    // held back = alarmed without the gate and not with it; scores and thresholds unchanged
    assert.equal(a.gated === true, plain[i].alarm && !a.alarm, `window ${i}`);
    assert.equal(a.score, plain[i].score);
    assert.equal(a.threshold, plain[i].threshold);
  });
  // every onset still alarms: the first window of each fault's effect rose above the calm one before it
  for (const t0 of [20, 60, 100, 140, 180, 220, 260]) assert.ok(gated.slice(t0 - 4, t0 + 3).some((a) => a.alarm), `fault at minute ${t0}`);
  // the window just before is looked up by source and span, not by position
  assert.deepEqual(previousWindows([{ source: 'a', start: 5 * MIN, end: 10 * MIN }, { source: 'b', start: 0, end: 5 * MIN }, { source: 'a', start: 0, end: 5 * MIN }]), [2, undefined, undefined]);
});

test('a tasks file without the flag (versions 3 and 4) detects ungated, as before; the gate is saved only where it won', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-rise-'));
  try {
    const tasks = fitted(train, GATE_WINS);
    const { rise: _rise, ...detection } = tasks.doc.detection;
    assert.equal(_rise, true);
    const plain = tasks.detect(test_, { rise: false });
    for (const version of [3, 4]) {
      assert.ok(TASKS_SCHEMA_READABLE.includes(version));
      const path = join(dir, `v${version}.json`);
      await writeFile(path, JSON.stringify({ ...tasks.doc, schemaVersion: version, detection }));
      const old = await TasksFile.load(path);
      const out = old.detect(test_);
      assert.deepEqual(out.map((a) => a.alarm), plain.map((a) => a.alarm), `version ${version}`);
      assert.ok(!out.some((a) => a.gated), 'nothing held back');
      // and the gate can still be asked for
      assert.deepEqual(old.detect(test_, { rise: true }).map((a) => a.alarm), tasks.detect(test_).map((a) => a.alarm));
    }
    // a cross-validation where the gate does not win strictly: ungated (a later candidate only when better)
    const tie = fitted(train, GATE_WINS.map((c) => ({ ...c, f1: 0.7 })));
    assert.equal(tie.doc.detection.rise, false);
    assert.deepEqual(tie.detect(test_).map((a) => a.alarm), plain.map((a) => a.alarm));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
