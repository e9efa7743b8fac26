/**
 * One `evaluate` run over a prepared protocol (`buildSetup`): every column does every task it
 * can, fold by fold, fitting only on the training folds, and the figures are collected as rows.
 *
 * The columns: the leak sentinels (time-only, nearest-fault, prior), the vector columns
 * (raw-features, raw-backbone, each model: `Representation`), and the evidence localizer's
 * rankings when given (localization only). Test-fold labels are read only to score.
 */
import type { Modality } from '../../telemetry/index.js';
import type { EncodedWindow } from '../../model/index.js';
import { rankOf } from '../../stats/index.js';
import type { ProtocolName } from '../../windows/index.js';
import type { Representation } from './represent.js';
import {
  deviation,
  detectionThreshold,
  evenly,
  featureStats,
  fitServiceReference,
  knnScore,
  prepareRows,
  prototypes,
  rankByPrototype,
  type ServiceReference,
  type TimedRow,
} from './scoring.js';
import { nearestAlarm, nearestRanking, priorOrder, timeOnlyAlarm, timeOnlyRanking, type Labelled } from './sentinels.js';
import { detectionRows, rankingRows } from './rows.js';
import { tunedLocalize, type TunedLocalization } from './tuned-localize.js';
import { BLOCK_ALPHAS, alphaNote, pickAlpha, type AlphaScore } from './block-weight.js';
import { classificationScores } from '../../stats/index.js';
import type { RankCandidate } from '../../tasks/index.js';
import type { EvidenceRecord } from '../../encode/index.js';
import { evidenceDetectionRows, evidenceDetects } from './detect-evidence.js';
import { SETTLE_MS, spansOf, statePoolOf, tunedClassify, tunedDetect, tunedName, tunedReps } from './tuned.js';
import { innerNote } from './tuned-detect.js';
import type { DetectionSet, EvalCase, EvalSetup } from './setup.js';
import { EVALUATE_SCHEMA_VERSION, type EvalCaseResult, type EvalReport, type EvalRow, type EvalTimeline } from './types.js';

/** Normal windows a service's localization reference draws on per fold (evenly spaced). */
export const REFERENCE_POOL = 600;
/** Training-normal windows a detection profile keeps per fold (evenly spaced). */
export const DETECTION_REFERENCES = 400;

export interface CaseRanking {
  services: string[];
  pods: string[];
  /** what the top suspect's evidence says (`suspectFeatures`), for the tuned classifier */
  suspect?: Record<string, number>;
  /** the ranking's head with each candidate's evidence features (`rankFeatures`), for the tuned localizer */
  candidates?: RankCandidate[];
  /** the service of each ranked pod */
  podServices?: { pod: string; service: string }[];
}

export interface RunOptions {
  /** the evidence localizer's ranking per case id (localization only) */
  evidence?: Map<string, CaseRanking>;
  notes?: string[];
  /** the state-aware `tuned` / `tuned-global` columns (default true) */
  tuned?: boolean;
  /** seed of the states' k-means */
  seed?: number;
  /** each window's evidence rows (encode's label-free references): the tuned detectors' evidence candidates */
  evidenceOf?: (w: EncodedWindow) => readonly EvidenceRecord[] | undefined;
}

interface Prediction {
  services?: string[];
  pods?: string[];
  types?: string[];
}

export interface RunResult {
  report: EvalReport;
  /** protocol → case id → method → prediction (what the no-leak test compares) */
  predictions: Map<ProtocolName, Map<string, Map<string, Prediction>>>;
  /** detection level → method → alarm per window of the set (undefined: not scored) */
  alarms: Map<string, Map<string, (boolean | undefined)[]>>;
}

interface Split {
  protocol: ProtocolName;
  leaky: boolean;
  fold: number;
  test: EvalCase[];
  train: EvalCase[];
  /** windows whose fold is a training fold (grid data) */
  trainWindow: (i: number) => boolean;
}

