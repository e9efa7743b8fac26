/**
 * The `tuned` localization columns: the evidence ranking re-weighed by a linear ranker (pairwise
 * loss; `LinearRanker`, src/tasks/localize/ranker.ts) fitted on the training folds' cases — their
 * label-free candidates and true root causes; λ by cross-validation over the training folds
 * (each case's own fold is its group). Test cases never reach the fit. `tuned-global` is one
 * ranker; `tuned` adds per-state weights shrunk toward it, states being k-means over the
 * training folds' label-free (metrics-only) rows, as the tuned classifier's. Pods follow the
 * tuned service order, each service's pods in the evidence ranking's order.
 */
import { fitFoldStates, LinearRanker, type RankerJSON } from '../../tasks/index.js';
import { featureStats, prepareRows } from './scoring.js';
import type { CaseRanking } from './run.js';
import type { EvalCase } from './setup.js';

export interface TunedLocalization {
  rankings: Map<string, { services: string[]; pods: string[] }>;
  /** the fitted model (for the notes): λ and weights, and the number of states */
  model?: RankerJSON;
}

export interface RankerStates {
  kind: 'features' | 'vector';
  /** label-free rows of training-fold windows the states are fitted on */
  pool: readonly Float64Array[];
  /** a case's row in the same space */
  rowOf: (c: EvalCase) => Float64Array | undefined;
  seed?: number;
}

export function tunedLocalize(train: readonly EvalCase[], test: readonly EvalCase[], evidence: ReadonlyMap<string, CaseRanking>, states?: RankerStates): TunedLocalization {
  const rankings = new Map<string, { services: string[]; pods: string[] }>();
  let stateOf = (_c: EvalCase): number => 0;
  let k = 1;
  if (states && states.pool.length > 0) {
    const stats = states.kind === 'features' ? featureStats(states.pool) : undefined;
    const prep = (rs: readonly Float64Array[]) => prepareRows(states.kind, rs, stats);
    const fit = fitFoldStates(prep(states.pool), { seed: states.seed });
    if (fit.k > 1) {
      k = fit.k;
      stateOf = (c) => {
        const r = states.rowOf(c);
        return r ? fit.assign(prep([r]))[0] : 0;
      };
    }
  }
  const fitCases = train.flatMap((c) => {
    const e = evidence.get(c.id);
    return e?.candidates ? [{ candidates: e.candidates, truth: c.service, group: c.fold, state: stateOf(c) }] : [];
  });
  if (fitCases.length < 5) return { rankings };
  const ranker = LinearRanker.fit(fitCases, { states: k });
  for (const c of test) {
    const e = evidence.get(c.id);
    if (!e?.candidates) continue;
    const head = ranker.rank(e.candidates, stateOf(c));
    const services = [...head, ...e.services.filter((s) => !head.includes(s))];
    const podService = new Map((e.podServices ?? []).map((p) => [p.pod, p.service]));
    const pods = services.flatMap((s) => e.pods.filter((p) => podService.get(p) === s));
    rankings.set(c.id, { services, pods: [...pods, ...e.pods.filter((p) => !pods.includes(p))] });
  }
  return { rankings, model: ranker.toJSON() };
}
