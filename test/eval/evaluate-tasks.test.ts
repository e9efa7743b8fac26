import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { createBackbone } from '../../src/encode/index.js';
import { evaluateDataset, formatEvaluateMarkdown, type EvalRow } from '../../src/eval/index.js';
import { checkTasksColumn, tasksColumnNames } from '../../src/eval/evaluate/tasks-column.js';
import { TasksFile } from '../../src/tasks/index.js';
import type { Dataset } from '../../src/telemetry/index.js';
import { cliWith } from '../helpers/cli.js';

const cli = cliWith({ timeout: 300_000 });

test('evaluate --tasks: a tasks file tuned on one run, applied to another, gives what detect / localize --tasks give', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-eval-tasks-'));
  try {
    const tuneRun = join(tmp, 'a');
    const held = join(tmp, 'b');
    await simulate({ outDir: tuneRun, hours: 3, seed: 11, faults: 6 });
    await simulate({ outDir: held, hours: 2, seed: 13, faults: 4 });
    const tasksPath = join(tmp, 'tasks.json');
    const t = cli('tune', '--data', tuneRun, '--out', tasksPath);
    assert.equal(t.code, 0, t.err);
    const tasks = await TasksFile.load(tasksPath);

    const ds = await loadDataset(held);
    const backbone = await createBackbone('hash:dim=32');
    const { report } = await evaluateDataset(ds, { backbone, tuned: false, evidence: false, tasks: [{ name: 'tasks', path: tasksPath, tasks }] });
    assert.ok(report.methods.includes('tasks'));
    const info = report.tasksColumns?.[0];
    assert.ok(info && info.method === 'tasks' && info.fittedOn.endsWith('a') && /held out by run/.test(info.protocol));
    const get = (task: string, level: string, metric: string): EvalRow | undefined => report.rows.find((r) => r.method === 'tasks' && r.task === task && r.level === level && r.metric === metric && r.faultType === undefined);

    // detection: detect's alarms, scored by the same event rule over every window (no folds)
    const d = cli('detect', '--data', held, '--tasks', tasksPath, '--json');
    assert.equal(d.code, 0, d.err);
    const det = JSON.parse(d.out) as { windows: { start: string; alarm: boolean }[]; againstLabels: { precision: number; recall: number; f1: number } };
    // the simulator's tasks detector reads all modalities: scored at that level only
    assert.deepEqual(info.levels, ['all-modalities']);
    assert.equal(get('detection', 'metrics-only', 'event-f1'), undefined);
    const n = get('detection', 'all-modalities', 'event-f1');
    assert.ok(n !== undefined);
    // every window of this run has all three modalities: the set is detect's windows
    assert.equal(n.n, det.windows.length);
    const close = (a: number | null | undefined, b: number, what: string) => assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);
    close(get('detection', 'all-modalities', 'event-recall')?.value, det.againstLabels.recall, 'event recall');
    close(get('detection', 'all-modalities', 'event-precision')?.value, det.againstLabels.precision, 'event precision');
    if (n.value !== null) close(n.value, det.againstLabels.f1, 'event F1');

    // localization and classification: `localize --at <fault start> --tasks` per fault
    const cases = report.cases.filter((c) => c.ranks.tasks !== undefined);
    assert.equal(cases.length, ds.labels.length);
    // two faults through the CLI (each call encodes the run again): the column's path is one per fault
    for (const c of cases.slice(0, 2)) {
      const l = cli('localize', '--data', held, '--at', c.start, '--tasks', tasksPath, '--json', '--top', '5');
      assert.equal(l.code, 0, l.err);
      const loc = JSON.parse(l.out) as { rankedBy: string; services: { service: string }[]; faultTypes: string[] };
      assert.equal(loc.rankedBy, tasks.doc.localization.ranker ? 'tuned-ranker' : 'evidence');
      // (the column appends the services the localizer does not rank, as the evidence column does)
      assert.deepEqual(c.top.tasks.services.slice(0, loc.services.length), loc.services.map((s) => s.service), `case ${c.id}`);
      assert.equal(c.top.tasks.type, loc.faultTypes[0], `case ${c.id} type`);
      const at = loc.services.findIndex((s) => s.service === c.rootCauseService);
      if (at >= 0) assert.equal(c.ranks.tasks.service, at + 1);
    }
    // the rows rest on every fault once
    assert.equal(get('localization', 'service', 'mrr')?.n, ds.labels.length);
    assert.equal(get('classification', 'type', 'mrr')?.n, ds.labels.length);
    const md = formatEvaluateMarkdown(report);
    assert.match(md, /\| tasks \|/);
    assert.match(md, /tasks: held out by run/);
    await backbone.dispose?.();

    // refusals: another window, and (CLI) one line
    const ds5 = ds;
    assert.throws(() => checkTasksColumn(ds5, { name: 'tasks', path: tasksPath, tasks }, { lengthMs: 120_000, strideMs: 60_000 }, 'hash'), /fitted on 300 s windows every 60 s, this evaluate uses 120 s/);
    assert.throws(() => checkTasksColumn(ds5, { name: 'tasks', path: tasksPath, tasks }, { lengthMs: 300_000, strideMs: 30_000 }, 'hash'), /every 30 s/);
    const r = cli('evaluate', '--data', held, '--tasks', tasksPath, '--window', '2m', '--no-cache');
    assert.notEqual(r.code, 0);
    assert.match(r.err, /fitted on 300 s windows every 60 s, this evaluate uses 120 s/);
    // no labelled faults, and data made of cases
    const unlabelled = { ...ds, labels: [] } as unknown as Dataset;
    assert.throws(() => checkTasksColumn(unlabelled, { name: 'tasks', path: tasksPath, tasks }, { lengthMs: 300_000, strideMs: 60_000 }, 'hash'), /no labelled faults/);
    const cased = { ...ds, cases: [{ id: 'x' }] } as unknown as Dataset;
    assert.throws(() => checkTasksColumn(cased, { name: 'tasks', path: tasksPath, tasks }, { lengthMs: 300_000, strideMs: 60_000 }, 'hash'), /made of cases/);
    // a tasks file fitted with a model's backbone needs that backbone
    const withModel = TasksFile.fromJSON({ ...tasks.doc, fittedOn: { ...tasks.doc.fittedOn, backbone: 'hash:dim=64' } });
    assert.throws(() => checkTasksColumn(ds, { name: 'tasks', path: 'm.json', tasks: withModel }, { lengthMs: 300_000, strideMs: 60_000 }, 'hash'), /fitted with backbone hash:dim=64, this evaluate uses hash/);
    assert.doesNotThrow(() => checkTasksColumn(ds, { name: 'tasks', path: 'm.json', tasks: withModel }, { lengthMs: 300_000, strideMs: 60_000 }, 'hash:dim=64'));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('tasks column names: "tasks" for one file, "tasks:<file>" for several, unique', () => {
  assert.deepEqual(tasksColumnNames(['/x/t.json']), ['tasks']);
  assert.deepEqual(tasksColumnNames(['/x/a.json', '/y/b.json']), ['tasks:a.json', 'tasks:b.json']);
  assert.deepEqual(tasksColumnNames(['/x/a.json', '/y/a.json']), ['tasks:/x/a.json', 'tasks:/y/a.json']);
});