function splitsOf(setup: EvalSetup): Split[] {
  const out: Split[] = [];
  for (let f = 0; f < setup.folds.k; f++) {
    out.push({
      protocol: setup.protocol,
      leaky: false,
      fold: f,
      test: setup.cases.filter((c) => c.fold === f),
      train: setup.cases.filter((c) => c.fold !== f),
      trainWindow: (i) => setup.windowFolds[i] !== undefined && setup.windowFolds[i] !== f,
    });
  }
  if (setup.authorsSplit) {
    out.push({ protocol: 'authors-split', leaky: true, fold: -1, test: setup.cases.filter((c) => c.split === 'test'), train: setup.cases.filter((c) => c.split === 'train'), trainWindow: () => false });
  }
  return out;
}

const expandPods = (setup: EvalSetup, services: readonly string[], at: number) => services.flatMap((s) => setup.podsOf(s, at));

/** Per representation and service, the entity rows of a label-free pool of windows, computed once. */
class EntityRows {
  private readonly cache = new Map<string, (Float64Array | undefined)[]>();
  readonly pool: EncodedWindow[];
  readonly index = new Map<EncodedWindow, number>();
  constructor(setup: EvalSetup) {
    const withEntities = setup.windows.filter((w) => w.entities !== undefined && w.entities.size > 0);
    this.pool = [...new Set([...setup.cases.map((c) => c.w), ...evenly(withEntities, REFERENCE_POOL)])];
    this.pool.forEach((w, i) => this.index.set(w, i));
  }
  rows(rep: Representation, service: string): (Float64Array | undefined)[] {
    const key = `${rep.name}\u0000${service}`;
    let r = this.cache.get(key);
    if (!r) this.cache.set(key, (r = rep.entity(this.pool, service)));
    return r;
  }
}

function localizeWith(setup: EvalSetup, rep: Representation, ent: EntityRows, split: Split, weights?: Float64Array): Map<string, string[]> {
  const windowIdx = new Map(setup.windows.map((w, i) => [w, i]));
  const trainCaseWindows = new Map(split.train.map((c) => [c.w, c.service]));
  const testWindows = new Set(split.test.map((c) => c.w));
  // reference windows: training-fold normal windows of the pool, and training cases
  const normalRef = ent.pool.filter((w) => {
    if (testWindows.has(w) || trainCaseWindows.has(w) || w.label.abnormal) return false;
    const i = windowIdx.get(w);
    return i !== undefined && split.trainWindow(i);
  });
  const refs = new Map<string, ServiceReference | undefined>();
  for (const s of setup.services) {
    const rows = ent.rows(rep, s);
    const use: Float64Array[] = [];
    for (const w of normalRef) {
      const r = rows[ent.index.get(w) as number];
      if (r) use.push(r);
    }
    for (const [w, svc] of trainCaseWindows) {
      if (svc === s) continue;
      const r = rows[ent.index.get(w) as number];
      if (r) use.push(r);
    }
    refs.set(s, fitServiceReference(rep.kind, use));
  }
  const out = new Map<string, string[]>();
  for (const c of split.test) {
    const scored = setup.services.map((s) => ({ s, v: deviation(ent.rows(rep, s)[ent.index.get(c.w) as number], refs.get(s), weights) }));
    scored.sort((a, b) => (b.v === a.v ? (a.s < b.s ? -1 : 1) : b.v - a.v));
    out.set(c.id, scored.map((e) => e.s));
  }
  return out;
}

function classifyWith(rep: Representation, caseRows: Map<EncodedWindow, Float64Array | undefined>, split: Split, weights?: Float64Array): Map<string, string[]> {
  const train = split.train.filter((c) => caseRows.get(c.w) !== undefined);
  const out = new Map<string, string[]>();
  if (train.length === 0) return out;
  const rows = train.map((c) => caseRows.get(c.w) as Float64Array);
  const stats = rep.kind === 'features' ? featureStats(rows) : undefined;
  const protos = prototypes(rep.kind, prepareRows(rep.kind, rows, stats, weights), train.map((c) => c.type));
  for (const c of split.test) {
    const x = caseRows.get(c.w);
    if (x) out.set(c.id, rankByPrototype(rep.kind, prepareRows(rep.kind, [x], stats, weights)[0], protos));
  }
  return out;
}

