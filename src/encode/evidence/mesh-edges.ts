import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { LOG_SCALE_FLOOR, MIN_REFERENCE_WINDOWS } from './edges.js';
import { median, robustLocation, type RobustLocation } from './stats.js';
import { explainedByCaller } from './edge-blame.js';
import { msPerUnit, parseMeshSeries } from '../../telemetry/index.js';

export { MESH_LATENCY_NAME, parseMeshSeries, type MeshSeries } from '../../telemetry/index.js';

export interface MeshEdgeWindow {
  caller: string;
  callee: string;
  percentile: number;
  /** caller-side latency − callee-side latency, ms */
  gap: number;
  /** per callee pod: the caller side's latency − that pod's own */
  byPod: Map<string, number>;
}
export type MeshSummary = Map<string, MeshEdgeWindow>;
export type MeshReference = Map<string, RobustLocation>;

const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/**
 * Edge gaps from mesh metrics: the caller's proxy sees the network and the callee's ingress,
 * the callee's proxy only the callee, so their difference is the time between the two — the
 * trace edge gap without traces. A delay injected at a pod raises it on every edge into the
 * pod's service; compared, like the trace edge gap, as log(1 + gap) against the edge's normal
 * windows, attributed to the callee (median over its incoming edges).
 */
export const meshEdges: EvidenceFamily<MeshSummary, MeshReference> = {
  name: 'mesh-edge',
  summarize(w: WindowInput): MeshSummary | undefined {
    const store = w.metrics;
    if (!store) return undefined;
    // per edge and percentile: caller-side values (all caller pods), callee-side per pod
    const edges = new Map<string, { caller: string; callee: string; src: Map<number, number[]>; dst: Map<number, Map<string, number[]>> }>();
    for (const entity of store.entities()) {
      for (const name of store.names(entity)) {
        const s = parseMeshSeries(name);
        if (!s) continue;
        const raw = store.values(entity, name, w.range);
        if (!raw.length) continue;
        // in ms whatever the source's unit (the service graph connector writes seconds)
        const f = msPerUnit(store.unit(entity, name), name);
        const v = f === 1 ? raw : raw.map((x) => x * f);
        const k = `${s.source}\t${s.destination}`;
        let e = edges.get(k);
        if (!e) edges.set(k, (e = { caller: s.source, callee: s.destination, src: new Map(), dst: new Map() }));
        if (s.callerSide) {
          const l = e.src.get(s.percentile);
          if (l) l.push(mean(v));
          else e.src.set(s.percentile, [mean(v)]);
        } else {
          let byPod = e.dst.get(s.percentile);
          if (!byPod) e.dst.set(s.percentile, (byPod = new Map()));
          // the callee side is per pod only where the reporting entity is one of the callee's
          // pods; a series on the service itself (a Nezha table) or on a collector (the
          // service graph connector) names no pod, and the localizer then spreads the score
          const pod = entity !== s.destination && (!w.serviceOf || w.serviceOf(entity) === s.destination) ? entity : '';
          byPod.set(pod, [...(byPod.get(pod) ?? []), mean(v)]);
        }
      }
    }
    const out: MeshSummary = new Map();
    for (const [k, e] of edges) {
      const both = [...e.src.keys()].filter((p) => e.dst.has(p)).sort((a, b) => a - b);
      if (!both.length) continue;
      const p = both[0];
      const caller = mean(e.src.get(p)!);
      const pods = new Map([...e.dst.get(p)!].map(([pod, v]) => [pod, mean(v)]));
      const callee = mean([...pods.values()]);
      out.set(k, { caller: e.caller, callee: e.callee, percentile: p, gap: caller - callee, byPod: new Map([...pods].map(([pod, v]) => [pod, caller - v])) });
    }
    return out.size ? out : undefined;
  },
  fit(normal: readonly MeshSummary[]): MeshReference {
    const per = new Map<string, number[]>();
    for (const s of normal) for (const [k, e] of s) per.set(k, [...(per.get(k) ?? []), Math.log1p(Math.max(0, e.gap))]);
    const ref: MeshReference = new Map();
    for (const [k, v] of per) if (v.length >= MIN_REFERENCE_WINDOWS) ref.set(k, robustLocation(v, LOG_SCALE_FLOOR));
    return ref;
  },
  score(s: MeshSummary, ref: MeshReference): RawScores {
    const devs = new Map<string, number>();
    // the time added on each edge (ms over its normal gap): a lossy caller adds as much to its
    // outgoing calls as to the calls into it, whatever each edge's normal spread
    const added = new Map<string, number>();
    for (const [k, e] of s) {
      const r = ref.get(k);
      if (!r) continue;
      devs.set(k, (Math.log1p(Math.max(0, e.gap)) - r.center) / r.scale);
      added.set(k, e.gap - Math.expm1(r.center));
    }
    const explained = explainedByCaller(added, (k) => s.get(k)!);
    const per = new Map<string, { devs: number[]; pods: Map<string, number[]>; items: EvidenceItem[]; incoming: Map<string, number> }>();
    for (const [k, dev] of devs) {
      const level = explained.get(k);
      // an edge put down to the caller is left out of the callee's edges; it counts among the
      // caller's own (as in the call-outcome family) only where it gained about as much as the
      // caller's level (within half of it, the same midpoint): a noise-level gain beside a
      // large one is nearer "as much" than "none", but it is no witness of the caller's trouble
      const mine = level !== undefined;
      if (mine && !(added.get(k)! >= level / 2)) continue;
      const e = s.get(k)!;
      const r = ref.get(k)!;
      const svc = mine ? e.caller : e.callee;
      let c = per.get(svc);
      if (!c) per.set(svc, (c = { devs: [], pods: new Map(), items: [], incoming: new Map() }));
      c.devs.push(dev);
      if (!mine) {
        c.incoming.set(e.caller, dev);
        for (const [pod, g] of e.byPod) c.pods.set(pod, [...(c.pods.get(pod) ?? []), (Math.log1p(Math.max(0, g)) - r.center) / r.scale]);
      }
      c.items.push({
        family: 'mesh-edge',
        service: svc,
        subject: `${e.caller} → ${e.callee} (p${e.percentile} caller − callee${mine ? `; put down to ${e.caller}'s own network` : ''})`,
        value: e.gap,
        reference: Math.expm1(r.center),
        deviation: dev,
        unit: 'ms',
      });
    }
    const out: RawScores = new Map();
    for (const [svc, c] of per) {
      c.items.sort((a, b) => b.deviation - a.deviation);
      // a service-level table (the callee's side measured per service, not per pod) names no
      // pod: the localizer then gives the service's score to each of its pods
      const pods = new Map([...c.pods].filter(([p]) => p !== '').map(([p, d]) => [p, median(d)]));
      out.set(svc, pods.size > 0 ? { score: median(c.devs), pods, items: c.items.slice(0, 3), incoming: c.incoming } : { score: median(c.devs), items: c.items.slice(0, 3), incoming: c.incoming });
    }
    return out;
  },
};
