import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRng, ops } from '../../src/model/engine/index.js';
import { AdamW, FeatureNormalizer, MODALITIES, StateModel, totalLoss, type StateBatch, type StateModelConfig } from '../../src/model/index.js';
import { UserError } from '../../src/telemetry/index.js';
import { ENGINES, gradCheck, randn, useEngine } from './helpers.js';

const SMALL: StateModelConfig = { inputDims: { metrics: 6, traces: { backbone: 3, features: 2 }, logs: 4 }, hidden: 8, modalityDim: 5, stateDim: 4, seed: 3 };

function batchOf(rng: ModelRng, size: number, present?: Partial<Record<'metrics' | 'traces' | 'logs', number[]>>): StateBatch {
  return {
    size,
    metrics: { x: randn(rng, size * 6), present: present?.metrics },
    traces: { x: randn(rng, size * 5), present: present?.traces },
    logs: { x: randn(rng, size * 4), present: present?.logs },
  };
}

function rowNorms(data: Float32Array, cols: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < data.length / cols; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += data[i * cols + j] ** 2;
    out.push(Math.sqrt(s));
  }
  return out;
}

test('forward: unit z rows where present, exact zeros where absent, unit s, gate weights renormalised over present modalities', () => {
  const model = new StateModel(SMALL);
  const present = { metrics: [1, 1, 0, 1], traces: [1, 0, 0, 1], logs: [0, 1, 0, 1] };
  const f = model.forward(batchOf(new ModelRng(1), 4, present));
  for (const m of MODALITIES) {
    const norms = rowNorms(f.z[m].data, 5);
    norms.forEach((n, i) => (present[m][i] ? assert.ok(Math.abs(n - 1) < 1e-5) : assert.equal(n, 0)));
    assert.deepEqual(Array.from(f.rows[m]), present[m].flatMap((p, i) => (p ? [i] : [])));
  }
  // Row 2 has no modality: the fusion sees an all-zero input and gives its constant (0 at init).
  rowNorms(f.s.data, 4).forEach((n, i) => (i === 2 ? assert.equal(n, 0) : assert.ok(Math.abs(n - 1) < 1e-5)));
  for (let i = 0; i < 4; i++) {
    const w = [0, 1, 2].map((k) => f.weights.get(i, k));
    const anyPresent = MODALITIES.some((m) => present[m][i]);
    MODALITIES.forEach((m, k) => {
      if (!present[m][i]) assert.equal(w[k], 0);
      else assert.ok(w[k] > 0 && f.gates.get(i, k) > 0 && f.gates.get(i, k) < 1);
    });
    const sum = w.reduce((a, b) => a + b, 0);
    if (anyPresent) assert.ok(Math.abs(sum - 1) < 1e-5, `row ${i} weights sum ${sum}`);
    else assert.equal(sum, 0);
  }
  const ungated = new StateModel({ ...SMALL, gate: false }).forward(batchOf(new ModelRng(1), 4, present));
  assert.deepEqual(Array.from(ungated.weights.data).map((x) => Math.round(x * 1000) / 1000), [0.5, 0.5, 0, 0.5, 0, 0.5, 0, 0, 0, 0.333, 0.333, 0.333]);
});

test('masking: an absent modality’s input values have no effect on s (nor on any other row)', () => {
  const model = new StateModel(SMALL);
  const present = { metrics: [1, 0, 1, 1, 0], traces: [1, 1, 0, 1, 1], logs: [0, 1, 1, 1, 0] };
  const a = batchOf(new ModelRng(2), 5, present);
  const b = batchOf(new ModelRng(2), 5, present);
  for (const m of MODALITIES) {
    const w = model.inputWidth(m);
    const x = b[m]!.x;
    present[m].forEach((p, i) => {
      if (!p) for (let j = 0; j < w; j++) x[i * w + j] = j % 2 ? NaN : 1e6 * (j + 1);
    });
  }
  const ea = model.embed(a);
  const eb = model.embed(b);
  assert.deepEqual(ea.s, eb.s);
  for (const m of MODALITIES) assert.deepEqual(ea.z[m], eb.z[m]);
});

test('masking is not zero-filling: an absent modality differs from a present all-zero one', () => {
  const model = new StateModel(SMALL);
  const absent = batchOf(new ModelRng(3), 3, { logs: [0, 0, 0] });
  const zeros: StateBatch = { ...absent, logs: { x: new Float32Array(3 * 4) } };
  const sa = model.embed(absent).s;
  const sz = model.embed(zeros).s;
  let diff = 0;
  for (let i = 0; i < sa.length; i++) diff = Math.max(diff, Math.abs(sa[i] - sz[i]));
  assert.ok(diff > 1e-3, `s changed by ${diff}`);
  // A modality missing from the batch object is the same as absent in every row.
  const { logs: _dropped, ...withoutLogs } = absent;
  assert.deepEqual(model.embed(withoutLogs).s, sa);
});

test('entity-level inputs go through the same heads: embedModality equals forward’s z rows', () => {
  const model = new StateModel(SMALL);
  const b = batchOf(new ModelRng(4), 3);
  const f = model.forward(b);
  const z = model.embedModality('traces', b.traces!.x);
  for (let i = 0; i < z.data.length; i++) assert.ok(Math.abs(z.data[i] - f.z.traces.data[i]) < 1e-6);
});

