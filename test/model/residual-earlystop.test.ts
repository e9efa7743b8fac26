import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashBackbone } from '../../src/encode/index.js';
import { loadDataset } from '../../src/sources/index.js';
import {
  StateModel,
  embedWindows,
  featureSlices,
  fitDeviationReference,
  fitReadout,
  loadCheckpoint,
  readoutError,
  saveCheckpoint,
  toStateBatch,
  trainStateModel,
  windowInputDims,
  type EncodedWindow,
  type TrainerOptions,
} from '../../src/model/index.js';
import { fakeWindow, SPEC, simulatedFolder } from './data-fixture.js';

const dims = { metrics: { backbone: 3, features: 2 } };

function windows(): EncodedWindow[] {
  const ws: EncodedWindow[] = [];
  for (let i = 0; i < 60; i++) ws.push(fakeWindow(i < 30 ? 'a' : 'b', i, ['metrics'], 5));
  return ws;
}

test('readoutError: the mean squared miss of t̂ over the observed targets; an unknown source adds nothing', () => {
  const ws = windows();
  const m = new StateModel({ inputDims: dims, hidden: 16, modalityDim: 8, stateDim: 4, seed: 1 });
  m.fitNormalizers(toStateBatch(ws));
  const ref = fitDeviationReference(ws, featureSlices(m.config.inputDims));
  const r = fitReadout(m, ws, ref)!;
  const err = readoutError(m, r, ws, ref)!;
  assert.ok(err >= 0 && Number.isFinite(err));
  // by hand: the mean over windows and the two features of (t̂ − t)²
  const e = embedWindows(m, ws);
  let sum = 0;
  ws.forEach((w, i) => {
    const t = r.apply('metrics', e.state[i]);
    for (let j = 0; j < 2; j++) {
      const sl = featureSlices(m.config.inputDims).metrics!;
      const st = ref.bySource.get(w.source)!.metrics!;
      const z = Math.max(-10, Math.min(10, (w.inputs.metrics![sl.offset + j] - st.center[j]) / st.scale[j]));
      sum += (t[j] - Math.asinh(z)) ** 2;
    }
  });
  assert.ok(Math.abs(err - sum / (ws.length * 2)) < 1e-6, `${err} vs ${sum / (ws.length * 2)}`);
  // a window of a source the reference does not know has no target: it adds nothing
  const other = [...ws, fakeWindow('unknown', 3, ['metrics'], 5)];
  assert.ok(Math.abs(readoutError(m, r, other, ref)! - err) < 1e-12);
  assert.equal(readoutError(m, r, [], ref), undefined);
});

test('residual path: s starts from a fixed projection of the deviations, rebuilt bit for bit on load', async () => {
  const ws = windows();
  const m = new StateModel({ inputDims: dims, hidden: 16, modalityDim: 8, stateDim: 64, seed: 2, residual: true });
  const plain = new StateModel({ inputDims: dims, hidden: 16, modalityDim: 8, stateDim: 64, seed: 2 });
  plain.setFlat(m.getFlat());
  assert.equal(m.parameterCount(), plain.parameterCount(), 'the projection is not a parameter');
  m.fitNormalizers(toStateBatch(ws));
  plain.fitNormalizers(toStateBatch(ws));
  const a = embedWindows(m, ws).state;
  const b = embedWindows(plain, ws).state;
  assert.ok(a.some((s, i) => s.some((v, k) => Math.abs(v - b[i][k]) > 1e-4)), 'the residual changes s');
  // two windows with far apart deviations are far apart in s (the residual dominates at init)
  const cos = (x: Float32Array, y: Float32Array) => x.reduce((acc, v, k) => acc + v * y[k], 0);
  assert.ok(cos(a[0], a[59]) < cos(b[0], b[59]), `residual ${cos(a[0], a[59])} vs plain ${cos(b[0], b[59])}`);
  const dir = mkdtempSync(join(tmpdir(), 'rs-residual-'));
  try {
    const base = { backbone: { id: 'x', spec: 'hash', dim: 3 }, window: { lengthMs: 300_000, strideMs: 60_000 }, features: { viewsVersion: 1, layouts: { metrics: ['a', 'b'], traces: [], logs: [] } }, loss: { options: {} as never, terms: { modal: true, temporal: true, anomaly: false } }, training: { epochs: 1, bestEpoch: 0, steps: 1, stopReason: 'epochs', trainWindows: 60, valWindows: 0, sources: [], seed: 0 } };
    await saveCheckpoint(join(dir, 'r.rsm'), { model: m, ...base });
    const { model } = await loadCheckpoint(join(dir, 'r.rsm'));
    assert.equal(model.config.residual, true);
    const c = embedWindows(model, ws).state;
    c.forEach((s, i) => s.forEach((v, k) => assert.equal(v, a[i][k])));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => new StateModel({ inputDims: { metrics: 5 }, residual: true }), /residual path needs/);
});

test('early stopping on the held-out reconstruction: reported per epoch, the kept epoch is its minimum', async () => {
  const f = await simulatedFolder(2, 3, 3);
  try {
    const ds = await loadDataset(f.dir);
    const ws = await encodeWindowsOf(ds);
    const opts: TrainerOptions = { inputDims: windowInputDims(32), model: { hidden: 32, modalityDim: 16, stateDim: 8 }, batchSize: 24, lr: 3e-3, seed: 4, patience: 0, epochs: 4, valShare: 0.2, earlyStop: 'reconstruction' };
    const r = await trainStateModel(ws, opts);
    assert.equal(r.earlyStop, 'reconstruction');
    const rec = r.history.map((h) => h.val?.reconstruction);
    assert.ok(rec.every((x) => x !== undefined && x >= 0), `reconstruction every epoch: ${rec.join(', ')}`);
    const min = Math.min(...(rec as number[]));
    assert.equal(rec[r.bestEpoch], min);
    assert.equal(r.bestValLoss, min);
    // the same run on the loss criterion trains the same epochs (only the kept one may differ)
    const l = await trainStateModel(ws, { ...opts, earlyStop: 'loss' });
    assert.deepEqual(l.history.map((h) => h.train.total), r.history.map((h) => h.train.total));
    assert.equal(l.history[0].val?.reconstruction, undefined);
    // no numeric features: falls back to the loss, with a warning
    const bare = ws.map((w) => w);
    const warned: string[] = [];
    const n = await trainStateModel(bare, { ...opts, inputDims: { metrics: 32 + (windowInputDims(32).metrics as { features: number }).features }, epochs: 1, onTermWarnings: (w) => warned.push(...w) });
    assert.equal(n.earlyStop, 'loss');
    assert.ok(warned.some((w) => w.includes('reconstruction criterion')), warned.join('\n'));
  } finally {
    f.cleanup();
  }
});

async function encodeWindowsOf(ds: Awaited<ReturnType<typeof loadDataset>>): Promise<EncodedWindow[]> {
  const { encodeWindows } = await import('../../src/model/data.js');
  return encodeWindows(ds, { spec: SPEC, backbone: new HashBackbone({ dim: 32 }) });
}
