/**
 * Seeded k-means through ml-kmeans (k-means++ initialisation; its `seed` option seeds the
 * initialisation's generator, the only random step). Several restarts with derived seeds, the
 * lowest inertia wins, so one unlucky start does not decide the states.
 */
import { kmeans as mlKmeans } from 'ml-kmeans';
import { squaredDistance } from './scale.js';

export interface KMeansOptions {
  seed?: number;
  /** Independent k-means++ starts (default 4). */
  restarts?: number;
  maxIterations?: number;
}

export interface KMeansFit {
  k: number;
  centroids: number[][];
  /** Nearest final centroid of every row (so assigning the training rows gives these back). */
  labels: number[];
  /** Sum of squared distances to the nearest centroid. */
  inertia: number;
  iterations: number;
}

/** Index of the nearest centroid (ties: the lowest index) and its squared distance. */
export function nearestCentroid(row: ArrayLike<number>, centroids: readonly ArrayLike<number>[]): { index: number; d2: number } {
  let index = 0;
  let d2 = Infinity;
  for (let c = 0; c < centroids.length; c++) {
    const d = squaredDistance(row, centroids[c]);
    if (d < d2) {
      d2 = d;
      index = c;
    }
  }
  return { index, d2 };
}

export function fitKMeans(rows: number[][], k: number, opts: KMeansOptions = {}): KMeansFit {
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`fitKMeans: k must be a positive integer, got ${k}`);
  if (rows.length < k) throw new RangeError(`fitKMeans: ${rows.length} rows cannot make ${k} clusters`);
  const seed = opts.seed ?? 0;
  const restarts = Math.max(1, opts.restarts ?? 4);
  let best: KMeansFit | undefined;
  for (let r = 0; r < restarts; r++) {
    const res = mlKmeans(rows, k, { initialization: 'kmeans++', seed: seed * 1009 + r + 1, maxIterations: opts.maxIterations ?? 300 });
    const centroids = res.centroids.map((c) => [...c]);
    const labels = new Array<number>(rows.length);
    let inertia = 0;
    for (let i = 0; i < rows.length; i++) {
      const n = nearestCentroid(rows[i], centroids);
      labels[i] = n.index;
      inertia += n.d2;
    }
    if (!best || inertia < best.inertia - 1e-9) best = { k, centroids, labels, inertia, iterations: res.iterations };
  }
  return best!;
}
