/**
 * The `tuned` columns (issue 12, deliverable 2, first step): the state-aware task models of
 * src/tasks/tuned fitted inside each fold on training folds only, and `tuned-global`, the same
 * models with one state. Detection: per-state kNN density + threshold with shrinkage;
 * classification: per-state prototypes over the window ⊕ the root-cause suspect's view;
 * localization: the evidence localizer's ranking unchanged (the column's own deviation ranking
 * when there is no evidence column). docs/tasks.md.
 *
 * States: k-means (k by silhouette, 2..4) fitted per fold on training rows of the same
 * representation — for detection the training-normal reference windows themselves; for
 * classification the training-fold normal windows with traces and logs masked (the training
 * cases when a protocol has no normal windows, as AIOps 2022).
 */
import type { EncodedWindow } from '../../model/index.js';
import { fitFoldStates, fitTunedClassifier, fitTunedDetector, singleState, STATES_MIN_ROWS, type DetectorRow, type FoldStates } from '../../tasks/index.js';
import { unit, type Representation } from './represent.js';
import { distance, evenly, featureStats, prepareRows, type FeatureStats } from './scoring.js';
import type { DetectionSet, EvalCase } from './setup.js';

/** Training-normal windows a tuned detector keeps per fold (as the raw columns). */
export const TUNED_DETECTION_REFERENCES = 400;
/** Training windows the classification states are fitted on per fold. */
export const TUNED_STATE_POOL = 400;

export const tunedName = (rep: Representation, global: boolean) => `${global ? 'tuned-global' : 'tuned'}${rep.name === 'raw-features' ? '' : `:${rep.name}`}`;

/** Representations that get tuned columns: raw features and each model (raw-backbone adds nothing new). */
export const tunedReps = (reps: readonly Representation[]) => reps.filter((r) => r.name !== 'raw-backbone');

export interface TunedDetection {
  alarms: (boolean | undefined)[];
  /** state of each scored window (states are fitted per fold: ids are ordered by size within a fold) */
  states: (number | undefined)[];
  /** per fold: each state's reference count, shrinkage weight and threshold (for the notes) */
  folds: { fold: number; perState: { n: number; weight: number; threshold: number }[]; globalThreshold: number }[];
}

export function tunedDetect(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], k: number, global: boolean, seed = 0): TunedDetection {
  const alarms: (boolean | undefined)[] = set.windows.map(() => undefined);
  const states: (number | undefined)[] = set.windows.map(() => undefined);
  const folds: TunedDetection['folds'] = [];
  const dist = (a: Float64Array, b: Float64Array) => distance(rep.kind, a, b);
  for (let f = 0; f < k; f++) {
    const refIdx = set.windows.map((w, i) => (set.folds[i] !== undefined && set.folds[i] !== f && !w.label.abnormal && rows[i] ? i : -1)).filter((i) => i >= 0);
    const pick = evenly(refIdx, TUNED_DETECTION_REFERENCES);
    if (pick.length < 10) continue;
    const raw = pick.map((i) => rows[i] as Float64Array);
    const stats = rep.kind === 'features' ? featureStats(raw) : undefined;
    const timed = (i: number, row: Float64Array): DetectorRow => ({ row, start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source });
    const refs = prepareRows(rep.kind, raw, stats).map((r, t) => timed(pick[t], r));
    const st = global ? singleState(refs.length) : fitFoldStates(refs.map((r) => r.row), { seed });
    const det = fitTunedDetector(refs, st, { distance: dist });
    folds.push({ fold: f, perState: det.perState, globalThreshold: det.globalThreshold });
    const test = set.windows.map((_, i) => i).filter((i) => set.folds[i] === f && rows[i]);
    const prepared = prepareRows(rep.kind, test.map((i) => rows[i] as Float64Array), stats);
    const s = global ? test.map(() => 0) : contextStates(set, rows, test, st, (rs) => prepareRows(rep.kind, rs, stats));
    test.forEach((i, t) => {
      states[i] = s[t];
      alarms[i] = det.alarm(timed(i, prepared[t]), s[t]);
    });
  }
  return { alarms, states, folds };
}

/** How far back the runtime state of a window is read (its context). */
export const STATE_CONTEXT_MS = 30 * 60_000;

/**
 * The runtime state a window is judged in: the most common state of the windows of the same
 * source that end before it starts, within STATE_CONTEXT_MS — the regime the system was in, which
 * a fault does not change (a fault's own window drifts toward a wider state, whose looser
 * threshold would hide it). Its own state when it has no context. Label-free: rows only.
 */
function contextStates(set: DetectionSet, rows: (Float64Array | undefined)[], test: readonly number[], st: FoldStates, prep: (rs: Float64Array[]) => Float64Array[]): number[] {
  if (st.k === 1) return test.map(() => 0);
  const all = set.windows.map((_, i) => i).filter((i) => rows[i]);
  const own = new Map<number, number>();
  const assigned = st.assign(prep(all.map((i) => rows[i] as Float64Array)));
  all.forEach((i, t) => own.set(i, assigned[t]));
  const bySource = new Map<string, number[]>();
  for (const i of all) {
    const src = set.windows[i].source;
    let l = bySource.get(src);
    if (!l) bySource.set(src, (l = []));
    l.push(i);
  }
  for (const l of bySource.values()) l.sort((a, b) => set.windows[a].window.end - set.windows[b].window.end);
  return test.map((i) => {
    const w = set.windows[i].window;
    const l = bySource.get(set.windows[i].source) ?? [];
    const counts = new Array<number>(st.k).fill(0);
    let any = false;
    // l is sorted by end: walk back from the last window ending at or before w.start
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (set.windows[l[mid]].window.end <= w.start) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo - 1; j >= 0 && set.windows[l[j]].window.end > w.start - STATE_CONTEXT_MS; j--) {
      counts[own.get(l[j]) as number]++;
      any = true;
    }
    if (!any) return own.get(i) as number;
    let best = 0;
    for (let s = 1; s < st.k; s++) if (counts[s] > counts[best]) best = s;
    return best;
  });
}