for (const eng of ENGINES) {
  test(`[${eng.name}] a full model step: every parameter’s gradient matches central differences (GELU)`, { skip: eng.skip }, () => {
    useEngine(eng);
    const model = new StateModel({ ...SMALL, activation: 'gelu' });
    const b = batchOf(new ModelRng(5), 6, { traces: [1, 1, 0, 1, 1, 1], logs: [1, 0, 1, 1, 0, 1] });
    const targets = { overlaps: { i: Int32Array.of(0, 3), j: Int32Array.of(1, 4), rho: Float32Array.of(0.9, 0.95) }, labels: [0, 0, 1, 0, 1, -1] };
    const opts = { temperature: 0.5, temporalSlack: 0, anomalyCap: -0.9 };
    const report = gradCheck(
      () => totalLoss(model.forward(b), targets, opts).total,
      model.parameters().map((p) => p.tensor),
      { maxKinkFraction: 0.02 },
    );
    assert.ok(report.checked > 300, `${report.checked} coordinates checked`);
  });

  test(`[${eng.name}] a full model step with ReLU: gradients match away from the kinks`, { skip: eng.skip }, () => {
    useEngine(eng);
    const model = new StateModel(SMALL);
    const b = batchOf(new ModelRng(6), 6, { traces: [1, 1, 0, 1, 1, 1] });
    const report = gradCheck(() => totalLoss(model.forward(b), {}, { temperature: 0.5 }).total, model.parameters().map((p) => p.tensor), { maxKinkFraction: 0.05 });
    assert.ok(report.checked > 300);
  });
}

/** Two modalities observing one latent per window through different maps and noise. */
function alignedData(rng: ModelRng, n: number, latent: number, dimA: number, dimB: number) {
  const z = randn(rng, n * latent);
  const map = (dim: number) => {
    const P = randn(rng, latent * dim, 1 / Math.sqrt(latent));
    const x = new Float32Array(n * dim);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) {
        let v = 0.2 * rng.normal();
        for (let k = 0; k < latent; k++) v += z[i * latent + k] * P[k * dim + j];
        x[i * dim + j] = Math.tanh(v);
      }
    return x;
  };
  return { a: map(dimA), b: map(dimB) };
}

test('a tiny model learns to align two modalities of synthetic data', () => {
  useEngine(ENGINES[0]);
  const rng = new ModelRng(7, 'data');
  const n = 256;
  const { a, b } = alignedData(rng, n, 6, 12, 10);
  const model = new StateModel({ inputDims: { metrics: 12, traces: 10 }, hidden: 32, modalityDim: 16, stateDim: 8, seed: 7 });
  model.fitNormalizers({ size: n, metrics: { x: a }, traces: { x: b } });
  const opt = new AdamW(model.parameters(), { lr: 3e-3 });
  const B = 32;
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const take = (x: Float32Array, dim: number, idx: Int32Array) => {
    const out = new Float32Array(idx.length * dim);
    idx.forEach((r, k) => out.set(x.subarray(r * dim, (r + 1) * dim), k * dim));
    return out;
  };
  const evalBatch: StateBatch = { size: 64, metrics: { x: a.subarray(0, 64 * 12) }, traces: { x: b.subarray(0, 64 * 10) } };
  const evalLoss = () => totalLoss(model.forward(evalBatch)).parts.modal;
  const before = evalLoss();
  const shuffle = new ModelRng(7, 'shuffle');
  for (let epoch = 0; epoch < 12; epoch++) {
    shuffle.shuffle(order);
    for (let s = 0; s + B <= n; s += B) {
      const idx = order.subarray(s, s + B);
      const f = model.forward({ size: B, metrics: { x: take(a, 12, idx) }, traces: { x: take(b, 10, idx) } }, { training: true });
      const loss = totalLoss(f, {}, { temperature: 0.1 });
      opt.zeroGrad();
      loss.total.backward();
      opt.step();
    }
  }
  const after = evalLoss();
  assert.ok(after < before / 4, `modal loss ${before.toFixed(3)} → ${after.toFixed(3)}`);
});

for (const eng of ENGINES) {
  test(`[${eng.name}] determinism: same seed, same weights after k steps (with dropout); another seed differs`, { skip: eng.skip }, () => {
    useEngine(eng);
    const train = (seed: number) => {
      const model = new StateModel({ ...SMALL, dropout: 0.2, seed });
      const opt = new AdamW(model.parameters(), { lr: 1e-2 });
      const rng = new ModelRng(99, 'batches');
      for (let k = 0; k < 4; k++) {
        const loss = totalLoss(model.forward(batchOf(rng, 8, { logs: [1, 0, 1, 1, 0, 1, 1, 1] }), { training: true }), {
          overlaps: { i: Int32Array.of(0), j: Int32Array.of(1), rho: Float32Array.of(0.5) },
        });
        opt.zeroGrad();
        loss.total.backward();
        opt.step();
      }
      return model.getFlat();
    };
    const w1 = train(11);
    assert.deepEqual(w1, train(11));
    assert.notDeepEqual(w1, train(12));
    assert.notDeepEqual(w1, new StateModel({ ...SMALL, seed: 11 }).getFlat(), 'training moved the weights');
  });
}

