/**
 * The `tuned` classification columns: per-state prototypes of fault types over the case window ⊕
 * the root-cause suspect's view ⊕ what the suspect's evidence says (`suspectFeatures`), fitted
 * inside each fold on training folds only. Each dimension of the distance weighs by how much of
 * its variance the training types explain (`correlationRatios`), and whether the distance reads
 * every block or the evidence alone is chosen per fold by an inner cross-validation on the
 * training folds (`CLASSIFY_CANDIDATES`). docs/tasks.md ("Classification").
 */
import { suspectLayout, suspectRow, withSilence, fitFoldStates, fitTunedClassifier, singleState, STATES_MIN_ROWS, correlationRatios, weightedDistance, type FoldStates } from '../../tasks/index.js';
import { classificationScores } from '../../stats/index.js';
import { unit, type Representation } from './represent.js';
import { distance, featureStats, prepareRows, type FeatureStats } from './scoring.js';
import type { EvalCase } from './setup.js';

export { correlationRatios, weightedDistance };

/** Row-wise window ⊕ suspect, each block made comparable first (features: robust z; vectors: unit). */
function joined(kind: Representation['kind'], a: Float64Array, b: Float64Array | undefined, widthB: number): Float64Array {
  const out = new Float64Array(a.length + widthB).fill(kind === 'features' ? NaN : 0);
  out.set(kind === 'vector' ? unit(Float64Array.from(a)) : a, 0);
  if (b) out.set(kind === 'vector' ? unit(Float64Array.from(b)) : b, a.length);
  return out;
}

/**
 * What the classifier's distance reads: `plain`, every dimension of window ⊕ suspect's view ⊕
 * evidence; `evidence`, the suspect's evidence alone — the kind of evidence without the ~160 view
 * features, which mostly say how large the disturbance was, not what kind (where a type has only
 * a few training cases, as on a 30-fault simulator run, their noise outweighs the few telling
 * names even when weighted).
 */
export type ClassifyBlocks = 'plain' | 'evidence';

/** Block choices the inner cross-validation picks from, simplest first (features representations). */
export const CLASSIFY_CANDIDATES: readonly ClassifyBlocks[] = ['plain', 'evidence'];

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
  /** the blocks the distance reads (default: chosen by inner cross-validation among `CLASSIFY_CANDIDATES`) */
  blocks?: ClassifyBlocks;
  /** rows states are fitted on (training-fold normal windows, traces and logs masked) and the case's row in that space */
  statePool: readonly Float64Array[];
  stateRow: (c: EvalCase) => Float64Array | undefined;
  global: boolean;
  seed?: number;
}

/** `states`: whether the candidate (or the choice) used the runtime states (false: the global prototypes) */
export type TunedClassification = Map<string, string[]> & { chosen?: ClassifyBlocks; states?: boolean; inner?: { candidate: ClassifyBlocks; states: boolean; f1: number }[] };

/**
 * The tuned classifier of one fold, its blocks chosen by an inner cross-validation over the
 * training cases' folds (macro-F1 of the top type; a later candidate only when strictly better)
 * unless `x.blocks` is given. Without `x.global` the same inner cross-validation also decides
 * whether the fold uses the runtime states at all — the global prototypes first, the states only
 * when strictly better (as detection decides): per-state prototypes of nine types from a few
 * hundred cases can cost more than they gain. Test cases are never read for it.
 */
export function tunedClassify(x: TunedClassifyInput): TunedClassification {
  if (x.blocks !== undefined || x.rep.kind !== 'features') return classifyOnce(x);
  const train = x.train.filter((c) => x.caseRow(c) !== undefined);
  const folds = [...new Set(train.map((c) => c.fold))].sort((a, b) => a - b);
  // the evidence-only candidate needs evidence
  const candidates = CLASSIFY_CANDIDATES.filter((b) => b !== 'evidence' || x.suspectEvidence !== undefined);
  const combos = (x.global ? [true] : [true, false]).flatMap((global) => candidates.map((blocks) => ({ blocks, global })));
  let pick = { blocks: candidates[0], global: x.global };
  let inner: { candidate: ClassifyBlocks; states: boolean; f1: number }[] | undefined;
  if (folds.length >= 2) {
    inner = combos.map(({ blocks, global }) => {
      const truth: string[] = [];
      const pred: string[] = [];
      for (const g of folds) {
        const test = train.filter((c) => c.fold === g);
        const r = classifyOnce({ ...x, blocks, global, train: train.filter((c) => c.fold !== g), test });
        for (const c of test) {
          const t = r.get(c.id);
          if (t) {
            truth.push(c.type);
            pred.push(t[0]);
          }
        }
      }
      return { candidate: blocks, states: !global, f1: truth.length > 0 ? classificationScores(truth, pred).macro.f1 : 0 };
    });
    let best = 0;
    inner.forEach((v, i) => {
      if (v.f1 > inner![best].f1) best = i;
    });
    pick = combos[best];
  }
  const out: TunedClassification = classifyOnce({ ...x, blocks: pick.blocks, global: pick.global });
  out.chosen = pick.blocks;
  out.states = !pick.global;
  if (inner) out.inner = inner;
  return out;
}

