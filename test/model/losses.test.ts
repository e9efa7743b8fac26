import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ModelRng, ops, Tensor } from '../../src/model/engine/index.js';
import {
  anomalySeparationLoss,
  infoNCE,
  modalConsistencyLoss,
  overlapPairs,
  StateModel,
  temporalConsistencyLoss,
  temporalTargets,
  TEMPORAL_MASKED,
  totalLoss,
  type OverlapPairs,
  type StateBatch,
} from '../../src/model/index.js';
import { ENGINES, gradCheck, param, randn, useEngine } from './helpers.js';

const unit = (t: Tensor) => ops.l2NormalizeRows(t);

function pairs(list: Array<[number, number, number]>): OverlapPairs {
  return { i: Int32Array.from(list, (p) => p[0]), j: Int32Array.from(list, (p) => p[1]), rho: Float32Array.from(list, (p) => p[2]) };
}

for (const eng of ENGINES) {
  test(`[${eng.name}] InfoNCE gradient matches central differences`, { skip: eng.skip }, () => {
    useEngine(eng);
    const rng = new ModelRng(21);
    const a = param(rng, 6, 4);
    const b = param(rng, 6, 4);
    gradCheck(() => infoNCE(unit(a), unit(b), 0.5), [a, b]);
    gradCheck(() => infoNCE(unit(a), unit(b), 0.1), [a, b], { rtol: 2e-2 });
  });

  test(`[${eng.name}] temporal loss gradient matches central differences`, { skip: eng.skip }, () => {
    useEngine(eng);
    const rng = new ModelRng(22);
    const s = param(rng, 6, 3);
    const p = pairs([
      [0, 1, 0.9],
      [1, 2, 0.8],
      [0, 2, 0.7],
      [2, 3, 0.95],
      [3, 4, 0.3],
      [4, 5, 0.05],
    ]);
    // τ = 0.5 keeps the softmax smooth enough for central differences in float32.
    const report = gradCheck(() => temporalConsistencyLoss(unit(s), p, 0.1, 0.5)!, [s]);
    assert.ok(report.checked >= 12);
    assert.ok(temporalConsistencyLoss(unit(s), p, 0.1, 0.5)!.item() > 0);
  });

  test(`[${eng.name}] anomaly loss gradient matches central differences`, { skip: eng.skip }, () => {
    useEngine(eng);
    const rng = new ModelRng(23);
    const base = randn(rng, 3);
    // Rows near one direction, so normal/abnormal similarities exceed the cap.
    const s = new Tensor(Float32Array.from({ length: 18 }, (_, i) => base[i % 3] + 0.4 * rng.normal()), 6, 3, true);
    const labels = [0, 1, 0, -1, 1, 0];
    assert.ok(anomalySeparationLoss(unit(s), labels, 0.2)!.item() > 0);
    gradCheck(() => anomalySeparationLoss(unit(s), labels, 0.2)!, [s], { maxKinkFraction: 0.1 });
  });

  test(`[${eng.name}] total loss gradient matches central differences`, { skip: eng.skip }, () => {
    useEngine(eng);
    const model = new StateModel({ inputDims: { metrics: 5, traces: 4, logs: 3 }, hidden: 6, modalityDim: 4, stateDim: 3, activation: 'gelu', seed: 5 });
    const rng = new ModelRng(24);
    const batch: StateBatch = {
      size: 6,
      metrics: { x: randn(rng, 30) },
      traces: { x: randn(rng, 24), present: [1, 1, 0, 1, 1, 1] },
      logs: { x: randn(rng, 18), present: [1, 0, 1, 1, 0, 1] },
    };
    const targets = {
      overlaps: pairs([
        [0, 1, 0.9],
        [1, 2, 0.8],
        [3, 4, 0.9],
      ]),
      labels: [0, 0, 1, 0, 1, -1],
    };
    const opts = { temperature: 0.5, temporalSlack: 0, anomalyCap: -0.5, temporalWeight: 0.7, anomalyWeight: 0.3 };
    const r = totalLoss(model.forward(batch), targets, opts);
    assert.deepEqual(r.parts.used, { modal: true, temporal: true, anomaly: true });
    assert.ok(r.parts.temporal > 0 && r.parts.anomaly > 0, 'every term active');
    assert.ok(Math.abs(r.parts.total - (r.parts.modal + 0.7 * r.parts.temporal + 0.3 * r.parts.anomaly)) < 1e-5);
    const params = model.parameters().map((p) => p.tensor);
    gradCheck(() => totalLoss(model.forward(batch), targets, opts).total, params, { maxKinkFraction: 0.05 });
  });
}

