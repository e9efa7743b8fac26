/**
 * The tasks file: the state partition and the three task models fitted on all labelled data of a
 * dataset (`runtimeslicer tune`), for use on new data (`detect`, `localize --tasks`). One
 * versioned JSON document, written atomically; loading refuses another format or version.
 *
 * Rows are raw view features in the fixed layout of the evaluate `tuned` column (the caller
 * extracts them; tasks never read windows): detection on the window's row with the modalities
 * of `detection.mask` left out (those missing from most normal windows of the tuning data, e.g.
 * Nezha's traces and logs) — or, where `tune`'s cross-validation chose it, on the window's
 * evidence rows (`detection.evidence`), behind the rise gate where it chose that too
 * (`detection.rise`, rise.ts) — classification on the window's row ⊕ the top suspect's row ⊕ what
 * the suspect's evidence says (as evaluate's `tuned` column).
 * States are k-means over the detection rows of normal windows, z-scored against those windows;
 * a window is judged in the state of its preceding STATE_CONTEXT_MS. docs/tasks.md.
 */
import { readFile } from 'node:fs/promises';
import { systemErrorCause, writeFileAtomic } from '../../sources/io/index.js';
import { UserError } from '../../telemetry/index.js';
import { pickByFolds, robustScale, type SelectionRule } from '../../stats/index.js';
import { StatePartition, type StatePartitionJSON } from '../../states/index.js';
import { singleState, STATES_K_MAX, STATES_MIN_ROWS, type FoldStates } from './adapter.js';
import { correlationRatios, fitTunedClassifier, weightedDistance, TUNED_MIN_PER_STATE, TUNED_PROTOTYPE_N0 } from './classify.js';
import { suspectLayout, suspectRow, withSilence, type SuspectFeatures } from './suspect.js';
import { classificationScores } from '../../stats/index.js';
import { fitTunedDetector, TUNED_DETECTION_K, TUNED_DETECTION_QUANTILE, type TunedDetector } from './detect.js';
import { contextStates, STATE_CONTEXT_MS } from './context.js';
import { ZDetector, type ZDetectorJSON } from './zdetect.js';
import { previousWindows, riseHeld } from './rise.js';
import { alignEvidence, alignPeriods, columnFrame, frameJSON } from './align.js';
import { recordingEdges } from '../../windows/index.js';
import type { RankerJSON } from '../localize/index.js';
import { VIEWS_FORMAT_VERSION, type ViewBuilderState } from '../../encode/index.js';

export const TASKS_FORMAT = 'runtimeslicer-tasks';
/** Bumped when a field changes meaning; a file of another version is refused (but see TASKS_SCHEMA_READABLE). */
export const TASKS_SCHEMA_VERSION = 6;
/**
 * Versions `load` reads: version 5 is version 6 without `detection.frame` (a features detector
 * judges new data unaligned, as before the frame existed); version 4 is version 5 without
 * `detection.rise` (ungated, as before the gate existed); version 3 is version 4 without `views`
 * (its new data is encoded against references fitted on that data itself, as before `views`
 * existed; `detect` says so). Versions 5 and 6 because a gated or framed file read by a
 * runtimeslicer that ignores the field would alarm more, silently.
 */
export const TASKS_SCHEMA_READABLE: readonly number[] = [3, 4, 5, TASKS_SCHEMA_VERSION];
/** normal windows the detector and the states are fitted on (evenly spaced over the data) */
export const TASKS_REFERENCES = 2000;
/** labelled fault windows the feature selection reads (evenly over the data; evaluate's TUNED_DETECTION_REFERENCES) */
export const TASKS_POSITIVES = 400;
/** a robust z beyond this is as good as infinite (state rows and classification rows) */
const Z_CLIP = 10;

/** Per-feature robust location and scale; null where a feature has too few values. */
export interface RowStatsJSON {
  loc: (number | null)[];
  scale: (number | null)[];
}

