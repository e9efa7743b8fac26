/**
 * State-aware detection on numeric features: a per-feature robust z against training-normal
 * windows, each feature calibrated by its own normal tail, the window's score the largest
 * calibrated |z| (docs/tasks.md).
 *
 * Why not a distance over all features: most features are quiet most of the time, so a fault
 * that moves two of them is diluted by the noise of the other forty, and a spiky feature (a
 * latency percentile) dominates any sum. Dividing each |z| by that feature's own 0.99 quantile
 * over normal windows puts every feature on the scale "how far beyond its usual extremes", and the
 * max then asks "is anything unusually far out".
 *
 * States: each runtime state has its own location (median per feature, shrunk toward the global
 * one by w = n/(n + n0)) — the regime's baseline — and its own alarm threshold, the `quantile` of
 * the normal scores of its members shrunk toward the global threshold by the same w. Scale and
 * tail calibration stay global: a state with a hundred windows cannot estimate a feature's tail,
 * and a tight per-state tail is what made rare states alarm on ordinary noise. With one state this
 * is the global detector (`tuned-global`). Everything is fitted on training-normal rows only and
 * serialises to JSON (the tasks file).
 *
 * Feature selection (`select`, optional): the max over every feature lets the noisiest of forty
 * set the normal scores' tail, so a fault moving one informative feature a little stays under the
 * threshold. Given training-fold fault windows (`positives`), only the features whose calibrated
 * |z| ranks a fault window above a normal reference with probability (AUC) ≥ `select` are kept.
 * It reads which *kinds* of signal go with faults (system-level features, not services), and the
 * cutoff is a detector candidate the inner cross-validation chooses (docs/tasks.md, "Feature
 * selection").
 */
import { columnRobustScales, quantile } from '../../stats/index.js';
import { shrinkWeight, SHRINKAGE_N0, type FoldStates } from './adapter.js';
import { runsQuantile, type RunSpan } from './runs-quantile.js';

/** a feature's |z| is divided by its own normal-window quantile at this level */
export const ZDETECT_TAIL = 0.99;
/** the alarm threshold: this quantile of the training-normal windows' scores */
export const ZDETECT_QUANTILE = 0.99;
/** features needing this many finite reference values */
export const ZDETECT_MIN_REFERENCE = 3;

export interface ZStateModel {
  /** per-feature location (NaN: the feature is not compared) */
  loc: number[];
  threshold: number;
  /** shrinkage weight toward the global model, and training rows */
  weight: number;
  n: number;
}

export interface ZDetectorJSON {
  kind: 'robust-z-max';
  tail: number;
  quantile: number;
  n0: number;
  scale: number[];
  cal: number[];
  /** features compared (absent: all); set by `select` */
  keep?: boolean[];
  /** the AUC cutoff the features were selected with */
  select?: number;
  global: ZStateModel;
  states: ZStateModel[];
}

export interface ZDetectorOptions {
  tail?: number;
  quantile?: number;
  n0?: number;
  /** keep only the features whose AUC (fault windows against the normal rows) is at least this */
  select?: number;
  /** training-fold fault windows, for `select` */
  positives?: readonly Float64Array[];
  /**
   * The reference rows' time spans: when given, the tail quantiles (each feature's calibration
   * and the thresholds) count a run of overlapping references above the level once
   * (`runsQuantile`, runs-quantile.ts) — one unusual episode of normal time cannot be the tail.
   */
  spans?: readonly RunSpan[];
}

/** features need this many finite fault-window values to be selected */
export const ZDETECT_MIN_POSITIVES = 5;

/** P(a > b) + ½ P(a = b) over all pairs (Mann–Whitney, by ranks). */
export function aucOf(a: readonly number[], b: readonly number[]): number {
  if (a.length === 0 || b.length === 0) return NaN;
  const all = [...a.map((v) => ({ v, p: 1 })), ...b.map((v) => ({ v, p: 0 }))].sort((x, y) => x.v - y.v);
  let rankSum = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j].v === all[i].v) j++;
    const mid = (i + j + 1) / 2;
    for (let t = i; t < j; t++) if (all[t].p === 1) rankSum += mid;
    i = j;
  }
  return (rankSum - (a.length * (a.length + 1)) / 2) / (a.length * b.length);
}

const finiteOr = (v: number, d: number) => (Number.isFinite(v) ? v : d);
// JSON has no NaN: missing values are saved as null and read back as NaN
const toJson = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : null)) as unknown as number[];
const fromJson = (a: readonly (number | null)[]) => a.map((v) => (v === null ? NaN : v));

export class ZDetector {
  private constructor(private readonly doc: ZDetectorJSON) {}

  get k(): number {
    return this.doc.states.length;
  }
  get perState(): readonly ZStateModel[] {
    return this.doc.states;
  }
  get globalThreshold(): number {
    return this.doc.global.threshold;
  }

