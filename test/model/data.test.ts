import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { EmbeddingCache, HashBackbone, encodeDataset } from '../../src/encode/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { StateModel } from '../../src/model/index.js';
import { embedWindows, encodeWindows, readEncodedWindows, toStateBatch, windowInputDims } from '../../src/model/data.js';
import { SPEC, fakeWindow, simulatedFolder } from './data-fixture.js';

test('toStateBatch marks missing modalities absent and masks on request', () => {
  const ws = [fakeWindow('a', 0, ['metrics']), fakeWindow('a', 1, ['metrics', 'traces']), fakeWindow('a', 2, ['metrics', 'logs'])];
  const b = toStateBatch(ws);
  assert.equal(b.size, 3);
  assert.deepEqual(Array.from(b.metrics!.present!), [1, 1, 1]);
  assert.deepEqual(Array.from(b.traces!.present!), [0, 1, 0]);
  assert.deepEqual(Array.from(b.logs!.present!), [0, 0, 1]);
  // the absent row's slot is left at 0 and the present row holds its input
  assert.deepEqual(Array.from(b.traces!.x.subarray(0, 4)), [0, 0, 0, 0]);
  assert.equal(b.traces!.x[4], 101);
  const masked = toStateBatch(ws, { mask: ['traces', 'logs'] });
  assert.equal(masked.traces, undefined);
  assert.equal(masked.logs, undefined);
  assert.ok(masked.metrics);
  assert.throws(() => toStateBatch([fakeWindow('a', 0, ['metrics'], 4), fakeWindow('a', 1, ['metrics'], 5)]), /5-wide metrics input, expected 4/);
});

test('embedWindows: masking a modality gives the same state as a window without it', () => {
  const model = new StateModel({ inputDims: { metrics: 4, traces: 4, logs: 4 }, hidden: 8, modalityDim: 6, stateDim: 5, seed: 2 });
  const full = [fakeWindow('a', 0, ['metrics', 'traces', 'logs']), fakeWindow('a', 1, ['metrics', 'traces'])];
  const metricOnly = [fakeWindow('a', 0, ['metrics']), fakeWindow('a', 1, ['metrics'])];
  const e1 = embedWindows(model, full, { mask: ['traces', 'logs'], batchSize: 1 });
  const e2 = embedWindows(model, metricOnly);
  assert.equal(e1.state.length, 2);
  assert.equal(e1.state[0].length, 5);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(Array.from(e1.state[i]), Array.from(e2.state[i]));
    assert.equal(e1.modalities.traces[i], undefined);
    assert.ok(e1.modalities.metrics[i]);
  }
  const e3 = embedWindows(model, full);
  assert.ok(e3.modalities.traces[1]);
  assert.equal(e3.modalities.logs[1], undefined);
  assert.notDeepEqual(Array.from(e3.state[0]), Array.from(e1.state[0]));
});

test('encodeWindows on a simulated folder matches the encode output read back', async (t) => {
  const f = await simulatedFolder(1, 5, 2);
  t.after(f.cleanup);
  const ds = await loadDataset(f.dir);
  const backbone = new HashBackbone({ dim: 32 });
  const cache = new EmbeddingCache({ dir: join(f.root, 'cache') });
  t.after(() => cache.close());
  const ws = await encodeWindows(ds, { spec: SPEC, backbone, cache, entities: true });
  assert.ok(ws.length > 40);
  const dims = windowInputDims(32);
  for (const w of ws) {
    assert.equal(w.source, ds.root);
    for (const [m, x] of Object.entries(w.inputs)) assert.equal(x!.length, dims[m as 'metrics'].backbone + dims[m as 'metrics'].features);
  }
  assert.ok(ws.some((w) => w.label.abnormal));
  assert.ok(ws.some((w) => (w.entities?.size ?? 0) > 3));
  const out = join(f.root, 'views.arrow');
  await encodeDataset(ds, { spec: SPEC, backbone, cache, out });
  const back = await readEncodedWindows(out, { entities: true });
  assert.equal(back.info.backboneId, backbone.id);
  assert.equal(back.info.dim, 32);
  assert.equal(back.windows.length, ws.length);
  for (let i = 0; i < ws.length; i += 7) {
    const a = ws[i];
    const b = back.windows[i];
    assert.deepEqual(b.window, a.window);
    assert.deepEqual(b.label, a.label);
    assert.deepEqual(Object.keys(b.inputs).sort(), Object.keys(a.inputs).sort());
    for (const m of Object.keys(a.inputs) as 'metrics'[]) assert.deepEqual(Array.from(b.inputs[m]!), Array.from(a.inputs[m]!));
    assert.deepEqual([...(b.entities?.keys() ?? [])].sort(), [...(a.entities?.keys() ?? [])].sort());
  }
  const sysOnly = await readEncodedWindows(out);
  assert.equal(sysOnly.windows[0].entities, undefined);
});
