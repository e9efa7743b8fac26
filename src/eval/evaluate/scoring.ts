/**
 * The simplest honest way for a vector column to do each task, every reference and threshold
 * fitted on training-fold data only (docs/evaluate.md):
 *
 * - detection: distance to the normal profile — mean distance to the k nearest training-normal
 *   windows that do not share time with the query; alarm above the DETECTION_QUANTILE of the
 *   same score over the training-normal windows themselves (each left out of its own reference);
 * - classification: nearest class prototype (mean of the training cases of each type);
 * - localization: deviation ranking — each service's view against that service's training
 *   reference (normal windows and training cases where it was not the root cause).
 */
import { columnRobustScales, KSmallest, quantile, robustScale } from '../../stats/index.js';
import { unit } from './represent.js';

export const DETECTION_K = 5;
export const DETECTION_QUANTILE = 0.99;
/** a robust z beyond this is as good as infinite (spiky, quantised features) */
export const Z_CLIP = 10;
/** features compared per dimension need this many reference values */
export const MIN_REFERENCE = 3;
/** localization score of a service: the mean of its largest |z| over this many features */
export const TOP_FEATURES = 3;

/** Per-dimension robust location and scale over the finite values of reference rows. */
export interface FeatureStats {
  loc: Float64Array;
  scale: Float64Array;
}

export function featureStats(rows: readonly Float64Array[]): FeatureStats | undefined {
  if (rows.length === 0) return undefined;
  const { loc, scale } = columnRobustScales(rows, MIN_REFERENCE);
  return { loc: Float64Array.from(loc), scale: Float64Array.from(scale) };
}

/** Clipped robust z per dimension; NaN where the row or the reference has no value. */
export function zOf(x: Float64Array, st: FeatureStats): Float64Array {
  const z = new Float64Array(x.length);
  for (let j = 0; j < x.length; j++) {
    const v = (x[j] - st.loc[j]) / st.scale[j];
    z[j] = Number.isFinite(v) ? Math.max(-Z_CLIP, Math.min(Z_CLIP, v)) : NaN;
  }
  return z;
}

/** Dense row for distance work: z with NaN as 0 (no evidence either way). */
function dense(z: Float64Array): Float64Array {
  for (let j = 0; j < z.length; j++) if (!Number.isFinite(z[j])) z[j] = 0;
  return z;
}

/** Rows made comparable: features standardised by `stats` (each z times its column's weight when given), vectors as unit vectors. */
export function prepareRows(kind: 'features' | 'vector', rows: readonly Float64Array[], stats?: FeatureStats, weights?: Float64Array): Float64Array[] {
  return rows.map((r) => (kind === 'features' ? weigh(dense(zOf(r, stats as FeatureStats)), weights) : unit(Float64Array.from(r))));
}

function weigh(z: Float64Array, w: Float64Array | undefined): Float64Array {
  if (w) for (let j = 0; j < z.length; j++) z[j] *= w[j];
  return z;
}

export function distance(kind: 'features' | 'vector', a: Float64Array, b: Float64Array): number {
  let s = 0;
  if (kind === 'vector') {
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return 1 - s;
  }
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return Math.sqrt(s / Math.max(1, a.length));
}

export interface TimedRow {
  row: Float64Array;
  start: number;
  end: number;
  source: string;
}

const overlapsT = (a: TimedRow, b: TimedRow) => a.source === b.source && a.start < b.end && b.start < a.end;

/** Mean distance to the k nearest reference rows that do not share time with the query. */
export function knnScore(kind: 'features' | 'vector', q: TimedRow, refs: readonly TimedRow[], k = DETECTION_K, skip?: number): number {
  const best = new KSmallest(k);
  refs.forEach((r, i) => {
    if (i !== skip && !overlapsT(q, r)) best.offer(distance(kind, q.row, r.row));
  });
  return best.mean();
}

/** The alarm threshold: the DETECTION_QUANTILE of the references' own leave-one-out scores. */
export function detectionThreshold(kind: 'features' | 'vector', refs: readonly TimedRow[], q = DETECTION_QUANTILE): number {
  return quantile(refs.map((r, i) => knnScore(kind, r, refs, DETECTION_K, i)), q);
}

/** At most `n` items, evenly spaced (deterministic; keeps the time spread of a long list). */
export function evenly<T>(a: readonly T[], n: number): T[] {
  if (a.length <= n) return [...a];
  return Array.from({ length: n }, (_, i) => a[Math.floor((i * a.length) / n)]);
}

/** Classes ranked by distance of `x` to their prototypes (mean of prepared training rows). */
export function prototypes(kind: 'features' | 'vector', rows: readonly Float64Array[], labels: readonly string[]): Map<string, Float64Array> {
  const sums = new Map<string, { s: Float64Array; n: number }>();
  rows.forEach((r, i) => {
    let e = sums.get(labels[i]);
    if (!e) sums.set(labels[i], (e = { s: new Float64Array(r.length), n: 0 }));
    for (let j = 0; j < r.length; j++) e.s[j] += r[j];
    e.n++;
  });
  const out = new Map<string, Float64Array>();
  for (const [c, e] of sums) {
    const m = e.s.map((v) => v / e.n);
    out.set(c, kind === 'vector' ? unit(m) : m);
  }
  return out;
}

export function rankByPrototype(kind: 'features' | 'vector', x: Float64Array, protos: ReadonlyMap<string, Float64Array>): string[] {
  return [...protos].map(([c, p]) => ({ c, d: distance(kind, x, p) })).sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : 1)).map((e) => e.c);
}

/** A service's training reference, fitted once per fold. */
export type ServiceReference = { kind: 'features'; stats: FeatureStats } | { kind: 'vector'; centroid: Float64Array; loc: number; scale: number };

export function fitServiceReference(kind: 'features' | 'vector', rows: readonly Float64Array[]): ServiceReference | undefined {
  if (rows.length < MIN_REFERENCE) return undefined;
  if (kind === 'features') {
    const stats = featureStats(rows);
    return stats ? { kind, stats } : undefined;
  }
  const c = new Float64Array(rows[0].length);
  for (const r of rows) for (let j = 0; j < c.length; j++) c[j] += r[j];
  const centroid = unit(c);
  const ds = rows.map((r) => distance('vector', r, centroid));
  const s = robustScale(ds, 0.05, 1e-6);
  return { kind, centroid, loc: s.location, scale: s.scale };
}

/**
 * How far a service's view is from its reference (higher: more suspicious); −Infinity without
 * evidence. With column weights, each |z| is weighed and a weight-0 column is left out.
 */
export function deviation(x: Float64Array | undefined, ref: ServiceReference | undefined, weights?: Float64Array): number {
  if (!x || !ref) return -Infinity;
  if (ref.kind === 'vector') return (distance('vector', x, ref.centroid) - ref.loc) / ref.scale;
  const z = zOf(x, ref.stats);
  const a: number[] = [];
  z.forEach((v, j) => {
    const w = weights ? weights[j] : 1;
    if (Number.isFinite(v) && w > 0) a.push(w * Math.abs(v));
  });
  if (a.length === 0) return -Infinity;
  a.sort((p, q) => q - p);
  const top = a.slice(0, TOP_FEATURES);
  return top.reduce((s, v) => s + v, 0) / top.length;
}
