/**
 * The deviation readout: the state's reconstruction of a window's robust feature deviations,
 * t̂ = [s, 1]·R_m per modality m — the learned part of the embedding written in the coordinates
 * of the evidence, so the tasks can compare it column by column with what was observed
 * (combined.ts, docs/losses.md "What the tasks read").
 *
 *   const r = fitReadout(model, trainingWindows);     // label-free, closed form
 *   const t = r.apply('metrics', s);                  // Float64Array of that modality's feature count
 *
 * Fitted after training by ridge least squares on the training windows (the same targets as the
 * deviation term: asinh of the clipped robust z against each source's own reference), not taken
 * from the deviation term's decoder: so every model has one, with or without that term (the
 * ablations), and it is the best linear read of the final s rather than of the s of some step.
 * Ridge λ = RIDGE_SHARE · n_m (n_m: rows with modality m) keeps the solve well posed when s has
 * unused directions; it is a conditioning constant, set before measuring and never tuned (s is
 * unit, so the Gram's diagonal averages n / stateDim = n / 128, above λ = n / 1000).
 */
import { MODALITIES, type Modality, type StateModel } from './model.js';
import { embedWindows, type EncodedWindow } from './data.js';
import { deviationTargets, featureSlices, fitDeviationReference, type DeviationReference } from './deviation.js';
import { concatFloat32 } from './flat.js';

export const RIDGE_SHARE = 1e-3;

export interface ReadoutJSON {
  stateDim: number;
  /** per modality: feature count; weights are [stateDim + 1, count] row-major (last row: bias) */
  counts: Partial<Record<Modality, number>>;
}

export class DeviationReadout {
  constructor(
    readonly stateDim: number,
    readonly weights: Partial<Record<Modality, Float64Array>>,
    readonly counts: Partial<Record<Modality, number>>,
  ) {}

  /** t̂ of one modality for one unit state row. */
  apply(m: Modality, s: ArrayLike<number>): Float64Array {
    const c = this.counts[m] ?? 0;
    const w = this.weights[m];
    const out = new Float64Array(c);
    if (!w) return out.fill(NaN);
    const d = this.stateDim;
    for (let j = 0; j < c; j++) out[j] = w[d * c + j];
    for (let k = 0; k < d; k++) {
      const sk = s[k];
      if (sk === 0) continue;
      const row = k * c;
      for (let j = 0; j < c; j++) out[j] += sk * w[row + j];
    }
    return out;
  }

  toJSON(): ReadoutJSON {
    return { stateDim: this.stateDim, counts: { ...this.counts } };
  }

  /** All weights in MODALITIES order, for the checkpoint's arrays. */
  flat(): Float32Array {
    return concatFloat32(MODALITIES.map((m) => this.weights[m]).filter((w): w is Float64Array => w !== undefined).map((w) => Float32Array.from(w)));
  }

  static fromFlat(json: ReadoutJSON, flat: Float32Array): DeviationReadout {
    const weights: Partial<Record<Modality, Float64Array>> = {};
    let o = 0;
    for (const m of MODALITIES) {
      const c = json.counts[m];
      if (!c) continue;
      const n = (json.stateDim + 1) * c;
      if (o + n > flat.length) throw new RangeError(`readout: ${flat.length} weights, layout needs more`);
      weights[m] = Float64Array.from(flat.subarray(o, o + n));
      o += n;
    }
    if (o !== flat.length) throw new RangeError(`readout: ${flat.length} weights, layout needs ${o}`);
    return new DeviationReadout(json.stateDim, weights, { ...json.counts });
  }
}