function detectWith(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], k: number, weights?: Float64Array): (boolean | undefined)[] {
  const alarms: (boolean | undefined)[] = set.windows.map(() => undefined);
  for (let f = 0; f < k; f++) {
    const refIdx = set.windows.map((w, i) => (set.folds[i] !== undefined && set.folds[i] !== f && !w.label.abnormal && rows[i] ? i : -1)).filter((i) => i >= 0);
    const pick = evenly(refIdx, DETECTION_REFERENCES);
    if (pick.length < 2 * 5) continue;
    const raw = pick.map((i) => rows[i] as Float64Array);
    const stats = rep.kind === 'features' ? featureStats(raw) : undefined;
    const timed = (i: number, row: Float64Array): TimedRow => ({ row, start: set.windows[i].window.start, end: set.windows[i].window.end, source: set.windows[i].source });
    const refs = prepareRows(rep.kind, raw, stats, weights).map((r, t) => timed(pick[t], r));
    const thr = detectionThreshold(rep.kind, refs);
    set.windows.forEach((_, i) => {
      if (set.folds[i] !== f || !rows[i]) return;
      const s = knnScore(rep.kind, timed(i, prepareRows(rep.kind, [rows[i] as Float64Array], stats, weights)[0]), refs);
      alarms[i] = Number.isFinite(s) && s > thr;
    });
  }
  return alarms;
}

/** The outer split's training cases re-split by their own folds (leave one training fold out). */
function innerSplits(setup: EvalSetup, split: Split): Split[] {
  const folds = [...new Set(split.train.map((c) => c.fold))].sort((a, b) => a - b);
  if (folds.length < 2) return [];
  return folds.map((g) => ({
    protocol: split.protocol,
    leaky: split.leaky,
    fold: g,
    test: split.train.filter((c) => c.fold === g),
    train: split.train.filter((c) => c.fold !== g),
    trainWindow: (i: number) => split.trainWindow(i) && setup.windowFolds[i] !== g,
  }));
}

const blockKey = (rep: Representation, task: string) => `${rep.name}\u0000${task}`;
type BlockNotes = Map<string, { fold: number; alpha: number; scores: AlphaScore[] }[]>;

/** Service MRR pooled over the inner folds' held-out cases (NaN without any). */
function innerMrr(inner: readonly Split[], rank: (s: Split) => Map<string, string[]>): Omit<AlphaScore, 'alpha'> {
  const mean = (a: number[]) => (a.length === 0 ? NaN : a.reduce((x, y) => x + y, 0) / a.length);
  const all: number[] = [];
  const perFold = inner.map((s) => {
    const got = rank(s);
    const rr: number[] = [];
    for (const c of s.test) {
      const r = got.get(c.id);
      if (r) rr.push(1 / rankOf(r, c.service));
    }
    all.push(...rr);
    return mean(rr);
  });
  return { score: mean(all), perFold };
}

/** Fault-type macro-F1 of the top class pooled over the inner folds' held-out cases. */
function innerMacroF1(inner: readonly Split[], rank: (s: Split) => Map<string, string[]>): Omit<AlphaScore, 'alpha'> {
  const truth: string[] = [];
  const top: string[] = [];
  const perFold = inner.map((s) => {
    const got = rank(s);
    const t: string[] = [];
    const p: string[] = [];
    for (const c of s.test) {
      const r = got.get(c.id);
      if (r?.[0] !== undefined) {
        t.push(c.type);
        p.push(r[0]);
      }
    }
    truth.push(...t);
    top.push(...p);
    return t.length === 0 ? NaN : classificationScores(t, p).macro.f1;
  });
  return { score: truth.length === 0 ? NaN : classificationScores(truth, top).macro.f1, perFold };
}

/**
 * Detection with the learned block's α picked per outer fold: the event-F1 of each α over the
 * other folds, each scored against references from the rest of them (the outer fold never seen).
 */
