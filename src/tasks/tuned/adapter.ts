/**
 * What the state-aware task models share: runtime states fitted on training rows only, and the
 * shrinkage of a per-state estimate toward the global one (docs/tasks.md).
 *
 * Shrinkage: a state with n training rows gets weight w = n / (n + n0) on its own estimate and
 * 1 − w on the global one. n0 = SHRINKAGE_N0 (40 windows): a state seen for 40 windows is half its
 * own model, one seen for 400 is 91 % its own, one seen for 4 is almost the global model — so a
 * rare state cannot set a threshold from a handful of quiet windows and then alarm on ordinary noise.
 */
import { StatePartition } from '../../states/index.js';

export const SHRINKAGE_N0 = 40;
/** k is chosen by silhouette over 2..STATES_K_MAX (capped: a few states, each with enough rows). */
export const STATES_K_MAX = 4;
/** fewer training rows than this: one state (the global model) */
export const STATES_MIN_ROWS = 20;

export function shrinkWeight(n: number, n0 = SHRINKAGE_N0): number {
  return n <= 0 ? 0 : n / (n + n0);
}

/** Runtime states of a fold: fitted on training rows, assigning any row. */
export interface FoldStates {
  k: number;
  /** state of each training row */
  labels: number[];
  assign(rows: readonly Float64Array[]): number[];
}

/** One state for everything: what the `-global` models use, and the fallback when states cannot be found. */
export function singleState(n: number): FoldStates {
  return { k: 1, labels: new Array<number>(n).fill(0), assign: (rows) => rows.map(() => 0) };
}

/**
 * k-means states of training rows, k by silhouette over 2..kMax; one state when the rows are too
 * few or the clustering fails (constant rows). Label-free: rows only, never a label.
 */
export function fitFoldStates(rows: readonly Float64Array[], opts: { kMax?: number; seed?: number; k?: number } = {}): FoldStates {
  if (rows.length < STATES_MIN_ROWS) return singleState(rows.length);
  try {
    const p = StatePartition.fit(rows, { method: 'kmeans', k: opts.k, kMin: 2, kMax: opts.kMax ?? STATES_K_MAX, seed: opts.seed ?? 0 });
    return { k: p.k, labels: [...p.labels], assign: (r) => (r.length === 0 ? [] : p.assign(r).states) };
  } catch {
    return singleState(rows.length);
  }
}