test('InfoNCE equals the written formula on a hand-sized case', () => {
  const a = Tensor.from([1, 0, 0, 1], 2, 2);
  const b = Tensor.from([0.6, 0.8, 0, 1], 2, 2);
  const tau = 0.5;
  const S = [
    [0.6, 0],
    [0.8, 1],
  ]; // a·bᵀ
  const lse = (xs: number[]) => Math.log(xs.reduce((s, x) => s + Math.exp(x / tau), 0));
  const rowTerm = (S[0][0] / tau - lse(S[0]) + (S[1][1] / tau - lse(S[1]))) / 2;
  const colTerm = (S[0][0] / tau - lse([S[0][0], S[1][0]]) + (S[1][1] / tau - lse([S[0][1], S[1][1]]))) / 2;
  const expected = -(rowTerm + colTerm) / 2;
  assert.ok(Math.abs(infoNCE(a, b, tau).item() - expected) < 1e-6);
});

test('InfoNCE on perfectly aligned pairs is lower than on shuffled pairs', () => {
  const rng = new ModelRng(31);
  const a = unit(new Tensor(randn(rng, 16 * 8), 16, 8));
  const shuffled = Int32Array.from({ length: 16 }, (_, i) => (i + 5) % 16);
  const aligned = infoNCE(a, a, 0.1).item();
  const mixed = infoNCE(a, ops.gatherRows(a, shuffled), 0.1).item();
  assert.ok(aligned < mixed, `${aligned} < ${mixed}`);
  assert.ok(aligned < 0.5 && mixed > Math.log(16) / 2);
});

test('temporal loss: the KL of the written formula; undefined without an anchor', () => {
  const orth = Tensor.from([1, 0, 0, 1], 2, 2);
  assert.equal(temporalConsistencyLoss(orth, pairs([[0, 1, 0]]), 0), undefined, 'ρ = 0 leaves the term out');
  assert.equal(temporalConsistencyLoss(orth, pairs([[0, 1, 0.6]]), 0.1), undefined, 'two rows: one candidate, nothing to rank');
  assert.equal(overlapPairs([{ start: 0, end: 10 }, { start: 10, end: 20 }]).rho.length, 0, 'adjacent windows share no time');
  // Three rows, pair (0,1) ρ = 0.6: anchors 0 and 1, each with target 1 on the other and a
  // single negative (row 2). KL(q‖p) = −log p_partner.
  const s = unit(Tensor.from([1, 0, 0.6, 0.8, 0, 1], 3, 2));
  const tau = 0.5;
  const S = [
    [1, 0.6, 0],
    [0.6, 1, 0.8],
    [0, 0.8, 1],
  ];
  const nll = (a: number, pos: number, neg: number) => -(S[a][pos] / tau - Math.log(Math.exp(S[a][pos] / tau) + Math.exp(S[a][neg] / tau)));
  const expected = (nll(0, 1, 2) + nll(1, 0, 2)) / 2;
  assert.ok(Math.abs(temporalConsistencyLoss(s, pairs([[0, 1, 0.6]]), 0.1, tau)!.item() - expected) < 1e-5);
  // Soft targets: anchor 1 overlaps 0 (ρ 0.8) and 2 (ρ 0.4): q = (2/3, 1/3) over 4 rows.
  const four = unit(Tensor.from([1, 0, 0.6, 0.8, 0, 1, -1, 0.1], 4, 2));
  const t = temporalTargets(4, pairs([[0, 1, 0.8], [1, 2, 0.4]]), 0.1)!;
  assert.deepEqual([...t.anchors], [0, 1, 2]);
  assert.deepEqual([...t.q.slice(4, 8)].map((x) => +x.toFixed(4)), [0.6667, 0, 0.3333, 0]);
  const v = temporalConsistencyLoss(four, pairs([[0, 1, 0.8], [1, 2, 0.4]]), 0.1, tau)!.item();
  const G = (i: number, j: number) => four.data[2 * i] * four.data[2 * j] + four.data[2 * i + 1] * four.data[2 * j + 1];
  const kl = (a: number, q: number[]) => {
    const cands = [0, 1, 2, 3].filter((j) => j !== a);
    const lse = Math.log(cands.reduce((acc, j) => acc + Math.exp(G(a, j) / tau), 0));
    return cands.reduce((acc, j) => (q[j] > 0 ? acc + q[j] * (Math.log(q[j]) - (G(a, j) / tau - lse)) : acc), 0);
  };
  const want = (kl(0, [0, 1, 0, 0]) + kl(1, [2 / 3, 0, 1 / 3, 0]) + kl(2, [0, 1, 0, 0])) / 3;
  assert.ok(Math.abs(v - want) < 1e-5, `${v} vs ${want}`);
  // The slack: a pair with ρ ≤ δ is neither a positive nor a candidate.
  const amb = temporalTargets(4, pairs([[0, 1, 0.8], [1, 2, 0.05]]), 0.1)!;
  assert.deepEqual([...amb.anchors], [0, 1]);
  assert.equal(amb.mask[4 + 2], TEMPORAL_MASKED, 'row 2 masked for anchor 1');
  assert.equal(amb.q[4 + 2], 0);
});

