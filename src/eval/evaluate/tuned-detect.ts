/**
 * The `tuned` detection columns (issue 12, deliverable 2): the robust-z max detector or the kNN
 * density of src/tasks/tuned, on the window's raw features or on what the evidence families say
 * about it, with states or not — chosen per fold by an inner cross-validation on the training
 * folds (`tunedDetect`). docs/tasks.md ("Detection on features", "Detection on the evidence").
 *
 * States: k-means (k by silhouette, 2..4) fitted per fold on the training-normal reference
 * windows of the same rows.
 */
import { contextStates, fitFoldStates, fitTunedDetector, LogitDetector, previousWindows, riseHeld, singleState, ZDetector, type DetectorRow } from '../../tasks/index.js';
import { eventPRF, pickByFolds, standardError, type SelectionRule } from '../../stats/index.js';
import { DEFAULT_BURST_GAP_MS } from '../../windows/index.js';
import type { Representation } from './represent.js';
import { distance, evenly, featureStats, prepareRows } from './scoring.js';
import type { DetectionSet } from './setup.js';

/** Training-normal windows a tuned detector keeps per fold (as the raw columns). */
export const TUNED_DETECTION_REFERENCES = 400;

export interface TunedDetection {
  alarms: (boolean | undefined)[];
  /** state of each scored window (states are fitted per fold: ids are ordered by size within a fold) */
  states: (number | undefined)[];
  /** per fold: each state's reference count, shrinkage weight and threshold (for the notes) */
  folds: { fold: number; perState: { n: number; weight: number; threshold: number }[]; globalThreshold: number; chosen: string; inner?: InnerScore[] }[];
}

interface FoldDetection {
  /** alarm and state per test index */
  alarms: Map<number, boolean>;
  states: Map<number, number>;
  perState: { n: number; weight: number; threshold: number }[];
  globalThreshold: number;
}

/**
 * What a detector reads of a window: the representation's row (`features`) or the evidence
 * row (`evidence`, `evidenceDetectionRows`: each service's evidence features against encode's
 * label-free references). Evidence rows are numeric features whatever the representation.
 */
export type DetectorInput = 'features' | 'evidence';

/** Rows of each input, per window of the set (undefined: the window has none). */
export interface DetectorRows {
  features: (Float64Array | undefined)[];
  evidence?: (Float64Array | undefined)[];
}

const asRows = (r: DetectorRows | (Float64Array | undefined)[]): DetectorRows => (Array.isArray(r) ? { features: r } : r);

/** Whether a window or fault (its fold and time span) is on the training side of a fit. */
type TrainSide = (fold: number | undefined, span: { start: number; end: number }) => boolean;

/**
 * One detector fitted on the windows of `train` folds and applied to `test` windows: states (or
 * one) from the references, each test window judged in its context state.
 */