/** Row-wise window ⊕ suspect, each block made comparable first (features: robust z; vectors: unit). */
function joined(kind: Representation['kind'], a: Float64Array, b: Float64Array | undefined, widthB: number): Float64Array {
  const out = new Float64Array(a.length + widthB).fill(kind === 'features' ? NaN : 0);
  out.set(kind === 'vector' ? unit(Float64Array.from(a)) : a, 0);
  if (b) out.set(kind === 'vector' ? unit(Float64Array.from(b)) : b, a.length);
  return out;
}

export interface TunedClassifyInput {
  rep: Representation;
  train: readonly EvalCase[];
  test: readonly EvalCase[];
  /** the case window's system row */
  caseRow: (c: EvalCase) => Float64Array | undefined;
  /** the suspect's entity row of the case (the top service of the localization the column uses) */
  suspectRow: (c: EvalCase) => Float64Array | undefined;
  /** rows states are fitted on (training-fold normal windows, traces and logs masked) and the case's row in that space */
  statePool: readonly Float64Array[];
  stateRow: (c: EvalCase) => Float64Array | undefined;
  global: boolean;
  seed?: number;
}

export function tunedClassify(x: TunedClassifyInput): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const train = x.train.filter((c) => x.caseRow(c) !== undefined);
  if (train.length === 0) return out;
  const widthB = (() => {
    for (const c of [...x.train, ...x.test]) {
      const r = x.suspectRow(c);
      if (r) return r.length;
    }
    return 0;
  })();
  const rowOf = (c: EvalCase) => joined(x.rep.kind, x.caseRow(c) as Float64Array, x.suspectRow(c), widthB);
  const rawTrain = train.map(rowOf);
  const stats = x.rep.kind === 'features' ? featureStats(rawTrain) : undefined;
  const prep = (rs: Float64Array[]) => (x.rep.kind === 'features' ? prepareRows('features', rs, stats as FeatureStats) : rs.map((r) => unit(r)));
  // states: fitted on the pool (label-free rows of training folds), or on the training cases
  let states: FoldStates = singleState(train.length);
  let stateOf = (_c: EvalCase): number => 0;
  if (!x.global) {
    const own = x.statePool.length >= STATES_MIN_ROWS;
    const poolRaw = own ? [...x.statePool] : train.map((c) => x.stateRow(c)).filter((r): r is Float64Array => r !== undefined);
    const sStats = x.rep.kind === 'features' ? featureStats(poolRaw) : undefined;
    const sPrep = (rs: Float64Array[]) => prepareRows(x.rep.kind, rs, sStats);
    const fit = fitFoldStates(sPrep(poolRaw), { seed: x.seed });
    if (fit.k > 1) {
      stateOf = (c) => {
        const r = x.stateRow(c);
        return r ? fit.assign(sPrep([r]))[0] : 0;
      };
      states = { ...fit, labels: train.map((c) => stateOf(c)) };
    }
  }
  const clf = fitTunedClassifier(prep(rawTrain), train.map((c) => c.type), states, {
    distance: (a, b) => distance(x.rep.kind, a, b),
    normalize: x.rep.kind === 'vector' ? unit : undefined,
  });
  for (const c of x.test) {
    if (!x.caseRow(c)) continue;
    out.set(c.id, clf.rank(prep([rowOf(c)])[0], stateOf(c)));
  }
  return out;
}

/** The label-free pool the classification states come from: training-fold normal windows. */
export function statePoolOf(windows: readonly EncodedWindow[], trainWindow: (i: number) => boolean): EncodedWindow[] {
  const idx = windows.map((w, i) => (trainWindow(i) && !w.label.abnormal ? i : -1)).filter((i) => i >= 0);
  return evenly(idx, TUNED_STATE_POOL).map((i) => windows[i]);
}

/** Time spans of equal consecutive values (windows sorted by start; a span ends where the next window starts). */
export function spansOf<T>(windows: readonly EncodedWindow[], values: readonly (T | undefined)[], keep: (v: T) => boolean): { start: number; end: number; value: T }[] {
  const idx = windows.map((_, i) => i).filter((i) => values[i] !== undefined && keep(values[i] as T)).sort((a, b) => windows[a].window.start - windows[b].window.start);
  const all = windows.map((w) => w.window.start).sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < all.length; i++) if (all[i] > all[i - 1]) step = Math.min(step, all[i] - all[i - 1]);
  const out: { start: number; end: number; value: T }[] = [];
  for (const i of idx) {
    const w = windows[i].window;
    const end = Number.isFinite(step) ? w.start + step : w.end;
    const last = out[out.length - 1];
    if (last && last.value === values[i] && w.start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start: w.start, end, value: values[i] as T });
  }
  return out;
}
