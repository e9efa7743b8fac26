import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { robustLocation } from './stats.js';

/** Rolling history a pod's resource metrics are compared with (issue 11: 30 min). */
export const DEFAULT_HISTORY_MS = 30 * 60_000;
/** History points needed before a metric is judged. */
export const MIN_HISTORY_POINTS = 5;
/** Scale floor as a share of the history's level: a 5% move is never extreme by itself. */
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
      const pods: ResourceSummary['pods'] = new Map();
      let load = 0;
      for (const pod of store.entities()) {
        const service = w.serviceOf?.(pod);
        if (!service) continue;
        let score = 0;
        const items: EvidenceItem[] = [];
        const devs = new Map<string, number>();
        let cpuSeen = false;
        for (const name of store.names(pod)) {
          if (!RESOURCE_METRIC.test(name) || NOT_RESOURCE.test(name)) continue;
          const now = store.values(pod, name, w.range);
          if (!now.length) continue;
          const mean = now.reduce((a, b) => a + b, 0) / now.length;
          if (!cpuSeen && /cpu/i.test(name)) ((load += Math.max(0, mean)), (cpuSeen = true));
          const hist = store.values(pod, name, { start: w.range.start - historyMs, end: w.range.start }, w.historySkip);
          if (hist.length < MIN_HISTORY_POINTS) continue;
          const r = robustLocation(hist, Math.max(LEVEL_FLOOR_SHARE * Math.abs(median0(hist)), 1e-9));
          const dev = (mean - r.center) / r.scale;
          if (Math.abs(dev) > score) score = Math.abs(dev);
          devs.set(name, dev);
          items.push({ family: 'resource', service, pod, subject: name, value: mean, reference: r.center, deviation: dev, support: now.length });
        }
        if (!items.length) continue;
        items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation));
        pods.set(pod, { service, items: items.slice(0, 3), score, devs });
      }
      return pods.size ? { pods, load } : undefined;
    },
    fit(): null {
      return null;
    },
    score(s: ResourceSummary): RawScores {
      const out: RawScores = new Map();
      for (const [pod, p] of s.pods) {
        let e = out.get(p.service);
        if (!e) out.set(p.service, (e = { score: -Infinity, pods: new Map(), parts: new Map(), podParts: new Map(), items: [] }));
        e.score = Math.max(e.score, p.score);
        e.pods!.set(pod, p.score);
        const pp = new Map<string, number>();
        for (const [metric, d] of p.devs) {
          pp.set(metric, Math.abs(d));
          e.parts!.set(metric, Math.max(e.parts!.get(metric) ?? -Infinity, Math.abs(d)));
        }
        e.podParts!.set(pod, pp);
        e.items.push(...p.items);
      }
      for (const e of out.values()) e.items = e.items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation)).slice(0, 3);
      return out;
    },
  };
}

function median0(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}
