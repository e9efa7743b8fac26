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
import { DATASET_DEFAULTS, prepareLocalizer, rankCaseEvents, rankFeatures, suspectFeatures } from '../../tasks/index.js';
import type { TimeRange } from '../../telemetry/index.js';
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
  const starts = ds.labels.map((f) => f.start);
  const queries = setup.cases.map((c) => caseQuery(c.start, c.w.window.end - c.w.window.start, starts));
  if (queries.length === 0) return out;
  const prepared = await prepareLocalizer(ds, queries);
  setup.cases.forEach((c, i) => {
    const r = prepared.rank(queries[i]);
    out.set(c.id, { services: r.services.map((s) => s.service), pods: r.pods.map((p) => p.pod), suspect: suspectFeatures(r), candidates: rankFeatures(r), podServices: r.pods.map((p) => ({ pod: p.pod, service: p.service })) });
  });
  return out;
}

/**
 * A case's query: from the incident's start, as long as the case window, but never into the next
 * labelled fault. A query is about one fault; where the next injection comes sooner than the
 * window's end (Nezha: three faults with the next one 4.0–4.5 min later), the minutes from that
 * injection on are the next case's evidence, not this one's. The query then ends at the last whole
 * slice (`sliceMs`) before that injection — the localizer reads a query by whole slices, and a slice
 * counts once half of it is inside — and keeps at least one slice. Only the fault schedule is read
 * (no root cause or type), as for the normal windows. Decided after diagnosing Nezha 29#7, whose
 * query reached 30 s into the next fault (docs/evaluate.md, "Case queries").
 */
export function caseQuery(start: number, lengthMs: number, faultStarts: readonly number[], sliceMs: number = DATASET_DEFAULTS.sliceMs): TimeRange {
  let end = start + lengthMs;
  for (const s of faultStarts) if (s > start && s < end) end = s;
  if (end === start + lengthMs) return { start, end };
  return { start, end: start + Math.max(1, Math.floor((end - start) / sliceMs)) * sliceMs };
}