function classifyOnce(x: TunedClassifyInput): TunedClassification {
  const out: TunedClassification = new Map();
  const train = x.train.filter((c) => x.caseRow(c) !== undefined);
  if (train.length === 0) return out;
  // the suspect's evidence: a fixed layout over the names the cases show (label-free)
  // ⊕ what went silent on the suspect (its view's missing shares: a killed pod is not scraped)
  const given = x.rep.kind === 'features' && x.suspectEvidence ? x.suspectEvidence : undefined;
  const ev = given ? (c: EvalCase) => withSilence(given(c), x.suspectRow(c)) : undefined;
  const layout = ev ? suspectLayout([...x.train, ...x.test].map(ev)) : [];
  const blocks = x.rep.kind === 'features' ? (x.blocks ?? 'plain') : 'plain';
  const evidenceOnly = blocks === 'evidence' && layout.length > 0;
  const widthB = (() => {
    if (evidenceOnly) return 0;
    for (const c of [...x.train, ...x.test]) {
      const r = x.suspectRow(c);
      if (r) return r.length;
    }
    return 0;
  })();
  const widthA = evidenceOnly ? 0 : (x.caseRow(train[0]) as Float64Array).length;
  const width = widthA + widthB;
  const rowOf = (c: EvalCase) => {
    const r = evidenceOnly ? new Float64Array(0) : joined(x.rep.kind, x.caseRow(c) as Float64Array, x.suspectRow(c), widthB);
    if (layout.length === 0) return r;
    const out = new Float64Array(r.length + layout.length).fill(NaN);
    out.set(r, 0);
    const e = ev ? suspectRow(ev(c), layout) : undefined;
    if (e) out.set(e, r.length);
    return out;
  };
  const rawTrain = train.map(rowOf);
  const stats = x.rep.kind === 'features' ? featureStats(rawTrain.map((r) => r.subarray(0, width))) : undefined;
  // the views standardised (robust z); the evidence as it is: its values are already on one
  // scale (compressed calibrated z and deviations), and most names are 0 in most cases, where a
  // robust scale degenerates to its floor and a single firing would be clipped at the maximum
  const prep = (rs: Float64Array[]) => {
    if (x.rep.kind !== 'features') return rs.map((r) => unit(r));
    const views = prepareRows('features', rs.map((r) => r.subarray(0, width)), stats as FeatureStats);
    return rs.map((r, i) => {
      const o = new Float64Array(r.length);
      o.set(views[i], 0);
      for (let j = width; j < r.length; j++) o[j] = Number.isFinite(r[j]) ? r[j] : 0;
      return o;
    });
  };
  const trainRows = prep(rawTrain);
  const trainTypes = train.map((c) => c.type);
  // features: each dimension weighs by the share of its variance the training types explain, so
  // the few names that tell types apart are not averaged away by the many that do not
  const dist = x.rep.kind === 'features' ? weightedDistance(correlationRatios(trainRows, trainTypes)) : (a: Float64Array, b: Float64Array) => distance(x.rep.kind, a, b);
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
  const clf = fitTunedClassifier(trainRows, trainTypes, states, {
    distance: dist,
    normalize: x.rep.kind === 'vector' ? unit : undefined,
  });
  for (const c of x.test) {
    if (!x.caseRow(c)) continue;
    out.set(c.id, clf.rank(prep([rowOf(c)])[0], stateOf(c)));
  }
  return out;
}
