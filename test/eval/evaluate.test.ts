import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSetup, rawBackbone, rawFeatures, runEvaluation, type EvalSetup, type RunResult } from '../../src/eval/index.js';
import { corrupt } from '../helpers/corrupt.js';
import { encodedSim } from '../helpers/sim-setup.js';

function predictionsOf(r: RunResult, ids: Set<string>): string {
  const out: unknown[] = [];
  for (const [p, byCase] of r.predictions) for (const [id, byMethod] of byCase) if (ids.has(id)) out.push([p, id, [...byMethod].sort()]);
  return JSON.stringify(out);
}

function alarmsOf(r: RunResult, setup: EvalSetup, fold: number): string {
  const out: unknown[] = [];
  for (const d of setup.detection) {
    const per = r.alarms.get(d.level)!;
    for (const [m, a] of [...per].sort()) out.push([d.level, m, a.filter((_, i) => d.folds[i] === fold)]);
  }
  return JSON.stringify(out);
}

test('no test-fold label reaches a fit: corrupting one fold\'s labels changes none of its predictions', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-eval-leak-'));
  try {
    const { ds, backbone, windows } = await encodedSim(tmp, { entities: true });
    const setup = buildSetup(ds, windows, 'sim', { folds: 3, seed: 1 });
    assert.equal(setup.protocol, 'time-block');
    assert.ok(setup.cases.length >= 6, `cases: ${setup.cases.length}`);
    const reps = [rawFeatures(backbone.dim), rawBackbone(backbone.dim)];
    const base = runEvaluation(setup, reps);
    for (const m of ['tuned', 'tuned-global']) assert.ok(base.report.methods.includes(m), `method ${m}`);
    assert.ok([...base.alarms.get('metrics-only')!.keys()].includes('tuned'), 'tuned alarms are checked too');
    assert.ok([...base.predictions.get('time-block')!.values()].some((m) => m.get('tuned')?.types !== undefined), 'tuned classifies');
    assert.ok((base.report.timeline?.states?.length ?? 0) > 0 && (base.report.timeline?.faults?.length ?? 0) > 0, 'timeline states and faults');
    for (let fold = 0; fold < 3; fold++) {
      const ids = new Set(setup.cases.filter((c) => c.fold === fold).map((c) => c.id));
      const bad = corrupt(setup, fold);
      const r = runEvaluation(bad, reps);
      assert.equal(predictionsOf(r, ids), predictionsOf(base, ids), `fold ${fold}: test-fold predictions changed with its labels`);
      assert.equal(alarmsOf(r, bad, fold), alarmsOf(base, setup, fold), `fold ${fold}: test-fold alarms changed with its labels`);
    }
    // the check has teeth: corrupting the *training* folds does change a test fold's predictions
    const ids0 = new Set(setup.cases.filter((c) => c.fold === 0).map((c) => c.id));
    let bad = setup;
    for (const f of [1, 2]) bad = corrupt(bad, f);
    assert.notEqual(predictionsOf(runEvaluation(bad, reps), ids0), predictionsOf(base, ids0));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
