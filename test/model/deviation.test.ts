/**
 * Issue 13, deliverable 3 ("keep the evidence"): the deviation term's targets are the robust z
 * of each window's features against its own source, its value matches the formula, it trains,
 * and the training-only decoder survives a resume. Also the robust feature normaliser and the
 * perturbed-view term (augment.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeviationDecoder,
  FeatureNormalizer,
  ModelRng,
  StateModel,
  Tensor,
  deviationTargets,
  featureSlices,
  fitDeviationReference,
  fitEntityDeviationReference,
  perturbBatch,
  sampleEntityRows,
  toStateBatch,
  trainStateModel,
  type EncodedWindow,
  type InputDim,
  type Modality,
} from '../../src/model/index.js';
import { robustScale } from '../../src/stats/index.js';

const BACKBONE = 3;
const FEATURES = 2;
const DIMS: Partial<Record<Modality, InputDim>> = { metrics: { backbone: BACKBONE, features: FEATURES }, traces: { backbone: BACKBONE, features: FEATURES } };

/** Grid windows of one source; features follow a slow wave, with a fault burst in the middle. */
function line(source: string, n: number, scale: number, traces = true): EncodedWindow[] {
  return Array.from({ length: n }, (_, k) => {
    const burst = k >= n / 2 && k < n / 2 + 5 ? 50 : 0;
    const feat = (m: number) => [scale * (1 + Math.sin(k / 3 + m)) + burst, scale * Math.cos(k / 5 + m)];
    const input = (m: number) => Float32Array.from([Math.sin(k + m), Math.cos(k * 2 + m), (k % 7) / 7, ...feat(m)]);
    const inputs: Partial<Record<Modality, Float32Array>> = { metrics: input(0) };
    if (traces) inputs.traces = input(1);
    return { source, window: { index: k, start: k * 60_000, end: k * 60_000 + 300_000 }, label: { abnormal: burst > 0 }, inputs };
  });
}

test('deviation targets: asinh of the clipped robust z against the window\'s own source', () => {
  const a = line('a', 40, 1);
  const b = line('b', 40, 100);
  const slices = featureSlices(DIMS);
  assert.deepEqual(slices.metrics, { offset: BACKBONE, count: FEATURES });
  const ref = fitDeviationReference([...a, ...b], slices);
  const col = a.map((w) => w.inputs.metrics![BACKBONE]);
  const r = robustScale(col);
  const t = deviationTargets([a[25]], ref);
  const z = Math.max(-10, Math.min(10, (a[25].inputs.metrics![BACKBONE] - r.location) / r.scale));
  assert.ok(Math.abs(t.metrics!.t[0] - Math.asinh(z)) < 1e-5, `${t.metrics!.t[0]} vs asinh(${z})`);
  assert.equal(t.metrics!.w[0], 1);
  // A source 100× larger gives the same deviations: each is measured against itself.
  const ta = deviationTargets(a, ref).metrics!;
  const tb = deviationTargets(b, ref).metrics!;
  let diff = 0;
  for (let k = 0; k < ta.t.length; k += FEATURES) diff = Math.max(diff, Math.abs(ta.t[k + 1] - tb.t[k + 1]));
  assert.ok(diff < 1e-3, `scale-free per source: ${diff}`);
  // Absent modality and NaN features carry no weight; an unknown source none either.
  const gap = { ...a[3], inputs: { metrics: Float32Array.from([0, 0, 0, NaN, 1]) } };
  const tg = deviationTargets([gap, { ...a[4], source: 'nowhere' }], ref);
  assert.deepEqual(Array.from(tg.metrics!.w), [0, 1, 0, 0]);
  assert.equal(tg.traces, undefined);
});

test('deviation loss: the weighted mean squared error of the linear decoder, with a gradient', () => {
  const slices = { metrics: { offset: BACKBONE, count: FEATURES } };
  const dec = new DeviationDecoder(4, slices, 1);
  const s = Tensor.from([1, 0, 0, 0, 0, 1, 0, 0], 2, 4, true);
  const targets = { metrics: { t: Float32Array.from([0.5, -1, 2, 0]), w: Float32Array.from([1, 1, 1, 0]) } };
  const l = dec.loss(s, targets)!;
  const W = dec.layers.metrics!.weight.data;
  // bias is 0 at init: prediction of row i = s_i · W
  const pred = [W[0], W[1], W[1 * FEATURES + 0], W[1 * FEATURES + 1]];
  const want = ((pred[0] - 0.5) ** 2 + (pred[1] + 1) ** 2 + (pred[2] - 2) ** 2) / 3;
  assert.ok(Math.abs(l.item() - want) < 1e-5, `${l.item()} vs ${want}`);
  l.backward();
  assert.ok(s.grad && s.grad.some((g) => g !== 0), 'the term reaches the state embedding');
  assert.equal(dec.loss(s, { metrics: { t: new Float32Array(4), w: new Float32Array(4) } }), undefined, 'no weight: left out');
});