function detectOnce(kind: Representation['kind'], set: DetectionSet, rows: (Float64Array | undefined)[], train: TrainSide, test: readonly number[], global: boolean, seed: number, settleMs: number, family: DetectorFamily, rise = false, select?: number, tails: TailRule = DETECTOR_TAILS): FoldDetection | undefined {
  const trainFaults = set.injections.filter((x) => train(x.fold, x));
  const pick = evenly(referenceCandidates(set, rows, (i) => train(set.folds[i], set.windows[i].window), trainFaults, settleMs), TUNED_DETECTION_REFERENCES);
  if (pick.length < 10) return undefined;
  const raw = pick.map((i) => rows[i] as Float64Array);
  const stats = kind === 'features' ? featureStats(raw) : undefined;
  const prep = (rs: Float64Array[]) => prepareRows(kind, rs, stats);
  const refs = prep(raw);
  const st = global ? singleState(refs.length) : fitFoldStates(refs, { seed });
  // the references' windows, for tails counted by runs (`TailRule`)
  const spans = tails === 'runs' ? pick.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source })) : undefined;
  const withRows = set.windows.map((_, i) => i).filter((i) => rows[i]);
  // every window's own state, then the state of its preceding context
  const own = st.k === 1 ? withRows.map(() => 0) : st.assign(prep(withRows.map((i) => rows[i] as Float64Array)));
  const pos = new Map(withRows.map((i, t) => [i, t]));
  const scored = test.filter((i) => pos.has(i));
  const ctx = contextStates(withRows.map((i, t) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source, state: own[t] })), scored.map((i) => pos.get(i) as number), st.k);
  const out: FoldDetection = { alarms: new Map(), states: new Map(), perState: [], globalThreshold: NaN };
  scored.forEach((i, t) => out.states.set(i, ctx[t]));
  // each family: a score per window (in a state) and the threshold it is compared with
  let scoreAt: (i: number, state: number) => number;
  let thresholdOf: (state: number) => number;
  // the training folds' fault windows: the logistic detector's positives, the feature selection's
  const abnormalRows = () => evenly(set.windows.map((w, i) => (train(set.folds[i], w.window) && w.label.abnormal && rows[i] ? i : -1)).filter((i) => i >= 0), TUNED_DETECTION_REFERENCES);
  if (family === 'logit') {
    // supervised on the training folds' labelled windows (src/tasks/tuned/ldetect.ts); global only
    const abnormal = abnormalRows();
    const det = LogitDetector.fit(raw, abnormal.map((i) => rows[i] as Float64Array));
    if (!det) return undefined;
    out.perState = [{ n: raw.length, weight: 0, threshold: det.threshold }];
    out.globalThreshold = det.threshold;
    scoreAt = (i) => det.score(rows[i] as Float64Array);
    thresholdOf = () => det.threshold;
  } else if (family === 'robust-z') {
    // the robust-z detector on the raw rows (src/tasks/tuned/zdetect.ts), over the features that
    // separate the training folds' fault windows when `select` is set (none does: no candidate)
    const det = ZDetector.fit(raw, st, { ...(select === undefined ? {} : { select, positives: abnormalRows().map((i) => rows[i] as Float64Array) }), ...(spans ? { spans } : {}) });
    if (det.kept && !det.kept.some(Boolean)) return undefined;
    out.perState = det.perState.map((p) => ({ n: p.n, weight: p.weight, threshold: p.threshold }));
    out.globalThreshold = det.globalThreshold;
    scoreAt = (i, state) => det.score(rows[i] as Float64Array, state);
    thresholdOf = (state) => det.threshold(state);
  } else {
    const timed = (i: number, row: Float64Array): DetectorRow => ({ row, start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source });
    const det = fitTunedDetector(refs.map((r, t) => timed(pick[t], r)), st, { distance: (a, b) => distance(kind, a, b), runs: tails === 'runs' });
    out.perState = det.perState;
    out.globalThreshold = det.globalThreshold;
    const prepared = new Map<number, Float64Array>();
    const pr = prep(scored.map((i) => rows[i] as Float64Array));
    scored.forEach((i, t) => prepared.set(i, pr[t]));
    const preparedOf = (i: number) => prepared.get(i) ?? prep([rows[i] as Float64Array])[0];
    scoreAt = (i, state) => det.score(timed(i, preparedOf(i)), state);
    thresholdOf = (state) => det.perState[state]?.threshold ?? det.globalThreshold;
  }
  const before = rise ? previousWindows(set.windows.map((w) => ({ source: w.source, start: w.window.start, end: w.window.end }))) : undefined;
  const memo = new Map<string, number>();
  const scoreOf = (i: number, state: number) => {
    const key = `${i}:${state}`;
    let v = memo.get(key);
    if (v === undefined) memo.set(key, (v = scoreAt(i, state)));
    return v;
  };
  scored.forEach((i, t) => {
    const v = scoreOf(i, ctx[t]);
    let alarm = Number.isFinite(v) && v > thresholdOf(ctx[t]);
    // the rise gate (`DetectorCandidate.rise`; shared with the tasks file's `detect`): the window
    // just before, judged in the same state
    if (alarm && before && riseHeld(i, v, ctx[t], before, (j, s) => (rows[j] ? scoreOf(j, s) : undefined))) alarm = false;
    out.alarms.set(i, alarm);
  });
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
 * The candidates of `tunedDetect`, simplest first (a later one is chosen only when the inner
 * folds tell it apart from the simpler ones: `DETECTOR_RULE`): on the representation's rows the
 * robust-z max detector and the kNN density (features; vectors: kNN only), then the same two on
 * the evidence rows when there are some, then, for `tuned`, the representation's candidates with
 * states. Evidence candidates have no states: a
 * service-by-family layout has hundreds of mostly-empty columns, and k-means on them would sort
 * windows by which services had traffic, not by the system's regime.
 *
 * `rise` (`evaluate`, `tune`: EVALUATE_DETECTOR_OPTIONS) adds every candidate without states
 * again with the rise gate (`DetectorCandidate.rise`); `supervised` adds the logistic detector
 * over calibrated |z| (src/tasks/tuned/ldetect.ts; features only) — measured, and not in
 * `evaluate`'s default: it lost on Nezha metrics-only (docs/tasks.md, "Rise gate").
 */