export interface TasksFileJSON {
  format: typeof TASKS_FORMAT;
  schemaVersion: number;
  created: string;
  fittedOn: { data: string; format: string; model?: string; backbone: string; windows: number; normalWindows: number; faults: number; cases: number };
  window: { lengthMs: number; strideMs: number };
  /** the row layout the models read: raw view features, `width` values per row */
  rows: { kind: 'raw-features'; width: number; suspectWidth: number };
  states: { k: number; contextMs: number; rowStats: RowStatsJSON; partition: StatePartitionJSON | null };
  detection: {
    mask: string[];
    settleMs: number;
    references: number;
    /** the detector family `detect` uses: the best by cross-validation on the tuning data */
    family: DetectorFamilyName;
    /** what that detector reads: the window's raw features, or its evidence rows (`evidence`) */
    input: DetectorInputName;
    /** whether `detect` uses the states by default (chosen by the same cross-validation) */
    useStates: boolean;
    /**
     * the rise gate (src/tasks/tuned/rise.ts; `DetectorCandidate.rise` of evaluate): an alarm
     * stands only where the window scores above the same source's window that ends where it
     * starts. Chosen by the same cross-validation; absent (versions 3 and 4): ungated
     */
    rise?: boolean;
    /**
     * that cross-validation's event-F1 per candidate (null: not measured), pooled over the folds
     * and per fold, and the rule that chose (`TuneInput.crossValidation`; absent in files from
     * before it: the best pooled)
     */
    crossValidation: { folds: number; rule?: SelectionRule; candidates: { candidate: string; f1: number | null; perFold?: (number | null)[] }[] } | null;
    /**
     * each detection feature's median and robust spread over the tuning data's windows with
     * metrics (null: too few values), the frame `detect` moves a new timeline's feature rows into
     * (`alignPeriods`; docs/tasks.md, "Another period"); absent before version 6
     */
    frame?: { center: (number | null)[]; spread: (number | null)[] };
    state: ZDetectorJSON;
    global: ZDetectorJSON;
    /** the kNN density: its references (z-scored rows with their times; thresholds are recomputed on load) */
    knn: KnnJSON & { stateLabels: number[] };
    /** the evidence detector (no states), when the tuning data had evidence rows and it was chosen; else null */
    evidence: EvidenceDetectorJSON | null;
  };
  classification: {
    types: string[];
    minPerState: number;
    n0: number;
    rowStats: RowStatsJSON;
    /**
     * What the top suspect's evidence says (`suspectFeatures`, with what went silent on it: `withSilence`), a block after the window ⊕ suspect
     * rows: its names in row order; which blocks the distance reads ('plain': all, 'evidence': the
     * evidence alone), chosen by cross-validation over the cases' folds (macro-F1, figures saved).
     */
    evidence: { layout: string[]; blocks: FileClassifyBlocks; crossValidation: { candidate: FileClassifyBlocks; f1: number | null }[] | null };
    /** per-dimension weights of the distance: η², the share of a dimension's variance the types explain */
    weights: number[];
    global: Record<string, (number | null)[]>;
    perState: Record<string, (number | null)[]>[];
  } | null;
  /** the evidence localizer's query, and the tuned ranker over its candidates (absent: the evidence ranking as is) */
  localization: { method: 'evidence' | 'evidence+ranker'; windowMs: number; sliceMs: number; note: string; ranker?: RankerJSON };
  /**
   * The views state the tuning data was encoded with (`ViewBuilder.toJSON`: metric, trace and log
   * baselines, the template miner, and the evidence references when the tuning encode computed
   * evidence): `detect` encodes new data against it where that transfers (`--views`: the evidence
   * detector's rows then mean what its model's rows meant; docs/tasks.md, "References for new
   * data"). Absent in version 3 files (and where `fitTasks` was given none).
   */
  views?: ViewBuilderState;
}

export type DetectorFamilyName = 'robust-z' | 'knn';
export type DetectorInputName = 'features' | 'evidence';

/** A kNN density's references: rows as clipped robust z against `rowStats`, with their times (thresholds are recomputed on load). */
export interface KnnJSON {
  k: number;
  quantile: number;
  rowStats: RowStatsJSON;
  refs: { start: number; end: number; source: string; row: (number | null)[] }[];
}

/**
 * The detector over evidence rows (docs/tasks.md, "Detection on the evidence"): per window each
 * service's evidence features, in the layout `services` × `features` (service-major), as encode
 * computed them with EVIDENCE_VERSION `evidenceVersion` against references fitted on the data
 * being judged (label-free). One of the two models, the chosen `family`'s.
 */
export interface EvidenceDetectorJSON {
  evidenceVersion: number;
  services: string[];
  features: string[];
  /**
   * per column, the median and the robust spread over every window of the tuning data that has
   * a value (labels not read): `detect` moves the new data's columns so that their own median and
   * spread land here (`alignEvidence`)
   */
  center: (number | null)[];
  spread: (number | null)[];
  references: number;
  robustZ?: ZDetectorJSON;
  knn?: KnnJSON;
}

/** The layout of the evidence rows a tuning input carries. */
export interface EvidenceLayout {
  evidenceVersion: number;
  services: string[];
  features: string[];
}
export type FileClassifyBlocks = 'plain' | 'evidence';

export interface TimedRow {
  start: number;
  end: number;
  source: string;
  row: Float64Array | undefined;
  /** the window's evidence row in the tasks file's evidence layout (undefined: none) */
  evidence?: Float64Array;
}

