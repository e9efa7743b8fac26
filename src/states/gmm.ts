/**
 * Gaussian mixture with diagonal covariances, fitted by EM. Written here because no maintained
 * npm package fits (checked 2026-12: `gaussian-mixture-model` is full-covariance, online and
 * unmaintained; ml.js has no mixture model). Seeded through its k-means initialisation; every
 * density is kept in log space (log-sum-exp), and each variance has a floor — a share of the
 * column's overall variance — so a component cannot collapse onto a few identical rows.
 */
import { fitKMeans } from './kmeans.js';

export interface GmmOptions {
  seed?: number;
  maxIterations?: number;
  /** Stop when the mean log-likelihood per row improves by less than this (default 1e-6). */
  tolerance?: number;
  /** Variance floor as a share of the column's variance over all rows (default 1e-3). */
  varianceFloor?: number;
}

export interface GmmParams {
  weights: number[];
  means: number[][];
  variances: number[][];
}

export interface GmmFit extends GmmParams {
  k: number;
  /** Total log-likelihood of the rows under the fitted mixture. */
  logLikelihood: number;
  iterations: number;
  converged: boolean;
  /** argmax responsibility of every row. */
  labels: number[];
}

const LOG_2PI = Math.log(2 * Math.PI);

function logSumExp(v: Float64Array): number {
  let m = -Infinity;
  for (const x of v) if (x > m) m = x;
  if (m === -Infinity) return -Infinity;
  let s = 0;
  for (const x of v) s += Math.exp(x - m);
  return m + Math.log(s);
}

/** log(weight_c · N(row | c)) for every component c. */
function componentLogDensities(p: GmmParams, row: ArrayLike<number>, out: Float64Array): void {
  const d = row.length;
  for (let c = 0; c < p.weights.length; c++) {
    const mu = p.means[c];
    const v = p.variances[c];
    let s = 0;
    for (let j = 0; j < d; j++) s += Math.log(v[j]) + (row[j] - mu[j]) ** 2 / v[j];
    out[c] = Math.log(p.weights[c]) - 0.5 * (d * LOG_2PI + s);
  }
}

/** Posterior probability of each component for each row, and each row's log-likelihood. */
export function gmmResponsibilities(p: GmmParams, rows: readonly ArrayLike<number>[]): { resp: number[][]; logLik: number[] } {
  const k = p.weights.length;
  const buf = new Float64Array(k);
  const resp: number[][] = [];
  const logLik: number[] = [];
  for (const r of rows) {
    componentLogDensities(p, r, buf);
    const lse = logSumExp(buf);
    const out = new Array<number>(k);
    for (let c = 0; c < k; c++) out[c] = Math.exp(buf[c] - lse);
    resp.push(out);
    logLik.push(lse);
  }
  return { resp, logLik };
}

export function argmax(v: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[b]) b = i;
  return b;
}

/** Free parameters of a k-component diagonal mixture in d dimensions. */
export function gmmParameterCount(k: number, d: number): number {
  return k * 2 * d + (k - 1);
}

/** Bayesian information criterion, lower is better: −2·logL + p·ln n. */
export function gmmBic(fit: { k: number; logLikelihood: number; means: number[][] }, n: number): number {
  const d = fit.means[0]?.length ?? 0;
  return -2 * fit.logLikelihood + gmmParameterCount(fit.k, d) * Math.log(n);
}

export function fitGmm(rows: number[][], k: number, opts: GmmOptions = {}): GmmFit {
  const n = rows.length;
  if (n < k) throw new RangeError(`fitGmm: ${n} rows cannot make ${k} components`);
  const d = rows[0].length;
  const maxIter = opts.maxIterations ?? 200;
  const tol = opts.tolerance ?? 1e-6;
  // Floor each variance at a share of the column's spread over all rows.
  const colMean = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) colMean[j] += r[j] / n;
  const floor = new Float64Array(d);
  for (const r of rows) for (let j = 0; j < d; j++) floor[j] += (r[j] - colMean[j]) ** 2 / n;
  for (let j = 0; j < d; j++) floor[j] = Math.max(floor[j] * (opts.varianceFloor ?? 1e-3), 1e-12);

  // Initialisation: the seeded k-means partition's shares, centroids and within-cluster variances.
  const km = fitKMeans(rows, k, { seed: opts.seed });
  const p: GmmParams = { weights: [], means: km.centroids.map((c) => [...c]), variances: [] };
  const count = new Array<number>(k).fill(0);
  const varSum = Array.from({ length: k }, () => new Float64Array(d));
  rows.forEach((r, i) => {
    const c = km.labels[i];
    count[c]++;
    for (let j = 0; j < d; j++) varSum[c][j] += (r[j] - p.means[c][j]) ** 2;
  });
  for (let c = 0; c < k; c++) {
    p.weights.push(Math.max(count[c], 1) / (n + k));
    p.variances.push(Array.from(varSum[c], (s, j) => Math.max(count[c] > 1 ? s / count[c] : floor[j] * 1e3, floor[j])));
  }

  let prev = -Infinity;
  let logLikelihood = -Infinity;
  let iterations = 0;
  let converged = false;
  const buf = new Float64Array(k);
  const resp = Array.from({ length: n }, () => new Float64Array(k));
  while (iterations < maxIter) {
    iterations++;
    // E step
    logLikelihood = 0;
    for (let i = 0; i < n; i++) {
      componentLogDensities(p, rows[i], buf);
      const lse = logSumExp(buf);
      logLikelihood += lse;
      for (let c = 0; c < k; c++) resp[i][c] = Math.exp(buf[c] - lse);
    }
    if (logLikelihood / n - prev / n < tol && iterations > 1) {
      converged = true;
      break;
    }
    prev = logLikelihood;
    // M step
    for (let c = 0; c < k; c++) {
      let nk = 0;
      const mu = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const w = resp[i][c];
        nk += w;
        const r = rows[i];
        for (let j = 0; j < d; j++) mu[j] += w * r[j];
      }
      // A component that lost every row keeps its place (and its old mean) at a tiny weight.
      if (nk < 1e-8) {
        p.weights[c] = 1e-8 / n;
        continue;
      }
      for (let j = 0; j < d; j++) mu[j] /= nk;
      const v = new Float64Array(d);
      for (let i = 0; i < n; i++) {
        const w = resp[i][c];
        if (w === 0) continue;
        const r = rows[i];
        for (let j = 0; j < d; j++) v[j] += w * (r[j] - mu[j]) ** 2;
      }
      p.weights[c] = nk / n;
      p.means[c] = [...mu];
      p.variances[c] = Array.from(v, (s, j) => Math.max(s / nk, floor[j]));
    }
  }
  const labels = resp.map((r) => argmax(r));
  return { k, ...p, logLikelihood, iterations, converged, labels };
}
