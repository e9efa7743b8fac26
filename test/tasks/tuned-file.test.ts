import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { contextStates, fitFoldStates, fitTasks, singleState, TASKS_SCHEMA_VERSION, TasksFile, ZDetector, type TuneInput } from '../../src/tasks/index.js';
import { SeededRng, UserError } from '../../src/telemetry/index.js';

const MIN = 60_000;

/** Normal rows of `d` features: feature 0 spiky (heavy tail), the rest Gaussian. */
function normalRows(n: number, d: number, rng: SeededRng, shift = 0): Float64Array[] {
  return Array.from({ length: n }, () => Float64Array.from({ length: d }, (_, j) => (j === 0 ? (rng.next() < 0.05 ? 8 : 0) + rng.normal() : shift + rng.normal())));
}

test('robust-z detector: a spiky feature does not alarm on its usual spikes, a quiet feature moved far does', () => {
  const rng = new SeededRng(3, 'zdet');
  const refs = normalRows(400, 6, rng);
  const det = ZDetector.fit(refs, singleState(refs.length));
  const spike = Float64Array.from([9, 0, 0, 0, 0, 0]);
  const fault = Float64Array.from([0, 0, 0, 7, 0, 0]);
  assert.equal(det.alarm(spike, 0), false, `spike score ${det.score(spike, 0)} vs ${det.threshold(0)}`);
  assert.equal(det.alarm(fault, 0), true, `fault score ${det.score(fault, 0)} vs ${det.threshold(0)}`);
  assert.equal(det.top(fault, 0), 3);
  // about 1 % of normal rows alarm (the 0.99 quantile threshold)
  const fresh = normalRows(2000, 6, rng);
  const rate = fresh.filter((r) => det.alarm(r, 0)).length / fresh.length;
  assert.ok(rate > 0.002 && rate < 0.03, `false alarm rate ${rate}`);
  // NaN features are skipped, a row with none is never an alarm
  assert.equal(det.alarm(Float64Array.from([NaN, NaN, NaN, 7, NaN, NaN]), 0), true);
  assert.equal(det.alarm(new Float64Array(6).fill(NaN), 0), false);
});

test('robust-z detector with states: each state keeps its own baseline; JSON round trip is exact', () => {
  const rng = new SeededRng(4, 'zdet2');
  const a = normalRows(200, 4, rng, 0);
  const b = normalRows(200, 4, rng, 20);
  const rows = [...a, ...b];
  const st = fitFoldStates(rows, { k: 2 });
  assert.equal(st.k, 2);
  const det = ZDetector.fit(rows, st);
  const sB = st.labels[300];
  const sA = st.labels[0];
  assert.notEqual(sA, sB);
  // a row at state B's level is normal in B and far out in A
  const x = Float64Array.from([0, 20, 20, 20]);
  assert.equal(det.alarm(x, sB), false);
  assert.equal(det.alarm(x, sA), true);
  const back = ZDetector.fromJSON(JSON.parse(JSON.stringify(det.toJSON())));
  for (const r of [x, a[5], b[7]]) for (const s of [0, 1]) assert.equal(back.score(r, s), det.score(r, s));
});

test('context state: the majority state of the preceding windows of the same source, own state without context', () => {
  const w = (t: number, state: number, source = 's') => ({ start: t * MIN, end: (t + 5) * MIN, source, state });
  const all = [w(0, 0), w(5, 0), w(10, 0), w(15, 1), w(20, 1), w(100, 1, 'other')];
  // the window at 15 is judged by 0, 5 (ending ≤ 15): state 0, though its own state is 1
  assert.deepEqual(contextStates(all, [3, 0, 5], 2), [0, 0, 1]);
  assert.deepEqual(contextStates(all, [3], 1), [0]);
});

function tuneInput(): TuneInput {
  const rng = new SeededRng(5, 'tune');
  const d = 8;
  const detection: TuneInput['detection'] = [];
  for (let i = 0; i < 600; i++) {
    const evening = i >= 300;
    const row = Float64Array.from({ length: d }, () => (evening ? 5 : 0) + rng.normal());
    detection.push({ start: i * MIN, end: (i + 5) * MIN, source: 's', row, abnormal: false });
  }
  const types = ['cpu', 'delay', 'error'];
  const cases = Array.from({ length: 30 }, (_, i) => {
    const t = types[i % 3];
    const row = Float64Array.from({ length: d }, (_, j) => rng.normal() + (j === types.indexOf(t) ? 6 : 0));
    return { row, suspect: Float64Array.from([rng.normal(), rng.normal()]), stateRow: detection[(i * 10) % 600].row, type: t };
  });
  return {
    detection,
    faults: [],
    settleMs: 0,
    mask: ['traces', 'logs'],
    cases,
    crossValidation: { folds: 5, candidates: [{ family: 'robust-z', states: false, f1: 0.7 }, { family: 'knn', states: false, f1: 0.6 }, { family: 'robust-z', states: true, f1: 0.8 }, { family: 'knn', states: true, f1: 0.8 }] },
    fittedOn: { data: '/x', format: 'otlp', backbone: 'hash:dim=8', windows: 600, normalWindows: 600, faults: 30, cases: 30 },
    window: { lengthMs: 5 * MIN, strideMs: MIN },
    localization: { method: 'evidence', windowMs: 5 * MIN, sliceMs: MIN, note: 'test' },
  };
}

