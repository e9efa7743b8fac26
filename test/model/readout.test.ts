import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeviationReadout, StateModel, deviationTargets, embedWindows, featureSlices, fitDeviationReference, fitReadout, loadCheckpoint, saveCheckpoint, toStateBatch, type EncodedWindow } from '../../src/model/index.js';
import { fakeWindow } from './data-fixture.js';

const dims = { metrics: { backbone: 3, features: 2 } };

function setup(): { m: StateModel; ws: EncodedWindow[] } {
  const ws: EncodedWindow[] = [];
  for (let i = 0; i < 60; i++) ws.push(fakeWindow(i < 30 ? 'a' : 'b', i, ['metrics'], 5));
  const m = new StateModel({ inputDims: dims, hidden: 16, modalityDim: 8, stateDim: 4, seed: 1 });
  m.fitNormalizers(toStateBatch(ws));
  return { m, ws };
}

test('readout: the ridge solution — residuals orthogonal to [s, 1] up to the ridge term', () => {
  const { m, ws } = setup();
  const r = fitReadout(m, ws)!;
  assert.ok(r);
  const e = embedWindows(m, ws);
  // targets as fitReadout builds them, recomputed by hand: asinh(clip(robust z)) per source
  const ref = fitDeviationReference(ws, featureSlices(m.config.inputDims));
  const tg = deviationTargets(ws, ref).metrics!;
  const W = r.weights.metrics!;
  const d = 5;
  // normal equations: Σ x (x·W − t) + λ W = 0 per output column, x = [s, 1]
  const lam = 1e-3 * ws.length;
  for (let j = 0; j < 2; j++) {
    for (let p = 0; p < d; p++) {
      let g = lam * W[p * 2 + j];
      ws.forEach((_, i) => {
        const x = [...e.state[i], 1];
        const pred = r.apply('metrics', e.state[i])[j];
        g += x[p] * (pred - tg.t[i * 2 + j]);
      });
      assert.ok(Math.abs(g) < 1e-3, `gradient ${p},${j}: ${g}`);
    }
  }
});

test('readout: saved with the model (float32), read back; a format-1 file still loads, without one', async () => {
  const { m, ws } = setup();
  m.readout = fitReadout(m, ws);
  const dir = mkdtempSync(join(tmpdir(), 'rs-readout-'));
  try {
    const base = { backbone: { id: 'x', spec: 'hash', dim: 3 }, window: { lengthMs: 300_000, strideMs: 60_000 }, features: { viewsVersion: 1, layouts: { metrics: ['a', 'b'], traces: [], logs: [] } }, loss: { options: {} as never, terms: { modal: true, temporal: true, anomaly: false } }, training: { epochs: 1, bestEpoch: 0, steps: 1, stopReason: 'epochs', trainWindows: 60, valWindows: 0, sources: [], seed: 0 } };
    await saveCheckpoint(join(dir, 'a.rsm'), { model: m, ...base });
    const { header, model } = await loadCheckpoint(join(dir, 'a.rsm'));
    assert.equal(header.modelFormat, 2);
    for (let k = 0; k < m.readout!.weights.metrics!.length; k++) assert.equal(model.readout!.weights.metrics![k], Math.fround(m.readout!.weights.metrics![k]));
    m.readout = undefined;
    await saveCheckpoint(join(dir, 'b.rsm'), { model: m, ...base });
    const old = await loadCheckpoint(join(dir, 'b.rsm'));
    assert.equal(old.model.readout, undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readout: layout errors are caught', () => {
  assert.throws(() => DeviationReadout.fromFlat({ stateDim: 4, counts: { metrics: 2 } }, new Float32Array(7)), /needs more/);
  assert.throws(() => DeviationReadout.fromFlat({ stateDim: 4, counts: { metrics: 2 } }, new Float32Array(12)), /needs 10/);
});
