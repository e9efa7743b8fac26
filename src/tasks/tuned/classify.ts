/**
 * State-aware classification: prototypes (class means) of fault types per runtime state, falling
 * back to the global prototype of a type where the state has fewer than `minPerState` training
 * examples of it, and otherwise shrunk toward it: w · state mean + (1 − w) · global mean with
 * w = n / (n + n0), n0 = TUNED_PROTOTYPE_N0 (a type seen 10 times in a state is half its own).
 * Every type seen in training is ranked for every query (MRR over types).
 */
import { shrinkWeight, type FoldStates } from './adapter.js';

export const TUNED_MIN_PER_STATE = 3;
export const TUNED_PROTOTYPE_N0 = 10;

export interface TunedClassifierOptions {
  distance: (a: Float64Array, b: Float64Array) => number;
  /** applied to every prototype (e.g. to unit length for cosine geometry) */
  normalize?: (v: Float64Array) => Float64Array;
  minPerState?: number;
  n0?: number;
}

export interface TunedClassifier {
  types: string[];
  /** the prototypes: global, and per state (what the tasks file saves) */
  global: Map<string, Float64Array>;
  perState: Map<string, Float64Array>[];
  /** types ranked nearest first for a row in state `state` */
  rank(x: Float64Array, state: number): string[];
}

function mean(rows: readonly Float64Array[], norm?: (v: Float64Array) => Float64Array): Float64Array {
  const m = new Float64Array(rows[0].length);
  for (const r of rows) for (let j = 0; j < m.length; j++) m[j] += r[j];
  for (let j = 0; j < m.length; j++) m[j] /= rows.length;
  return norm ? norm(m) : m;
}

export function fitTunedClassifier(rows: readonly Float64Array[], labels: readonly string[], states: FoldStates, opts: TunedClassifierOptions): TunedClassifier {
  const m = opts.minPerState ?? TUNED_MIN_PER_STATE;
  const types = [...new Set(labels)].sort();
  const global = new Map(types.map((t) => [t, mean(rows.filter((_, i) => labels[i] === t), opts.normalize)]));
  const perState: Map<string, Float64Array>[] = Array.from({ length: states.k }, (_, s) => {
    const out = new Map<string, Float64Array>();
    for (const t of types) {
      const own = rows.filter((_, i) => labels[i] === t && states.labels[i] === s);
      const g = global.get(t) as Float64Array;
      if (own.length < m) {
        out.set(t, g);
        continue;
      }
      const w = shrinkWeight(own.length, opts.n0 ?? TUNED_PROTOTYPE_N0);
      const o = mean(own);
      const mix = o.map((v, j) => w * v + (1 - w) * g[j]);
      out.set(t, opts.normalize ? opts.normalize(mix) : mix);
    }
    return out;
  });
  return {
    types,
    global,
    perState,
    rank: (x, s) => {
      const protos = perState[s] ?? global;
      return types.map((t) => ({ t, d: opts.distance(x, protos.get(t) as Float64Array) })).sort((a, b) => a.d - b.d || (a.t < b.t ? -1 : 1)).map((e) => e.t);
    },
  };
}

/**
 * Per dimension, the share of its variance the types explain (the correlation ratio η²: between-
 * type over total variance), from training rows only: 0 for a dimension that does not differ
 * between types, 1 for one that only does. `adjusted: true` gives the bias-corrected ratio
 * ε² = η² − (k − 1)/(n − k) · (1 − η²), floored at 0 (Kelley's epsilon squared): η² of a dimension
 * the types do not explain is (k − 1)/(n − 1) on average, 0.21 with 7 types and 30 cases, and ε²
 * removes that chance share. Not the default: measured 2026-12-07 (docs/tasks.md, "Bias-corrected
 * weights"), it left both held-out simulator runs unchanged and cost Nezha one case.
 */
export function correlationRatios(rows: readonly Float64Array[], labels: readonly string[], opts: { adjusted?: boolean } = {}): Float64Array {
  const d = rows[0]?.length ?? 0;
  const byType = new Map<string, number[]>();
  labels.forEach((l, i) => {
    let a = byType.get(l);
    if (!a) byType.set(l, (a = []));
    a.push(i);
  });
  const out = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    let mean = 0;
    for (const r of rows) mean += r[j];
    mean /= rows.length;
    let total = 0;
    let between = 0;
    for (const r of rows) total += (r[j] - mean) ** 2;
    for (const idx of byType.values()) {
      let m = 0;
      for (const i of idx) m += rows[i][j];
      m /= idx.length;
      between += idx.length * (m - mean) ** 2;
    }
    out[j] = total > 0 ? between / total : 0;
  }
  const k = byType.size;
  const n = rows.length;
  // ε²: with every case its own type (n ≤ k) nothing is left to correct against — η² as it is
  if (opts.adjusted === true && n > k) for (let j = 0; j < d; j++) out[j] = Math.max(0, out[j] - ((k - 1) / (n - k)) * (1 - out[j]));
  return out;
}

/** RMS distance with per-dimension weights: √(Σ w_j d_j² / Σ w_j). */
export function weightedDistance(w: Float64Array): (a: Float64Array, b: Float64Array) => number {
  let sw = 0;
  for (const v of w) sw += v;
  return (a, b) => {
    let s = 0;
    for (let j = 0; j < w.length; j++) if (w[j] > 0) s += w[j] * (a[j] - b[j]) ** 2;
    return Math.sqrt(s / Math.max(sw, 1e-12));
  };
}
