import type { Dataset } from '../../telemetry/index.js';
import { empiricalNull, tailZ } from '../../encode/index.js';
import { incidentSoFar } from './events-incident.js';

export interface CaseEventOptions {
  /**
   * `robust` (default): each pod's IDF-weighted event sum as a robust z against the same
   * pod's sums over all cases; `tail`: the same as a `tailZ`; `none`: the sum itself. Each pod's sum
   * is calibrated against its own sums over all cases (label-free: most cases are other pods'
   * faults) — a pod with many KPIs that fire a little in every case gains nothing from its
   * number of chances.
   */
  calibrate?: 'none' | 'robust' | 'tail';
  /** the event families used (default both: `EVENT_FAMILIES`); `['metric']` is H8–H18's ranking */
  families?: EventFamily[];
  /**
   * `incident` (default): a pod's score in a case is its best calibrated score over the windows
   * of the same incident (`DatasetCase.group`) up to and including this one — what an engineer
   * has by the end of the window; `window`: this window's events alone. Each window is
   * calibrated on its own either way (IDF and nulls over single windows).
   */
  history?: 'incident' | 'window';
}

export const EVENT_FAMILIES: EventFamily[] = ['metric', 'log'];

/** The event families a case ranking may use: metric events per (pod, KPI), log events per (pod, template). */
export type EventFamily = 'metric' | 'log';

export interface EventRanking {
  /**
   * `calls`: the case window's trace events around the service; `profile`: its events over the
   * incident so far (`EventProfile`). Both for the fault-type classifier, neither in the score.
   */
  services: { service: string; score: number; items: EventItem[]; calls?: ServiceCalls; profile?: EventProfile }[];
  pods: { pod: string; service: string; score: number }[];
  /** the trace events of the whole incident so far (`CaseCalls`; for the fault-type classifier, not in the score) */
  calls?: CaseCalls;
}

/**
 * The trace events of a case's incident so far, wherever they are: calls between pods and pods
 * calling themselves, each split by the sign of its score (a call slower than usual, or faster —
 * failing early). A network fault often leaves its own pod without metric or log events, and its
 * anomalous calls rarely name it, so the localizer's suspect is often wrong for it; the pattern
 * of the whole incident does not depend on a right suspect (a delay makes every caller's own
 * spans slow: pods calling themselves fire several times as often as under other faults).
 */
export interface CaseCalls {
  calls: number;
  callsUp: number;
  callsDown: number;
  self: number;
  selfUp: number;
  selfDown: number;
}

function caseCalls(spans: readonly { entity: string; attributes?: Record<string, unknown> }[], into: CaseCalls): void {
  for (const sp of spans) {
    const a = sp.attributes;
    if (!a || a.synthetic === true || typeof a.caller !== 'string') continue;
    const score = typeof a.score === 'number' && Number.isFinite(a.score) ? a.score : 0;
    const self = a.caller === sp.entity;
    if (self) into.self++;
    else into.calls++;
    if (score > 0) into[self ? 'selfUp' : 'callsUp']++;
    else if (score < 0) into[self ? 'selfDown' : 'callsDown']++;
  }
}

export interface EventItem {
  pod: string;
  family: EventFamily;
  /** the KPI (metric events) or the template id (log events) */
  kpi: string;
  events: number;
  idf: number;
  /** the case (window) the events were counted in: an earlier window of the incident under `history: 'incident'` */
  case: string;
}

/**
 * A case window's trace events around one service (each event an anomalous call caller → callee,
 * as the source's non-synthetic spans carry them): calls into it from other services, from it to
 * others, a pod calling itself, and the largest event score into it / on itself (0 without one).
 * Read by the fault-type classifier (`suspectFeatures`): a network fault shows on the calls around
 * its pod more than in its pod's own metrics or logs. Never part of the ranking's score.
 */
export interface ServiceCalls {
  in: number;
  out: number;
  self: number;
  inMax: number;
  selfMax: number;
}

/**
 * A service's events over the incident so far, every (family, KPI or template) it showed: the
 * events of all its pods in the case's window and its failure's earlier windows, each weighted by
 * the IDF of its (pod, KPI or template) pair — keyed `<family>:<kpi>`. The ranking's `items` keep
 * only a pod's best window and its three strongest pairs, which says *where* a fault is; the
 * kind of fault is in the whole pattern (a CPU hog fires the CFS and thread KPIs, a read-io load
 * the fs-read and page-cache ones, a memory load RSS and working set), and a fault's onset
 * window often shows more of it than the current one. Label-free, like the ranking.
 */
