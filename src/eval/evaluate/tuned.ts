/**
 * The `tuned` columns (issue 12, deliverable 2): the state-aware task models of src/tasks/tuned
 * fitted inside each fold on training folds only, and `tuned-global`, the same without states.
 * Detection: the robust-z max detector or the kNN density, with states or not, chosen per fold
 * by an inner cross-validation on the training folds (`tunedDetect`); classification: per-state
 * prototypes over the window ⊕ the root-cause suspect's view ⊕ what the suspect's evidence
 * says, the blocks weighed plainly or equally as an inner cross-validation chooses
 * (`tunedClassify`); localization: the evidence localizer's ranking unchanged (the column's own
 * deviation ranking when there is no evidence column). docs/tasks.md.
 *
 * States: k-means (k by silhouette, 2..4) fitted per fold on training rows of the same
 * representation — for detection the training-normal reference windows themselves; for
 * classification the training-fold normal windows with traces and logs masked (the training
 * cases when a protocol has no normal windows, as AIOps 2022).
 */
import type { EncodedWindow } from '../../model/index.js';
import { suspectLayout, suspectRow, contextStates, fitFoldStates, fitTunedClassifier, fitTunedDetector, singleState, STATES_MIN_ROWS, ZDetector, type DetectorRow, type FoldStates } from '../../tasks/index.js';
import { classificationScores, eventPRF } from '../../stats/index.js';
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
  folds: { fold: number; perState: { n: number; weight: number; threshold: number }[]; globalThreshold: number; chosen: string; inner?: { candidate: string; f1: number }[] }[];
}

interface FoldDetection {
  /** alarm and state per test index */
  alarms: Map<number, boolean>;
  states: Map<number, number>;
  perState: { n: number; weight: number; threshold: number }[];
  globalThreshold: number;
}

/**
 * One detector fitted on the windows of `train` folds and applied to `test` windows: states (or
 * one) from the references, each test window judged in its context state.
 */
function detectOnce(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], train: (fold: number | undefined) => boolean, test: readonly number[], global: boolean, seed: number, settleMs: number, family: DetectorFamily): FoldDetection | undefined {
  const trainFaults = set.injections.filter((x) => train(x.fold));
  const normal = set.windows.map((w, i) => (train(set.folds[i]) && !w.label.abnormal && rows[i] ? i : -1)).filter((i) => i >= 0);
  const settled = normal.filter((i) => !unsettled(set.windows[i].window, trainFaults, settleMs));
  // where nearly every normal window is near a fault (Nezha's all-modalities minutes), keep them all
  const pick = evenly(settled.length >= 10 ? settled : normal, TUNED_DETECTION_REFERENCES);
  if (pick.length < 10) return undefined;
  const raw = pick.map((i) => rows[i] as Float64Array);
  const stats = rep.kind === 'features' ? featureStats(raw) : undefined;
  const prep = (rs: Float64Array[]) => prepareRows(rep.kind, rs, stats);
  const refs = prep(raw);
  const st = global ? singleState(refs.length) : fitFoldStates(refs, { seed });
  const withRows = set.windows.map((_, i) => i).filter((i) => rows[i]);
  // every window's own state, then the state of its preceding context
  const own = st.k === 1 ? withRows.map(() => 0) : st.assign(prep(withRows.map((i) => rows[i] as Float64Array)));
  const pos = new Map(withRows.map((i, t) => [i, t]));
  const ctx = contextStates(withRows.map((i, t) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source, state: own[t] })), test.map((i) => pos.get(i) as number), st.k);
  const out: FoldDetection = { alarms: new Map(), states: new Map(), perState: [], globalThreshold: NaN };
  test.forEach((i, t) => out.states.set(i, ctx[t]));
  if (family === 'robust-z') {
    // the robust-z detector on the raw rows (src/tasks/tuned/zdetect.ts)
    const det = ZDetector.fit(raw, st);
    out.perState = det.perState.map((p) => ({ n: p.n, weight: p.weight, threshold: p.threshold }));
    out.globalThreshold = det.globalThreshold;
    test.forEach((i, t) => out.alarms.set(i, det.alarm(rows[i] as Float64Array, ctx[t])));
    return out;
  }
  const timed = (i: number, row: Float64Array): DetectorRow => ({ row, start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source });
  const det = fitTunedDetector(refs.map((r, t) => timed(pick[t], r)), st, { distance: (a, b) => distance(rep.kind, a, b) });
  out.perState = det.perState;
  out.globalThreshold = det.globalThreshold;
  const prepared = prep(test.map((i) => rows[i] as Float64Array));
  test.forEach((i, t) => out.alarms.set(i, det.alarm(timed(i, prepared[t]), ctx[t])));
  return out;
}

/** Event-F1 of alarms over some windows of the set, against the faults of `folds`. */
function innerEventF1(set: DetectionSet, alarms: Map<number, boolean>, folds: ReadonlySet<number>): number {
  const idx = [...alarms.keys()];
  return eventPRF(
    idx.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: alarms.get(i) as boolean })),
    set.injections.filter((f) => folds.has(f.fold)).map((f) => ({ start: f.start, end: f.end })),
  ).f1;
}