test('trainer: the deviation term is on by default with feature inputs, falls when trained, and can be switched off', async () => {
  const windows = [...line('a', 60, 1), ...line('b', 60, 10)];
  const opts = { inputDims: DIMS, model: { hidden: 16, modalityDim: 8, stateDim: 8 }, batchSize: 32, valShare: 0, epochs: 8, lr: 1e-2 };
  const r = await trainStateModel(windows, opts);
  assert.equal(r.terms.deviation, true);
  // every trained model leaves with its readout (what evaluate's model column reads), ablations too
  assert.deepEqual(r.model.readout?.counts, { metrics: FEATURES, traces: FEATURES });
  const first = r.history[0].train.deviation!;
  const last = r.history[r.history.length - 1].train.deviation!;
  assert.ok(last < first, `deviation falls: ${first} → ${last}`);
  const off = await trainStateModel(windows, { ...opts, epochs: 1, terms: { deviation: false } });
  assert.equal(off.terms.deviation, false);
  assert.equal(off.history[0].train.deviation, undefined);
  assert.ok(off.model.readout, 'a model trained without the deviation term still gets a readout');
  // Bare input widths say nothing about features: no deviation term.
  const bare = await trainStateModel(windows, { ...opts, epochs: 1, inputDims: { metrics: BACKBONE + FEATURES, traces: BACKBONE + FEATURES } });
  assert.equal(bare.terms.deviation, false);
  // Deviation alone trains (every other term off) on metric-only windows, where modal cannot.
  const alone = await trainStateModel(line('c', 40, 1, false), { ...opts, epochs: 2, terms: { modal: false, temporal: false } });
  assert.ok((alone.history[1].train.total ?? 0) > 0);
});