function detectWithAlpha(rep: Representation, set: DetectionSet, rows: (Float64Array | undefined)[], k: number, protocol: ProtocolName, notes: BlockNotes): (boolean | undefined)[] {
  const width = rows.find((r) => r !== undefined)?.length ?? 0;
  const alphas = rep.alphas ?? BLOCK_ALPHAS;
  if (!rep.blockWeights || width === 0) return detectWith(rep, set, rows, k);
  if (alphas.length === 1) return detectWith(rep, set, rows, k, rep.blockWeights(alphas[0], width));
  const full = new Map(alphas.map((a) => [a, detectWith(rep, set, rows, k, rep.blockWeights!(a, width))]));
  const out: (boolean | undefined)[] = set.windows.map(() => undefined);
  const key = blockKey(rep, `detection ${set.level}`);
  if (!notes.has(key)) notes.set(key, []);
  for (let f = 0; f < k; f++) {
    const inner: DetectionSet = { ...set, folds: set.folds.map((x) => (x === f ? undefined : x)) };
    const scores = alphas.map((alpha) => {
      const a = detectWith(rep, inner, rows, k, rep.blockWeights!(alpha, width));
      const f1 = (d: DetectionSet) => detectionRows(d, rep.name, a, protocol).find((r) => r.metric === 'event-f1')?.value ?? NaN;
      const perFold = [...new Set(inner.folds.filter((x): x is number => x !== undefined))].map((g) => f1({ ...inner, folds: inner.folds.map((x) => (x === g ? x : undefined)) }));
      return { alpha, score: f1(inner), perFold };
    });
    const alpha = pickAlpha(scores, rep.alphaRule);
    notes.get(key)!.push({ fold: f, alpha, scores });
    const chosen = full.get(alpha) as (boolean | undefined)[];
    set.folds.forEach((x, i) => {
      if (x === f) out[i] = chosen[i];
    });
  }
  return out;
}

/**
 * The column weights of `rep` for one task on one outer split: its learned block's α picked by
 * `innerScore` pooled over the split's inner folds (training folds only); undefined for a
 * representation without a learned block.
 */
function chooseWeights(rep: Representation, width: number, task: string, split: Split, notes: BlockNotes, innerScore: (w: Float64Array) => Omit<AlphaScore, 'alpha'>): Float64Array | undefined {
  if (!rep.blockWeights || width === 0) return undefined;
  const alphas = rep.alphas ?? BLOCK_ALPHAS;
  if (alphas.length === 1) return rep.blockWeights(alphas[0], width);
  const scores = alphas.map((alpha) => ({ alpha, ...innerScore(rep.blockWeights!(alpha, width)) }));
  const alpha = pickAlpha(scores, rep.alphaRule);
  const key = blockKey(rep, `${task} (${split.protocol})`);
  if (!notes.has(key)) notes.set(key, []);
  notes.get(key)!.push({ fold: split.fold, alpha, scores });
  return rep.blockWeights(alpha, width);
}

function detectSentinels(set: DetectionSet, k: number): Map<string, (boolean | undefined)[]> {
  const out = new Map<string, (boolean | undefined)[]>([
    ['time-only', set.windows.map(() => undefined)],
    ['nearest-fault', set.windows.map(() => undefined)],
    ['prior', set.windows.map(() => undefined)],
  ]);
  for (let f = 0; f < k; f++) {
    const train: Labelled[] = [];
    set.windows.forEach((w, i) => {
      if (set.folds[i] !== undefined && set.folds[i] !== f) train.push({ start: w.window.start, end: w.window.end, label: w.label.abnormal ? 'abnormal' : 'normal' });
    });
    if (train.length === 0) continue;
    const prior = train.filter((t) => t.label === 'abnormal').length / train.length > 0.5;
    set.windows.forEach((w, i) => {
      if (set.folds[i] !== f) return;
      (out.get('time-only') as (boolean | undefined)[])[i] = timeOnlyAlarm(w.window, train);
      (out.get('nearest-fault') as (boolean | undefined)[])[i] = nearestAlarm(w.window, train);
      (out.get('prior') as (boolean | undefined)[])[i] = prior;
    });
  }
  return out;
}

