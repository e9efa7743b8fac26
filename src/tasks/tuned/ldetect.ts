/**
 * A supervised detector (issue 12: "weights from training folds"): an L2-regularised logistic
 * regression over each feature's calibrated |z| — the same robust z against training-normal
 * windows and the same per-feature tail calibration as the robust-z max detector (zdetect.ts) —
 * fitted on training-fold windows whose labels say normal or abnormal, with the alarm threshold
 * the 0.99 quantile of its scores over the training-normal windows.
 *
 * Why: the robust-z max alarms only when one feature leaves its own normal extremes; a fault that
 * moves several features a little (or moves the ones that matter for faults rather than the ones
 * that are merely noisy) stays under it. The labelled fault windows of the training folds say
 * which deviations go with faults; a linear model over the calibrated |z| can add them up.
 * Why |z| and not the signed z: a deviation either way is the signal, and the sign of a load
 * feature mostly says what time of day it is (Nezha injects only in the daytime). Why clipped at
 * `LDETECT_CLIP`: beyond a few times its normal extreme a feature says "far out" and no more,
 * and an unclipped spike would dominate the fit. Global only (no states): the labelled windows
 * are too few to split. One weight per feature: a model that reads which features moved (an
 * order-statistics layout — how many features moved how far, whichever — was measured and lost,
 * docs/tasks.md "Rise gate").
 *
 * Measured as an inner-CV candidate (docs/tasks.md): it helps the simulator's metrics-only sets
 * and lost on Nezha metrics-only, where the inner CV picked it in a fold it then did worse on;
 * `evaluate` does not offer it by default (`detectorCandidates`' `supervised`).
 */
import { columnRobustScales, quantile } from '../../stats/index.js';

/** a feature's |z| is divided by its own normal-window quantile at this level (as ZDETECT_TAIL) */
export const LDETECT_TAIL = 0.99;
/** the alarm threshold: this quantile of the training-normal windows' scores */
export const LDETECT_QUANTILE = 0.99;
/** calibrated |z| is clipped here */
export const LDETECT_CLIP = 5;
/** L2 penalty on the weights (not the intercept), in units of the mean class-balanced log-loss */
export const LDETECT_LAMBDA = 0.01;
/** features needing this many finite normal values */
const MIN_REFERENCE = 3;
const NEWTON_STEPS = 30;

export interface LogitDetectorJSON {
  kind: 'logit-abs-z';
  loc: (number | null)[];
  scale: (number | null)[];
  cal: (number | null)[];
  weights: number[];
  intercept: number;
  threshold: number;
}

const toJson = (a: readonly number[]) => a.map((v) => (Number.isFinite(v) ? v : null));
const fromJson = (a: readonly (number | null)[]) => a.map((v) => (v === null ? NaN : v));

export class LogitDetector {
  private constructor(
    private readonly loc: number[],
    private readonly scale: number[],
    private readonly cal: number[],
    readonly weights: number[],
    readonly intercept: number,
    readonly threshold: number,
  ) {}

  /**
   * Fits on training windows: `normal` (the references, which also set location, scale, tail
   * calibration and threshold) and `abnormal` (labelled fault windows). Without abnormal rows
   * there is nothing to learn from: undefined.
   */
  static fit(normal: readonly Float64Array[], abnormal: readonly Float64Array[], opts: { lambda?: number } = {}): LogitDetector | undefined {
    if (normal.length < 2 || abnormal.length === 0) return undefined;
    const d = normal[0].length;
    const { loc, scale } = columnRobustScales(normal, MIN_REFERENCE);
    const cal = loc.map((l, j) => {
      if (!Number.isFinite(l)) return NaN;
      const z = normal.map((r) => Math.abs((r[j] - l) / scale[j])).filter(Number.isFinite);
      return Math.max(1, z.length > 0 ? quantile(z, LDETECT_TAIL) : 1);
    });
    // only features the references could calibrate enter the model
    const used = loc.map((l, j) => (Number.isFinite(l) ? j : -1)).filter((j) => j >= 0);
    const phi = (x: ArrayLike<number>) => used.map((j) => clipAbsZ(x[j], loc[j], scale[j], cal[j]));
    const X = [...normal.map(phi), ...abnormal.map(phi)];
    const y = [...normal.map(() => 0), ...abnormal.map(() => 1)];
    // class-balanced: each class weighs one half of the loss
    const sw = y.map((v) => (v === 1 ? 0.5 / abnormal.length : 0.5 / normal.length));
    const { w, b } = fitLogistic(X, y, sw, opts.lambda ?? LDETECT_LAMBDA);
    const weights = new Array<number>(d).fill(0);
    used.forEach((j, k) => (weights[j] = w[k]));
    const partial = new LogitDetector(loc, scale, cal, weights, b, NaN);
    const thr = quantile(normal.map((r) => partial.score(r)), LDETECT_QUANTILE);
    return new LogitDetector(loc, scale, cal, weights, b, thr);
  }

