import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '../../src/telemetry/index.js';
import { StatePartition, adjustedRandIndex, chooseK, fitGmm, fitKMeans, gmmBic, Standardizer, summarizeStates } from '../../src/states/index.js';
import { currentFeatureLayouts, type EncodedWindow } from '../../src/model/index.js';

/** `k` round blobs in `d` dimensions, centres 10 apart on the axes, unit spread. */
function blobs(k: number, perBlob: number, d: number, seed: number): { rows: Float32Array[]; truth: number[] } {
  const rng = new SeededRng(seed, 'blobs');
  const rows: Float32Array[] = [];
  const truth: number[] = [];
  for (let c = 0; c < k; c++) {
    for (let i = 0; i < perBlob; i++) {
      const r = new Float32Array(d);
      for (let j = 0; j < d; j++) r[j] = rng.normal() + (j === c % d ? 10 * (1 + Math.floor(c / d)) : 0);
      rows.push(r);
      truth.push(c);
    }
  }
  return { rows, truth };
}

test('adjusted Rand index matches hand-computed values', () => {
  // identical up to renaming
  assert.equal(adjustedRandIndex([0, 0, 1, 1], ['b', 'b', 'a', 'a']), 1);
  // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: contingency [[2,1,0],[0,1,2]]
  // Σ C(nij,2) = 1+1 = 2; Σ C(ai,2) = 3+3 = 6; Σ C(bj,2) = 1+1+1 = 3; C(6,2) = 15
  // expected = 6·3/15 = 1.2; max = 4.5; ARI = (2 − 1.2)/(4.5 − 1.2) = 0.8/3.3
  assert.ok(Math.abs(adjustedRandIndex([0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 2, 2]) - 0.8 / 3.3) < 1e-12);
  // a = [0,0,1,1], b = [0,1,0,1]: Σ C(nij,2) = 0, ΣA = 2, ΣB = 2, C(4,2) = 6 → (0 − 2/3)/(2 − 2/3) = −0.5
  assert.ok(Math.abs(adjustedRandIndex([0, 0, 1, 1], [0, 1, 0, 1]) + 0.5) < 1e-12);
  assert.ok(Number.isNaN(adjustedRandIndex([1, 1, 1], [2, 2, 2])));
  assert.throws(() => adjustedRandIndex([1], [1, 2]), RangeError);
});

test('k-means recovers well-separated clusters, and the same seed gives the same partition', () => {
  const { rows, truth } = blobs(4, 60, 6, 1);
  const p = StatePartition.fit(rows, { method: 'kmeans', k: 4, seed: 7 });
  assert.ok(adjustedRandIndex(p.labels, truth) >= 0.95, `ARI ${adjustedRandIndex(p.labels, truth)}`);
  const q = StatePartition.fit(rows, { method: 'kmeans', k: 4, seed: 7 });
  assert.deepEqual(q.labels, p.labels);
  assert.deepEqual(q.toJSON(), p.toJSON());
  // assigning the training rows gives the fitted labels back
  assert.deepEqual(p.assign(rows).states, p.labels);
  // state ids are ordered by size, largest first
  const sizes = p.toJSON().sizes;
  assert.deepEqual([...sizes].sort((a, b) => b - a), sizes);
});

test('the Gaussian mixture recovers clusters of different spread, with responsibilities that sum to 1', () => {
  const rng = new SeededRng(2, 'gmm');
  const rows: Float32Array[] = [];
  const truth: number[] = [];
  for (let i = 0; i < 300; i++) {
    const c = i % 3;
    const sd = [0.3, 1, 2][c];
    rows.push(Float32Array.from([rng.normal() * sd + c * 12, rng.normal() * sd - c * 6, rng.normal() * sd]));
    truth.push(c);
  }
  const p = StatePartition.fit(rows, { method: 'gmm', k: 3, seed: 3 });
  assert.ok(adjustedRandIndex(p.labels, truth) >= 0.95);
  const a = p.assign(rows);
  assert.deepEqual(a.states, p.labels);
  assert.ok(a.responsibilities);
  for (const r of a.responsibilities!) assert.ok(Math.abs(r.reduce((s, x) => s + x, 0) - 1) < 1e-9);
  assert.deepEqual(StatePartition.fit(rows, { method: 'gmm', k: 3, seed: 3 }).labels, p.labels);
  // EM never lowers the likelihood below its k-means start by much, and stays finite with a duplicated row cluster
  const dup = [...rows, ...Array.from({ length: 20 }, () => Float32Array.from([50, 50, 50]))];
  const x = Standardizer.fit(dup).apply(dup);
  const g = fitGmm(x, 4, { seed: 1 });
  assert.ok(Number.isFinite(g.logLikelihood));
  assert.ok(g.variances.flat().every((v) => v > 0));
});

