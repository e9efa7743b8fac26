import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { AdamW, clipGradNorm, globalGradNorm, ModelRng, Tensor, type Param } from '../../src/model/engine/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

function p(name: string, values: number[], decay = true): Param {
  const t = Tensor.from(values, 1, values.length, true);
  return { name, tensor: t, decay };
}

test('AdamW: one step equals the written update (bias-corrected moments, decoupled decay)', () => {
  const w = p('w', [1, -2, 0.5]);
  const b = p('b', [0.3], false);
  w.tensor.grad = Float32Array.from([0.1, -0.2, 0]);
  b.tensor.grad = Float32Array.from([1]);
  const opt = new AdamW([w, b], { lr: 0.01, weightDecay: 0.1, maxGradNorm: 0 });
  opt.step();
  // After one step m̂ = g and v̂ = g², so the Adam part is lr·g/(|g| + eps) = lr·sign(g).
  const expectW = [1 * (1 - 0.001) - 0.01, -2 * (1 - 0.001) + 0.01, 0.5 * (1 - 0.001)];
  expectW.forEach((e, i) => assert.ok(Math.abs(w.tensor.data[i] - e) < 1e-6, `w[${i}] ${w.tensor.data[i]} vs ${e}`));
  assert.ok(Math.abs(b.tensor.data[0] - (0.3 - 0.01)) < 1e-6, 'no decay on a bias');
  // Second step with a new gradient: follow the recurrences by hand for w[0].
  w.tensor.grad = Float32Array.from([0.3, 0, 0]);
  b.tensor.grad = null;
  const before = w.tensor.data[0];
  opt.step();
  const m = 0.9 * (0.1 * 0.1) + 0.1 * 0.3; // m1 = 0.1·g1 = 0.01; m2 = 0.9·m1 + 0.1·g2
  const v = 0.999 * (0.001 * 0.01) + 0.001 * 0.09;
  const mh = m / (1 - 0.9 ** 2);
  const vh = v / (1 - 0.999 ** 2);
  const expect = before * (1 - 0.001) - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
  assert.ok(Math.abs(w.tensor.data[0] - expect) < 1e-6);
  assert.ok(Math.abs(b.tensor.data[0] - (0.3 - 0.01)) < 1e-7, 'no gradient, no update');
  assert.equal(opt.stepCount, 2);
});

test('gradient clipping scales the global norm down to the maximum, and only when above it', () => {
  const a = p('a', [3, 0]);
  const b = p('b', [0, 4]);
  a.tensor.grad = Float32Array.from([3, 0]);
  b.tensor.grad = Float32Array.from([0, 4]);
  assert.equal(globalGradNorm([a, b]), 5);
  assert.equal(clipGradNorm([a, b], 10), 5);
  assert.deepEqual(Array.from(a.tensor.grad), [3, 0]);
  assert.equal(clipGradNorm([a, b], 1), 5);
  assert.ok(Math.abs(globalGradNorm([a, b]) - 1) < 1e-6);
  assert.ok(Math.abs(a.tensor.grad[0] - 0.6) < 1e-6 && Math.abs(b.tensor.grad[1] - 0.8) < 1e-6);
  const opt = new AdamW([a, b], { maxGradNorm: 1 });
  a.tensor.grad = Float32Array.from([30, 0]);
  const info = opt.step();
  assert.equal(info.clipped, true);
  assert.ok(Math.abs(info.gradNorm - Math.hypot(30, 0.8)) < 1e-4);
});

test('AdamW state round trip continues identically', () => {
  const rng = new ModelRng(4);
  const mk = () => p('w', [0.5, -0.5, 1]);
  const grads = Array.from({ length: 6 }, () => Float32Array.from([rng.normal(), rng.normal(), rng.normal()]));
  const a = mk();
  const optA = new AdamW([a]);
  const b = mk();
  const optB = new AdamW([b]);
  for (let k = 0; k < 3; k++) {
    a.tensor.grad = grads[k].slice();
    optA.step();
    b.tensor.grad = grads[k].slice();
    optB.step();
  }
  const c = p('w', Array.from(b.tensor.data));
  const optC = new AdamW([c]);
  optC.loadState(optB.state());
  for (let k = 3; k < 6; k++) {
    a.tensor.grad = grads[k].slice();
    optA.step();
    c.tensor.grad = grads[k].slice();
    optC.step();
  }
  assert.deepEqual(c.tensor.data, a.tensor.data);
  assert.throws(() => new AdamW([a], { lr: -1 }), /lr/);
});

test('ModelRng: seeded, streams independent, normal has mean 0 and variance 1', () => {
  const a = new ModelRng(5);
  const b = new ModelRng(5);
  const seqA = Array.from({ length: 5 }, () => a.u32());
  assert.deepEqual(seqA, Array.from({ length: 5 }, () => b.u32()));
  assert.notDeepEqual(seqA, Array.from({ length: 5 }, () => new ModelRng(5, 'other').u32()));
  const r = new ModelRng(6);
  let s = 0;
  let ss = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    ss += x * x;
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(ss / n - 1) < 0.05);
});

function engineIn(env: Record<string, string>): { status: number | null; out: string; err: string } {
  const code = "import { engineInfo } from './src/model/engine/index.ts'; try { console.log(JSON.stringify(engineInfo())); } catch (e) { console.log('ERR ' + e.name + ': ' + e.message); }";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, env: { ...process.env, ...env }, encoding: 'utf8' });
  return { status: r.status, out: r.stdout.trim(), err: r.stderr };
}

test('RS_ENGINE selects the engine; a bad value is a user error', () => {
  assert.equal(engineIn({ RS_ENGINE: 'js' }).out, '{"name":"js"}');
  const bad = engineIn({ RS_ENGINE: 'gpu' });
  assert.match(bad.out, /^ERR UserError: RS_ENGINE must be "js" or "ort"/);
  const dflt = engineIn({ RS_ENGINE: '' });
  assert.match(dflt.out, /^\{"name":"(ort|js)"/);
});