export function detectorCandidates(kind: Representation['kind'], global: boolean, withEvidence: boolean): (DetectorCandidate & { family: 'robust-z' | 'knn'; rise?: undefined })[];
export function detectorCandidates(kind: Representation['kind'], global: boolean, withEvidence: boolean, opts: DetectorCandidateOptions): DetectorCandidate[];
export function detectorCandidates(kind: Representation['kind'], global: boolean, withEvidence: boolean, opts: DetectorCandidateOptions = {}): DetectorCandidate[] {
  const families: DetectorFamily[] = kind === 'features' ? ['robust-z', 'knn'] : ['knn'];
  const plain: DetectorCandidate[] = [
    ...families.map((family) => ({ family, states: false })),
    ...(kind === 'features' ? (opts.select ?? []).map((select) => ({ family: 'robust-z' as const, states: false, select })) : []),
    ...(withEvidence ? (['robust-z', 'knn'] as DetectorFamily[]).map((family) => ({ family, states: false, input: 'evidence' as const })) : []),
  ];
  return [
    ...plain,
    ...(global ? [] : families.map((family) => ({ family, states: true }))),
    ...(opts.rise ? plain.map((c) => ({ ...c, rise: true })) : []),
    ...(opts.supervised && kind === 'features' ? [{ family: 'logit' as const, states: false }] : []),
  ];
}

export interface DetectorCandidateOptions {
  rise?: boolean;
  supervised?: boolean;
  /** AUC cutoffs: the robust-z detector over the features selected at each (features only) */
  select?: readonly number[];
}

/** What `evaluate`'s `tuned` columns offer the inner cross-validation besides `detectorCandidates`' defaults; `tune` offers the same. */
export const EVALUATE_DETECTOR_OPTIONS = { rise: true, supervised: false } as const;

/**
 * The feature-selection cutoffs `evaluate`'s `tuned` columns offer besides EVALUATE_DETECTOR_OPTIONS
 * (a round grid; the inner cross-validation picks one or none — docs/tasks.md, "Feature
 * selection"). `tune` offers them too, and the tasks file saves the kept features with the
 * detector (`TASKS_POSITIVES` fault windows, as here).
 */
export const DETECTOR_SELECT_CUTOFFS: readonly number[] = [0.6, 0.7, 0.8];

/**
 * How `tunedDetect` and `tune` choose among the candidates (src/stats/one-se.ts). 'best'
 * (default): the best pooled inner event-F1, a later (more complex) candidate only when strictly
 * better. 'one-se' (an option): the first candidate in `detectorCandidates`' order (simplest
 * first) whose mean inner-fold event-F1 is within one standard error (of the best candidate's
 * per-fold F1s) of the best mean — argued for before measuring (the maximum of a dozen noisy
 * inner F1s is biased) and measured worse on every system: with 2–4 inner folds of a few faults
 * each the standard error is 0.1–0.4, so the rule falls back to plain robust-z and gives up the
 * rise gate's and the evidence detectors' real gains (Nezha metrics-only 0.711 → 0.696,
 * all-modalities 0.811 → 0.724; chain 7 all 0.915 → 0.871; docs/tasks.md "One-standard-error
 * rule"). 'one-se-paired' (an option, tried after): the SE of each candidate's per-fold
 * difference from the best; it lost all modalities on every system.
 */
export const DETECTOR_RULE: SelectionRule = 'best';

/** One candidate's inner cross-validated event-F1: pooled over the folds, and per fold. */
export interface InnerScore {
  candidate: string;
  /** event-F1 of the alarms of every inner fold together (the notes' figure; the 'best' rule's) */
  f1: number;
  /** event-F1 of each inner fold on its own faults (the 'one-se' rule's mean and standard error) */
  perFold: number[];
}

/** The index `rule` picks among inner scores (`DETECTOR_RULE`; the same in `tune`'s choice). */
export const pickDetector = (inner: readonly InnerScore[], rule: SelectionRule = DETECTOR_RULE): number => pickByFolds(inner.map((x) => ({ pooled: x.f1, perFold: x.perFold })), rule);