export interface TuneInput {
  /** rows of every window with metrics (the `mask`ed modalities left out), with labels (abnormal) */
  detection: (TimedRow & { abnormal: boolean })[];
  /** the modalities the detection rows leave out (saved: `detect` must read rows the same way) */
  mask: string[];
  /** fault spans (training labels): the windows right after one are not normal references */
  faults: { start: number; end: number }[];
  settleMs: number;
  /**
   * labelled cases: the window row ⊕ the suspect's row (the localizer's top service, as on new
   * data), what the suspect's evidence says, the case's fold (the evaluate protocol's), its state
   * row and its type
   */
  cases: { row: Float64Array; suspect: Float64Array | undefined; evidence?: SuspectFeatures; fold?: number; stateRow: Float64Array | undefined; type: string }[];
  /** the layout of the detection rows' `evidence` (absent: no evidence rows, no evidence detector) */
  evidenceLayout?: EvidenceLayout;
  /**
   * cross-validated event-F1 of each candidate detector on the same data, simplest first: pooled
   * over the folds (`f1`) and per fold (`perFold`, optional); `rule` picks one (evaluate's
   * DETECTOR_RULE; src/stats/one-se.ts): 'best' (default) the best pooled, the first on ties;
   * 'one-se' the first within one standard error of the best per-fold mean (without per-fold
   * figures: as 'best')
   */
  crossValidation?: { folds: number; rule?: SelectionRule; candidates: { family: DetectorFamilyName; states: boolean; input?: DetectorInputName; rise?: boolean; select?: number; f1: number; perFold?: number[] }[] };
  k?: number;
  seed?: number;
  fittedOn: TasksFileJSON['fittedOn'];
  window: TasksFileJSON['window'];
  localization: TasksFileJSON['localization'];
  /** the views state the rows were computed with (saved for `detect`; absent: new data is encoded against its own fit) */
  views?: ViewBuilderState;
}

function evenly<T>(a: readonly T[], n: number): T[] {
  if (a.length <= n) return [...a];
  return Array.from({ length: n }, (_, i) => a[Math.floor((i * a.length) / n)]);
}

function rowStats(rows: readonly Float64Array[]): RowStatsJSON {
  const d = rows[0]?.length ?? 0;
  const loc: (number | null)[] = [];
  const scale: (number | null)[] = [];
  for (let j = 0; j < d; j++) {
    const col = rows.map((r) => r[j]).filter(Number.isFinite);
    const s = col.length >= 3 ? robustScale(col) : undefined;
    loc.push(s ? s.location : null);
    scale.push(s ? s.scale : null);
  }
  return { loc, scale };
}

/** Clipped robust z with missing values as 0 (no evidence either way). */
function zRow(x: Float64Array, st: RowStatsJSON): Float64Array {
  return Float64Array.from(x, (v, j) => {
    const l = st.loc[j];
    const s = st.scale[j];
    const z = l === null || s === null ? NaN : (v - l) / s;
    return Number.isFinite(z) ? Math.max(-Z_CLIP, Math.min(Z_CLIP, z)) : 0;
  });
}

function joined(a: Float64Array, b: Float64Array | undefined, widthB: number): Float64Array {
  const out = new Float64Array(a.length + widthB).fill(NaN);
  out.set(a, 0);
  if (b) out.set(b, a.length);
  return out;
}

const rms = (a: Float64Array, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s / Math.max(1, a.length));
};
const toJson = (a: ArrayLike<number>) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
const finiteOrNull = (v: number) => (Number.isFinite(v) ? v : null);

/**
 * A case's classifier row: the window ⊕ suspect views as clipped robust z (missing 0), then the
 * suspect's evidence as it is (compressed values on one scale; a name without a value 0) — or
 * the evidence alone. The same preparation as evaluate's `tuned` column (tuned-classify.ts).
 */
function caseRow(views: Float64Array, evidence: SuspectFeatures | undefined, stats: RowStatsJSON, layout: readonly string[], blocks: FileClassifyBlocks): Float64Array {
  const e = layout.length > 0 ? (suspectRow(evidence, layout) ?? new Float64Array(layout.length)) : new Float64Array(0);
  if (blocks === 'evidence' && layout.length > 0) return e;
  const z = zRow(views, stats);
  const out = new Float64Array(z.length + e.length);
  out.set(z, 0);
  out.set(e, z.length);
  return out;
}

/** Prototypes over prepared case rows, each dimension weighed by η² from these cases. */
function fitCaseClassifier(cases: readonly { row: Float64Array; evidence?: SuspectFeatures; type: string }[], layout: readonly string[], blocks: FileClassifyBlocks, states: FoldStates) {
  const stats = rowStats(cases.map((c) => c.row));
  const prepare = (row: Float64Array, evidence: SuspectFeatures | undefined) => caseRow(row, evidence, stats, layout, blocks);
  const rows = cases.map((c) => prepare(c.row, c.evidence));
  const types = cases.map((c) => c.type);
  const weights = correlationRatios(rows, types);
  const clf = fitTunedClassifier(rows, types, states, { distance: weightedDistance(weights) });
  return { stats, weights, clf, prepare, rank: clf.rank };
}