test('trainer: a resumed run with the deviation and view terms ends with the same weights', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-dev-resume-'));
  try {
    const windows = [...line('a', 50, 1), ...line('b', 50, 3)];
    const opts = { inputDims: DIMS, model: { hidden: 16, modalityDim: 8, stateDim: 8 }, batchSize: 32, valShare: 0.1, patience: 0, epochs: 4, terms: { view: true } };
    const full = await trainStateModel(windows, opts);
    const file = join(dir, 'm.resume');
    const ac = new AbortController();
    const part = await trainStateModel(windows, { ...opts, resumeFile: file, signal: ac.signal, onEpoch: (m) => (m.epoch === 1 ? ac.abort() : undefined) });
    assert.equal(part.stopReason, 'interrupted');
    const resumed = await trainStateModel(windows, { ...opts, resumeFile: file, resume: true });
    assert.equal(resumed.resumedAt, 2);
    assert.deepEqual(Array.from(resumed.model.getFlat()), Array.from(full.model.getFlat()));
    assert.ok(full.history.every((h) => (h.train.view ?? 0) > 0 && h.val?.view !== undefined), 'the view term is measured in training and validation');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('robust normaliser: features get median/robust scale and a ±10 clip; the backbone part stays standard; JSON round trip', () => {
  // column 0: backbone-like (0..29); column 1: a feature alternating 1, 2, 3 with one huge outlier
  const N = 30;
  const rows = Float32Array.from({ length: 2 * N }, (_, k) => (k % 2 === 0 ? k / 2 : k === 2 * N - 1 ? 1e6 : 1 + ((k >> 1) % 3)));
  const n = FeatureNormalizer.fit(rows, 2, undefined, { robustFrom: 1 });
  assert.ok(Math.abs(n.mean[0] - 14.5) < 1e-5, 'column 0: mean');
  assert.equal(n.mean[1], 2, 'column 1: median');
  const out = n.transform(rows);
  assert.equal(out[2 * N - 1], 10, 'the outlier is clipped');
  assert.ok(Math.abs(out[1] + 1 / n.std[1]) < 1e-5, 'normal variation keeps its spread');
  const back = FeatureNormalizer.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
  assert.deepEqual(Array.from(back.transform(rows)), Array.from(out));
  assert.equal(FeatureNormalizer.fromJSON({ kind: 'standard', dim: 1, mean: [0], std: [1] }).transform(Float32Array.of(50))[0], 50, 'old files: no clip');
  // The model fits robust features only for inputs declared { backbone, features }.
  const model = new StateModel({ inputDims: { metrics: { backbone: 1, features: 1 } }, hidden: 4, modalityDim: 4, stateDim: 4 });
  model.fitNormalizers({ size: N, metrics: { x: rows } });
  assert.equal(model.normalizers.metrics!.toJSON().clipFrom, 1);
});

test('perturbed view: modality dropout keeps at least one modality, noise scales with each column; deterministic per seed', () => {
  const windows = line('a', 20, 1);
  const model = new StateModel({ inputDims: DIMS, hidden: 8, modalityDim: 4, stateDim: 4 });
  const batch = toStateBatch(windows);
  model.fitNormalizers(batch);
  const p = perturbBatch(batch, model, new ModelRng(1, 'x'), { noise: 0.1, modalityDrop: 0.5 });
  let dropped = 0;
  for (let i = 0; i < batch.size; i++) {
    const kept = Number(p.metrics?.present?.[i] ?? 0) + Number(p.traces?.present?.[i] ?? 0);
    assert.ok(kept >= 1, `row ${i} keeps a modality`);
    if (kept < 2) dropped++;
  }
  assert.ok(dropped > 0 && dropped < batch.size, `some rows lose a modality: ${dropped}`);
  assert.notDeepEqual(Array.from(p.metrics!.x), Array.from(batch.metrics!.x));
  assert.deepEqual(Array.from(batch.metrics!.x), Array.from(toStateBatch(windows).metrics!.x), 'the input is not modified');
  const again = perturbBatch(batch, model, new ModelRng(1, 'x'), { noise: 0.1, modalityDrop: 0.5 });
  assert.deepEqual(Array.from(again.metrics!.x), Array.from(p.metrics!.x));
  const none = perturbBatch(batch, model, new ModelRng(1, 'x'), { noise: 0, modalityDrop: 0 });
  assert.deepEqual(Array.from(none.metrics!.x), Array.from(batch.metrics!.x));
});

test('entity deviation: per-service rows against each service\'s own reference, sampled per batch, deterministic', async () => {
  const withEntities = (ws: EncodedWindow[]) =>
    ws.map((w, k) => ({
      ...w,
      entities: new Map([
        ['svc-a', { metrics: w.inputs.metrics! }],
        ['svc-b', { metrics: Float32Array.from(w.inputs.metrics!, (v, j) => (j >= BACKBONE ? v * 5 + (k % 4 === 0 ? 40 : 0) : v)) }],
      ]),
    }));
  const windows = [...withEntities(line('a', 40, 1)), ...withEntities(line('b', 40, 2))];
  const rows = sampleEntityRows(windows.slice(0, 10), new ModelRng(1, 'e'), 7);
  assert.equal(rows.length, 7);
  assert.ok(rows.every((r) => /^a\u0000svc-[ab]$/.test(r.source)), 'keyed by source and service');
  assert.equal(sampleEntityRows(windows.slice(0, 2), new ModelRng(1, 'e'), 7).length, 4, 'all rows when fewer than max');
  const ref = fitEntityDeviationReference(windows, featureSlices(DIMS));
  assert.deepEqual([...ref.bySource.keys()].sort(), ['a\u0000svc-a', 'a\u0000svc-b', 'b\u0000svc-a', 'b\u0000svc-b']);
  const opts = { inputDims: DIMS, model: { hidden: 16, modalityDim: 8, stateDim: 8 }, batchSize: 32, valShare: 0.1, epochs: 2, entityDeviation: true };
  const r1 = await trainStateModel(windows, opts);
  const r2 = await trainStateModel(windows, opts);
  assert.ok((r1.history[0].train.deviation ?? 0) > 0);
  assert.deepEqual(Array.from(r1.model.getFlat()), Array.from(r2.model.getFlat()), 'same seed, same weights');
  const sys = await trainStateModel(windows, { ...opts, entityDeviation: false });
  assert.notDeepEqual(Array.from(sys.model.getFlat()), Array.from(r1.model.getFlat()), 'the service rows change what is learned');
});