export type EventProfile = Record<string, number>;

/** Per service, its calls in one case's spans (`ServiceCalls`). */
function serviceCalls(spans: readonly { entity: string; attributes?: Record<string, unknown> }[], serviceOf: (pod: string) => string): Map<string, ServiceCalls> {
  const out = new Map<string, ServiceCalls>();
  const of = (svc: string) => {
    let c = out.get(svc);
    if (!c) out.set(svc, (c = { in: 0, out: 0, self: 0, inMax: 0, selfMax: 0 }));
    return c;
  };
  for (const sp of spans) {
    const a = sp.attributes;
    if (!a || a.synthetic === true || typeof a.caller !== 'string') continue;
    const score = typeof a.score === 'number' && Number.isFinite(a.score) ? a.score : 0;
    const callee = serviceOf(sp.entity);
    const caller = serviceOf(a.caller);
    if (a.caller === sp.entity) {
      const c = of(callee);
      c.self++;
      c.selfMax = Math.max(c.selfMax, score);
    } else if (caller !== callee) {
      const c = of(callee);
      c.in++;
      c.inMax = Math.max(c.inMax, score);
      of(caller).out++;
    }
  }
  return out;
}

type PodScores = Map<string, { score: number; items: EventItem[] }>;

/** Per "pod\tfeature" key, its IDF over the cases, log((N + 1)/(df + 1)) (the ranking's weight). */
function idfOf(perCase: Map<string, Map<string, number>>): Map<string, number> {
  const df = new Map<string, number>();
  for (const counts of perCase.values()) for (const k of counts.keys()) df.set(k, (df.get(k) ?? 0) + 1);
  const n = perCase.size;
  return new Map([...df].map(([k, d]) => [k, Math.log((n + 1) / (d + 1))]));
}

/**
 * One family's IDF-weighted event sums per case and pod, calibrated per pod (see `calibrate`).
 * `counts`: per case, events per (pod, feature) key "pod\tfeature".
 */
function familyScores(family: EventFamily, perCase: Map<string, Map<string, number>>, mode: 'none' | 'robust' | 'tail'): Map<string, PodScores> {
  const idfs = idfOf(perCase);
  const podsOf = new Map<string, PodScores>();
  for (const [id, counts] of perCase) {
    const pods: PodScores = new Map();
    for (const [k, events] of counts) {
      const [pod, kpi] = k.split('\t');
      const idf = idfs.get(k) ?? 0;
      let p = pods.get(pod);
      if (!p) pods.set(pod, (p = { score: 0, items: [] }));
      p.score += events * idf;
      p.items.push({ pod, family, kpi, events, idf, case: id });
    }
    podsOf.set(id, pods);
  }
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
  return podsOf;
}

/**
 * For sources whose telemetry is already anomaly events per case (AIOps 2022 as TVDiag
 * extracted it): per family, a pod's score is the sum over its events of the IDF of its
 * (pod, KPI) or (pod, log template) pair over all cases — a pair that fires in most cases (a
 * noisy pod's routine KPI, a template every pod logs all the time) says little — calibrated
 * against the same pod's scores over all cases; a pod's score is the max over families (the
 * localizer's rule), a service's its best pod's. With `history: 'incident'` (default) a case's
 * pod score is that pod's best window of the incident so far (the case's own and the earlier
 * windows of its failure): a failure's onset window often carries the resource events a later
 * window has lost. Label-free: the IDF and the nulls count events, the history reads the case
 * grouping and start times, never root causes. Trace events are not used (1–4 per edge per
 * window, near noise; docs/localize.md).
 */