/** The name evaluate's notes give a detector candidate (`candidateName` of src/eval/evaluate/tuned-detect.ts). */
export const detectorCandidateName = (c: { family: string; states: boolean; input?: DetectorInputName; rise?: boolean; select?: number }) => `${c.input === 'evidence' ? 'evidence:' : ''}${c.family}${c.select !== undefined ? `@auc${c.select}` : ''}${c.states ? '+states' : ''}${c.rise ? '+rise' : ''}`;

function knnJSON(refs: readonly { start: number; end: number; source: string; row: Float64Array }[], stats: RowStatsJSON): KnnJSON {
  return { k: TUNED_DETECTION_K, quantile: TUNED_DETECTION_QUANTILE, rowStats: stats, refs: refs.map((w) => ({ start: w.start, end: w.end, source: w.source, row: toJson(zRow(w.row, stats)) })) };
}

/**
 * The candidate the cross-validation's rule picks (`TuneInput.crossValidation`; the first —
 * robust-z, global, on the features — on ties or without one), and, when it reads the evidence
 * rows, its model fitted on the settled normal windows that have one (as evaluate's detector, with
 * TASKS_REFERENCES of them). Too few such windows: the rule's pick among the features' candidates.
 */
function chooseDetector(x: TuneInput, references: <T extends TimedRow & { abnormal: boolean }>(ws: readonly T[]) => T[]): { best: NonNullable<TuneInput['crossValidation']>['candidates'][number] | undefined; evidence: EvidenceDetectorJSON | null } {
  const all = x.crossValidation?.candidates ?? [];
  const pick = (cs: typeof all) => (cs.length === 0 ? undefined : cs[pickByFolds(cs.map((c) => ({ pooled: c.f1, perFold: c.perFold })), x.crossValidation?.rule ?? 'best')]);
  const best = pick(all);
  if (best?.input !== 'evidence' || !x.evidenceLayout) return { best: pick(all.filter((c) => c.input !== 'evidence')), evidence: null };
  const refs = evenly(references(x.detection.filter((w) => w.evidence !== undefined)), TASKS_REFERENCES).map((w) => ({ start: w.start, end: w.end, source: w.source, row: w.evidence as Float64Array }));
  if (refs.length < 10) return { best: pick(all.filter((c) => c.input !== 'evidence')), evidence: null };
  const rows = refs.map((r) => r.row);
  const evidence: EvidenceDetectorJSON = {
    ...x.evidenceLayout,
    ...frameJSON(columnFrame(x.detection.map((w) => w.evidence))),
    references: refs.length,
    ...(best.family === 'robust-z' ? { robustZ: ZDetector.fit(rows, singleState(rows.length)).toJSON() } : { knn: knnJSON(refs, rowStats(rows)) }),
  };
  return { best, evidence };
}