/** Solves (A + λI) X = B in place for a symmetric positive definite A [d, d] and B [d, c] (Cholesky). */
function solveSpd(A: Float64Array, B: Float64Array, d: number, c: number): Float64Array {
  const L = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = A[i * d + j];
      for (let k = 0; k < j; k++) s -= L[i * d + k] * L[j * d + k];
      L[i * d + j] = i === j ? Math.sqrt(Math.max(s, 1e-12)) : s / L[j * d + j];
    }
  }
  const X = Float64Array.from(B);
  for (let col = 0; col < c; col++) {
    for (let i = 0; i < d; i++) {
      let s = X[i * c + col];
      for (let k = 0; k < i; k++) s -= L[i * d + k] * X[k * c + col];
      X[i * c + col] = s / L[i * d + i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let s = X[i * c + col];
      for (let k = i + 1; k < d; k++) s -= L[k * d + i] * X[k * c + col];
      X[i * c + col] = s / L[i * d + i];
    }
  }
  return X;
}

/**
 * Ridge readout of `model` on `windows` (training windows; labels never read). Per modality,
 * the rows where it is present; a missing target value counts as 0 (its source's median).
 * Undefined when the model's inputs carry no numeric features.
 */
export function fitReadout(model: StateModel, windows: readonly EncodedWindow[], reference?: DeviationReference): DeviationReadout | undefined {
  const slices = featureSlices(model.config.inputDims);
  if (!MODALITIES.some((m) => slices[m]) || windows.length === 0) return undefined;
  const ref = reference ?? fitDeviationReference(windows, slices);
  const targets = deviationTargets(windows, ref);
  const e = embedWindows(model, windows);
  const D = model.config.stateDim;
  const d = D + 1;
  const weights: Partial<Record<Modality, Float64Array>> = {};
  const counts: Partial<Record<Modality, number>> = {};
  for (const m of MODALITIES) {
    const sl = slices[m];
    if (!sl) continue;
    counts[m] = sl.count;
    const tg = targets[m];
    const c = sl.count;
    const A = new Float64Array(d * d);
    const B = new Float64Array(d * c);
    const x = new Float64Array(d);
    let n = 0;
    windows.forEach((w, i) => {
      if (!w.inputs[m] || !tg) return;
      const s = e.state[i];
      for (let k = 0; k < D; k++) x[k] = s[k];
      x[D] = 1;
      for (let p = 0; p < d; p++) {
        const xp = x[p];
        for (let q = 0; q <= p; q++) A[p * d + q] += xp * x[q];
        for (let j = 0; j < c; j++) {
          const k = i * c + j;
          if (tg.w[k]) B[p * c + j] += xp * tg.t[k];
        }
      }
      n++;
    });
    if (n === 0) continue;
    for (let p = 0; p < d; p++) for (let q = 0; q < p; q++) A[q * d + p] = A[p * d + q];
    const lam = RIDGE_SHARE * n;
    for (let p = 0; p < d; p++) A[p * d + p] += lam;
    weights[m] = solveSpd(A, B, d, c);
  }
  return new DeviationReadout(D, weights, counts);
}

/**
 * The readout's held-out reconstruction error: mean over every observed (window, modality,
 * feature) of (t̂ − t)², t the deviation targets of `windows` against `reference` (fitted on
 * other windows: the training part). Only observed values count (a missing one is no target).
 * Undefined when nothing is observed. This is the trainer's task-free early-stopping criterion
 * (docs/training.md): how well the state carries the deviations the tasks read, on windows it
 * was neither trained nor read out on.
 */
export function readoutError(model: StateModel, readout: DeviationReadout, windows: readonly EncodedWindow[], reference: DeviationReference): number | undefined {
  if (windows.length === 0) return undefined;
  const targets = deviationTargets(windows, reference);
  const e = embedWindows(model, windows);
  let sum = 0;
  let n = 0;
  for (const m of MODALITIES) {
    const tg = targets[m];
    const c = readout.counts[m];
    if (!tg || !c) continue;
    windows.forEach((w, i) => {
      if (!w.inputs[m]) return;
      const t = readout.apply(m, e.state[i]);
      for (let j = 0; j < c; j++) {
        const k = i * c + j;
        if (!tg.w[k]) continue;
        sum += (t[j] - tg.t[k]) ** 2;
        n++;
      }
    });
  }
  return n > 0 ? sum / n : undefined;
}
