/**
 * Issue 13, deliverable 1: every pre-training term alive — the temporal term non-zero (with a
 * gradient) at initialisation, validation measuring the training terms (warnings where it
 * cannot), and runs whose every term would be 0 refused before training.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HashBackbone } from '../../src/encode/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { encodeWindows, toStateBatch, windowInputDims, type EncodedWindow } from '../../src/model/data.js';
import { BatchSampler } from '../../src/model/sampler.js';
import { StateModel, MODALITIES, temporalConsistencyLoss, type Modality, type InputDim } from '../../src/model/index.js';
import { trainStateModel, type TrainerOptions } from '../../src/model/trainer.js';
import { validationSplit } from '../../src/windows/index.js';
import { UserError } from '../../src/telemetry/index.js';
import { SPEC, fakeWindow, simulatedFolder } from './data-fixture.js';

const DIM = 32;

test('temporal term: > 0 at initialisation on simulated overlapping windows, with a gradient', async (t) => {
  const f = await simulatedFolder(1, 7, 1);
  try {
    const windows = await encodeWindows(await loadDataset(f.dir), { spec: SPEC, backbone: new HashBackbone({ dim: DIM }) });
    const dims = windowInputDims(DIM);
    const inputDims: Partial<Record<Modality, InputDim>> = {};
    for (const m of MODALITIES) if (windows.some((w) => w.inputs[m] !== undefined) && dims[m] !== undefined) inputDims[m] = dims[m];
    const model = new StateModel({ inputDims, hidden: 32, modalityDim: 16, stateDim: 8, seed: 1 });
    const widths: Partial<Record<Modality, number>> = {};
    for (const m of MODALITIES) if (inputDims[m] !== undefined) widths[m] = model.inputWidth(m);
    model.fitNormalizers(toStateBatch(windows, { widths }));
    const batch = new BatchSampler(windows, { batchSize: 48, seed: 2 }).epoch(0).find((b) => b.overlaps.rho.length > 0);
    assert.ok(batch, 'the sampler puts overlapping runs into batches');
    const fw = model.forward(toStateBatch(batch.rows.map((i) => windows[i]), { widths }), { training: true });
    const loss = temporalConsistencyLoss(fw.s, batch.overlaps, 0.1, 0.1);
    assert.ok(loss && loss.item() > 0.1, `temporal term at initialisation: ${loss?.item()}`);
    // What the old hinge Σρ·max(0, ρ − δ − cos)/Σρ gave on the same batch (issue 13: 0).
    let hinge = 0;
    let mass = 0;
    for (let p = 0; p < batch.overlaps.rho.length; p++) {
      const [i, j, r] = [batch.overlaps.i[p], batch.overlaps.j[p], batch.overlaps.rho[p]];
      let cos = 0;
      for (let k = 0; k < fw.s.cols; k++) cos += fw.s.data[i * fw.s.cols + k] * fw.s.data[j * fw.s.cols + k];
      hinge += r * Math.max(0, r - 0.1 - cos);
      mass += r;
    }
    t.diagnostic(`new temporal ${loss.item().toFixed(3)}, old hinge ${(hinge / mass).toFixed(4)} on ${batch.overlaps.rho.length} pairs`);
    loss.backward();
    let norm = 0;
    for (const p of model.parameters()) if (p.tensor.grad) for (const g of p.tensor.grad) norm += g * g;
    assert.ok(norm > 0, 'the temporal term alone moves the weights');
  } finally {
    f.cleanup();
  }
});

/** Windows of one source every minute; 5-min windows overlap their neighbours, 1-min ones do not. */
function line(n: number, modalities: readonly Modality[], lengthMin = 5): EncodedWindow[] {
  return Array.from({ length: n }, (_, k) => fakeWindow('/a', k, modalities, 4, { lengthMin }));
}

const OPTS: Omit<TrainerOptions, 'epochs'> = {
  inputDims: { metrics: 4, traces: 4 },
  model: { hidden: 8, modalityDim: 4, stateDim: 4 },
  batchSize: 16,
  seed: 3,
  patience: 0,
  valShare: 0.2,
  valBlockMs: 20 * 60_000,
};

const userError = (re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof UserError, String(e));
  assert.match(e.message, re);
  assert.ok(!e.message.includes('\n'), 'one line');
  return true;
};