test('tasks file: fit, save atomically, load, detect and classify the same; unknown versions refused in one line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-tasks-'));
  try {
    const input = tuneInput();
    const tasks = fitTasks(input);
    assert.equal(tasks.doc.schemaVersion, TASKS_SCHEMA_VERSION);
    assert.equal(tasks.k, 2, 'two regimes, two states');
    assert.equal(tasks.doc.detection.useStates, true, 'states chosen: they won the cross-validation');
    assert.equal(tasks.doc.detection.family, 'robust-z', 'the first of the tied best');
    assert.deepEqual(tasks.doc.classification?.types, ['cpu', 'delay', 'error']);
    const path = join(dir, 'tasks.json');
    await tasks.save(path);
    const back = await TasksFile.load(path);
    const timeline = input.detection.slice(0, 50).map((w) => ({ ...w }));
    timeline.push({ start: 50 * MIN, end: 55 * MIN, source: 's', row: Float64Array.from({ length: 8 }, (_, j) => (j === 2 ? 30 : 0)), abnormal: true });
    const a1 = tasks.detect(timeline);
    const a2 = back.detect(timeline);
    assert.deepEqual(a2, a1);
    assert.equal(a1[a1.length - 1].alarm, true, 'a feature 30 sd out alarms');
    assert.ok(a1.slice(0, 50).filter((x) => x.alarm).length <= 3, 'normal windows rarely alarm');
    const x = Float64Array.from({ length: 8 }, (_, j) => (j === 1 ? 6 : 0));
    assert.equal(back.classify(x, undefined, undefined, 0)[0], 'delay');
    assert.deepEqual(tasks.doc.classification?.evidence, { layout: [], blocks: 'plain', crossValidation: null }, 'no evidence given: the views alone');
    // the kNN family from the same file: same alarms after a round trip, the far window alarms
    const kdoc = { ...tasks.doc, detection: { ...tasks.doc.detection, family: 'knn' as const } };
    const k1 = TasksFile.fromJSON(kdoc).detect(timeline);
    const k2 = TasksFile.fromJSON(JSON.parse(JSON.stringify(kdoc))).detect(timeline);
    assert.deepEqual(k2, k1);
    assert.equal(k1[k1.length - 1].alarm, true);
    assert.ok(k1.slice(0, 50).filter((a) => a.alarm).length <= 5);
    assert.deepEqual(back.classify(x, undefined, undefined, 1), tasks.classify(x, undefined, undefined, 1));
    // another version: one clear line
    const doc = JSON.parse(await readFile(path, 'utf8'));
    await writeFile(path, JSON.stringify({ ...doc, schemaVersion: 99 }));
    await assert.rejects(TasksFile.load(path), (e: unknown) => e instanceof UserError && /schemaVersion 99 is not supported/.test(e.message) && !e.message.includes('\n'));
    await writeFile(path, JSON.stringify({ format: 'something-else' }));
    await assert.rejects(TasksFile.load(path), (e: unknown) => e instanceof UserError && /not a runtimeslicer tasks file/.test(e.message));
    await writeFile(path, '{ half');
    await assert.rejects(TasksFile.load(path), (e: unknown) => e instanceof UserError && /not JSON/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('tasks file: too few normal windows is a user error, not a crash', () => {
  const input = tuneInput();
  assert.throws(() => fitTasks({ ...input, detection: input.detection.slice(0, 5) }), (e: unknown) => e instanceof UserError && /normal window/.test(e.message));
});

test("tasks file: the suspect's evidence is a block of the classifier's rows, its use chosen by cross-validation over the folds", async () => {
  // the views say nothing about the type; the suspect's evidence does (one name per type)
  const rng = new SeededRng(6, 'tune-evidence');
  const input = tuneInput();
  const types = ['cpu', 'delay', 'error'];
  const sign: Record<string, string> = { cpu: 'rise:resource:cpu', delay: 'rise:edge-gap', error: 'rise:log-template' };
  const cases = Array.from({ length: 30 }, (_, i) => {
    const t = types[i % 3];
    return {
      row: Float64Array.from({ length: 8 }, () => rng.normal()),
      suspect: Float64Array.from([rng.normal(), rng.normal()]),
      evidence: { [sign[t]]: 2 + rng.next(), 'z:resource': rng.next() },
      fold: Math.floor(i / 6),
      stateRow: input.detection[(i * 10) % 600].row,
      type: t,
    };
  });
  const tasks = fitTasks({ ...input, cases });
  const c = tasks.doc.classification;
  assert.ok(c);
  assert.deepEqual(c.evidence.layout, ['rise:edge-gap', 'rise:log-template', 'rise:resource:cpu', 'z:resource']);
  assert.equal(c.evidence.crossValidation?.length, 2, 'both block choices scored');
  for (const cv of c.evidence.crossValidation ?? []) assert.ok(cv.f1 !== null && cv.f1 > 0.9, `${cv.candidate} ${cv.f1}: the telling names carry either choice`);
  assert.equal(c.weights.length, c.evidence.blocks === 'evidence' ? 4 : 8 + 2 + 4);
  const back = TasksFile.fromJSON(JSON.parse(JSON.stringify(tasks.doc)));
  const views = Float64Array.from({ length: 8 }, () => 0);
  for (const t of types) {
    const ev = { [sign[t]]: 2.5 };
    assert.equal(back.classify(views, undefined, ev, 0)[0], t, `evidence of ${t}`);
    assert.deepEqual(back.classify(views, undefined, ev, 1), tasks.classify(views, undefined, ev, 1));
  }
});
