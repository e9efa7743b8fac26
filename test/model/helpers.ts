/**
 * Shared pieces of the model tests: the two engines, seeded data, and a central-difference
 * gradient check that tells a kink (ReLU, hinge) from a wrong gradient.
 */
import assert from 'node:assert/strict';
import { createOrtKernel, jsKernel, ModelRng, noGrad, ops, setEngine, Tensor, type GemmKernel } from '../../src/model/engine/index.js';

/** ORT with every product sent to it (no small-product JS fallback), or undefined. */
const ortAll = createOrtKernel({ minWork: 0 });

export interface EngineCase {
  name: string;
  kernel?: GemmKernel;
  skip: string | false;
}

/** The JS engine and ORT (every product through onnxruntime); ORT skipped when it cannot load. */
export const ENGINES: EngineCase[] = [
  { name: 'js', kernel: jsKernel, skip: false },
  { name: 'ort', kernel: ortAll, skip: ortAll ? false : 'onnxruntime-node unavailable' },
];

export function useEngine(e: EngineCase): void {
  if (!e.kernel) throw new Error(`engine ${e.name} unavailable`);
  setEngine(e.kernel);
}

export function randn(rng: ModelRng, n: number, scale = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal() * scale;
  return a;
}

/** A leaf tensor of N(0, scale²) values. */
export function param(rng: ModelRng, rows: number, cols: number, scale = 1): Tensor {
  return new Tensor(randn(rng, rows * cols, scale), rows, cols, true);
}

/** Values at least `gap` away from 0 (keeps ReLU/hinge inputs off their kink). */
export function awayFromZero(rng: ModelRng, rows: number, cols: number, gap = 0.1): Tensor {
  const a = randn(rng, rows * cols);
  for (let i = 0; i < a.length; i++) a[i] = Math.sign(a[i] || 1) * (gap + Math.abs(a[i]));
  return new Tensor(a, rows, cols, true);
}

/** Reduces any output to a scalar by a fixed random projection, so every output entry is checked. */
export function project(t: Tensor, seed = 99): Tensor {
  const rng = new ModelRng(seed, `proj${t.rows}x${t.cols}`);
  return ops.weightedSum(t, randn(rng, t.size));
}

export interface GradCheckOptions {
  eps?: number;
  /** |analytic − numeric| ≤ atol + rtol·max(|analytic|, |numeric|). */
  atol?: number;
  rtol?: number;
  /** Check at most this many coordinates per input (spread evenly). Default: all. */
  maxCoords?: number;
  /** Fraction of coordinates allowed to sit on a kink (one-sided slopes disagree) and be skipped. Default 0. */
  maxKinkFraction?: number;
}

export interface GradCheckReport {
  checked: number;
  kinks: number;
  worst: number;
}

/**
 * Compares the backward gradient of `f()` (a [1, 1] tensor) with respect to each of `inputs`
 * against central differences. A coordinate whose left and right slopes disagree by far more than
 * smooth curvature allows sits on a kink: it is skipped and counted (see maxKinkFraction).
 */
export function gradCheck(f: () => Tensor, inputs: Tensor[], options: GradCheckOptions = {}): GradCheckReport {
  const eps = options.eps ?? 1e-3;
  const atol = options.atol ?? 1e-3;
  const rtol = options.rtol ?? 1e-2;
  for (const x of inputs) x.grad = null;
  const out = f();
  assert.equal(out.size, 1, 'gradCheck needs a scalar');
  out.backward();
  const analytic = inputs.map((x) => (x.grad ? x.grad.slice() : new Float32Array(x.size)));
  const value = (): number => noGrad(() => f().item());
  const f0 = value();
  let checked = 0;
  let kinks = 0;
  let worst = 0;
  inputs.forEach((x, k) => {
    const n = x.size;
    const limit = Math.min(n, options.maxCoords ?? n);
    const step = n / limit;
    for (let c = 0; c < limit; c++) {
      const i = Math.floor(c * step);
      const orig = x.data[i];
      x.data[i] = orig + eps;
      const fp = value();
      x.data[i] = orig - eps;
      const fm = value();
      x.data[i] = orig;
      const central = (fp - fm) / (2 * eps);
      const right = (fp - f0) / eps;
      const left = (f0 - fm) / eps;
      const a = analytic[k][i];
      if (Math.abs(right - left) > 0.05 * (1 + Math.abs(central))) {
        kinks++;
        continue;
      }
      checked++;
      const err = Math.abs(a - central);
      const tol = atol + rtol * Math.max(Math.abs(a), Math.abs(central));
      worst = Math.max(worst, err / tol);
      assert.ok(err <= tol, `input ${k}${x.name ? ` (${x.name})` : ''}[${i}]: analytic ${a} vs numeric ${central} (|Δ| ${err.toExponential(2)} > ${tol.toExponential(2)})`);
    }
  });
  const allowed = options.maxKinkFraction ?? 0;
  assert.ok(kinks <= allowed * (checked + kinks), `${kinks} of ${checked + kinks} coordinates sit on a kink (allowed ${allowed})`);
  assert.ok(checked > 0, 'no coordinate checked');
  return { checked, kinks, worst };
}
