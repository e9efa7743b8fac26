import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateModel, fitReadout, toStateBatch, windowInputDims } from '../../src/model/index.js';
import { buildSetup, modelRepresentation, rawFeatures, runEvaluation, type EvalSetup, type RunResult } from '../../src/eval/index.js';
import { BLOCK_ALPHAS, pickAlpha } from '../../src/eval/evaluate/block-weight.js';
import { learnedBlockWeights } from '../../src/eval/evaluate/represent.js';
import { deviation, fitServiceReference, prepareRows, featureStats } from '../../src/eval/evaluate/scoring.js';
import { corrupt } from '../helpers/corrupt.js';
import { encodedSim } from '../helpers/sim-setup.js';

test('pickAlpha: the best inner score wins; a tie or no score goes to the smaller α', () => {
  assert.equal(pickAlpha([{ alpha: 0, score: 0.5 }, { alpha: 0.5, score: 0.6 }, { alpha: 1, score: 0.55 }]), 0.5);
  assert.equal(pickAlpha([{ alpha: 1, score: 0.6 }, { alpha: 0, score: 0.6 }, { alpha: 0.5, score: 0.6 }]), 0);
  assert.equal(pickAlpha([{ alpha: 0, score: NaN }, { alpha: 1, score: NaN }]), 0);
  assert.equal(pickAlpha([{ alpha: 0, score: NaN }, { alpha: 1, score: 0.1 }]), 1);
  assert.deepEqual([...BLOCK_ALPHAS], [0, 0.5, 1]);
});

test('pickAlpha one-se: a better α must beat the smallest by more than one standard error over the inner folds', () => {
  const noisy = [{ alpha: 0, score: 0.60 }, { alpha: 1, score: 0.62, perFold: [0.5, 0.74, 0.62] }];
  assert.equal(pickAlpha(noisy, 'best'), 1);
  assert.equal(pickAlpha(noisy, 'one-se'), 0, 'within one SE (0.069) of the best: the simpler α');
  const clear = [{ alpha: 0, score: 0.5 }, { alpha: 0.5, score: 0.706, perFold: [0.69, 0.7, 0.71] }, { alpha: 1, score: 0.71, perFold: [0.7, 0.71, 0.72] }];
  assert.equal(pickAlpha(clear, 'one-se'), 0.5);
  assert.equal(pickAlpha(noisy), 0, 'the default rule is one-se');
});

test('block weights: α on the learned columns; weight 0 leaves a column out of every task', () => {
  assert.deepEqual(Array.from(learnedBlockWeights(2, 0.5, 5)), [1, 1, 0.5, 0.5, 0.5]);
  const rows = Array.from({ length: 20 }, (_, i) => Float64Array.from([i % 5, (i * 7) % 11, (i * 3) % 4]));
  const w = learnedBlockWeights(2, 0, 3);
  // localization: a huge deviation in a weight-0 column does not count
  const ref = fitServiceReference('features', rows);
  const quiet = Float64Array.from([2, 5, 1000]);
  assert.equal(deviation(quiet, ref, w), deviation(Float64Array.from([2, 5, NaN]), ref));
  assert.ok(deviation(quiet, ref) > deviation(quiet, ref, w));
  // distances: the weighted column is scaled after standardising
  const st = featureStats(rows)!;
  const [a] = prepareRows('features', [quiet], st, learnedBlockWeights(2, 0.5, 3));
  const [b] = prepareRows('features', [quiet], st);
  assert.equal(a[0], b[0]);
  assert.equal(a[2], 0.5 * b[2]);
});

const outputsOf = (r: RunResult, method: string, ids?: Set<string>, setup?: EvalSetup, fold?: number) => {
  const preds: unknown[] = [];
  for (const [p, byCase] of r.predictions) for (const [id, byMethod] of byCase) if (!ids || ids.has(id)) preds.push([p, id, byMethod.get(method)]);
  const alarms: unknown[] = [];
  for (const [level, per] of r.alarms) {
    const folds = setup?.detection.find((d) => d.level === level)?.folds;
    alarms.push([level, (per.get(method) ?? []).filter((_, i) => fold === undefined || folds?.[i] === fold)]);
  }
  return JSON.stringify([preds, alarms]);
};

test('model column: α = 0 is the raw-features column exactly; the α picked per task reads no test-fold label', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-block-weight-'));
  try {
    const { ds, backbone, windows } = await encodedSim(tmp, { entities: true });
    const setup = buildSetup(ds, windows, 'sim', { folds: 3, seed: 1 });
    // an untrained model is enough: what is tested is how the harness reads it
    const model = new StateModel({ inputDims: windowInputDims(backbone.dim), hidden: 16, modalityDim: 8, stateDim: 6, seed: 3 });
    model.fitNormalizers(toStateBatch(windows));
    model.readout = fitReadout(model, windows);
    const reps = [rawFeatures(backbone.dim), modelRepresentation('alpha0', model, { fixedAlpha: 0 }), modelRepresentation('model', model)];
    const base = runEvaluation(setup, reps, { tuned: false });
    const raw = outputsOf(base, 'raw-features');
    assert.equal(outputsOf(base, 'alpha0'), raw, 'α = 0 predicts and alarms exactly as raw-features');
    const valueOf = (m: string) => base.report.rows.filter((r) => r.method === m).map((r) => [r.task, r.level, r.metric, r.faultType, r.value]);
    assert.deepEqual(valueOf('alpha0'), valueOf('raw-features'));
    const picked = base.report.notes.filter((n) => n.startsWith('model ') && n.includes('learned-block weight'));
    assert.ok(picked.some((n) => n.includes('localization')) && picked.some((n) => n.includes('classification')) && picked.some((n) => n.includes('detection')), picked.join('\n'));
    for (const fold of [0, 2]) {
      const ids = new Set(setup.cases.filter((c) => c.fold === fold).map((c) => c.id));
      const bad = runEvaluation(corrupt(setup, fold), reps, { tuned: false });
      assert.equal(outputsOf(bad, 'model', ids, setup, fold), outputsOf(base, 'model', ids, setup, fold), `fold ${fold}: the model column's predictions moved with its own labels`);
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