export function rankCaseEvents(ds: Dataset, caseIds: readonly string[], opt: CaseEventOptions = {}): Map<string, EventRanking> {
  const serviceOf = new Map<string, string>();
  for (const e of ds.entities) if (e.kind === 'pod' && e.service) serviceOf.set(e.id, e.service);
  const families = opt.families ?? EVENT_FAMILIES;
  const metricCounts = new Map<string, Map<string, number>>();
  const logCounts = new Map<string, Map<string, number>>();
  const calls = new Map<string, Map<string, ServiceCalls>>();
  const windowCalls = new Map<string, CaseCalls>();
  for (const id of caseIds) {
    const data = ds.caseData?.(id);
    calls.set(id, serviceCalls(data?.spans ?? [], (pod) => serviceOf.get(pod) ?? pod));
    const wc: CaseCalls = { calls: 0, callsUp: 0, callsDown: 0, self: 0, selfUp: 0, selfDown: 0 };
    caseCalls(data?.spans ?? [], wc);
    windowCalls.set(id, wc);
    const counts = new Map<string, number>();
    for (const m of data?.metrics ?? []) {
      const k = `${m.entity}\t${m.name}`;
      let n = 0;
      for (let i = 0; i < m.values.length; i++) if (Number.isFinite(m.values[i])) n++;
      if (n) counts.set(k, (counts.get(k) ?? 0) + n);
    }
    metricCounts.set(id, counts);
    const logs = new Map<string, number>();
    for (const l of data?.logs ?? []) {
      const k = `${l.entity}\t${l.attributes?.templateId ?? l.body}`;
      logs.set(k, (logs.get(k) ?? 0) + 1);
    }
    logCounts.set(id, logs);
  }
  const mode = opt.calibrate ?? 'robust';
  const scored: Map<string, PodScores>[] = [];
  if (families.includes('metric')) scored.push(familyScores('metric', metricCounts, mode));
  if (families.includes('log')) scored.push(familyScores('log', logCounts, mode));
  // per window: a pod's score is the max over families (items of both kept)
  const perWindow = new Map<string, PodScores>();
  for (const id of caseIds) {
    const pods: PodScores = new Map();
    for (const f of scored) for (const [pod, p] of f.get(id) ?? []) {
      const q = pods.get(pod);
      if (!q) pods.set(pod, { score: p.score, items: [...p.items] });
      else {
        q.score = Math.max(q.score, p.score);
        q.items.push(...p.items);
      }
    }
    perWindow.set(id, pods);
  }
  const history = (opt.history ?? 'incident') === 'incident' ? incidentSoFar(ds, caseIds) : undefined;
  const idfs = families.map((f) => [f, idfOf(f === 'metric' ? metricCounts : logCounts)] as const);
  const profileOf = (id: string, service: string): EventProfile => {
    const out: EventProfile = {};
    for (const w of history?.get(id) ?? [id]) for (const [family, idf] of idfs) {
      for (const [k, events] of (family === 'metric' ? metricCounts : logCounts).get(w) ?? []) {
        const [pod, kpi] = k.split('\t');
        if ((serviceOf.get(pod) ?? pod) !== service) continue;
        const key = `${family}:${kpi}`;
        out[key] = (out[key] ?? 0) + events * (idf.get(k) ?? 0);
      }
    }
    return out;
  };
  const out = new Map<string, EventRanking>();
  for (const id of caseIds) {
    // over the incident so far, each pod's best window (its items are that window's)
    const pods: PodScores = new Map();
    for (const w of history?.get(id) ?? [id]) for (const [pod, p] of perWindow.get(w) ?? []) {
      const q = pods.get(pod);
      if (!q || p.score > q.score) pods.set(pod, p);
    }
    const podList = [...pods].map(([pod, p]) => ({ pod, service: serviceOf.get(pod) ?? pod, score: p.score })).sort((a, b) => b.score - a.score || a.pod.localeCompare(b.pod));
    const services = new Map<string, EventRanking['services'][number]>();
    for (const p of podList) {
      const s = services.get(p.service);
      const items = [...pods.get(p.pod)!.items].sort((a, b) => b.idf * b.events - a.idf * a.events).slice(0, 3);
      const c = calls.get(id)?.get(p.service);
      if (!s) services.set(p.service, { service: p.service, score: p.score, items, ...(c ? { calls: c } : {}), profile: profileOf(id, p.service) });
    }
    const so: CaseCalls = { calls: 0, callsUp: 0, callsDown: 0, self: 0, selfUp: 0, selfDown: 0 };
    for (const w of history?.get(id) ?? [id]) {
      const wc = windowCalls.get(w);
      if (wc) for (const k of Object.keys(so) as (keyof CaseCalls)[]) so[k] += wc[k];
    }
    out.set(id, { services: [...services.values()], pods: podList, calls: so });
  }
  return out;
}