test('temporal loss orders similarities like overlaps: lower when closer pairs are more similar', () => {
  // Anchor 0 overlaps 1 (ρ 0.8) and 2 (ρ 0.2); row 3 is unrelated.
  const p = pairs([[0, 1, 0.8], [0, 2, 0.2], [1, 2, 0.4]]);
  const ordered = unit(Tensor.from([1, 0, 0.95, 0.31, 0.6, 0.8, -1, 0], 4, 2));
  const reversed = unit(Tensor.from([1, 0, 0.6, 0.8, 0.95, 0.31, -1, 0], 4, 2));
  const lo = temporalConsistencyLoss(ordered, p, 0.1)!.item();
  const hi = temporalConsistencyLoss(reversed, p, 0.1)!.item();
  assert.ok(lo < hi, `${lo} < ${hi}`);
  assert.ok(lo > 0, 'never exactly 0 with a finite temperature');
});

test('overlapPairs lists each overlapping pair once with its ratio', () => {
  const p = overlapPairs([
    { start: 10, end: 20 },
    { start: 0, end: 10 },
    { start: 5, end: 15 },
    { start: 40, end: 50 },
  ]);
  const got = Array.from(p.rho, (r, k) => [p.i[k], p.j[k], r]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  assert.deepEqual(got, [
    [0, 2, 0.5],
    [1, 2, 0.5],
  ]);
});

test('anomaly loss: zero when every normal/abnormal similarity is at most γ, the mean excess otherwise', () => {
  const s = Tensor.from([1, 0, 0.6, 0.8, 0, 1], 3, 2); // cos(0,1) = 0.6, cos(0,2) = 0
  assert.equal(anomalySeparationLoss(s, [0, 1, 1], Math.fround(0.6))!.item(), 0, "similarity exactly γ (as stored in float32)");
  assert.equal(anomalySeparationLoss(s, [0, 1, 1], 0.7)!.item(), 0);
  assert.ok(Math.abs(anomalySeparationLoss(s, [0, 1, 1], 0.5)!.item() - 0.05) < 1e-6);
  assert.equal(anomalySeparationLoss(s, [0, -1, 0], 0), undefined, 'no abnormal row: no term');
  // It separates, it does not cluster: two normal rows far apart cost nothing.
  assert.equal(anomalySeparationLoss(Tensor.from([1, 0, -1, 0, 0, 1], 3, 2), [0, 0, 1], 0.1)!.item(), 0);
});

test('modal loss leaves out pairs with a missing side, and rows where one side is missing', () => {
  const model = new StateModel({ inputDims: { metrics: 4, traces: 4, logs: 4 }, hidden: 8, modalityDim: 6, stateDim: 4, seed: 2 });
  const rng = new ModelRng(41);
  const f = model.forward({ size: 5, metrics: { x: randn(rng, 20) }, traces: { x: randn(rng, 20), present: [1, 1, 0, 1, 1] } });
  const { loss, terms } = modalConsistencyLoss(f, 0.1);
  assert.deepEqual(
    terms.map((t) => [t.pair.join('-'), t.rows, t.value !== undefined]),
    [
      ['metrics-traces', 4, true],
      ['metrics-logs', 0, false],
      ['traces-logs', 0, false],
    ],
  );
  const rows = Int32Array.of(0, 1, 3, 4);
  const expected = infoNCE(ops.gatherRows(f.z.metrics, rows), ops.gatherRows(f.z.traces, rows), 0.1).item();
  assert.ok(Math.abs(loss!.item() - expected) < 1e-6);
  const none = totalLoss(model.forward({ size: 2, metrics: { x: randn(rng, 8) } }));
  assert.equal(none.hasGradient, false, 'a single modality gives nothing to contrast');
  assert.deepEqual(none.parts.used, { modal: false, temporal: false, anomaly: false });
});

test('loss options are checked', () => {
  const model = new StateModel({ inputDims: { metrics: 2, traces: 2 }, hidden: 2, modalityDim: 2, stateDim: 2 });
  const f = model.forward({ size: 2, metrics: { x: new Float32Array(4) }, traces: { x: new Float32Array(4) } });
  assert.throws(() => totalLoss(f, {}, { temperature: 0 }), /temperature/);
  assert.throws(() => totalLoss(f, {}, { anomalyCap: 2 }), /anomalyCap/);
  assert.throws(() => totalLoss(f, {}, { temporalSlack: 1 }), /temporalSlack/);
});