/** Fits the states and the task models (see the module comment). */
export function fitTasks(x: TuneInput): TasksFile {
  const settled = (w: { start: number; end: number }) => !x.faults.some((f) => w.start < f.end + x.settleMs && f.start < w.end);
  // normal references as evaluate's detectors take them (`referenceCandidates`): the clean ones —
  // settled after a fault and not at a recording period's edge (warm-up, incomplete last windows)
  // — or, where fewer than 10 are clean, every normal window
  const atEdge = recordingEdges(x.detection);
  const references = <T extends TimedRow & { abnormal: boolean }>(ws: readonly T[]): T[] => {
    const normal = ws.filter((w) => !w.abnormal);
    const clean = normal.filter((w) => settled(w) && !atEdge(w));
    return clean.length >= 10 ? clean : normal;
  };
  // the feature frame over every window, and each recording period moved into it (one period: as
  // they are), as `detect --align` moves new data: the detectors learn what stands out within a
  // period (`tune` cross-validates on the same rows)
  const frame = frameJSON(columnFrame(x.detection.map((w) => w.row)));
  const alignedRows = alignPeriods(x.detection, x.detection.map((w) => w.row), frame);
  const detection = x.detection.map((w, i) => ({ ...w, row: alignedRows[i] }));
  const normal = references(detection.filter((w) => w.row !== undefined));
  const refs = evenly(normal, TASKS_REFERENCES);
  if (refs.length < 10) {
    // a tasks file's states and detector are fitted on metric features: say so where there are none
    const none = !detection.some((w) => w.row !== undefined);
    throw new UserError(
      none
        ? 'tune: the data has no metrics, and a tasks file\'s runtime states and detector are fitted on metric features; `localize` and `evaluate` work on traces or logs alone'
        : `tune: only ${refs.length} normal window(s) with metrics; detection needs at least 10`,
    );
  }
  const raw = refs.map((w) => w.row as Float64Array);
  const stStats = rowStats(raw);
  let partition: StatePartition | undefined;
  let states: FoldStates = singleState(raw.length);
  if (raw.length >= STATES_MIN_ROWS) {
    try {
      partition = StatePartition.fit(raw.map((r) => zRow(r, stStats)), { method: 'kmeans', k: x.k, kMin: 2, kMax: STATES_K_MAX, seed: x.seed ?? 0, meta: { rows: 'raw metric features, robust z' } });
      states = { k: partition.k, labels: [...partition.labels], assign: (rs) => (partition as StatePartition).assign(rs).states };
    } catch {
      partition = undefined;
    }
  }
  const { best, evidence } = chooseDetector(x, references);
  // the robust-z detector over the features that separate the fault windows, where the
  // cross-validation chose a cutoff (`select`; positives as evaluate's: the labelled fault
  // windows, evenly TASKS_POSITIVES); a cutoff no feature passes leaves every feature in
  const selection = (): { select: number; positives: Float64Array[] } | undefined => {
    if (evidence || best?.family !== 'robust-z' || best.select === undefined) return undefined;
    const positives = evenly(detection.filter((w) => w.abnormal && w.row !== undefined), TASKS_POSITIVES).map((w) => w.row as Float64Array);
    const probe = ZDetector.fit(raw, singleState(raw.length), { select: best.select, positives });
    return probe.kept?.some(Boolean) ? { select: best.select, positives } : undefined;
  };
  const sel = selection();
  const stateDet = ZDetector.fit(raw, states, sel ?? {});
  const globalDet = ZDetector.fit(raw, singleState(raw.length), sel ?? {});
  const knnStats = rowStats(raw);
  const knn: TasksFileJSON['detection']['knn'] = { ...knnJSON(refs.map((w) => ({ ...w, row: w.row as Float64Array })), knnStats), stateLabels: [...states.labels] };
  let classification: TasksFileJSON['classification'] = null;
  const suspectWidth = x.cases.find((c) => c.suspect)?.suspect?.length ?? 0;
  const typed = x.cases.filter((c) => c.row);
  if (new Set(typed.map((c) => c.type)).size >= 2) {
    // the suspect's evidence ⊕ what went silent on it (its view), as evaluate's tuned column reads it
    const said = typed.map((c) => withSilence(c.evidence, c.suspect));
    const layout = suspectLayout(said);
    const caseStates = typed.map((c) => (partition && c.stateRow ? partition.assign([zRow(c.stateRow, stStats)]).states[0] : 0));
    const clfStates: FoldStates = partition ? { k: partition.k, labels: caseStates, assign: (rs) => (partition as StatePartition).assign(rs).states } : singleState(typed.length);
    const input = typed.map((c, i) => ({ row: joined(c.row, c.suspect, suspectWidth), evidence: said[i], type: c.type, fold: c.fold }));
    // which blocks: cross-validation over the cases' folds, as evaluate's tuned column does per fold
    const folds = [...new Set(input.map((c) => c.fold).filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
    const candidates: FileClassifyBlocks[] = layout.length > 0 ? ['plain', 'evidence'] : ['plain'];
    let blocks: FileClassifyBlocks = 'plain';
    let crossValidation: { candidate: FileClassifyBlocks; f1: number | null }[] | null = null;
    if (candidates.length > 1 && folds.length >= 2) {
      const f1s = candidates.map((b) => {
        const truth: string[] = [];
        const pred: string[] = [];
        for (const g of folds) {
          const train = input.filter((c) => c.fold !== g);
          if (new Set(train.map((c) => c.type)).size < 2) continue;
          const m = fitCaseClassifier(train, layout, b, singleState(train.length));
          for (const c of input.filter((c) => c.fold === g)) {
            truth.push(c.type);
            pred.push(m.rank(m.prepare(c.row, c.evidence), 0)[0]);
          }
        }
        return truth.length > 0 ? classificationScores(truth, pred).macro.f1 : NaN;
      });
      crossValidation = candidates.map((candidate, i) => ({ candidate, f1: finiteOrNull(f1s[i]) }));
      // a later candidate only when strictly better
      let best = 0;
      f1s.forEach((f, i) => {
        if (f > f1s[best]) best = i;
      });
      blocks = candidates[best];
    }
    const m = fitCaseClassifier(input, layout, blocks, clfStates);
    const rec = (p: Map<string, Float64Array>) => Object.fromEntries([...p].map(([t, v]) => [t, toJson(v)]));
    classification = {
      types: m.clf.types,
      minPerState: TUNED_MIN_PER_STATE,
      n0: TUNED_PROTOTYPE_N0,
      rowStats: m.stats,
      evidence: { layout, blocks, crossValidation },
      weights: Array.from(m.weights),
      global: rec(m.clf.global),
      perState: m.clf.perState.map(rec),
    };
  }
  const doc: TasksFileJSON = {
    format: TASKS_FORMAT,
    schemaVersion: TASKS_SCHEMA_VERSION,
    created: new Date().toISOString(),
    fittedOn: x.fittedOn,
    window: x.window,
    rows: { kind: 'raw-features', width: raw[0].length, suspectWidth },
    states: { k: states.k, contextMs: STATE_CONTEXT_MS, rowStats: stStats, partition: partition ? partition.toJSON() : null },
    detection: {
      mask: [...x.mask],
      settleMs: x.settleMs,
      references: refs.length,
      family: best?.family ?? 'robust-z',
      input: evidence ? 'evidence' : 'features',
      useStates: !evidence && states.k > 1 && (best?.states ?? false),
      rise: best?.rise === true,
      crossValidation: x.crossValidation ? { folds: x.crossValidation.folds, rule: x.crossValidation.rule ?? 'best', candidates: x.crossValidation.candidates.map((c) => ({ candidate: detectorCandidateName(c), f1: finiteOrNull(c.f1), ...(c.perFold ? { perFold: c.perFold.map(finiteOrNull) } : {}) })) } : null,
      frame,
      state: stateDet.toJSON(),
      global: globalDet.toJSON(),
      knn,
      evidence,
    },
    classification,
    localization: x.localization,
    ...(x.views ? { views: x.views } : {}),
  };
  return TasksFile.fromJSON(doc, 'fitted tasks');
}

export interface WindowAlarm {
  start: number;
  end: number;
  source: string;
  /** context state (0 with one state) */
  state: number;
  score: number;
  threshold: number;
  alarm: boolean;
  /** index of the feature that sets the score (-1: none) */
  feature: number;
  /** above its threshold, but held back by the rise gate (the window just before scored as high): not an alarm */
  gated?: boolean;
}

/**
 * The rise gate over a timeline's alarms (`riseHeld`, as evaluate applies it): an alarm whose
 * window just before (same source, ends where it starts) scores as high in the alarmed window's
 * state is held back (`gated`).
 */
function gateAlarms(windows: readonly TimedRow[], alarms: WindowAlarm[], scoreAt: (i: number, state: number) => number): WindowAlarm[] {
  const before = previousWindows(windows);
  return alarms.map((a, i) => (a.alarm && riseHeld(i, a.score, a.state, before, scoreAt) ? { ...a, alarm: false, gated: true } : a));
}

export class TasksFile {
  private constructor(
    readonly doc: TasksFileJSON,
    private readonly partition: StatePartition | undefined,
    private readonly stateDet: ZDetector,
    private readonly globalDet: ZDetector,
    /** kNN density, state-aware and global, rebuilt from the saved references (lazily: O(n²)) */
    private knnDets?: { state: TunedDetector; global: TunedDetector },
    private evidenceDet?: { score: (w: TimedRow & { evidence: Float64Array }) => number; threshold: number; top: (x: Float64Array) => number },
  ) {}

  /** The evidence detector (robust-z or the kNN density rebuilt from its references). */
  private evidence(): NonNullable<TasksFile['evidenceDet']> {
    if (this.evidenceDet) return this.evidenceDet;
    const e = this.doc.detection.evidence as EvidenceDetectorJSON;
    if (e.robustZ) {
      const z = ZDetector.fromJSON(e.robustZ);
      this.evidenceDet = { score: (w) => z.score(w.evidence, 0), threshold: z.threshold(0), top: (x) => z.top(x, 0) };
    } else {
      const kn = e.knn as KnnJSON;
      const refs = kn.refs.map((r) => ({ start: r.start, end: r.end, source: r.source, row: Float64Array.from(r.row, (v) => v ?? 0) }));
      const det = fitTunedDetector(refs, singleState(refs.length), { distance: rms, k: kn.k, quantile: kn.quantile });
      // the column that sets a kNN score is not one column: name the largest |z|
      const top = (x: Float64Array) => zRow(x, kn.rowStats).reduce((b, v, j, a) => (Math.abs(v) > Math.abs(a[b] ?? 0) ? j : b), -1);
      this.evidenceDet = { score: (w) => det.score({ start: w.start, end: w.end, source: w.source, row: zRow(w.evidence, kn.rowStats) }, 0), threshold: det.globalThreshold, top };
    }
    return this.evidenceDet;
  }

  /** Names of the evidence detector's columns (`service.feature`), or undefined when detection reads the features. */
  evidenceColumns(): string[] | undefined {
    const e = this.doc.detection.evidence;
    if (this.doc.detection.input !== 'evidence' || !e) return undefined;
    return e.services.flatMap((s) => e.features.map((f) => `${s}.${f}`));
  }

  private knn(): { state: TunedDetector; global: TunedDetector } {
    if (this.knnDets) return this.knnDets;
    const kn = this.doc.detection.knn;
    const refs = kn.refs.map((r) => ({ start: r.start, end: r.end, source: r.source, row: Float64Array.from(r.row, (v) => v ?? 0) }));
    const opts = { distance: rms, k: kn.k, quantile: kn.quantile };
    const k = this.partition?.k ?? 1;
    const st: FoldStates = k > 1 ? { k, labels: kn.stateLabels, assign: (rs) => rs.map(() => 0) } : singleState(refs.length);
    this.knnDets = { state: fitTunedDetector(refs, st, opts), global: fitTunedDetector(refs, singleState(refs.length), opts) };
    return this.knnDets;
  }

  static fromJSON(j: unknown, where = 'tasks file'): TasksFile {
    const d = j as Partial<TasksFileJSON> | null;
    if (!d || typeof d !== 'object' || d.format !== TASKS_FORMAT) throw new UserError(`${where}: not a runtimeslicer tasks file (expected format "${TASKS_FORMAT}"; write one with \`runtimeslicer tune\`)`);
    if (typeof d.schemaVersion !== 'number' || !TASKS_SCHEMA_READABLE.includes(d.schemaVersion)) throw new UserError(`${where}: tasks file schemaVersion ${String(d.schemaVersion)} is not supported (this runtimeslicer reads versions ${TASKS_SCHEMA_READABLE.join(', ')}); run \`runtimeslicer tune\` again`);
    const doc = d as TasksFileJSON;
    if (doc.views !== undefined) {
      const v = doc.views as Partial<ViewBuilderState> | null;
      if (!v || typeof v !== 'object' || v.format !== 'runtimeslicer-views' || !Array.isArray(v.metrics)) throw new UserError(`${where}: damaged tasks file (its "views" is not a views state)`);
      if (v.version !== VIEWS_FORMAT_VERSION) throw new UserError(`${where}: its views state is of version ${String(v.version)}, this runtimeslicer's views are version ${VIEWS_FORMAT_VERSION}; run \`runtimeslicer tune\` again`);
    }
    try {
      const partition = doc.states.partition ? StatePartition.fromJSON(doc.states.partition, where) : undefined;
      const ev = doc.detection.evidence;
      if (doc.detection.input === 'evidence' && !(ev && (ev.robustZ || ev.knn))) throw new Error('detection reads the evidence rows but the file has no evidence detector');
      return new TasksFile(doc, partition, ZDetector.fromJSON(doc.detection.state), ZDetector.fromJSON(doc.detection.global));
    } catch (e) {
      if (e instanceof UserError) throw e;
      throw new UserError(`${where}: damaged tasks file (${e instanceof Error ? e.message : String(e)})`);
    }
  }

  static async load(path: string): Promise<TasksFile> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new UserError(`cannot read tasks file ${path}: ${systemErrorCause(code) ?? code ?? String(e)}`);
    }
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      throw new UserError(`${path}: not JSON (a tasks file is written by \`runtimeslicer tune\`)`);
    }
    return TasksFile.fromJSON(j, path);
  }

  /** Atomic write: a temporary file in the same folder, then rename. */
  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.doc) + '\n');
  }

  get k(): number {
    return this.doc.states.k;
  }

  /** Own state of each row (0 with one state or no row). */
  ownStates(rows: readonly (Float64Array | undefined)[]): number[] {
    if (!this.partition) return rows.map(() => 0);
    const idx = rows.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
    const out = rows.map(() => 0);
    if (idx.length === 0) return out;
    const s = this.partition.assign(idx.map((i) => zRow(rows[i] as Float64Array, this.doc.states.rowStats))).states;
    idx.forEach((i, t) => (out[i] = s[t]));
    return out;
  }

  /**
   * Alarms over a timeline of windows; each window judged in its context state. `states`: use the
   * state-aware detector on the features (default: what the tuning's cross-validation chose).
   * Where the file's detector reads the evidence rows (and `states` is not true), each window's
   * `evidence` is scored; a window without one is not alarmed (as in evaluate), and its state is
   * still reported (the context state of its features row), though the evidence detector has none.
   * `rise`: apply the rise gate (default: what the cross-validation chose, `detection.rise`) —
   * the window just before is looked up among `windows`, so pass the whole timeline.
   */
  /**
   * Alarms over one timeline's windows. `align`: the evidence detector moves the evidence rows
   * into the tuning data's frame (default on); a features detector moves the feature rows into
   * the frame saved with it (`detection.frame`; default off: `detect --align auto` turns it on),
   * so a period whose levels differ from the tuning data's (another day's load, other pod names)
   * is judged by what stands out within it. On the tuning data itself both are the identity.
   */
  detect(windows: readonly TimedRow[], opts: { states?: boolean; align?: boolean; rise?: boolean } = {}): WindowAlarm[] {
    const rise = opts.rise ?? this.doc.detection.rise ?? false;
    if (this.doc.detection.input === 'evidence' && opts.states !== true) return this.detectEvidence(windows, opts.align ?? true, rise);
    const frame = this.doc.detection.frame;
    if (opts.align === true && frame) {
      // each period of the new data on its own (`alignPeriods`), also when there is one
      const aligned = alignPeriods(windows, windows.map((w) => w.row), frame, true);
      windows = windows.map((w, i) => ({ ...w, row: aligned[i] }));
    }
    const useStates = (opts.states ?? this.doc.detection.useStates) && this.k > 1;
    const det = useStates ? this.stateDet : this.globalDet;
    const own = useStates ? this.ownStates(windows.map((w) => w.row)) : windows.map(() => 0);
    const ctx = useStates ? contextStates(windows.map((w, i) => ({ start: w.start, end: w.end, source: w.source, state: own[i] })), windows.map((_, i) => i), this.k, this.doc.states.contextMs) : own;
    if (this.doc.detection.family === 'knn') {
      const kd = useStates ? this.knn().state : this.knn().global;
      const stats = this.doc.detection.knn.rowStats;
      const scoreAt = (i: number, s: number) => {
        const w = windows[i];
        return w.row ? kd.score({ start: w.start, end: w.end, source: w.source, row: zRow(w.row, stats) }, s) : NaN;
      };
      const out = windows.map((w, i) => {
        const s = ctx[i];
        const score = scoreAt(i, s);
        const threshold = kd.perState[s]?.threshold ?? kd.globalThreshold;
        // the feature that sets a kNN score is not one feature: name the largest |z|
        const feature = w.row ? this.stateDet.top(w.row, 0) : -1;
        return { start: w.start, end: w.end, source: w.source, state: s, score, threshold, alarm: Number.isFinite(score) && score > threshold, feature };
      });
      return rise ? gateAlarms(windows, out, scoreAt) : out;
    }
    const scoreAt = (i: number, s: number) => (windows[i].row ? det.score(windows[i].row as Float64Array, s) : NaN);
    const out = windows.map((w, i) => {
      const s = ctx[i];
      const score = scoreAt(i, s);
      const threshold = det.threshold(s);
      return { start: w.start, end: w.end, source: w.source, state: s, score, threshold, alarm: Number.isFinite(score) && score > threshold, feature: w.row ? det.top(w.row, s) : -1 };
    });
    return rise ? gateAlarms(windows, out, scoreAt) : out;
  }

  private detectEvidence(windows: readonly TimedRow[], align: boolean, rise: boolean): WindowAlarm[] {
    const det = this.evidence();
    const ev = this.doc.detection.evidence as EvidenceDetectorJSON;
    if (align) {
      const aligned = alignEvidence(windows.map((w) => w.evidence), ev.center, ev.spread);
      windows = windows.map((w, i) => ({ ...w, evidence: aligned[i] }));
    }
    const own = this.k > 1 ? this.ownStates(windows.map((w) => w.row)) : windows.map(() => 0);
    const ctx = this.k > 1 ? contextStates(windows.map((w, i) => ({ start: w.start, end: w.end, source: w.source, state: own[i] })), windows.map((_, i) => i), this.k, this.doc.states.contextMs) : own;
    // the evidence detector has no states: a window scores the same in any
    const scoreAt = (i: number) => (windows[i].evidence ? det.score(windows[i] as TimedRow & { evidence: Float64Array }) : NaN);
    const out = windows.map((w, i) => {
      const score = scoreAt(i);
      return { start: w.start, end: w.end, source: w.source, state: ctx[i], score, threshold: det.threshold, alarm: Number.isFinite(score) && score > det.threshold, feature: w.evidence ? det.top(w.evidence) : -1 };
    });
    return rise ? gateAlarms(windows, out, scoreAt) : out;
  }

  /**
   * Fault types ranked nearest first for a window row ⊕ its suspect's row ⊕ what the suspect's
   * evidence says (`suspectFeatures` of the window's ranking), in state `state`.
   */
  classify(row: Float64Array, suspect: Float64Array | undefined, evidence: SuspectFeatures | undefined, state: number): string[] {
    const c = this.doc.classification;
    if (!c) return [];
    const x = caseRow(joined(row, suspect, this.doc.rows.suspectWidth), withSilence(evidence, suspect), c.rowStats, c.evidence.layout, c.evidence.blocks);
    const dist = weightedDistance(Float64Array.from(c.weights));
    const protos = c.perState[state] ?? c.global;
    return c.types
      .map((t) => ({ t, d: dist(x, Float64Array.from(protos[t] ?? c.global[t], (v) => (v === null ? 0 : v))) }))
      .sort((a, b) => a.d - b.d || (a.t < b.t ? -1 : 1))
      .map((e) => e.t);
  }
}