/**
 * Every detection column of a setup (its detection sets and folds): per representation the
 * plain detector, its `tuned` / `tuned-global` columns where `tReps` holds it, and the leak
 * sentinels. Also what the notes and the timeline read. Shared by `runEvaluation` and the
 * detection-over-fold-seeds table (fold-seeds.ts), which calls it once per seed's setup.
 */
export function detectionColumns(setup: EvalSetup, reps: readonly Representation[], tReps: readonly Representation[], o: { seed?: number; evidenceOf?: RunOptions['evidenceOf']; blockNotes?: BlockNotes }): { alarms: Map<string, Map<string, (boolean | undefined)[]>>; timelineStates: { set: DetectionSet; states: (number | undefined)[] } | undefined; stateNotes: string[] } {
  let timelineStates: { set: DetectionSet; states: (number | undefined)[] } | undefined;
  const stateNotes: string[] = [];
  const blockNotes: BlockNotes = o.blockNotes ?? new Map();
  const alarms = new Map<string, Map<string, (boolean | undefined)[]>>();
  for (const set of setup.detection) {
    const per = new Map<string, (boolean | undefined)[]>();
    let evRows: (Float64Array | undefined)[] | undefined;
    for (const rep of reps) {
      const rows = rep.system(set.windows, set.mask);
      per.set(rep.name, rep.blockWeights ? detectWithAlpha(rep, set, rows, setup.folds.k, setup.protocol, blockNotes) : detectWith(rep, set, rows, setup.folds.k));
      if (!tReps.includes(rep)) continue;
      evRows ??= o.evidenceOf && evidenceDetects(set.mask) ? evidenceDetectionRows(set.windows, o.evidenceOf, set.mask) : undefined;
      for (const global of [false, true]) {
        const d = tunedDetect(rep, set, evRows ? { features: rows, evidence: evRows } : rows, setup.folds.k, global, o.seed, setup.kind === 'nezha' ? SETTLE_MS : 0);
        per.set(tunedName(rep, global), d.alarms);
        if (!global && rep === tReps[0] && set.level === 'metrics-only') timelineStates = { set, states: d.states };
        const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
        // a set without windows (a source with no minute of every modality) fits nothing: say so
        if (d.folds.length === 0) stateNotes.push(`${tunedName(rep, global)} detection (${set.level}): not fitted (${set.windows.length} window(s) in this set)`);
        else stateNotes.push(`${tunedName(rep, global)} detection (${set.level}): ${d.folds.map((f) => `fold ${f.fold}: k=${f.perState.length} [${f.perState.map((p) => `n=${p.n} w=${p.weight.toFixed(2)} thr=${fmt(p.threshold)}`).join('; ')}] global thr=${fmt(f.globalThreshold)}, chose ${f.chosen}${f.inner ? ` (inner event-F1 pooled [fold mean±se] ${innerNote(f.inner)})` : ''}`).join(' | ')}`);
      }
    }
    for (const [m, a] of detectSentinels(set, setup.folds.k)) per.set(m, a);
    alarms.set(set.level, per);
  }
  return { alarms, timelineStates, stateNotes };
}

