import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VIEWS_FORMAT_VERSION, ViewBuilder } from '../../src/encode/index.js';
import { fitTasks, TASKS_SCHEMA_READABLE, TASKS_SCHEMA_VERSION, TasksFile, type TuneInput } from '../../src/tasks/index.js';
import { SeededRng, UserError } from '../../src/telemetry/index.js';

const MIN = 60_000;

/** A small tuning input: 200 normal rows, two fault types. */
function tuneInput(): TuneInput {
  const rng = new SeededRng(7, 'tune-views');
  const detection: TuneInput['detection'] = Array.from({ length: 200 }, (_, i) => ({ start: i * MIN, end: (i + 5) * MIN, source: 's', row: Float64Array.from({ length: 4 }, () => rng.normal()), abnormal: false }));
  const cases = Array.from({ length: 12 }, (_, i) => ({ row: Float64Array.from({ length: 4 }, (_, j) => rng.normal() + (j === i % 2 ? 5 : 0)), suspect: undefined, stateRow: undefined, type: i % 2 ? 'b' : 'a' }));
  return {
    detection,
    faults: [],
    settleMs: 0,
    mask: [],
    cases,
    fittedOn: { data: '/x', format: 'otlp', backbone: 'hash:dim=8', windows: 200, normalWindows: 200, faults: 12, cases: 12 },
    window: { lengthMs: 5 * MIN, strideMs: MIN },
    localization: { method: 'evidence', windowMs: 5 * MIN, sliceMs: MIN, note: 'test' },
  };
}

const expectUserError = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');

test('tasks file carries the views state; version 3 files still load; a bad or foreign views state is refused in one line', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-tasks-views-'));
  try {
    // as JSON holds it (an absent evidence state is not written)
    const views = JSON.parse(JSON.stringify(new ViewBuilder({ seed: 3 }).toJSON()));
    const tasks = fitTasks({ ...tuneInput(), views });
    assert.equal(tasks.doc.schemaVersion, TASKS_SCHEMA_VERSION);
    assert.ok(TASKS_SCHEMA_VERSION >= 4 && TASKS_SCHEMA_READABLE.includes(3));
    const path = join(dir, 'tasks.json');
    await tasks.save(path);
    const back = await TasksFile.load(path);
    assert.deepEqual(back.doc.views, views, 'the views state round-trips through the file');
    // ViewBuilder takes it back
    assert.equal(ViewBuilder.fromJSON(back.doc.views!).seed, 3);
    const doc = JSON.parse(await readFile(path, 'utf8'));

    // a version 3 file (no views): read, with no views (detect then encodes against the new data's own fit)
    const { views: _, ...v3 } = doc;
    await writeFile(path, JSON.stringify({ ...v3, schemaVersion: 3 }));
    const old = await TasksFile.load(path);
    assert.equal(old.doc.views, undefined);
    assert.deepEqual(old.detect(tuneInput().detection.slice(0, 20)), back.detect(tuneInput().detection.slice(0, 20)), 'its models are read as before');

    // version 2, views of another version, views that are not a state: one clear line each
    await writeFile(path, JSON.stringify({ ...doc, schemaVersion: 2 }));
    await assert.rejects(TasksFile.load(path), expectUserError(/schemaVersion 2 is not supported \(this runtimeslicer reads versions 3, 4, 5, 6\)/));
    await writeFile(path, JSON.stringify({ ...doc, views: { ...doc.views, version: VIEWS_FORMAT_VERSION + 1 } }));
    await assert.rejects(TasksFile.load(path), expectUserError(new RegExp(`views state is of version ${VIEWS_FORMAT_VERSION + 1}.*run \`runtimeslicer tune\` again`)));
    await writeFile(path, JSON.stringify({ ...doc, views: 'x' }));
    await assert.rejects(TasksFile.load(path), expectUserError(/damaged tasks file \(its "views" is not a views state\)/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
