/**
 * Choosing the number of states when the user gives none: for k-means the mean silhouette
 * (Euclidean, on the standardised rows the clustering saw), for the mixture the BIC; k over
 * 2..8 by default. The silhouette is O(n²) in the rows, so it is measured on a seeded sample of
 * at most `silhouetteSample` rows — the k-means fits themselves use every row.
 */
import { silhouette } from '../stats/index.js';
import { SeededRng } from '../telemetry/index.js';
import { fitGmm, gmmBic, type GmmFit } from './gmm.js';
import { fitKMeans, type KMeansFit } from './kmeans.js';
import { squaredDistance } from './scale.js';

export type ClusterMethod = 'kmeans' | 'gmm';

export interface ChooseKOptions {
  method: ClusterMethod;
  kMin?: number;
  kMax?: number;
  seed?: number;
  silhouetteSample?: number;
}

export interface KScore {
  k: number;
  /** Silhouette (higher is better) for k-means, BIC (lower is better) for the mixture. */
  score: number;
}

export interface ChosenK {
  k: number;
  criterion: 'silhouette' | 'bic';
  scores: KScore[];
  fit: KMeansFit | GmmFit;
}

/** Mean silhouette of a labelling under Euclidean distance, on a seeded sample of the rows. */
export function euclideanSilhouette(rows: readonly number[][], labels: readonly number[], opts: { seed?: number; sample?: number } = {}): number {
  const limit = opts.sample ?? 1500;
  let idx = rows.map((_, i) => i);
  if (idx.length > limit) idx = new SeededRng(opts.seed ?? 0, 'silhouette').shuffle(idx).slice(0, limit).sort((a, b) => a - b);
  const n = idx.length;
  const dist = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = a + 1; b < n; b++) {
      const v = Math.sqrt(squaredDistance(rows[idx[a]], rows[idx[b]]));
      dist[a * n + b] = v;
      dist[b * n + a] = v;
    }
  }
  // stats' silhouette reads the rows only to build a distance matrix, which is given here.
  return silhouette(idx.map(() => new Float32Array(0)), idx.map((i) => String(labels[i])), dist);
}

export function chooseK(rows: number[][], opts: ChooseKOptions): ChosenK {
  const kMin = Math.max(2, opts.kMin ?? 2);
  const kMax = Math.min(opts.kMax ?? 8, rows.length - 1);
  if (kMax < kMin) throw new RangeError(`chooseK: ${rows.length} rows are too few to compare ${kMin}..${opts.kMax ?? 8} states`);
  const scores: KScore[] = [];
  let best: { k: number; score: number; fit: KMeansFit | GmmFit } | undefined;
  for (let k = kMin; k <= kMax; k++) {
    if (opts.method === 'kmeans') {
      const fit = fitKMeans(rows, k, { seed: opts.seed });
      const s = euclideanSilhouette(rows, fit.labels, { seed: opts.seed, sample: opts.silhouetteSample });
      const score = Number.isFinite(s) ? s : -1;
      scores.push({ k, score });
      if (!best || score > best.score + 1e-12) best = { k, score, fit };
    } else {
      const fit = fitGmm(rows, k, { seed: opts.seed });
      const score = gmmBic(fit, rows.length);
      scores.push({ k, score });
      if (!best || score < best.score - 1e-9) best = { k, score, fit };
    }
  }
  return { k: best!.k, criterion: opts.method === 'kmeans' ? 'silhouette' : 'bic', scores, fit: best!.fit };
}
