import type { Dataset } from '../../telemetry/index.js';
import { empiricalNull, tailZ } from '../../encode/index.js';

export interface CaseEventOptions {
  /**
   * `robust` (default): each pod's IDF-weighted event sum as a robust z against the same
   * pod's sums over all cases; `tail`: the same as a `tailZ`; `none`: the sum itself. Each pod's sum
   * is calibrated against its own sums over all cases (label-free: most cases are other pods'
   * faults) — a pod with many KPIs that fire a little in every case gains nothing from its
   * number of chances.
   */
  calibrate?: 'none' | 'robust' | 'tail';
}

export interface EventRanking {
  services: { service: string; score: number; items: { pod: string; kpi: string; events: number; idf: number }[] }[];
  pods: { pod: string; service: string; score: number }[];
}

/**
 * For sources whose metrics are already anomaly events per case (AIOps 2022 as TVDiag
 * extracted it): a pod's score is the sum over its events of the IDF of its (pod, KPI) pair
 * over all cases — a pair that fires in most cases (a noisy pod's routine KPI) says little.
 * Label-free: the IDF counts events, never root causes.
 */
export function rankCaseEvents(ds: Dataset, caseIds: readonly string[], opt: CaseEventOptions = {}): Map<string, EventRanking> {
  const serviceOf = new Map<string, string>();
  for (const e of ds.entities) if (e.kind === 'pod' && e.service) serviceOf.set(e.id, e.service);
  const perCase = new Map<string, Map<string, number>>();
  const df = new Map<string, number>();
  for (const id of caseIds) {
    const data = ds.caseData?.(id);
    const counts = new Map<string, number>();
    for (const m of data?.metrics ?? []) {
      const k = `${m.entity}\t${m.name}`;
      let n = 0;
      for (let i = 0; i < m.values.length; i++) if (Number.isFinite(m.values[i])) n++;
      if (n) counts.set(k, (counts.get(k) ?? 0) + n);
    }
    perCase.set(id, counts);
    for (const k of counts.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  }
  const n = caseIds.length;
  const out = new Map<string, EventRanking>();
  const podsOf = new Map<string, Map<string, { score: number; items: EventRanking['services'][number]['items'] }>>();
  for (const [id, counts] of perCase) {
    const pods = new Map<string, { score: number; items: EventRanking['services'][number]['items'] }>();
    for (const [k, events] of counts) {
      const [pod, kpi] = k.split('\t');
      const idf = Math.log((n + 1) / ((df.get(k) ?? 0) + 1));
      let p = pods.get(pod);
      if (!p) pods.set(pod, (p = { score: 0, items: [] }));
      p.score += events * idf;
      p.items.push({ pod, kpi, events, idf });
    }
    podsOf.set(id, pods);
  }
  const mode = opt.calibrate ?? 'robust';
  if (mode !== 'none') {
    // each pod's null: its score in every case (0 where it has no event)
    const all = new Set<string>();
    for (const pods of podsOf.values()) for (const p of pods.keys()) all.add(p);
    const nulls = new Map([...all].map((pod) => [pod, empiricalNull([...podsOf.values()].map((m) => m.get(pod)?.score ?? 0), 1)]));
    for (const pods of podsOf.values()) for (const [pod, p] of pods) {
      const nl = nulls.get(pod)!;
      p.score = mode === 'tail' ? tailZ(nl, p.score) : (p.score - nl.center) / nl.scale;
    }
  }
  for (const [id, pods] of podsOf) {
    const podList = [...pods].map(([pod, p]) => ({ pod, service: serviceOf.get(pod) ?? pod, score: p.score })).sort((a, b) => b.score - a.score || a.pod.localeCompare(b.pod));
    const services = new Map<string, EventRanking['services'][number]>();
    for (const p of podList) {
      const s = services.get(p.service);
      const items = pods.get(p.pod)!.items.sort((a, b) => b.idf * b.events - a.idf * a.events).slice(0, 3);
      if (!s) services.set(p.service, { service: p.service, score: p.score, items });
    }
    out.set(id, { services: [...services.values()], pods: podList });
  }
  return out;
}
