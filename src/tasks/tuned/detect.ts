/**
 * State-aware detection: a kNN-distance density model of normal windows per runtime state, with
 * a per-state threshold from the training rows and shrinkage toward the global model.
 *
 * - score of a window in state s: w_s · kNN(state-s references) + (1 − w_s) · kNN(all references),
 *   w_s = n_s / (n_s + n0) (adapter.ts); kNN = mean distance to the k nearest references that do
 *   not share time with the window (overlapping windows would be their own neighbours);
 * - threshold of state s: the `quantile` of the same score over state s's own references, each
 *   left out of its own neighbours, shrunk toward the global threshold by the same w_s. A state
 *   with no references uses the global model alone.
 * With one state this is exactly the global kNN detector (`tuned-global`).
 */
import { KSmallest, quantile } from '../../stats/index.js';
import { shrinkWeight, SHRINKAGE_N0, type FoldStates } from './adapter.js';
import { runsQuantile } from './runs-quantile.js';

export const TUNED_DETECTION_K = 5;
export const TUNED_DETECTION_QUANTILE = 0.99;

export interface DetectorRow {
  row: Float64Array;
  start: number;
  end: number;
  source: string;
}

export interface TunedDetectorOptions {
  distance: (a: Float64Array, b: Float64Array) => number;
  k?: number;
  quantile?: number;
  n0?: number;
  /** thresholds by runs: overlapping references above the level count once (runs-quantile.ts) */
  runs?: boolean;
}

export interface TunedDetector {
  states: FoldStates;
  /** per state: threshold, shrinkage weight, reference count */
  perState: { threshold: number; weight: number; n: number }[];
  globalThreshold: number;
  score(q: DetectorRow, state: number): number;
  alarm(q: DetectorRow, state: number): boolean;
}

const overlaps = (a: DetectorRow, b: DetectorRow) => a.source === b.source && a.start < b.end && b.start < a.end;

function knn(q: DetectorRow, refs: readonly DetectorRow[], idx: readonly number[], k: number, distance: TunedDetectorOptions['distance'], skip?: number): number {
  const best = new KSmallest(k);
  for (const i of idx) {
    if (i !== skip && !overlaps(q, refs[i])) best.offer(distance(q.row, refs[i].row));
  }
  return best.mean();
}

/** Fits on training-normal references; `states.labels[i]` is the state of `refs[i]`. */
export function fitTunedDetector(refs: readonly DetectorRow[], states: FoldStates, opts: TunedDetectorOptions): TunedDetector {
  const k = opts.k ?? TUNED_DETECTION_K;
  const q = opts.quantile ?? TUNED_DETECTION_QUANTILE;
  const n0 = opts.n0 ?? SHRINKAGE_N0;
  const all = refs.map((_, i) => i);
  const members: number[][] = Array.from({ length: states.k }, () => []);
  states.labels.forEach((s, i) => members[s].push(i));
  const globalLoo = refs.map((r, i) => knn(r, refs, all, k, opts.distance, i));
  // the tail over references `at`: plain, or counting a run of overlapping references once
  const tailOf = (vals: readonly number[], at: readonly number[]) => (opts.runs ? runsQuantile(vals, at.map((i) => refs[i]), q) : quantile(vals.filter(Number.isFinite), q));
  const globalThreshold = tailOf(globalLoo, all);
  // one state: the state model is the global model (w = 0 keeps it exact)
  const weightOf = (n: number) => (states.k === 1 ? 0 : shrinkWeight(n, n0));
  const perState = members.map((m) => {
    const weight = weightOf(m.length);
    if (weight === 0 || m.length <= k) return { threshold: globalThreshold, weight: 0, n: m.length };
    const loo = m.map((i) => weight * knn(refs[i], refs, m, k, opts.distance, i) + (1 - weight) * globalLoo[i]);
    const own = loo.some(Number.isFinite) ? tailOf(loo, m) : globalThreshold;
    return { threshold: weight * own + (1 - weight) * globalThreshold, weight, n: m.length };
  });
  const score = (x: DetectorRow, s: number): number => {
    const g = knn(x, refs, all, k, opts.distance);
    const ps = perState[s];
    if (!ps || ps.weight === 0) return g;
    return ps.weight * knn(x, refs, members[s], k, opts.distance) + (1 - ps.weight) * g;
  };
  return {
    states,
    perState,
    globalThreshold,
    score,
    alarm: (x, s) => {
      const v = score(x, s);
      const t = perState[s]?.threshold ?? globalThreshold;
      return Number.isFinite(v) && v > t;
    },
  };
}