export function runEvaluation(setup: EvalSetup, reps: readonly Representation[], opts: RunOptions = {}): RunResult {
  const tReps = opts.tuned === false ? [] : tunedReps(reps);
  const tunedMethods = tReps.flatMap((r) => [tunedName(r, false), tunedName(r, true)]);
  const methods = [...(opts.evidence ? ['evidence'] : []), ...reps.map((r) => r.name), ...tunedMethods, 'time-only', 'nearest-fault', 'prior'];
  const predictions = new Map<ProtocolName, Map<string, Map<string, Prediction>>>();
  const put = (p: ProtocolName, id: string, m: string, pr: Prediction) => {
    let a = predictions.get(p);
    if (!a) predictions.set(p, (a = new Map()));
    let b = a.get(id);
    if (!b) a.set(id, (b = new Map()));
    b.set(m, { ...b.get(m), ...pr });
  };
  const ent = new EntityRows(setup);
  const caseRows = new Map<string, Map<EncodedWindow, Float64Array | undefined>>();
  for (const rep of reps) {
    const ws = setup.cases.map((c) => c.w);
    const rows = rep.system(ws, [] as Modality[]);
    caseRows.set(rep.name, new Map(ws.map((w, i) => [w, rows[i]])));
  }
  // metrics-only system rows (traces and logs masked), the space classification states are found in
  const masked = new Map<string, Map<EncodedWindow, Float64Array | undefined>>();
  const maskedRows = (rep: Representation, ws: readonly EncodedWindow[]): (Float64Array | undefined)[] => {
    let m = masked.get(rep.name);
    if (!m) masked.set(rep.name, (m = new Map()));
    const missing = [...new Set(ws.filter((w) => !m!.has(w)))];
    if (missing.length > 0) rep.system(missing, ['traces', 'logs']).forEach((r, i) => m!.set(missing[i], r));
    return ws.map((w) => m!.get(w));
  };
  const rankerNotes: string[] = [];
  const classifyNotes: string[] = [];
  const blockNotes: BlockNotes = new Map();
  for (const split of splitsOf(setup)) {
    const p = split.protocol;
    let tunedLoc: { global: TunedLocalization; state: TunedLocalization } | undefined;
    const svcOrder = priorOrder(split.train.map((c) => c.service), setup.services);
    const typeOrder = priorOrder(split.train.map((c) => c.type), []);
    const svcTrain = split.train.map((c) => ({ start: c.start, end: c.end, label: c.service }));
    const typeTrain = split.train.map((c) => ({ start: c.start, end: c.end, label: c.type }));
    for (const c of split.test) {
      const sentinel = (m: string, services: string[], types: string[]) => put(p, c.id, m, { services, pods: expandPods(setup, services, c.start), types });
      sentinel('time-only', timeOnlyRanking(c.start, svcTrain, svcOrder), timeOnlyRanking(c.start, typeTrain, typeOrder));
      sentinel('nearest-fault', nearestRanking(c.start, svcTrain, svcOrder), nearestRanking(c.start, typeTrain, typeOrder));
      sentinel('prior', svcOrder, typeOrder);
      const ev = opts.evidence?.get(c.id);
      if (ev) {
        const services = [...ev.services, ...setup.services.filter((s) => !ev.services.includes(s))];
        const pods = [...ev.pods, ...expandPods(setup, services, c.start).filter((x) => !ev.pods.includes(x))];
        put(p, c.id, 'evidence', { services, pods });
      }
    }
    for (const rep of reps) {
      const cr0 = caseRows.get(rep.name) as Map<EncodedWindow, Float64Array | undefined>;
      const width = [...cr0.values()].find((r) => r !== undefined)?.length ?? 0;
      const inner = rep.blockWeights ? innerSplits(setup, split) : [];
      const locW = chooseWeights(rep, width, 'localization', split, blockNotes, (w) => innerMrr(inner, (s) => localizeWith(setup, rep, ent, s, w)));
      const loc = localizeWith(setup, rep, ent, split, locW);
      for (const [id, services] of loc) put(p, id, rep.name, { services, pods: expandPods(setup, services, split.test.find((c) => c.id === id)?.start ?? 0) });
      const clsW = chooseWeights(rep, width, 'classification', split, blockNotes, (w) => innerMacroF1(inner, (s) => classifyWith(rep, cr0, s, w)));
      for (const [id, types] of classifyWith(rep, cr0, split, clsW)) put(p, id, rep.name, { types });
      if (!tReps.includes(rep)) continue;
      // tuned: localization is the evidence ranking (the column's own without evidence). The
      // suspect is that ranking's top service — for training cases too when the evidence ranks
      // them (label-free), so prototypes learn from the suspects they will be shown; else a
      // training case's true root cause (a training label, so fair).
      const testIds = new Set(split.test.map((c) => c.id));
      const suspectOf = (c: EvalCase) => opts.evidence?.get(c.id)?.services[0] ?? (testIds.has(c.id) ? loc.get(c.id)?.[0] : c.service);
      const suspectRow = (c: EvalCase) => {
        const top = suspectOf(c);
        return top === undefined ? undefined : ent.rows(rep, top)[ent.index.get(c.w) as number];
      };
      const cr = caseRows.get(rep.name) as Map<EncodedWindow, Float64Array | undefined>;
      const poolWs = statePoolOf(setup.windows, split.trainWindow);
      const statePool = maskedRows(rep, poolWs).filter((r): r is Float64Array => r !== undefined);
      const stateRowMap = new Map([...split.train, ...split.test].map((c) => [c, maskedRows(rep, [c.w])[0]]));
      // the tuned ranker re-weighs the evidence on the training folds' cases; it reads only the
      // evidence (and, with states, the first tuned representation's state rows): one fit per split
      if (opts.evidence && !tunedLoc) {
        tunedLoc = {
          global: tunedLocalize(split.train, split.test, opts.evidence),
          state: tunedLocalize(split.train, split.test, opts.evidence, { kind: rep.kind, pool: statePool, rowOf: (c) => stateRowMap.get(c), seed: opts.seed }),
        };
        const g = tunedLoc.global.model;
        if (g) rankerNotes.push(`tuned localization (${p}, fold ${split.fold}): ${g.lambda === null ? 'the evidence ranking kept (no λ beat it)' : `λ=${g.lambda}`} (held-out log-likelihood / MRR ${g.crossValidation.map((x) => `${x.lambda ?? 'evidence'}: ${x.logLik === null ? '-' : x.logLik.toFixed(3)} / ${x.mrr === null ? 'n/a' : x.mrr.toFixed(3)}`).join(', ')}) on ${g.cases} cases; weights ${g.features.map((f, j) => `${f} ${g.global[j].toFixed(2)}`).join(', ')}; states ${tunedLoc.state.model?.states.length ?? 1}`);
      }
      for (const global of [false, true]) {
        const m = tunedName(rep, global);
        for (const c of split.test) {
          const ranked = tunedLoc?.[global ? 'global' : 'state'].rankings.get(c.id) ?? (opts.evidence?.has(c.id) ? predictions.get(p)?.get(c.id)?.get('evidence') : predictions.get(p)?.get(c.id)?.get(rep.name));
          if (ranked?.services) put(p, c.id, m, { services: ranked.services, pods: ranked.pods });
        }
        const types = tunedClassify({ rep, train: split.train, test: split.test, caseRow: (c) => cr.get(c.w), suspectRow, suspectEvidence: (c) => opts.evidence?.get(c.id)?.suspect, statePool, stateRow: (c) => stateRowMap.get(c), global, seed: opts.seed });
        if (types.chosen) classifyNotes.push(`${m} classification (${p}, fold ${split.fold}): ${types.chosen}${types.states ? ' with states' : ''}${types.inner ? ` (inner macro-F1 ${types.inner.map((v) => `${v.candidate}${v.states ? '+states' : ''} ${v.f1.toFixed(3)}`).join(', ')})` : ''}`);
        for (const [id, t] of types) put(p, id, m, { types: t });
      }
    }
  }

  // detection
  const det = detectionColumns(setup, reps, tReps, { seed: opts.seed, evidenceOf: opts.evidenceOf, blockNotes });
  const { alarms, timelineStates, stateNotes } = det;

  // rows
  const rows: EvalRow[] = [];
  const protocols: ProtocolName[] = [setup.protocol, ...(setup.authorsSplit ? (['authors-split'] as ProtocolName[]) : [])];
  for (const set of setup.detection) for (const [m, a] of alarms.get(set.level) as Map<string, (boolean | undefined)[]>) rows.push(...detectionRows(set, m, a, setup.protocol));
  if (setup.detection.length === 0) {
    for (const m of methods.filter((x) => x !== 'evidence')) {
      rows.push({ task: 'detection', level: 'metrics-only', method: m, metric: 'event-f1', value: null, n: 0, protocol: setup.protocol, notMeasurable: { n: 0, classes: 1, reason: 'no normal windows in this source (every case is a fault)' } });
    }
  }
  const cases: EvalCaseResult[] = [];
  for (const p of protocols) {
    const leaky = p === 'authors-split';
    const pred = predictions.get(p) ?? new Map();
    const evaluated = setup.cases.filter((c) => pred.has(c.id) && (p !== 'authors-split' || c.split === 'test'));
    for (const m of methods) {
      const has = (c: EvalCase, what: keyof Prediction) => pred.get(c.id)?.get(m)?.[what] !== undefined;
      const locCases = evaluated.filter((c) => has(c, 'services'));
      if (locCases.length > 0 || m === 'evidence') {
        rows.push(...rankingRows('localization', 'service', m, locCases.map((c) => c.service), locCases.map((c) => pred.get(c.id).get(m).services), p, leaky));
        rows.push(...rankingRows('localization', 'pod', m, locCases.map((c) => c.pod), locCases.map((c) => pred.get(c.id).get(m).pods), p, leaky));
        for (const t of [...new Set(locCases.map((c) => c.type))].sort()) {
          const tc = locCases.filter((c) => c.type === t);
          rows.push(...rankingRows('localization', 'service', m, tc.map((c) => c.service), tc.map((c) => pred.get(c.id).get(m).services), p, leaky, t));
        }
      }
      const clsCases = evaluated.filter((c) => has(c, 'types'));
      if (clsCases.length > 0) rows.push(...rankingRows('classification', 'type', m, clsCases.map((c) => c.type), clsCases.map((c) => pred.get(c.id).get(m).types), p, leaky));
    }
    for (const c of evaluated) {
      const ranks: EvalCaseResult['ranks'] = {};
      const top: EvalCaseResult['top'] = {};
      for (const [m, pr] of pred.get(c.id) as Map<string, Prediction>) {
        const rk = (list: string[] | undefined, t: string) => {
          if (!list) return null;
          const r = rankOf(list, t);
          return Number.isFinite(r) ? r : null;
        };
        ranks[m] = { service: rk(pr.services, c.service), pod: rk(pr.pods, c.pod), type: rk(pr.types, c.type) };
        top[m] = { services: (pr.services ?? []).slice(0, 5), ...(pr.types ? { type: pr.types[0] } : {}) };
      }
      cases.push({ id: c.id, protocol: p, fold: p === 'authors-split' ? -1 : c.fold, group: c.group, start: new Date(c.start).toISOString(), type: c.type, rootCause: c.pod, rootCauseService: c.service, ranks, top });
    }
  }
  const notes = [...setup.notes, ...(opts.notes ?? []), ...[...blockNotes].map(([key, ch]) => alphaNote(key.split('\u0000')[0], key.split('\u0000')[1], ch)), ...stateNotes, ...rankerNotes, ...classifyNotes];
  const report: EvalReport = {
    schemaVersion: EVALUATE_SCHEMA_VERSION,
    dataset: setup.dataset,
    protocol: { name: setup.protocol, folds: setup.folds.k, seed: setup.folds.seed, groups: new Set(setup.folds.groupOf.values()).size, ...(setup.authorsSplit ? { also: ['authors-split' as ProtocolName] } : {}) },
    methods,
    rows,
    cases,
    notes,
    ...(tReps.length > 0 ? { timeline: timelineOf(setup, alarms, timelineStates, tReps.map((r) => [tunedName(r, false), tunedName(r, true)]).flat()) } : {}),
  };
  return { report, predictions, alarms };
}

/** The report's state timeline: states and alarms of the tuned detector (metrics-only), and the faults. */
function timelineOf(setup: EvalSetup, alarms: Map<string, Map<string, (boolean | undefined)[]>>, st: { set: DetectionSet; states: (number | undefined)[] } | undefined, methods: string[]): EvalTimeline {
  const faults = setup.cases.map((c) => ({ id: c.id, start: c.start, end: c.end, type: c.type, rootCause: c.pod }));
  if (!st) return { faults };
  const states = spansOf(st.set.windows, st.states, () => true).map((x) => ({ start: x.start, end: x.end, state: x.value }));
  const per = alarms.get('metrics-only');
  const al = methods.flatMap((m) => {
    const a = per?.get(m);
    return a ? spansOf(st.set.windows, a, (v) => v).map((x) => ({ start: x.start, end: x.end, method: m })) : [];
  });
  return { states, alarms: al, faults };
}