test('dropout is active in training only', () => {
  const model = new StateModel({ ...SMALL, dropout: 0.5 });
  const b = batchOf(new ModelRng(8), 4);
  assert.deepEqual(model.forward(b).s.data, model.forward(b).s.data);
  assert.notDeepEqual(model.forward(b, { training: true }).s.data, model.forward(b, { training: true }).s.data);
});

test('parameters: named layout, flat and named round trips, JSON with normalisers', () => {
  const model = new StateModel(SMALL);
  const layout = model.layout();
  assert.deepEqual(layout.slice(0, 4).map((e) => [e.name, e.rows, e.cols]), [
    ['heads.metrics.fc1.weight', 6, 8],
    ['heads.metrics.fc1.bias', 1, 8],
    ['heads.metrics.fc2.weight', 8, 5],
    ['heads.metrics.fc2.bias', 1, 5],
  ]);
  assert.ok(layout.some((e) => e.name === 'gates.logs.weight' && e.rows === 5 && e.cols === 1));
  assert.ok(layout.some((e) => e.name === 'fusion.fc1.weight' && e.rows === 3 * 5 + 3 && e.cols === 8));
  const last = layout[layout.length - 1];
  assert.equal(last.offset + last.size, model.parameterCount());
  const weightDecay = model.parameters().filter((p) => p.decay).map((p) => p.name);
  assert.ok(weightDecay.every((n) => n.endsWith('.weight')));

  const other = new StateModel({ ...SMALL, seed: 99 });
  assert.notDeepEqual(other.getFlat(), model.getFlat());
  other.setFlat(model.getFlat());
  assert.deepEqual(other.getFlat(), model.getFlat());
  const third = new StateModel({ ...SMALL, seed: 98 });
  third.setNamed(model.getNamed());
  assert.deepEqual(third.getFlat(), model.getFlat());
  assert.throws(() => third.setFlat(new Float32Array(3)), /3 values/);
  const named = model.getNamed();
  named.delete('fusion.fc2.bias');
  assert.throws(() => third.setNamed(named), /missing fusion.fc2.bias/);

  const rng = new ModelRng(9);
  const b = batchOf(rng, 5);
  model.fitNormalizers(b);
  const json = JSON.parse(JSON.stringify(model.toJSON()));
  const restored = StateModel.fromJSON(json, model.getFlat());
  assert.deepEqual(restored.embed(b).s, model.embed(b).s);
  assert.deepEqual(restored.config, model.config);
});

test('FeatureNormalizer: per-column mean/std, zero variance and NaN handled, rows masked, JSON round trip', () => {
  const rows = Float32Array.from([1, 5, NaN, 3, 5, 2, 5, 5, 4]); // 3 rows × 3 columns
  const n = FeatureNormalizer.fit(rows, 3);
  assert.deepEqual(Array.from(n.mean), [3, 5, 3]);
  assert.ok(Math.abs(n.std[0] - Math.sqrt(8 / 3)) < 1e-6);
  assert.equal(n.std[1], 1, 'constant column: centred only');
  assert.equal(n.std[2], 1);
  const t = n.transform(rows);
  assert.equal(t[1], 0);
  assert.equal(t[2], 0, 'NaN becomes the mean');
  assert.ok(Math.abs(t[0] + Math.sqrt(3 / 2)) < 1e-5);
  for (const v of t) assert.ok(Number.isFinite(v));
  const masked = FeatureNormalizer.fit(rows, 3, [1, 1, 0]);
  assert.deepEqual(Array.from(masked.mean), [2, 5, 2]);
  const back = FeatureNormalizer.fromJSON(JSON.parse(JSON.stringify(n.toJSON())));
  assert.deepEqual(back.transform(rows), t);
  assert.throws(() => FeatureNormalizer.fromJSON({ kind: 'standard', dim: 1, mean: [0], std: [0] }), UserError);
  assert.throws(() => FeatureNormalizer.fit(rows, 4), /rows of 4/);
});

test('config and input checks', () => {
  assert.throws(() => new StateModel({ inputDims: {} }), /names no modality/);
  assert.throws(() => new StateModel({ ...SMALL, hidden: 0 }), /hidden/);
  const model = new StateModel(SMALL);
  assert.throws(() => model.forward({ size: 2, metrics: { x: new Float32Array(5) } }), /metrics input has 5 values, expected 2×6/);
  assert.throws(() => model.forward({ size: 2, metrics: { x: new Float32Array(12), present: [1] } }), /presence mask/);
  const twoHeads = new StateModel({ inputDims: { metrics: 2, traces: 2 }, hidden: 2, modalityDim: 2, stateDim: 2 });
  assert.throws(() => twoHeads.forward({ size: 1, logs: { x: new Float32Array(2) } }), /no logs head/);
  assert.equal(ops.sum(model.forward(batchOf(new ModelRng(1), 2)).s).rows, 1);
});
