import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import type { EvalReport } from '../../src/eval/index.js';
import { cliWith, writeUntrainedCheckpoint } from '../helpers/cli.js';

const cli = cliWith({ timeout: 240_000 });

const METRICS = new Set(['ac@1', 'ac@3', 'ac@5', 'avg@5', 'mrr', 'precision', 'recall', 'f1', 'macro-f1', 'weighted-f1', 'weighted-precision', 'weighted-recall', 'event-f1', 'event-precision', 'event-recall']);

test('evaluate CLI on a simulator run: Table 1 on stdout, the JSON report with every column, usage errors', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-eval-cli-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 4, seed: 7, faults: 10 });
    const model = join(tmp, 'tiny.rsmodel');
    await writeUntrainedCheckpoint(model, 'hash:dim=32');
    const json = join(tmp, 'report.json');
    const r = cli('evaluate', '--data', sim, '--model', model, '--json', json, '--folds', '3', '--seed', '2', '--no-cache');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\| method \| AD P \| AD R \| AD F1 \| AD event-F1 \| FL P \| FL R \| FL F1 \| FL MRR \| FD P \| FD R \| FD F1 \| FD MRR \|/);
    const rep = JSON.parse(await readFile(json, 'utf8')) as EvalReport;
    assert.equal(rep.schemaVersion, 1);
    assert.equal(rep.protocol.name, 'time-block');
    assert.equal(rep.protocol.folds, 3);
    assert.deepEqual(rep.methods, ['evidence', 'raw-features', 'raw-backbone', 'model', 'tuned', 'tuned-global', 'tuned:model', 'tuned-global:model', 'time-only', 'nearest-fault', 'prior']);
    assert.match(r.out, /\| tuned \|/);
    // the report's timeline lanes: states and alarms of the tuned detector, and the faults
    const tl = rep.timeline;
    assert.ok(tl && (tl.states?.length ?? 0) > 0 && (tl.faults?.length ?? 0) >= 6, 'timeline');
    for (const x of [...(tl.states ?? []), ...(tl.alarms ?? [])]) assert.ok(typeof x.start === 'number' && typeof x.end === 'number' && x.end > x.start);
    assert.ok((tl.alarms ?? []).every((a) => a.method.startsWith('tuned')));
    for (const row of rep.rows) {
      assert.ok(METRICS.has(row.metric), row.metric);
      assert.ok(row.value === null ? row.notMeasurable !== undefined : Number.isFinite(row.value) && row.value >= 0 && row.value <= 1, JSON.stringify(row));
    }
    const has = (task: string, level: string, method: string, metric: string) => rep.rows.some((x) => x.task === task && x.level === level && x.method === method && x.metric === metric && x.faultType === undefined);
    for (const m of rep.methods) {
      assert.ok(has('localization', 'service', m, 'ac@1') && has('localization', 'pod', m, 'mrr'), `localization rows of ${m}`);
      if (m !== 'evidence') assert.ok(has('classification', 'type', m, 'weighted-f1') && has('detection', 'metrics-only', m, 'event-f1') && has('detection', 'all-modalities', m, 'f1'), `rows of ${m}`);
    }
    assert.ok(rep.rows.some((x) => x.faultType !== undefined), 'per-fault-type breakdown');
    assert.ok(rep.cases.length >= 6);
    for (const c of rep.cases) {
      assert.ok(c.fold >= 0 && c.fold < 3);
      assert.ok('evidence' in c.ranks && 'model' in c.ranks);
    }
    // no temporary file left beside the report
    assert.deepEqual((await readdir(tmp)).sort(), ['report.json', 'sim', 'tiny.rsmodel']);

    const u = cli('evaluate');
    assert.equal(u.code, 2);
    assert.match(u.err, /--data/);
    const bad = cli('evaluate', '--data', sim, '--json', join(sim, 'x.json'), '--no-evidence');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /inside the input folder/);
    assert.doesNotMatch(bad.err, /\n\s+at /);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
