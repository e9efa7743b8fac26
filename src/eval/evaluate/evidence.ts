/**
 * The evidence column: the label-free localizer of src/tasks (issue 11, deliverable 2) ranking
 * each case. Grid data: one `prepareLocalizer` over the dataset with every case's window as a
 * query (queries are never used as normal windows). Its normal windows are chosen by fault
 * *times* only (any window touching a fault's active period is dropped), never by a root cause
 * or type, so no test-fold label reaches it beyond the time the task itself gives. Case data
 * (AIOps 2022): `rankCaseEvents`, an IDF over event counts of all cases (no labels), each case
 * ranked on its incident so far (its own and its failure's earlier windows; docs/localize.md).
 */
import type { Dataset } from '../../telemetry/index.js';
import { prepareLocalizer, rankCaseEvents, rankFeatures, suspectFeatures } from '../../tasks/index.js';
import type { CaseRanking } from './run.js';
import type { EvalSetup } from './setup.js';

export async function evidenceRankings(ds: Dataset, setup: EvalSetup): Promise<Map<string, CaseRanking>> {
  const out = new Map<string, CaseRanking>();
  if (setup.kind === 'aiops22') {
    const ranked = rankCaseEvents(ds, setup.cases.map((c) => c.id));
    for (const c of setup.cases) {
      const r = ranked.get(c.id);
      if (r) out.set(c.id, { services: r.services.map((s) => s.service), pods: r.pods.map((p) => p.pod), suspect: suspectFeatures(r), candidates: rankFeatures(r), podServices: r.pods.map((p) => ({ pod: p.pod, service: p.service })) });
    }
    return out;
  }
  // The query starts at the incident's start (what an engineer passes to `localize --at`), as long
  // as the case window: starting at the window's minute would reach back up to 59 s before the
  // injection, and a query's minutes are kept out of the normal windows, so the minute before
  // every injection — most of Nezha's normal trace/log minutes — would leave the nulls.
  const queries = setup.cases.map((c) => ({ start: c.start, end: c.start + (c.w.window.end - c.w.window.start) }));
  if (queries.length === 0) return out;
  const prepared = await prepareLocalizer(ds, queries);
  setup.cases.forEach((c, i) => {
    const r = prepared.rank(queries[i]);
    out.set(c.id, { services: r.services.map((s) => s.service), pods: r.pods.map((p) => p.pod), suspect: suspectFeatures(r), candidates: rankFeatures(r), podServices: r.pods.map((p) => ({ pod: p.pod, service: p.service })) });
  });
  return out;
}