  /** Fits on training-normal rows; `states.labels[i]` is the state of `rows[i]`. */
  static fit(rows: readonly Float64Array[], states: FoldStates, opts: ZDetectorOptions = {}): ZDetector {
    if (rows.length === 0) throw new Error('ZDetector.fit: no reference rows');
    const tail = opts.tail ?? ZDETECT_TAIL;
    const q = opts.quantile ?? ZDETECT_QUANTILE;
    const n0 = opts.n0 ?? SHRINKAGE_N0;
    const d = rows[0].length;
    const { loc, scale } = columnRobustScales(rows, ZDETECT_MIN_REFERENCE);
    // per-state locations, shrunk toward the global one (one state: exactly the global model)
    const members: number[][] = Array.from({ length: states.k }, () => []);
    states.labels.forEach((s, i) => members[s]?.push(i));
    const weights = members.map((m) => (states.k === 1 ? 0 : shrinkWeight(m.length, n0)));
    const stateLoc = members.map((m, s) => {
      if (weights[s] === 0) return loc;
      return loc.map((g, j) => {
        if (!Number.isFinite(g)) return g;
        const own = m.map((i) => rows[i][j]).filter(Number.isFinite);
        return own.length < ZDETECT_MIN_REFERENCE ? g : weights[s] * quantile(own, 0.5) + (1 - weights[s]) * g;
      });
    });
    const rowState = (i: number) => states.labels[i] ?? 0;
    // the tail quantile over reference rows `at` (all when absent): plain, or by runs (`spans`)
    const spans = opts.spans;
    const tailOf = (vals: readonly number[], level: number, at?: readonly number[]) => (spans ? runsQuantile(vals, at ? at.map((i) => spans[i]) : spans, level) : quantile(vals, level));
    const absZ = (x: ArrayLike<number>, l: readonly number[]) => Array.from({ length: d }, (_, j) => Math.abs((x[j] - l[j]) / scale[j]));
    const refZ = rows.map((r, i) => absZ(r, stateLoc[rowState(i)]));
    const cal = Array.from({ length: d }, (_, j) => Math.max(1, finiteOr(tailOf(refZ.map((z) => z[j]), tail), 1)));
    let keep: boolean[] | undefined;
    if (opts.select !== undefined) {
      const cut = opts.select;
      // both sides against the global location: a fault window's state is not known here, and
      // normal rows measured from their own state's location would look quieter than faults
      // measured from the global one, letting noise features through (so a detector with states
      // selects the same features as the global one)
      const posZ = (opts.positives ?? []).map((r) => absZ(r, loc));
      const globalRefZ = states.k === 1 ? refZ : rows.map((r) => absZ(r, loc));
      keep = Array.from({ length: d }, (_, j) => {
        const a = posZ.map((z) => z[j]).filter(Number.isFinite);
        const b = globalRefZ.map((z) => z[j]).filter(Number.isFinite);
        return a.length >= ZDETECT_MIN_POSITIVES && b.length >= ZDETECT_MIN_REFERENCE && aucOf(a, b) >= cut;
      });
    }
    const scoreZ = (z: readonly number[]) => {
      let best = -Infinity;
      for (let j = 0; j < d; j++) {
        if (keep && !keep[j]) continue;
        const v = z[j] / cal[j];
        if (Number.isFinite(v) && v > best) best = v;
      }
      return best === -Infinity ? NaN : best;
    };
    const refScores = refZ.map(scoreZ);
    const globalThr = tailOf(refScores, q);
    const global: ZStateModel = { loc, threshold: globalThr, weight: 0, n: rows.length };
    const perState = members.map((m, s): ZStateModel => {
      const w = weights[s];
      if (w === 0) return { loc, threshold: globalThr, weight: 0, n: m.length };
      const own = tailOf(m.map((i) => refScores[i]), q, m);
      return { loc: stateLoc[s], threshold: Number.isFinite(own) ? w * own + (1 - w) * globalThr : globalThr, weight: w, n: m.length };
    });
    return new ZDetector({ kind: 'robust-z-max', tail, quantile: q, n0, scale, cal, ...(keep ? { keep, select: opts.select } : {}), global, states: perState });
  }

  /** Features compared (selection), or undefined when all are. */
  get kept(): readonly boolean[] | undefined {
    return this.doc.keep;
  }

  /** The largest calibrated |z| of a row in state `state` (NaN when no feature can be compared). */
  score(x: ArrayLike<number>, state: number): number {
    const m = this.doc.states[state] ?? this.doc.global;
    const { scale, cal, keep } = this.doc;
    let best = -Infinity;
    for (let j = 0; j < scale.length; j++) {
      if (keep && !keep[j]) continue;
      const v = Math.abs((x[j] - m.loc[j]) / scale[j]) / cal[j];
      if (Number.isFinite(v) && v > best) best = v;
    }
    return best === -Infinity ? NaN : best;
  }

  threshold(state: number): number {
    return (this.doc.states[state] ?? this.doc.global).threshold;
  }

  alarm(x: ArrayLike<number>, state: number): boolean {
    const v = this.score(x, state);
    return Number.isFinite(v) && v > this.threshold(state);
  }

  /** The feature that sets the score (its index), for an operator reading an alarm. */
  top(x: ArrayLike<number>, state: number): number {
    const m = this.doc.states[state] ?? this.doc.global;
    let best = -Infinity;
    let at = -1;
    for (let j = 0; j < this.doc.scale.length; j++) {
      if (this.doc.keep && !this.doc.keep[j]) continue;
      const v = Math.abs((x[j] - m.loc[j]) / this.doc.scale[j]) / this.doc.cal[j];
      if (Number.isFinite(v) && v > best) {
        best = v;
        at = j;
      }
    }
    return at;
  }

  toJSON(): ZDetectorJSON {
    const m = (s: ZStateModel): ZStateModel => ({ ...s, loc: toJson(s.loc), threshold: (Number.isFinite(s.threshold) ? s.threshold : null) as number });
    return { ...this.doc, scale: toJson(this.doc.scale), cal: toJson(this.doc.cal), global: m(this.doc.global), states: this.doc.states.map(m) };
  }

  static fromJSON(j: ZDetectorJSON): ZDetector {
    const m = (s: ZStateModel): ZStateModel => ({ ...s, loc: fromJson(s.loc as (number | null)[]), threshold: s.threshold ?? NaN });
    return new ZDetector({ ...j, scale: fromJson(j.scale as (number | null)[]), cal: fromJson(j.cal as (number | null)[]), global: m(j.global), states: j.states.map(m) });
  }
}