/**
 * The `tuned` detector of each fold, itself tuned on the training folds: an inner
 * cross-validation over the training folds scores each candidate — the robust-z max detector and
 * the kNN density (features; vectors: kNN only), each global and, for `tuned`, with states — by
 * event-F1, and the fold uses the best, a later (more complex) candidate only when strictly
 * better. Test-fold labels are never read. `tuned-global` chooses among the global candidates.
 */
export function tunedDetect(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], k: number, global: boolean, seed = 0, settleMs = 0): TunedDetection {
  const alarms: (boolean | undefined)[] = set.windows.map(() => undefined);
  const states: (number | undefined)[] = set.windows.map(() => undefined);
  const folds: TunedDetection['folds'] = [];
  const present = [...new Set(set.folds.filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
  // candidates, simplest first: a later one is chosen only when it does strictly better
  const families: DetectorFamily[] = rep.kind === 'features' ? ['robust-z', 'knn'] : ['knn'];
  const candidates: DetectorCandidate[] = [...families.map((family) => ({ family, states: false })), ...(global ? [] : families.map((family) => ({ family, states: true })))];
  for (let f = 0; f < k; f++) {
    const test = set.windows.map((_, i) => i).filter((i) => set.folds[i] === f && rows[i]);
    if (test.length === 0) continue;
    const trainFolds = present.filter((g) => g !== f);
    let pick = candidates[0];
    let inner: { candidate: string; f1: number }[] | undefined;
    if (candidates.length > 1 && trainFolds.length >= 2) {
      inner = crossValidateDetectors(rep, set, rows, trainFolds, candidates, seed, settleMs, f);
      let best = 0;
      inner.forEach((x, i) => {
        if (x.f1 > inner![best].f1) best = i;
      });
      pick = candidates[best];
    }
    const d = detectOnce(rep, set, rows, (x) => x !== undefined && x !== f, test, !pick.states, seed, settleMs, pick.family);
    if (!d) continue;
    folds.push({ fold: f, perState: d.perState, globalThreshold: d.globalThreshold, chosen: candidateName(pick), ...(inner ? { inner } : {}) });
    for (const i of test) {
      states[i] = d.states.get(i);
      alarms[i] = d.alarms.get(i);
    }
  }
  return { alarms, states, folds };
}

/**
 * Event-F1 of each candidate detector by cross-validation over `folds` (each fitted on the other
 * folds of the list, never on `exclude`): the inner loop of `tunedDetect`, and `tune`'s choice.
 */
export function crossValidateDetectors(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], folds: readonly number[], candidates: readonly DetectorCandidate[], seed: number, settleMs: number, exclude?: number): { candidate: string; f1: number }[] {
  const fs = new Set(folds);
  return candidates.map((c) => {
    const a = new Map<number, boolean>();
    for (const g of folds) {
      const t = set.windows.map((_, i) => i).filter((i) => set.folds[i] === g && rows[i]);
      const d = detectOnce(rep, set, rows, (x) => x !== undefined && x !== exclude && x !== g && fs.has(x), t, !c.states, seed, settleMs, c.family);
      if (d) for (const [i, v] of d.alarms) a.set(i, v);
    }
    return { candidate: candidateName(c), f1: innerEventF1(set, a, fs) };
  });
}

export interface DetectorCandidate {
  family: DetectorFamily;
  states: boolean;
}

/** Detection model families: the robust-z max detector (features only) and the kNN density. */
export type DetectorFamily = 'robust-z' | 'knn';
export const candidateName = (c: DetectorCandidate) => `${c.family}${c.states ? '+states' : ''}`;

/**
 * Where the source gives no fault end (Nezha: a fixed 3 min is assumed), a fault's effect
 * outlasts its labelled span, so the training-normal windows that start within SETTLE_MS after a
 * training fault's end are not normal references (training labels only; 10 min, the only value
 * tried). Sources with real fault ends (simulator, OTLP) use 0.
 */
export const SETTLE_MS = 10 * 60_000;

function unsettled(w: { start: number; end: number }, faults: readonly { start: number; end: number }[], settleMs: number): boolean {
  return settleMs > 0 && faults.some((f) => w.start < f.end + settleMs && f.start < w.end);
}

/** Row-wise window ⊕ suspect, each block made comparable first (features: robust z; vectors: unit). */
function joined(kind: Representation['kind'], a: Float64Array, b: Float64Array | undefined, widthB: number): Float64Array {
  const out = new Float64Array(a.length + widthB).fill(kind === 'features' ? NaN : 0);
  out.set(kind === 'vector' ? unit(Float64Array.from(a)) : a, 0);
  if (b) out.set(kind === 'vector' ? unit(Float64Array.from(b)) : b, a.length);
  return out;
}

/**
 * Distance over standardised feature blocks, each block weighing the same: √(Σ_b mean_{j∈b} d_j²).
 * Why: the window and the suspect's view have ~80 features each, the suspect's evidence a handful;
 * a plain mean over all dimensions would let the evidence count for almost nothing.
 */
export function blockDistance(widths: readonly number[]): (a: Float64Array, b: Float64Array) => number {
  return (a, b) => {
    let s = 0;
    let off = 0;
    for (const w of widths) {
      let t = 0;
      for (let j = off; j < off + w; j++) {
        const d = a[j] - b[j];
        t += d * d;
      }
      s += t / Math.max(1, w);
      off += w;
    }
    return Math.sqrt(s);
  };
}

export interface TunedClassifyInput {
  rep: Representation;
  train: readonly EvalCase[];
  test: readonly EvalCase[];
  /** the case window's system row */
  caseRow: (c: EvalCase) => Float64Array | undefined;
  /** the suspect's entity row of the case (the top service of the localization the column uses) */
  suspectRow: (c: EvalCase) => Float64Array | undefined;
  /** what the top suspect's evidence says (`suspectFeatures`): a third block of the row (features representations) */
  suspectEvidence?: (c: EvalCase) => Record<string, number> | undefined;
  /** each block of the row (window, suspect's view, suspect's evidence) weighs the same in the distance (default: chosen by inner cross-validation) */
  balanced?: boolean;
  /** rows states are fitted on (training-fold normal windows, traces and logs masked) and the case's row in that space */
  statePool: readonly Float64Array[];
  stateRow: (c: EvalCase) => Float64Array | undefined;
  global: boolean;
  seed?: number;
}

/** Weightings of the row's blocks the inner cross-validation chooses between, simplest first. */
export const CLASSIFY_CANDIDATES: readonly { balanced: boolean }[] = [{ balanced: false }, { balanced: true }];

/**
 * The tuned classifier of one fold, its block weighting (`balanced` or not) chosen by an inner
 * cross-validation over the training cases' folds (macro-F1 of the top type; a later candidate
 * only when strictly better) unless `x.balanced` is given. Test cases are never read for it.
 */
export function tunedClassify(x: TunedClassifyInput): Map<string, string[]> & { chosen?: string; inner?: { candidate: string; f1: number }[] } {
  if (x.balanced !== undefined || x.rep.kind !== 'features') return classifyOnce(x);
  const train = x.train.filter((c) => x.caseRow(c) !== undefined);
  const folds = [...new Set(train.map((c) => c.fold))].sort((a, b) => a - b);
  let pick = CLASSIFY_CANDIDATES[0];
  let inner: { candidate: string; f1: number }[] | undefined;
  if (folds.length >= 2) {
    inner = CLASSIFY_CANDIDATES.map((cand) => {
      const truth: string[] = [];
      const pred: string[] = [];
      for (const g of folds) {
        const test = train.filter((c) => c.fold === g);
        const r = classifyOnce({ ...x, ...cand, train: train.filter((c) => c.fold !== g), test });
        for (const c of test) {
          const t = r.get(c.id);
          if (t) {
            truth.push(c.type);
            pred.push(t[0]);
          }
        }
      }
      return { candidate: cand.balanced ? 'balanced' : 'plain', f1: truth.length > 0 ? classificationScores(truth, pred).macro.f1 : 0 };
    });
    let best = 0;
    inner.forEach((v, i) => {
      if (v.f1 > inner![best].f1) best = i;
    });
    pick = CLASSIFY_CANDIDATES[best];
  }
  const out = classifyOnce({ ...x, ...pick }) as Map<string, string[]> & { chosen?: string; inner?: { candidate: string; f1: number }[] };
  out.chosen = pick.balanced ? 'balanced' : 'plain';
  if (inner) out.inner = inner;
  return out;
}

function classifyOnce(x: TunedClassifyInput): Map<string, string[]> {
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
  // the suspect's evidence: a fixed layout over the names the cases show (label-free)
  const ev = x.rep.kind === 'features' && x.suspectEvidence ? x.suspectEvidence : undefined;
  const layout = ev ? suspectLayout([...x.train, ...x.test].map(ev)) : [];
  const widthA = train.length > 0 ? (x.caseRow(train[0]) as Float64Array).length : 0;
  const rowOf = (c: EvalCase) => {
    const r = joined(x.rep.kind, x.caseRow(c) as Float64Array, x.suspectRow(c), widthB);
    if (layout.length === 0) return r;
    const out = new Float64Array(r.length + layout.length).fill(NaN);
    out.set(r, 0);
    const e = ev ? suspectRow(ev(c), layout) : undefined;
    if (e) out.set(e, r.length);
    return out;
  };
  const blocks = [widthA, widthB, layout.length].filter((b) => b > 0);
  const balanced = x.rep.kind === 'features' && (x.balanced ?? false) && blocks.length > 1;
  const dist = balanced ? blockDistance(blocks) : (a: Float64Array, b: Float64Array) => distance(x.rep.kind, a, b);
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
    distance: dist,
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
