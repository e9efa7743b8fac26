/**
 * 2-D projections for embedding plots, seeded: UMAP through umap-js (its only randomness is the
 * generator we pass), and a small exact t-SNE (O(n²) per iteration; fine for the couple of
 * thousand points a plot shows). Same rows and seed → same coordinates.
 */
import { UMAP } from 'umap-js';
import { SeededRng } from '../telemetry/index.js';

export type ProjectionMethod = 'umap' | 'tsne';
export const PROJECTION_METHODS: readonly ProjectionMethod[] = ['umap', 'tsne'];

export interface ProjectOptions {
  method?: ProjectionMethod;
  seed?: number;
  /** UMAP neighbours (default 15) / t-SNE perplexity (default 30); both clipped to the row count. */
  neighbours?: number;
  /** UMAP epochs / t-SNE iterations (defaults 200 / 500). */
  iterations?: number;
}

/** Cosine distance, the distance every embedding measure here uses. */
function cosine(a: readonly number[], b: readonly number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  const d = Math.sqrt(aa * bb);
  return d > 0 ? 1 - ab / d : 1;
}

/** Rows projected to 2-D, one [x, y] per row. Fewer than 3 rows are placed on a line. */
export function project2d(rows: readonly Float32Array[], opts: ProjectOptions = {}): [number, number][] {
  const n = rows.length;
  if (n < 3) return rows.map((_, i) => [i, 0]);
  const rng = new SeededRng(opts.seed ?? 0, `project/${opts.method ?? 'umap'}`);
  const random = () => rng.next();
  const data = rows.map((r) => Array.from(r));
  if ((opts.method ?? 'umap') === 'tsne') return tsne(data, { perplexity: Math.min(opts.neighbours ?? 30, (n - 1) / 3), iterations: opts.iterations ?? 500, random });
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(opts.neighbours ?? 15, n - 1)), nEpochs: opts.iterations ?? 200, random, distanceFn: cosine, minDist: 0.1 });
  return umap.fit(data).map((p) => [p[0], p[1]]);
}

/** Binary search of the Gaussian precision that gives row i the wanted perplexity. */
function rowAffinities(d2: Float64Array, n: number, i: number, perplexity: number, out: Float64Array): void {
  const target = Math.log(perplexity);
  let beta = 1;
  let lo = -Infinity;
  let hi = Infinity;
  for (let iter = 0; iter < 60; iter++) {
    let sum = 0;
    let hsum = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) {
        out[j] = 0;
        continue;
      }
      const p = Math.exp(-d2[i * n + j] * beta);
      out[j] = p;
      sum += p;
      hsum += d2[i * n + j] * p;
    }
    if (sum === 0) sum = 1e-12;
    const h = Math.log(sum) + (beta * hsum) / sum;
    for (let j = 0; j < n; j++) out[j] /= sum;
    if (Math.abs(h - target) < 1e-5) return;
    if (h > target) {
      lo = beta;
      beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
    } else {
      hi = beta;
      beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2;
    }
  }
}

/** Exact t-SNE (van der Maaten & Hinton 2008) with early exaggeration and momentum. */
function tsne(data: number[][], opts: { perplexity: number; iterations: number; random: () => number }): [number, number][] {
  const n = data.length;
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const c = cosine(data[i], data[j]);
      d2[i * n + j] = d2[j * n + i] = c * c;
    }
  // Distances rescaled so the perplexity search starts near its answer whatever the spread.
  let mean = 0;
  for (let k = 0; k < d2.length; k++) mean += d2[k];
  mean /= n * (n - 1);
  if (mean > 0) for (let k = 0; k < d2.length; k++) d2[k] /= mean;
  const P = new Float64Array(n * n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    rowAffinities(d2, n, i, Math.max(2, opts.perplexity), row);
    for (let j = 0; j < n; j++) P[i * n + j] = row[j];
  }
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const p = Math.max((P[i * n + j] + P[j * n + i]) / (2 * n), 1e-12);
      P[i * n + j] = P[j * n + i] = p;
    }
  const Y = new Float64Array(2 * n);
  for (let k = 0; k < Y.length; k++) Y[k] = (opts.random() - 0.5) * 1e-3;
  const vel = new Float64Array(2 * n);
  const gains = new Float64Array(2 * n).fill(1);
  const Q = new Float64Array(n * n);
  const grad = new Float64Array(2 * n);
  const eta = Math.max(10, n / 12);
  for (let it = 0; it < opts.iterations; it++) {
    const exag = it < 100 ? 12 : 1;
    const momentum = it < 250 ? 0.5 : 0.8;
    let qsum = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const dx = Y[2 * i] - Y[2 * j];
        const dy = Y[2 * i + 1] - Y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy);
        Q[i * n + j] = Q[j * n + i] = q;
        qsum += 2 * q;
      }
    grad.fill(0);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const q = Q[i * n + j];
        const m = 4 * (exag * P[i * n + j] - q / qsum) * q;
        grad[2 * i] += m * (Y[2 * i] - Y[2 * j]);
        grad[2 * i + 1] += m * (Y[2 * i + 1] - Y[2 * j + 1]);
      }
    for (let k = 0; k < Y.length; k++) {
      gains[k] = Math.sign(grad[k]) === Math.sign(vel[k]) ? gains[k] * 0.8 : gains[k] + 0.2;
      if (gains[k] < 0.01) gains[k] = 0.01;
      vel[k] = momentum * vel[k] - eta * gains[k] * grad[k];
      Y[k] += vel[k];
    }
  }
  return Array.from({ length: n }, (_, i) => [Y[2 * i], Y[2 * i + 1]] as [number, number]);
}
