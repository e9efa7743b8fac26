import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { TASKS_SCHEMA_VERSION, type TasksFileJSON } from '../../src/tasks/index.js';
import { cliWith } from '../helpers/cli.js';

const cli = cliWith({ timeout: 300_000 });

test('tune writes one versioned tasks file; detect and localize --tasks use it; bad files are one-line errors', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-tune-cli-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 3, seed: 11, faults: 6 });
    const tasksPath = join(tmp, 'tasks.json');
    const t = cli('tune', '--data', sim, '--out', tasksPath);
    assert.equal(t.code, 0, t.err);
    assert.match(t.out, /wrote .*tasks\.json/);
    const doc = JSON.parse(await readFile(tasksPath, 'utf8')) as TasksFileJSON;
    assert.equal(doc.format, 'runtimeslicer-tasks');
    assert.equal(doc.schemaVersion, TASKS_SCHEMA_VERSION);
    assert.ok(!Number.isNaN(Date.parse(doc.created)));
    assert.equal(doc.window.lengthMs, 300_000);
    assert.ok(doc.fittedOn.data.endsWith('sim') && doc.fittedOn.cases > 0);
    assert.ok(doc.states.k >= 1 && doc.detection.state.states.length === doc.states.k);
    // the default detector reads the features: no evidence candidate was even compared
    assert.equal(doc.detection.input, 'features');
    assert.ok(!(doc.detection.crossValidation?.candidates ?? []).some((c) => c.candidate.startsWith('evidence:')), 'no evidence candidate by default');
    // evaluate's candidates, the rise gate's included; the file records whether the gate won
    // (the first best: a later candidate only when strictly better)
    const cvs = doc.detection.crossValidation?.candidates ?? [];
    assert.deepEqual(cvs.map((c) => c.candidate), ['robust-z', 'knn', 'robust-z@auc0.6', 'robust-z@auc0.7', 'robust-z@auc0.8', 'robust-z+states', 'knn+states', 'robust-z+rise', 'knn+rise', 'robust-z@auc0.6+rise', 'robust-z@auc0.7+rise', 'robust-z@auc0.8+rise']);
    const best = cvs.reduce((b, c) => ((c.f1 ?? -1) > (b.f1 ?? -1) ? c : b));
    assert.equal(doc.detection.rise, best.candidate.endsWith('+rise'), `best ${best.candidate}`);
    // a feature selection that won is saved with the detector (its cutoff), and only then
    const cut = /@auc([0-9.]+)/.exec(best.candidate)?.[1];
    assert.equal(doc.detection.global.select, cut === undefined ? undefined : Number(cut), `best ${best.candidate}`);
    // on this run the gate wins (measured: robust-z+rise 0.727 against ≤ 0.571 for the others)
    assert.equal(doc.detection.rise, true, `the gate won the cross-validation: ${JSON.stringify(cvs)}`);
    assert.ok(doc.classification && doc.classification.types.length >= 2);
    // the views state the tuning data was encoded with, for `detect` to encode new data against
    assert.equal(doc.views?.format, 'runtimeslicer-views');
    assert.ok((doc.views?.metrics.length ?? 0) > 10 && (doc.views?.trainWindows ?? 0) > 100);
    // six faults: enough cases for the tuned ranker (RANKER_MIN_CASES = 5) when the evidence names them
    assert.equal(doc.localization.method, doc.localization.ranker ? 'evidence+ranker' : 'evidence');
    if (doc.localization.ranker) {
      assert.ok(doc.localization.ranker.cases >= 1 && doc.localization.ranker.cases <= doc.fittedOn.cases);
      assert.equal(doc.localization.ranker.global.length, doc.localization.ranker.features.length);
    }

    const d = cli('detect', '--data', sim, '--tasks', tasksPath, '--json');
    assert.equal(d.code, 0, d.err);
    const out = JSON.parse(d.out) as { views: string; detector: string; rise: boolean; gated?: number; windows: { start: string; state: number; score: number | null; threshold: number; alarm: boolean; gated?: true }[]; alarms: unknown[]; againstLabels: { faults: number; caught: number } };
    assert.equal(out.views, 'own', 'a features detector reads the new data against its own fit by default');
    assert.ok(out.windows.length > 100);
    for (const w of out.windows) assert.ok(typeof w.alarm === 'boolean' && Number.isFinite(w.threshold) && w.state >= 0);
    assert.ok(out.windows.some((w) => w.alarm), 'some window alarms on a run with faults');
    assert.ok(out.againstLabels.caught > 0, 'some fault caught');
    // the rise gate as the file chose it, and the other way round: the gate only holds alarms back, and says which
    const gateOut = out;
    assert.equal(gateOut.rise, doc.detection.rise);
    assert.equal(gateOut.detector.endsWith('+rise'), doc.detection.rise);
    const other = cli('detect', '--data', sim, '--tasks', tasksPath, '--json', '--rise', doc.detection.rise ? 'off' : 'on');
    assert.equal(other.code, 0, other.err);
    const otherOut = JSON.parse(other.out) as typeof out;
    const [gatedRun, plainRun] = doc.detection.rise ? [gateOut, otherOut] : [otherOut, gateOut];
    assert.equal(gatedRun.windows.length, plainRun.windows.length);
    gatedRun.windows.forEach((w, i) => {
      assert.equal(w.gated === true, plainRun.windows[i].alarm && !w.alarm, `window ${w.start}`);
      assert.ok(!w.alarm || plainRun.windows[i].alarm, 'the gate adds no alarm');
      assert.equal(plainRun.windows[i].gated, undefined);
    });
    assert.ok(gatedRun.windows.some((w) => w.gated), 'the falling windows after a fault are held back');
    assert.equal(gatedRun.gated, gatedRun.windows.filter((w) => w.gated).length);
    const text = cli('detect', '--data', sim, '--tasks', tasksPath, '--states', 'off');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /global detector/);
    assert.match(text.out, /faults caught/);
    assert.match(text.out, /encoded against references fitted on this data itself/);
    // on the tuning data itself the saved references are its own fit: the same alarms
    const mixed = cli('detect', '--data', sim, '--tasks', tasksPath, '--views', 'mixed', '--json');
    assert.equal(mixed.code, 0, mixed.err);
    const mixedOut = JSON.parse(mixed.out) as typeof out;
    assert.equal(mixedOut.views, 'mixed');
    assert.deepEqual(mixedOut.windows, out.windows);

    const faults = JSON.parse(await readFile(join(sim, 'faults.json'), 'utf8')) as { faults?: { start: string }[] } | { start: string }[];
    const first = (Array.isArray(faults) ? faults : (faults.faults ?? []))[0];
    if (first) {
      const l = cli('localize', '--data', sim, '--at', String(first.start), '--tasks', tasksPath, '--json');
      assert.equal(l.code, 0, l.err);
      const lr = JSON.parse(l.out) as { faultTypes: string[]; services: unknown[]; rankedBy: string };
      assert.ok(lr.services.length > 0);
      assert.equal(lr.rankedBy, doc.localization.ranker ? 'tuned-ranker' : 'evidence');
      assert.deepEqual([...lr.faultTypes].sort(), [...(doc.classification?.types ?? [])].sort(), 'every type ranked');
    }

    // a version 3 file (no views state) is still read, with a warning: new data against its own fit
    const { views: _views, ...v3 } = doc;
    const v3Path = join(tmp, 'tasks-v3.json');
    await writeFile(v3Path, JSON.stringify({ ...v3, schemaVersion: 3 }));
    const old = cli('detect', '--data', sim, '--tasks', v3Path, '--views', 'mixed', '--json');
    assert.equal(old.code, 0, old.err);
    assert.match(old.err, /holds no views state \(schemaVersion 3\).*run `runtimeslicer tune` again/);
    assert.deepEqual((JSON.parse(old.out) as typeof out).windows, out.windows);

    // another schema version, not JSON, missing: one line on stderr, exit 1, no stack
    await writeFile(tasksPath, JSON.stringify({ ...doc, schemaVersion: 99 }));
    for (const args of [['detect', '--data', sim, '--tasks', tasksPath], ['detect', '--data', sim, '--tasks', join(tmp, 'none.json')]]) {
      const r = cli(...args);
      assert.equal(r.code, 1, r.err);
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\n\s+at /);
    }
    assert.match(cli('detect', '--data', sim, '--tasks', tasksPath).err, /schemaVersion 99 is not supported/);
    assert.equal(cli('tune', '--data', sim).code, 2, 'missing --out is a usage error');
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
