import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { robustLocation } from './stats.js';

/** Rolling history a pod's resource metrics are compared with (issue 11: 30 min). */
export const DEFAULT_HISTORY_MS = 30 * 60_000;
/** History points needed before a metric is judged. */
export const MIN_HISTORY_POINTS = 5;
/**
 * Scale floor as a share of the history's level — the pod's own, or the typical pod's of the
 * system where that is larger: a 5% move is never extreme by itself.
 */
export const LEVEL_FLOOR_SHARE = 0.05;

/**
 * Saturation metrics of the pod's own resources: CPU, memory, disk/fs I/O, threads. Network
 * bytes, syscalls, latency, success rate and workload measure demand or its consequences (a
 * pod receives more when callers retry or reroute), not a resource the pod is short of, and
 * the node's metrics belong to the node.
 */
export const RESOURCE_METRIC = /cpu|mem|disk|fs_|_io|threads/i;
export const NOT_RESOURCE = /^node|latency|success|workload/i;

export interface ResourceSummary {
  /** per pod: its service and its metrics' deviations from the pod's own history */
  pods: Map<string, { service: string; items: EvidenceItem[]; score: number; devs: Map<string, number> }>;
  /** load level of the window (sum over pods of a CPU metric), for state-matched nulls */
  load: number;
}

export function resourceFamily(historyMs = DEFAULT_HISTORY_MS): EvidenceFamily<ResourceSummary, null> {
  return {
    name: 'resource',
    summarize(w: WindowInput): ResourceSummary | undefined {
      const store = w.metrics;
      if (!store) return undefined;
      let load = 0;
      // first pass: each pod's window mean and history per resource metric
      const seen: { pod: string; service: string; name: string; mean: number; n: number; hist: number[]; level: number }[] = [];
      for (const pod of store.entities()) {
        const service = w.serviceOf?.(pod);
        if (!service) continue;
        let cpuSeen = false;
        for (const name of store.names(pod)) {
          if (!RESOURCE_METRIC.test(name) || NOT_RESOURCE.test(name)) continue;
          const now = store.values(pod, name, w.range);
          if (!now.length) continue;
          const mean = now.reduce((a, b) => a + b, 0) / now.length;
          if (!cpuSeen && /cpu/i.test(name)) ((load += Math.max(0, mean)), (cpuSeen = true));
          const hist = store.values(pod, name, { start: w.range.start - historyMs, end: w.range.start }, w.historySkip);
          if (hist.length < MIN_HISTORY_POINTS) continue;
          seen.push({ pod, service, name, mean, n: now.length, hist, level: Math.abs(median0(hist)) });
        }
      }
      // the typical pod's level of each metric (median over pods of their history's level):
      // a pod idling near 0 has no level of its own to take 5 % of, so a move of a few
      // thousandths of a core would otherwise be extreme; the floor is 5 % of the larger of
      // its own level and the typical pod's
      const levels = new Map<string, number[]>();
      for (const x of seen) levels.set(x.name, [...(levels.get(x.name) ?? []), x.level]);
      const typical = new Map([...levels].map(([name, v]) => [name, median0(v)]));
      const pods: ResourceSummary['pods'] = new Map();
      for (const x of seen) {
        const floor = LEVEL_FLOOR_SHARE * Math.max(x.level, typical.get(x.name) ?? 0);
        const r = robustLocation(x.hist, Math.max(floor, 1e-9));
        const dev = (x.mean - r.center) / r.scale;
        let p = pods.get(x.pod);
        if (!p) pods.set(x.pod, (p = { service: x.service, items: [], score: 0, devs: new Map() }));
        if (Math.abs(dev) > p.score) p.score = Math.abs(dev);
        p.devs.set(x.name, dev);
        p.items.push({ family: 'resource', service: x.service, pod: x.pod, subject: x.name, value: x.mean, reference: r.center, deviation: dev, support: x.n });
      }
      for (const p of pods.values()) p.items = p.items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation)).slice(0, 3);
      return pods.size ? { pods, load } : undefined;
    },
    fit(): null {
      return null;
    },
    score(s: ResourceSummary): RawScores {
      // each pod's deviation beyond the system's common movement of the same metric
      const common = commonMode(s);
      const out: RawScores = new Map();
      for (const [pod, p] of s.pods) {
        let e = out.get(p.service);
        if (!e) out.set(p.service, (e = { score: -Infinity, pods: new Map(), parts: new Map(), podParts: new Map(), items: [] }));
        const pp = new Map<string, number>();
        let podScore = 0;
        for (const [metric, d0] of p.devs) {
          const d = d0 - (common.get(metric) ?? 0);
          podScore = Math.max(podScore, Math.abs(d));
          pp.set(metric, Math.abs(d));
          e.parts!.set(metric, Math.max(e.parts!.get(metric) ?? -Infinity, Math.abs(d)));
        }
        e.score = Math.max(e.score, podScore);
        e.pods!.set(pod, podScore);
        e.podParts!.set(pod, pp);
        e.items.push(...p.items);
      }
      for (const e of out.values()) e.items = e.items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation)).slice(0, 3);
      return out;
    },
  };
}

/** Pods a metric needs before the system's common movement is taken out of it. */
export const COMMON_MODE_MIN_PODS = 5;

/**
 * The system's common movement per metric: the median over pods of their deviations. Load
 * moves every pod's CPU and memory together (the evening's quiet, a burst), and each pod then
 * deviates from its own history by about as much; a fault at one pod moves that pod alone.
 */
function commonMode(s: ResourceSummary): Map<string, number> {
  const per = new Map<string, number[]>();
  for (const p of s.pods.values()) for (const [m, d] of p.devs) if (Number.isFinite(d)) (per.get(m) ?? per.set(m, []).get(m)!).push(d);
  const out = new Map<string, number>();
  for (const [m, v] of per) if (v.length >= COMMON_MODE_MIN_PODS) out.set(m, median0(v));
  return out;
}

function median0(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}
