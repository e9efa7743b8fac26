import { test } from 'node:test';
import assert from 'node:assert/strict';
import { periodsOf } from '../../src/windows/index.js';
import { alignPeriods, TasksFile, TASKS_SCHEMA_READABLE, type TuneInput } from '../../src/tasks/index.js';
import { lcgNoise } from '../helpers/rng.js';
import { detectionTasks } from '../helpers/tasks.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

/** a detection row as `tune` hands it to fitTasks */
type Win = TuneInput['detection'][number];

/** 1-min windows from `from` for `minutes`, two noisy features at `level`; a fault at each of `faultsAt` lifts feature 1 by 8 for 3 minutes. */
function period(seed: number, from: number, minutes: number, level: number, faultsAt: readonly number[] = []): Win[] {
  const r = lcgNoise(seed);
  return Array.from({ length: minutes }, (_, i) => {
    const start = from + i * MIN;
    const hit = faultsAt.some((t) => i >= t && i < t + 3);
    return { source: 's', start, end: start + MIN, row: Float64Array.of(level + r(), level + r() + (hit ? 8 : 0)), abnormal: hit };
  });
}

function fitted(train: readonly Win[]): TasksFile {
  return detectionTasks(train, [{ family: 'robust-z', states: false, f1: 0.5 }]);
}

test('periodsOf splits a source where windows are more than an hour apart, and sources apart', () => {
  const ws = [
    { start: 0, source: 'a' },
    { start: MIN, source: 'a' },
    { start: 3 * HOUR, source: 'a' },
    { start: 30 * MIN, source: 'b' },
    { start: 2 * MIN, source: 'a' },
  ];
  assert.deepEqual(periodsOf(ws), [[0, 1, 4], [3], [2]]);
  assert.deepEqual(periodsOf(ws, 4 * HOUR), [[0, 1, 4, 2], [3]]);
});

test('alignPeriods leaves one period as it is and moves each of several into the frame', () => {
  const one = period(1, 0, 100, 5);
  const frame = { center: [0, 0], spread: [1, 1] };
  const same = alignPeriods(one, one.map((w) => w.row), frame);
  assert.ok(same.every((r, i) => r === one[i].row), 'one period: the rows themselves');
  const two = [...period(2, 0, 100, 5), ...period(3, 10 * HOUR, 100, -3)];
  const moved = alignPeriods(two, two.map((w) => w.row), frame);
  for (const [lo, hi] of [[0, 100], [100, 200]]) {
    const col = moved.slice(lo, hi).map((r) => (r as Float64Array)[0]).sort((a, b) => a - b);
    assert.ok(Math.abs(col[50] + col[49]) / 2 < 0.05, `period median near 0, got ${col[50]}`);
  }
});

test('a tasks file saves its feature frame; detect --align judges another period by what stands out within it', () => {
  // tuned on a day at level 5; judged on a day at level 9 with three faults
  const tasks = fitted(period(4, 0, 600, 5));
  assert.ok(tasks.doc.detection.frame, 'schema 6 saves the frame');
  assert.equal(tasks.doc.detection.frame?.center.length, 2);
  const day2 = period(5, 24 * HOUR, 600, 9, [100, 300, 500]);
  const raw = tasks.detect(day2, { states: false });
  assert.ok(raw.every((a) => a.alarm), 'unaligned: the whole day is far from the tuning day');
  const al = tasks.detect(day2, { states: false, align: true });
  const alarmed = al.filter((a) => a.alarm);
  assert.ok(alarmed.length >= 9 && alarmed.length < 40, `aligned: the faults' minutes and few others alarm (${alarmed.length})`);
  for (const t of [100, 300, 500]) assert.ok(al[t + 1].alarm, `fault at minute ${t} caught`);
  // on the tuning data itself the frame changes nothing
  const back = tasks.detect(period(4, 0, 600, 5), { states: false, align: true });
  const plain = tasks.detect(period(4, 0, 600, 5), { states: false });
  assert.deepEqual(back.map((a) => a.alarm), plain.map((a) => a.alarm));
});

test('version 5 files (no frame) still load', () => {
  assert.ok(TASKS_SCHEMA_READABLE.includes(5));
  const doc = structuredClone(fitted(period(6, 0, 200, 1)).doc) as unknown as { schemaVersion: number; detection: { frame?: unknown } };
  doc.schemaVersion = 5;
  delete doc.detection.frame;
  const t = TasksFile.fromJSON(doc);
  assert.equal(t.doc.detection.frame, undefined);
  const w = period(7, 0, 50, 1);
  assert.equal(t.detect(w, { align: true }).length, 50);
});
