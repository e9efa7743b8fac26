import type { Dataset } from '../../telemetry/index.js';

/**
 * Per case, the cases of the same incident seen by the end of it: the cases among `caseIds`
 * with its `group` (one failure) that start no later than it, itself included. A case-event
 * source cuts one incident into consecutive windows (AIOps 2022: five 60 s windows after the
 * injection); an engineer asked about the fourth minute also has the first three, just as a
 * grid source's query runs from the incident's start. Only earlier windows count — never a
 * later one — and only the grouping is read, never a label. Without case metadata every case
 * is its own incident.
 */
export function incidentSoFar(ds: Dataset, caseIds: readonly string[]): Map<string, string[]> {
  const meta = new Map((ds.cases ?? []).map((c) => [c.id, c]));
  const byGroup = new Map<string, string[]>();
  for (const id of caseIds) {
    const g = meta.get(id)?.group;
    if (g === undefined) continue;
    let l = byGroup.get(g);
    if (!l) byGroup.set(g, (l = []));
    l.push(id);
  }
  const out = new Map<string, string[]>();
  for (const id of caseIds) {
    const c = meta.get(id);
    const peers = c ? byGroup.get(c.group) ?? [id] : [id];
    out.set(id, c ? peers.filter((p) => p === id || (meta.get(p) as { start: number }).start <= c.start) : [id]);
  }
  return out;
}