  /** The logit of a window being abnormal. */
  score(x: ArrayLike<number>): number {
    let s = this.intercept;
    for (let j = 0; j < this.weights.length; j++) if (this.weights[j] !== 0) s += this.weights[j] * clipAbsZ(x[j], this.loc[j], this.scale[j], this.cal[j]);
    return s;
  }

  alarm(x: ArrayLike<number>): boolean {
    const v = this.score(x);
    return Number.isFinite(v) && v > this.threshold;
  }

  toJSON(): LogitDetectorJSON {
    return { kind: 'logit-abs-z', loc: toJson(this.loc), scale: toJson(this.scale), cal: toJson(this.cal), weights: this.weights, intercept: this.intercept, threshold: this.threshold };
  }

  static fromJSON(j: LogitDetectorJSON): LogitDetector {
    return new LogitDetector(fromJson(j.loc), fromJson(j.scale), fromJson(j.cal), j.weights, j.intercept, j.threshold);
  }
}

/** A missing value says nothing: 0, as a feature at its normal median. */
function clipAbsZ(v: number, loc: number, scale: number, cal: number): number {
  const z = Math.abs((v - loc) / scale) / cal;
  return Number.isFinite(z) ? Math.min(z, LDETECT_CLIP) : 0;
}

/**
 * Weighted L2-regularised logistic regression by Newton's method (the intercept unpenalised):
 * minimises Σ sw_i · logloss_i + λ/2 · |w|². Few features (tens), few hundred rows: a dense
 * Newton step is cheap and converges in a handful of steps.
 */
export function fitLogistic(X: readonly number[][], y: readonly number[], sw: readonly number[], lambda: number): { w: number[]; b: number } {
  const d = X[0]?.length ?? 0;
  const p = d + 1; // last coordinate: intercept
  let beta = new Array<number>(p).fill(0);
  for (let step = 0; step < NEWTON_STEPS; step++) {
    const g = new Array<number>(p).fill(0);
    const H = Array.from({ length: p }, () => new Array<number>(p).fill(0));
    X.forEach((x, i) => {
      let z = beta[d];
      for (let j = 0; j < d; j++) z += beta[j] * x[j];
      const pr = 1 / (1 + Math.exp(-z));
      const r = sw[i] * (pr - y[i]);
      const h = sw[i] * pr * (1 - pr);
      for (let j = 0; j < p; j++) {
        const xj = j === d ? 1 : x[j];
        g[j] += r * xj;
        for (let k = j; k < p; k++) H[j][k] += h * xj * (k === d ? 1 : x[k]);
      }
    });
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) H[j][k] = H[k][j];
    for (let j = 0; j < d; j++) {
      g[j] += lambda * beta[j];
      H[j][j] += lambda;
    }
    H[d][d] += 1e-9;
    const delta = solve(H, g);
    if (!delta) break;
    beta = beta.map((v, j) => v - delta[j]);
    if (Math.max(...delta.map(Math.abs)) < 1e-8) break;
  }
  return { w: beta.slice(0, d), b: beta[d] };
}

/** Solves A x = v by Gaussian elimination with partial pivoting (undefined when singular). */
function solve(A: number[][], v: number[]): number[] | undefined {
  const n = v.length;
  const M = A.map((r, i) => [...r, v[i]]);
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[piv][c])) piv = r;
    if (Math.abs(M[piv][c]) < 1e-14) return undefined;
    [M[c], M[piv]] = [M[piv], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      if (f !== 0) for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}
