import type { Span } from '../../telemetry/index.js';
import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { childrenOf, inRange, indexSpans, isRemoteCall, parentOf, spanKind, type SpanIndex } from './spans.js';
import { EDGE_MIN_CALLS, fitMedians, keyMedian } from './edges.js';
import { median, supportScale, type SupportedLocation } from './stats.js';

export interface SelfWindow {
  service: string;
  operation: string;
  selfMs: number[];
  byPod: Map<string, number[]>;
}
export type SelfSummary = Map<string, SelfWindow>;
export type SelfReference = Map<string, SupportedLocation>;

/**
 * Intervals of a service's outgoing calls under `s`: a same-service span that calls another
 * service (a client span, or where kinds are missing, one with a child in another service)
 * counts whole — its duration includes the network and the callee, which are not this
 * service's own time.
 */
function outgoing(idx: SpanIndex, s: Span, out: [number, number][], depth = 0): void {
  if (depth > 64) return;
  for (const c of childrenOf(idx, s)) {
    if (c.service !== s.service) {
      out.push([c.start, c.start + c.duration]);
      continue;
    }
    const kind = spanKind(c);
    const callsOut = kind === 'client' || kind === 'producer' || childrenOf(idx, c).some((g) => g.service !== c.service);
    if (callsOut) out.push([c.start, c.start + c.duration]);
    else outgoing(idx, c, out, depth + 1);
  }
}

/** Length of the union of intervals clipped to [lo, hi] (sorts `iv` in place). */
export function unionLength(iv: [number, number][], lo: number, hi: number): number {
  iv.sort((a, b) => a[0] - b[0]);
  return sweptUnion(iv.map((x) => x[0]), iv.map((x) => x[1]), iv.length, lo, hi);
}

/**
 * Length of the union of the first `n` intervals [starts[i], ends[i]], already sorted by start,
 * clipped to [lo, hi]: one sweep. The order of equal starts does not change the result.
 */
export function sweptUnion(starts: ArrayLike<number>, ends: ArrayLike<number>, n: number, lo: number, hi: number): number {
  let total = 0;
  let cs = -Infinity;
  let ce = -Infinity;
  for (let i = 0; i < n; i++) {
    const a = Math.max(starts[i], lo);
    const b = Math.min(ends[i], hi);
    if (b <= a) continue;
    if (a > ce) {
      if (ce > cs) total += ce - cs;
      cs = a;
      ce = b;
    } else ce = Math.max(ce, b);
  }
  if (ce > cs) total += ce - cs;
  return total;
}

/**
 * Exclusive self time of entry spans (a service's first span of a request): duration minus the
 * union of its outgoing calls. CPU starvation or a slow local resource raises it; a slow
 * callee does not.
 */
export const selfTime: EvidenceFamily<SelfSummary, SelfReference> = {
  name: 'self-time',
  summarize(w: WindowInput): SelfSummary | undefined {
    if (!w.spans.length) return undefined;
    const idx = indexSpans(w.spans);
    const out: SelfSummary = new Map();
    for (const s of w.spans) {
      if (!inRange(s.start, w.range)) continue;
      const p = parentOf(idx, s);
      if (p && !(p.service !== s.service && isRemoteCall(p, s))) continue;
      if (!p && s.parentId) continue; // parent outside the context: cannot tell an entry
      const iv: [number, number][] = [];
      outgoing(idx, s, iv);
      const self = Math.max(0, s.duration - unionLength(iv, s.start, s.start + s.duration));
      const k = `${s.service}\t${s.operation}`;
      let e = out.get(k);
      if (!e) out.set(k, (e = { service: s.service, operation: s.operation, selfMs: [], byPod: new Map() }));
      e.selfMs.push(self);
      const pl = e.byPod.get(s.entity);
      if (pl) pl.push(self);
      else e.byPod.set(s.entity, [self]);
    }
    return out.size ? out : undefined;
  },
  fit(normal: readonly SelfSummary[]): SelfReference {
    // the same fit as the edges' (per-window medians)
    return fitMedians(normal.map((s) => Array.from(s, ([k, e]) => keyMedian(k, e.selfMs))));
  },
  score(s: SelfSummary, ref: SelfReference): RawScores {
    const out: RawScores = new Map();
    for (const [k, e] of s) {
      const r = ref.get(k);
      if (!r || e.selfMs.length < EDGE_MIN_CALLS) continue;
      const med = median(e.selfMs);
      // only a rise: a service doing less of its own work is not where a delay comes from
      // a median of a few spans is judged by the spread such a median has (`supportScale`)
      const dev = Math.max(0, (Math.log1p(med) - r.center) / supportScale(r, e.selfMs.length));
      let o = out.get(e.service);
      if (!o) out.set(e.service, (o = { score: -Infinity, pods: new Map(), parts: new Map(), podParts: new Map(), items: [] }));
      o.score = Math.max(o.score, dev);
      o.parts!.set(e.operation, dev);
      for (const [pod, v] of e.byPod) {
        if (v.length < EDGE_MIN_CALLS) continue;
        const pd = Math.max(0, (Math.log1p(median(v)) - r.center) / supportScale(r, v.length));
        o.pods!.set(pod, Math.max(o.pods!.get(pod) ?? -Infinity, pd));
        let pp = o.podParts!.get(pod);
        if (!pp) o.podParts!.set(pod, (pp = new Map()));
        pp.set(e.operation, pd);
      }
      const item: EvidenceItem = {
        family: 'self-time',
        service: e.service,
        subject: e.operation,
        value: med,
        reference: Math.expm1(r.center),
        deviation: dev,
        unit: 'ms',
        support: e.selfMs.length,
      };
      o.items.push(item);
    }
    for (const o of out.values()) o.items = o.items.sort((a, b) => b.deviation - a.deviation).slice(0, 3);
    return out;
  },
};
