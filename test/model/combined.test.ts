import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROBUST_CLIP } from '../../src/model/normalizer.js';
import { StateModel, combinedEmbeddings, combinedLayout, combinedWidth, embedWindows, fitReadout, toStateBatch, type EncodedWindow } from '../../src/model/index.js';
import { featureStats, zOf } from '../../src/eval/evaluate/scoring.js';
import { fakeWindow } from './data-fixture.js';

const BACKBONE = 3;
const FEATURES = 2;
const dims = { metrics: { backbone: BACKBONE, features: FEATURES }, traces: { backbone: BACKBONE, features: FEATURES }, logs: { backbone: BACKBONE, features: FEATURES } };

function windows(): EncodedWindow[] {
  const ws: EncodedWindow[] = [];
  for (let i = 0; i < 40; i++) {
    const w = fakeWindow('s', i, i % 4 === 0 ? ['metrics'] : ['metrics', 'traces', 'logs'], BACKBONE + FEATURES);
    // feature columns vary like telemetry: one spiky column, one smooth
    for (const m of ['metrics', 'traces', 'logs'] as const) {
      const x = w.inputs[m];
      if (!x) continue;
      x[BACKBONE] = i === 17 ? 500 : (i % 7) * 0.3;
      x[BACKBONE + 1] = 10 + Math.sin(i);
    }
    ws.push(w);
  }
  return ws;
}

function model(ws: EncodedWindow[]): StateModel {
  const m = new StateModel({ inputDims: dims, hidden: 16, modalityDim: 8, stateDim: 6, seed: 2 });
  m.fitNormalizers(toStateBatch(ws));
  m.readout = fitReadout(m, ws);
  return m;
}

test('combined embedding: [deviations ⊕ their readout from the state], one slot per feature column', () => {
  const ws = windows();
  const m = model(ws);
  assert.equal(combinedLayout(m).deviations, 3 * FEATURES);
  assert.equal(combinedWidth(m), 12);
  const rows = combinedEmbeddings(m, ws);
  const e = embedWindows(m, ws);
  rows.forEach((r, i) => {
    assert.ok(r);
    assert.equal(r.length, 12);
    const t = m.readout!.apply('metrics', e.state[i]);
    assert.deepEqual(Array.from(r.subarray(6, 8)), Array.from(t), 'the learned half is the readout of s');
  });
  // a metrics-only window: numbers in the metrics slots of both halves, NaN in traces and logs
  const r0 = rows[0]!;
  assert.ok([0, 1, 6, 7].every((j) => Number.isFinite(r0[j])));
  assert.ok([2, 3, 4, 5, 8, 9, 10, 11].every((j) => Number.isNaN(r0[j])));
});

test('combined embedding: a model without a readout (format 1) is refused with a message', () => {
  const ws = windows();
  const m = model(ws);
  m.readout = undefined;
  assert.throws(() => combinedEmbeddings(m, ws), /no deviation readout.*retrain/);
});

test('combined embedding: the deviation part is unclipped and affine per column, so per-column robust z equals the raw features\u2019', () => {
  const ws = windows();
  const m = model(ws);
  const rows = combinedEmbeddings(m, ws, { mask: ['traces', 'logs'] }) as Float64Array[];
  // the spike stays a spike: far beyond the normaliser's ±10 clip
  assert.ok(rows[17][0] > ROBUST_CLIP, `spike kept: ${rows[17][0]}`);
  const raw = ws.map((w) => Float64Array.from((w.inputs.metrics as Float32Array).subarray(BACKBONE)));
  const d = rows.map((r) => r.slice(0, FEATURES));
  const zr = featureStats(raw)!;
  const zd = featureStats(d)!;
  for (let i = 0; i < ws.length; i++) {
    const a = zOf(raw[i], zr);
    const b = zOf(d[i], zd);
    for (let j = 0; j < FEATURES; j++) assert.ok(Math.abs(a[j] - b[j]) < 1e-4, `window ${i} column ${j}: ${a[j]} vs ${b[j]}`);
  }
});

test('combined embedding: masked modalities are absent (NaN slots, not in s); no modality → undefined; entity rows read the service', () => {
  const ws = windows();
  const m = model(ws);
  const masked = combinedEmbeddings(m, ws, { mask: ['traces', 'logs'] });
  const metricsOnly = embedWindows(m, ws, { mask: ['traces', 'logs'] });
  assert.ok([2, 3, 4, 5, 8, 9, 10, 11].every((j) => Number.isNaN(masked[1]![j])));
  assert.deepEqual(Array.from(masked[1]!.subarray(6, 8)), Array.from(m.readout!.apply('metrics', metricsOnly.state[1])));
  assert.deepEqual(combinedEmbeddings(m, ws, { mask: ['metrics', 'traces', 'logs'] }), ws.map(() => undefined));
  const w = ws[1];
  w.entities = new Map([['svc', { metrics: Float32Array.from([0, 0, 0, 7, 9]) }]]);
  const ent = combinedEmbeddings(m, [w, ws[2]], { entity: 'svc' });
  assert.equal(ent[1], undefined, 'a window without the service has no row');
  const norm = m.normalizers.metrics!;
  assert.ok(Math.abs(ent[0]![0] - (7 - norm.mean[BACKBONE]) / norm.std[BACKBONE]) < 1e-5);
});
