/**
 * AdamW (Loshchilov & Hutter): Adam on the gradient, weight decay applied to the weights
 * directly (decoupled), not added to the gradient where Adam's scaling would dilute it.
 * Global-norm gradient clipping runs before the update.
 */
import type { Tensor } from './tensor.js';

/** A trainable tensor with its name in the parameter layout and whether weight decay applies. */
export interface Param {
  name: string;
  tensor: Tensor;
  /** Weights decay; biases and gate offsets do not (decaying them only adds bias). */
  decay: boolean;
}

export interface AdamWOptions {
  /** Default 1e-3. */
  lr?: number;
  /** Default 0.9. */
  beta1?: number;
  /** Default 0.999. */
  beta2?: number;
  /** Default 1e-8. */
  eps?: number;
  /** Decoupled decay per step is lr·weightDecay·w. Default 0.01. */
  weightDecay?: number;
  /** Clip the global gradient norm to this before each update; 0 = off. Default 1. */
  maxGradNorm?: number;
}

export interface AdamWState {
  step: number;
  /** First and second moments per parameter, in the optimiser's parameter order. */
  m: Float32Array[];
  v: Float32Array[];
}

export interface StepInfo {
  /** Global gradient norm before clipping. */
  gradNorm: number;
  clipped: boolean;
}

/** √(Σ‖g‖²) over the parameters' gradients (missing gradients count as 0). */
export function globalGradNorm(params: readonly Param[]): number {
  let ss = 0;
  for (const p of params) {
    const g = p.tensor.grad;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) ss += g[i] * g[i];
  }
  return Math.sqrt(ss);
}

/** Scales every gradient so the global norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(params: readonly Param[], maxNorm: number): number {
  const norm = globalGradNorm(params);
  if (maxNorm > 0 && norm > maxNorm) {
    const f = maxNorm / (norm + 1e-12);
    for (const p of params) {
      const g = p.tensor.grad;
      if (!g) continue;
      for (let i = 0; i < g.length; i++) g[i] *= f;
    }
  }
  return norm;
}

export class AdamW {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly maxGradNorm: number;
  private t = 0;
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];

  constructor(
    readonly params: readonly Param[],
    options: AdamWOptions = {},
  ) {
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    this.maxGradNorm = options.maxGradNorm ?? 1;
    for (const [k, v] of Object.entries({ lr: this.lr, eps: this.eps, weightDecay: this.weightDecay, maxGradNorm: this.maxGradNorm })) {
      if (!(v >= 0) || !Number.isFinite(v)) throw new RangeError(`AdamW: ${k} must be a finite number ≥ 0, got ${v}`);
    }
    if (!(this.beta1 >= 0 && this.beta1 < 1) || !(this.beta2 >= 0 && this.beta2 < 1)) throw new RangeError('AdamW: betas must be in [0, 1)');
    this.m = params.map((p) => new Float32Array(p.tensor.size));
    this.v = params.map((p) => new Float32Array(p.tensor.size));
  }

  get stepCount(): number {
    return this.t;
  }

  /** Clips, then updates every parameter that has a gradient. Gradients are left as they are. */
  step(): StepInfo {
    const gradNorm = clipGradNorm(this.params, this.maxGradNorm);
    this.t++;
    const { beta1: b1, beta2: b2, eps, lr } = this;
    const c1 = 1 / (1 - b1 ** this.t);
    const c2 = 1 / (1 - b2 ** this.t);
    for (let k = 0; k < this.params.length; k++) {
      const p = this.params[k];
      const g = p.tensor.grad;
      if (!g) continue;
      const w = p.tensor.data;
      const m = this.m[k];
      const v = this.v[k];
      const decay = p.decay ? 1 - lr * this.weightDecay : 1;
      for (let i = 0; i < w.length; i++) {
        const gi = g[i];
        const mi = b1 * m[i] + (1 - b1) * gi;
        const vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] = w[i] * decay - (lr * (mi * c1)) / (Math.sqrt(vi * c2) + eps);
      }
    }
    return { gradNorm, clipped: this.maxGradNorm > 0 && gradNorm > this.maxGradNorm };
  }

  /**
   * Drops the gradients (null counts as zero everywhere): the next backward then adopts its
   * fresh gradient arrays instead of adding them into zeroed ones, one pass less per parameter.
   */
  zeroGrad(): void {
    for (const p of this.params) p.tensor.grad = null;
  }

  /** Copies of the moments and step count (for checkpoints). */
  state(): AdamWState {
    return { step: this.t, m: this.m.map((a) => a.slice()), v: this.v.map((a) => a.slice()) };
  }

  loadState(state: AdamWState): void {
    if (state.m.length !== this.m.length || state.v.length !== this.v.length) throw new RangeError('AdamW.loadState: parameter count differs');
    for (let k = 0; k < this.m.length; k++) {
      if (state.m[k].length !== this.m[k].length || state.v[k].length !== this.v[k].length) {
        throw new RangeError(`AdamW.loadState: size of ${this.params[k].name} differs`);
      }
      this.m[k].set(state.m[k]);
      this.v[k].set(state.v[k]);
    }
    this.t = state.step;
  }
}