/** The notes' account of an inner cross-validation: each candidate's pooled event-F1, then its per-fold mean ± standard error. */
export function innerNote(inner: readonly InnerScore[]): string {
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  return inner.map((x) => `${x.candidate} ${fmt(x.f1)} [${fmt(x.perFold.reduce((a, b) => a + b, 0) / x.perFold.length)}±${fmt(standardError(x.perFold))}]`).join(', ');
}

/**
 * The `tuned` detector of each fold, itself tuned on the training folds: an inner
 * cross-validation over the training folds (`split`, `DETECTOR_INNER_SPLIT`: the protocol's
 * folds, or each training fault held out once) scores each candidate (`detectorCandidates`) by event-F1, and
 * the fold uses the one `rule` picks (`DETECTOR_RULE`). Test-fold labels are never
 * read. `tuned-global` chooses among the candidates without states. `rows`: the representation's rows, or those and the evidence rows (`DetectorRows`).
 * `only`: these candidates instead of `detectorCandidates`' (a study of one family; one candidate
 * skips the inner cross-validation).
 */
export function tunedDetect(rep: Representation, set: DetectionSet, rows: DetectorRows | (Float64Array | undefined)[], k: number, global: boolean, seed = 0, settleMs = 0, only?: readonly DetectorCandidate[], rule: SelectionRule = DETECTOR_RULE, split: InnerSplit = DETECTOR_INNER_SPLIT, tails: TailRule = DETECTOR_TAILS): TunedDetection {
  const input = asRows(rows);
  const alarms: (boolean | undefined)[] = set.windows.map(() => undefined);
  const states: (number | undefined)[] = set.windows.map(() => undefined);
  const folds: TunedDetection['folds'] = [];
  const present = [...new Set(set.folds.filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
  const candidates = only ?? detectorCandidates(rep.kind, global, input.evidence !== undefined && input.evidence.some((r) => r !== undefined), { ...EVALUATE_DETECTOR_OPTIONS, select: DETECTOR_SELECT_CUTOFFS });
  for (let f = 0; f < k; f++) {
    // a window is scored when the representation has a row for it (the same windows whichever
    // candidate wins, so the columns stay comparable); an evidence candidate leaves a window
    // without evidence unalarmed
    const test = set.windows.map((_, i) => i).filter((i) => set.folds[i] === f && input.features[i]);
    if (test.length === 0) continue;
    const trainFolds = present.filter((g) => g !== f);
    let pick = candidates[0];
    let inner: InnerScore[] | undefined;
    if (candidates.length > 1 && trainFolds.length >= 2) {
      inner = crossValidateDetectors(rep, set, input, trainFolds, candidates, seed, settleMs, f, split, tails);
      pick = candidates[pickDetector(inner, rule)];
    }
    const d = runCandidate(rep, set, input, pick, (x) => x !== undefined && x !== f, test, seed, settleMs, tails);
    if (!d) continue;
    folds.push({ fold: f, perState: d.perState, globalThreshold: d.globalThreshold, chosen: candidateName(pick), ...(inner ? { inner } : {}) });
    for (const i of test) {
      states[i] = d.states.get(i);
      alarms[i] = d.alarms.get(i) ?? false;
    }
  }
  return { alarms, states, folds };
}

function runCandidate(rep: Representation, set: DetectionSet, input: DetectorRows, c: DetectorCandidate, train: TrainSide, test: readonly number[], seed: number, settleMs: number, tails: TailRule = DETECTOR_TAILS): FoldDetection | undefined {
  const ev = c.input === 'evidence';
  const rows = ev ? input.evidence : input.features;
  if (!rows) return undefined;
  return detectOnce(ev ? 'features' : rep.kind, set, rows, train, test, !c.states, seed, settleMs, c.family, c.rise, c.select, tails);
}

/**
 * Event-F1 of each candidate detector by cross-validation over `folds` (each fitted on the other
 * folds of the list, never on `exclude`): the inner loop of `tunedDetect`, and `tune`'s choice —
 * pooled over the folds, and per fold (each fold's alarms against its own faults). Every
 * candidate is scored over the same windows (those with a representation row): a window an
 * evidence candidate cannot judge counts as not alarmed.
 */
export function crossValidateDetectors(rep: Representation, set: DetectionSet, rows: DetectorRows | (Float64Array | undefined)[], folds: readonly number[], candidates: readonly DetectorCandidate[], seed: number, settleMs: number, exclude?: number, split: InnerSplit = DETECTOR_INNER_SPLIT, tails: TailRule = DETECTOR_TAILS): InnerScore[] {
  if (split !== 'folds') {
    const byFault = faultSplits(set, folds);
    // 'faults-apart': nothing within the burst gap of the held-out fault is fitted on
    const apart = (g: number, span: { start: number; end: number }) => split === 'faults' || spanGap(span, byFault.set.injections[g]) >= DEFAULT_BURST_GAP_MS;
    return innerScores(rep, byFault.set, asRows(rows), byFault.groups, candidates, seed, settleMs, (g) => (x, span) => x !== undefined && x !== g && apart(g, span), tails);
  }
  const fs = new Set(folds);
  return innerScores(rep, set, asRows(rows), folds, candidates, seed, settleMs, (g) => (x) => x !== undefined && x !== exclude && x !== g && fs.has(x), tails);
}

/** Each candidate's alarms on each inner fold `g` (fitted on `trainOf(g)`): pooled and per-fold event-F1. */
function innerScores(rep: Representation, set: DetectionSet, input: DetectorRows, folds: readonly number[], candidates: readonly DetectorCandidate[], seed: number, settleMs: number, trainOf: (g: number) => TrainSide, tails: TailRule): InnerScore[] {
  const fs = new Set(folds);
  return candidates.map((c) => {
    const a = new Map<number, boolean>();
    const perFold: number[] = [];
    for (const g of folds) {
      const t = set.windows.map((_, i) => i).filter((i) => set.folds[i] === g && input.features[i]);
      const d = runCandidate(rep, set, input, c, trainOf(g), t, seed, settleMs, tails);
      const own = new Map(t.map((i) => [i, d?.alarms.get(i) ?? false]));
      if (d) for (const [i, v] of own) a.set(i, v);
      perFold.push(innerEventF1(set, own, new Set([g])));
    }
    return { candidate: candidateName(c), f1: innerEventF1(set, a, fs), perFold };
  });
}

/**
 * How the robust-z and kNN detectors read the tail of their references (each feature's
 * calibration, the thresholds). 'plain': the 0.99 quantile of the reference values. 'runs': the
 * same level, but references whose windows overlap and all exceed it count once
 * (src/tasks/tuned/runs-quantile.ts) — so one unusual episode of normal time (Nezha: the pods
 * warming up after the export's gap, the half-filled last windows of a day) cannot be the tail of
 * whichever fold the seed puts it in for training (docs/tasks.md, "Nezha detection over fold
 * seeds").
 */
export type TailRule = 'plain' | 'runs';

/**
 * The tail rule `tunedDetect` uses: 'plain'. 'runs', measured over fold seeds 0–4 (Nezha) and
 * 0–2 (simulator runs), tuned-global event-F1 means: Nezha metrics-only 0.450 → 0.607 (robust-z
 * alone 0.499 → 0.748), minutes 0.815 → 0.807; chain 7 metrics-only 0.608 → 0.604, all
 * 0.916 → 0.951; mesh 8 0.635 → 0.650, 0.864 → 0.915; held-out chain 12 0.554 → 0.700 but all
 * modalities 0.843 → 0.718, mesh 18 0.619 → 0.651 and 0.868 → 0.843 — a feature that is flat
 * but for a few short runs in normal time has no tail by runs, its calibration falls to the
 * floor and its runs set the threshold. An option until that is answered.
 */
export const DETECTOR_TAILS: TailRule = 'plain';

/**
 * How the inner cross-validation splits the training folds. 'folds': the outer protocol's folds
 * (2–4 of them, each a few bursts). 'faults': each training fault held out once — its nearest
 * windows in time are scored by detectors fitted on every other training window
 * (`faultSplits`), and the choice is the pooled event-F1 over all training faults (docs/tasks.md,
 * "Leave-one-fault-out inner scoring"). 'faults-apart' (measured, an option): the same, fitted on
 * nothing within the burst gap (60 min) of the held-out fault, the separation Nezha's outer
 * detection folds keep.
 */
export type InnerSplit = 'folds' | 'faults' | 'faults-apart';

/**
 * The inner split `tunedDetect` and `tune` use: 'folds' (docs/tasks.md, "Leave-one-fault-out inner
 * scoring"). 'faults', measured against it on the evaluation data: metrics-only gains on every
 * system (Nezha 0.711 → 0.796, chain 7 0.578 → 0.609, mesh 8 0.565 → 0.692), Nezha's
 * all-modalities minutes lose (0.811 → 0.697, under always-alarm); held out (chain 7 → 12, mesh
 * 8 → 18) `tune` chooses the same detector either way; 8–12× the inner fits (Nezha `evaluate`
 * several minutes longer, past the demo's budget) — an option until that cost is cut.
 */
export const DETECTOR_INNER_SPLIT: InnerSplit = 'folds';

/**
 * The training folds' windows relabelled for leave-one-fault-out: each window of `folds` belongs to
 * the training fault nearest to it in time (interval distance; overlap is 0, ties to the earlier
 * fault), each such group is an inner fold, and every other window is in none. Only the fault
 * schedule is read, as for the outer folds; a window between two faults goes with the nearer
 * one, so a fault's aftermath is scored with it.
 */
export function faultSplits(set: DetectionSet, folds: readonly number[]): { set: DetectionSet; groups: number[] } {
  const fs = new Set(folds);
  const faults = set.injections.filter((x) => fs.has(x.fold)).sort((a, b) => a.start - b.start);
  const groupOf = set.windows.map((w, i) => {
    const fold = set.folds[i];
    if (fold === undefined || !fs.has(fold) || faults.length === 0) return undefined;
    let best = 0;
    for (let g = 1; g < faults.length; g++) if (spanGap(w.window, faults[g]) < spanGap(w.window, faults[best])) best = g;
    return best;
  });
  return { set: { ...set, folds: groupOf, injections: faults.map((f, g) => ({ ...f, fold: g })) }, groups: faults.map((_, g) => g) };
}

/** Time between two spans (0 when they overlap or touch). */
const spanGap = (a: { start: number; end: number }, b: { start: number; end: number }) => Math.max(0, b.start - a.end, a.start - b.end);

export interface DetectorCandidate {
  family: DetectorFamily;
  states: boolean;
  /** what the detector reads (default the representation's rows) */
  input?: DetectorInput;
  /**
   * The rise gate: a window alarms only when it also scores above the same source's window just
   * before it (the one that ends where it starts). Why: a fault's effect outlasts its labelled
   * span, and the windows after it score high but falling — on every dataset most false alarms
   * sit 3–8 min after a fault's start (docs/tasks.md, "Rise gate"); a fault's onset scores above
   * the calm window before it. No constant: the window length is the lag.
   */
  rise?: boolean;
  /**
   * Robust-z only: compare only the features whose calibrated |z| separates the training folds'
   * fault windows from the normal references with AUC ≥ this (src/tasks/tuned/zdetect.ts).
   */
  select?: number;
}

/**
 * Detection model families: the robust-z max detector (features only), the kNN density, and the
 * supervised logistic detector over calibrated |z| (features only, global; offered only with
 * `detectorCandidates`' `supervised`).
 */
export type DetectorFamily = 'robust-z' | 'knn' | 'logit';
export const candidateName = (c: DetectorCandidate) => `${c.input === 'evidence' ? 'evidence:' : ''}${c.family}${c.select !== undefined ? `@auc${c.select}` : ''}${c.states ? '+states' : ''}${c.rise ? '+rise' : ''}`;

/**
 * Where the source gives no fault end (Nezha: a fixed 3 min is assumed), a fault's effect
 * outlasts its labelled span, so the training-normal windows that start within SETTLE_MS after a
 * training fault's end are not normal references (training labels only; 10 min, the only value
 * tried). Sources with real fault ends (simulator, OTLP) use 0.
 */
export const SETTLE_MS = 10 * 60_000;

/**
 * The normal references of a fit: the training-normal windows with rows that are clean — not
 * within `settleMs` after a training fault (its aftermath) and not at a recording period's edge
 * (`DetectionSet.edges`: a warm-up or an incomplete last window). Where fewer than 10 are clean
 * (Nezha's all-modalities minutes, where nearly every normal window is near a fault), all of them:
 * a set that small cannot afford to lose any.
 */
export function referenceCandidates(set: DetectionSet, rows: readonly (Float64Array | undefined)[], train: (i: number) => boolean, trainFaults: readonly { start: number; end: number }[], settleMs: number): number[] {
  const normal = set.windows.map((w, i) => (train(i) && !w.label.abnormal && rows[i] ? i : -1)).filter((i) => i >= 0);
  const clean = normal.filter((i) => !set.edges?.[i] && !unsettled(set.windows[i].window, trainFaults, settleMs));
  return clean.length >= 10 ? clean : normal;
}

function unsettled(w: { start: number; end: number }, faults: readonly { start: number; end: number }[], settleMs: number): boolean {
  return settleMs > 0 && faults.some((f) => w.start < f.end + settleMs && f.start < w.end);
}
