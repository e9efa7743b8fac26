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

/** A metric's window mean and the pod's own history's robust center and scale (the scale's floors applied). */
export interface ResourceLevel {
  mean: number;
  center: number;
  scale: number;
}

export interface ResourceSummary {
  /**
   * per pod: its service, its metrics' deviations from the pod's own history (`devs`), and what
   * each deviation was computed from (`levels`, for the common factor; absent in summaries made
   * before it, which then fall back to the common shift alone)
   */
  pods: Map<string, { service: string; items: EvidenceItem[]; score: number; devs: Map<string, number>; levels?: Map<string, ResourceLevel> }>;
  /** load level of the window (sum over pods of a CPU metric), for state-matched nulls */
  load: number;
}

/**
 * How the system's common movement is taken out of a pod's deviation (`commonResiduals`):
 * `shift`, the median pod's deviation subtracted (own-history z units); `factor`, first the
 * median pod's ratio of window mean to history center (a load change multiplies every pod's
 * CPU), then the shift of what is left; `either`, of the two the residual of smaller magnitude
 * (the load explains a pod's deviation when either model of how it moves pods does).
 */
export type CommonMovement = 'shift' | 'factor' | 'either';

export interface ResourceFamilyOptions {
  /** default `either` */
  common?: CommonMovement;
}

export const RESOURCE_DEFAULTS: Required<ResourceFamilyOptions> = { common: 'either' };

export function resourceFamily(historyMs = DEFAULT_HISTORY_MS, options: ResourceFamilyOptions = {}): EvidenceFamily<ResourceSummary, null> {
  const opt = { ...RESOURCE_DEFAULTS, ...options };
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
        if (!p) pods.set(x.pod, (p = { service: x.service, items: [], score: 0, devs: new Map(), levels: new Map() }));
        if (Math.abs(dev) > p.score) p.score = Math.abs(dev);
        p.devs.set(x.name, dev);
        p.levels!.set(x.name, { mean: x.mean, center: r.center, scale: r.scale });
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
      const residual = commonResiduals(s, opt.common);
      const out: RawScores = new Map();
      for (const [pod, p] of s.pods) {
        let e = out.get(p.service);
        if (!e) out.set(p.service, (e = { score: -Infinity, pods: new Map(), parts: new Map(), podParts: new Map(), items: [] }));
        const pp = new Map<string, number>();
        let podScore = 0;
        const res = residual.get(pod)!;
        for (const metric of p.devs.keys()) {
          const d = res.get(metric)!;
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
 * Each pod's deviations with the system's common movement taken out, per metric.
 *
 * Load moves every pod's CPU together (the evening's quiet, a burst), and how much each pod
 * moves is not known. Two models, neither always right:
 * - *shift*: every pod moves by the same number of its own scales — right where a pod's history
 *   scale is its own response to the load's fluctuations. The median pod's deviation is
 *   subtracted.
 * - *factor*: every pod's CPU is multiplied by the same k — right where CPU is proportional to
 *   the requests and the scale is set by noise or the scale's floors (5 % of the larger of the
 *   pod's and the typical pod's level). Against its own history a pod then deviates by
 *   (k − 1)·center/scale, which differs between pods, so the shift alone leaves every pod whose
 *   center/scale is away from the median pod's with a share of the burst (mesh 18 fault-015:
 *   a doubling left reviews-svc at 3.7 above the root cause; small pods below the typical level
 *   read far below the median z). k is the median over pods of window mean / history center
 *   (pods with a positive center, at least `COMMON_MODE_MIN_PODS`), and a pod's deviation is
 *   from k × its center, in its own scale grown by k when k > 1 (the floors are shares of the
 *   level, which has grown; never shrunk, as the history's noise need not fall with the load):
 *   the log ratio beyond the median pod's, in units of the pod's relative scale. The shift of
 *   what is left is then taken out too (metrics without a factor are left to it alone).
 * Real pods are in between (an idle part and a request part; a load generator that does not
 * follow its own load), so by default (`either`) a pod's deviation is the load's when either
 * model explains it: the residual of smaller magnitude. Without a common movement (k ≈ 1, the
 * median z ≈ 0) both are the pod's own deviation; a fault at one pod moves neither the median
 * ratio nor the median z, so it keeps its deviation under both.
 */
function commonResiduals(s: ResourceSummary, mode: CommonMovement): Map<string, Map<string, number>> {
  const shifted = (devs: Map<string, Map<string, number>>) => {
    const shift = commonShift(devs);
    for (const r of devs.values()) for (const [m, d] of r) r.set(m, d - (shift.get(m) ?? 0));
    return devs;
  };
  const own = () => new Map([...s.pods].map(([pod, p]) => [pod, new Map(p.devs)]));
  if (mode === 'shift') return shifted(own());
  const factor = new Map<string, number>();
  const ratios = new Map<string, number[]>();
  for (const p of s.pods.values())
    for (const [m, l] of p.levels ?? []) if (l.center > 0 && Number.isFinite(l.mean)) (ratios.get(m) ?? ratios.set(m, []).get(m)!).push(l.mean / l.center);
  for (const [m, v] of ratios) if (v.length >= COMMON_MODE_MIN_PODS) factor.set(m, median0(v));
  const scaled = new Map<string, Map<string, number>>();
  for (const [pod, p] of s.pods) {
    const r = new Map<string, number>();
    for (const [m, d] of p.devs) {
      const k = factor.get(m);
      const l = p.levels?.get(m);
      r.set(m, k === undefined || !l ? d : (l.mean - k * l.center) / (Math.max(1, k) * l.scale));
    }
    scaled.set(pod, r);
  }
  const byFactor = shifted(scaled);
  if (mode === 'factor') return byFactor;
  const byShift = shifted(own());
  for (const [pod, r] of byFactor) {
    const o = byShift.get(pod)!;
    for (const [m, d] of r) {
      const v = o.get(m)!;
      if (Number.isFinite(v) && !(Math.abs(d) <= Math.abs(v))) r.set(m, v);
    }
  }
  return byFactor;
}

/** The median over pods of each metric's deviation, where at least `COMMON_MODE_MIN_PODS` pods have it. */
function commonShift(devs: Map<string, Map<string, number>>): Map<string, number> {
  const per = new Map<string, number[]>();
  for (const p of devs.values()) for (const [m, d] of p) if (Number.isFinite(d)) (per.get(m) ?? per.set(m, []).get(m)!).push(d);
  const out = new Map<string, number>();
  for (const [m, v] of per) if (v.length >= COMMON_MODE_MIN_PODS) out.set(m, median0(v));
  return out;
}

function median0(v: number[]): number {
  const s = [...v].sort((a, b) => a - b);
  return s[s.length >> 1];
}