test('every active term would be 0: a user error naming the terms and why, before training', async () => {
  let epochs = 0;
  // --no-modal on windows that never overlap: temporal has nothing to do.
  await assert.rejects(
    trainStateModel(line(60, ['metrics', 'traces'], 1), { ...OPTS, epochs: 2, terms: { modal: false }, onEpoch: () => epochs++ }),
    userError(/nothing to train: every active loss term would be 0 \(active: temporal; temporal: no batch holds two windows of one timeline overlapping/),
  );
  // Modal only, metric-only windows.
  await assert.rejects(
    trainStateModel(line(60, ['metrics']), { ...OPTS, epochs: 2, terms: { temporal: false } }),
    userError(/active: modal; modal: no window has two modalities \(metrics only\)/),
  );
  // Both on, neither possible.
  await assert.rejects(trainStateModel(line(60, ['metrics'], 1), { ...OPTS, epochs: 2 }), userError(/active: modal, temporal; modal: .*; temporal: /));
  // Every weight 0 is the same error.
  await assert.rejects(trainStateModel(line(60, ['metrics', 'traces']), { ...OPTS, epochs: 1, terms: { modal: false }, loss: { temporalWeight: 0 } }), userError(/active: none/));
  assert.equal(epochs, 0, 'refused before the first epoch');
});

test('a term impossible in training is a warning; the others train', async () => {
  const warnings: string[] = [];
  const r = await trainStateModel(line(80, ['metrics']), { ...OPTS, epochs: 2, onTermWarnings: (w) => warnings.push(...w) });
  assert.deepEqual(warnings, r.termWarnings);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^training: the modal term stays 0 \(no window has two modalities \(metrics only\)/);
  assert.deepEqual(r.valTerms, ['temporal']);
  assert.ok(r.history.every((h) => (h.train.temporal ?? 0) > 0 && h.train.modal === undefined));
  assert.ok(r.history.every((h) => Math.abs(h.val!.total! - 0.5 * h.val!.temporal!) < 1e-6), 'val total = λ_t·temporal');
});

/** The split the trainer will make, with the validation windows stripped to metrics only. */
function metricOnlyValidation(windows: EncodedWindow[]): number {
  const vs = validationSplit(windows, { share: OPTS.valShare, seed: OPTS.seed, blockMs: OPTS.valBlockMs });
  for (const w of vs.val) delete w.inputs.traces;
  return vs.val.length;
}

test('validation measures every training term; a term it cannot measure is left out of early stopping with a warning', async () => {
  const windows = line(100, ['metrics', 'traces']);
  assert.ok(metricOnlyValidation(windows) >= 4);
  const warnings: string[] = [];
  const r = await trainStateModel(windows, { ...OPTS, epochs: 3, onTermWarnings: (w) => warnings.push(...w) });
  assert.equal(warnings.length, 1, warnings.join(' | '));
  assert.match(warnings[0], /^validation: the modal term cannot be measured on the validation windows \(no window has two modalities \(metrics only\).*\); early stopping uses temporal$/);
  assert.deepEqual(r.valTerms, ['temporal']);
  for (const h of r.history) {
    assert.ok(h.train.modal! > 0 && h.train.temporal! > 0, 'training uses both');
    assert.equal(h.val!.modal, undefined);
    assert.ok(h.val!.temporal! > 0);
    assert.ok(Math.abs(h.val!.total! - 0.5 * h.val!.temporal!) < 1e-6);
  }
  assert.ok(r.bestValLoss !== undefined && r.bestValLoss > 0);
});

test('no training term measurable on validation: early stopping off with a warning, last epoch kept', async () => {
  const windows = line(100, ['metrics', 'traces']);
  metricOnlyValidation(windows);
  const warnings: string[] = [];
  const r = await trainStateModel(windows, { ...OPTS, epochs: 3, patience: 1, terms: { temporal: false }, onTermWarnings: (w) => warnings.push(...w) });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0], /^validation: no training term can be measured on the \d+ validation windows \(modal: no window has two modalities.*\): early stopping is off and the last epoch is kept$/);
  assert.deepEqual(r.valTerms, []);
  assert.equal(r.bestValLoss, undefined);
  assert.equal(r.stopReason, 'epochs');
  assert.equal(r.bestEpoch, 2);
  assert.ok(r.history.every((h) => h.val?.total === undefined && h.train.modal! > 0));
});