test('silhouette (k-means) and BIC (mixture) choose the right k on synthetic data', () => {
  for (const k of [3, 5]) {
    const { rows } = blobs(k, 50, 6, 10 + k);
    const x = Standardizer.fit(rows).apply(rows);
    assert.equal(chooseK(x, { method: 'kmeans', seed: 1 }).k, k, `silhouette for k = ${k}`);
    assert.equal(chooseK(x, { method: 'gmm', seed: 1 }).k, k, `BIC for k = ${k}`);
  }
  const { rows } = blobs(3, 50, 4, 5);
  const p = StatePartition.fit(rows, { method: 'gmm', seed: 1 });
  assert.equal(p.k, 3);
  assert.equal(p.chosenBy, 'bic');
  assert.equal(p.scores.length, 7);
  const x = Standardizer.fit(rows).apply(rows);
  assert.ok(gmmBic(fitGmm(x, 3, { seed: 1 }), x.length) < gmmBic(fitGmm(x, 2, { seed: 1 }), x.length));
});

test('a partition survives save and load, and a wrong file is a one-line user error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-states-'));
  try {
    const { rows } = blobs(3, 40, 5, 4);
    for (const method of ['kmeans', 'gmm'] as const) {
      const p = StatePartition.fit(rows, { method, seed: 2, meta: { features: 'test' } });
      const path = join(dir, `${method}.json`);
      await p.save(path);
      const q = await StatePartition.load(path);
      assert.equal(q.k, p.k);
      assert.equal(q.method, method);
      assert.deepEqual(q.meta, { features: 'test' });
      assert.deepEqual(q.assign(rows), p.assign(rows));
      assert.deepEqual(q.assign(rows).states, p.labels);
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).version, 1);
    }
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'runtimeslicer-states', version: 99 }));
    await assert.rejects(StatePartition.load(bad), /version 99/);
    writeFileSync(bad, '{');
    await assert.rejects(StatePartition.load(bad), /not valid JSON/);
    await assert.rejects(StatePartition.load(join(dir, 'none.json')), /cannot read states file/);
    // wrong width on assignment
    const p = StatePartition.fit(rows, { k: 2 });
    assert.throws(() => p.assign([new Float32Array(2)]), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the summary gives sizes, intervals and the features that set a state apart', () => {
  const names = currentFeatureLayouts().layouts.metrics;
  const cpu = names.indexOf('cpu_absz_max');
  const mk = (i: number, hot: boolean): EncodedWindow => {
    const f = new Float32Array(4 + names.length);
    for (let j = 0; j < names.length; j++) f[4 + j] = ((i * 7 + j * 3) % 5) / 10;
    if (hot) f[4 + cpu] = 3 + (i % 3) / 10;
    const svc = new Float32Array(4 + names.length);
    if (hot) svc[4 + names.indexOf('latency_absz_max')] = 2 + (i % 2);
    else svc[4 + names.indexOf('latency_absz_max')] = (i % 2) / 10;
    return {
      source: 's',
      window: { index: i, start: i * 60_000, end: i * 60_000 + 300_000 },
      label: { abnormal: hot && i % 2 === 0 },
      inputs: { metrics: f },
      entities: new Map([['cart', { metrics: svc }], ['quiet', { metrics: new Float32Array(4 + names.length) }]]),
    };
  };
  // windows 0..9 normal, 10..14 hot, 15..19 normal
  const windows = Array.from({ length: 20 }, (_, i) => mk(i, i >= 10 && i < 15));
  const states = windows.map((_, i) => (i >= 10 && i < 15 ? 1 : 0));
  const s = summarizeStates(windows, states, { k: 2, strideMs: 60_000 });
  assert.equal(s[0].windows, 15);
  assert.equal(s[1].windows, 5);
  assert.equal(s[1].share, 0.25);
  assert.deepEqual(s[1].intervals, [{ source: 's', start: 600_000, end: 900_000, windows: 5 }]);
  assert.equal(s[0].intervals.length, 2);
  assert.equal(s[1].timeMs, 300_000);
  assert.equal(s[1].timeShare, 0.25);
  assert.equal(s[1].presence.metrics, 1);
  assert.equal(s[1].abnormalShare, 3 / 5);
  assert.equal(s[1].features[0].feature, 'cpu_absz_max');
  assert.ok(s[1].features[0].smd > 2);
  assert.ok(s[0].features[0].smd < -2);
  assert.equal(s[1].services[0].service, 'cart');
  assert.equal(s[1].services[0].top.feature, 'latency_absz_max');
  assert.equal(s[1].services.length, 1, 'a service whose features never differ is not listed');
});
