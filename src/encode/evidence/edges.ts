import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { inRange, indexSpans, isRemoteCall, parentOf } from './spans.js';
import { median, quantile, supportedLocation, supportScale, type SupportedLocation } from './stats.js';

/** Calls an edge needs in a window before its gap counts (a median of 1–2 calls is noise). */
export const EDGE_MIN_CALLS = 3;
/** Normal windows an edge needs before it has a reference. */
export const MIN_REFERENCE_WINDOWS = 3;
/** Scale floor on log(1 + gap ms) between windows: a 10% change is never extreme by itself. */
export const LOG_SCALE_FLOOR = 0.1;

/**
 * What the per-window-median fits (edge gaps, self time) read of one key in one reference
 * window: its key, how many values, and their median (NaN below `EDGE_MIN_CALLS`, where the
 * window does not count). Kept instead of the window's values: the encode's reference sample
 * holds up to 256 windows through the whole fitting pass, and their values were most of what
 * it kept (docs/views.md, "Reference samples kept small").
 */
export type KeyMedian = readonly [key: string, n: number, med: number];

export function keyMedian(key: string, values: ArrayLike<number>): KeyMedian {
  return [key, values.length, values.length < EDGE_MIN_CALLS ? NaN : median(values)];
}

/**
 * The families' fit of per-window medians (`edgeGaps.fit`, `selfTime.fit`): per key, the
 * robust location of ln(1 + median) over the windows with ≥ `EDGE_MIN_CALLS` values, with the
 * median count as support, for keys with ≥ `MIN_REFERENCE_WINDOWS` such windows. Keys come in
 * the order the windows first hold them.
 */
export function fitMedians(windows: Iterable<Iterable<KeyMedian>>): Map<string, SupportedLocation> {
  const per = new Map<string, { v: number[]; n: number[] }>();
  for (const w of windows) for (const [k, n, med] of w) {
    if (n < EDGE_MIN_CALLS) continue;
    let l = per.get(k);
    if (!l) per.set(k, (l = { v: [], n: [] }));
    l.v.push(Math.log1p(med));
    l.n.push(n);
  }
  const ref = new Map<string, SupportedLocation>();
  for (const [k, l] of per) if (l.v.length >= MIN_REFERENCE_WINDOWS) ref.set(k, supportedLocation(l.v, l.n, LOG_SCALE_FLOOR));
  return ref;
}

export interface EdgeWindow {
  caller: string;
  callee: string;
  gaps: number[];
  byPod: Map<string, number[]>;
}

export type EdgeSummary = Map<string, EdgeWindow>;
export type EdgeReference = Map<string, SupportedLocation>;

/**
 * Call-edge gaps: for a span whose parent is a call from another service, parent duration −
 * child duration is time spent between the two (network, queues, the callee's ingress),
 * attributed to the callee's incoming edge. A delay injected at a service shows on every edge
 * into it, while its callers' own spans only inherit it — so the callee, not the caller, moves.
 */
export const edgeGaps: EvidenceFamily<EdgeSummary, EdgeReference> = {
  name: 'edge-gap',
  summarize(w: WindowInput): EdgeSummary | undefined {
    if (!w.spans.length) return undefined;
    const idx = indexSpans(w.spans);
    const out: EdgeSummary = new Map();
    for (const s of w.spans) {
      if (!inRange(s.start, w.range)) continue;
      const p = parentOf(idx, s);
      if (!p || !isRemoteCall(p, s)) continue;
      const gap = Math.max(0, p.duration - s.duration);
      const k = `${p.service}\t${s.service}`;
      let e = out.get(k);
      if (!e) out.set(k, (e = { caller: p.service, callee: s.service, gaps: [], byPod: new Map() }));
      e.gaps.push(gap);
      const pg = e.byPod.get(s.entity);
      if (pg) pg.push(gap);
      else e.byPod.set(s.entity, [gap]);
    }
    return out.size ? out : undefined;
  },
  fit(normal: readonly EdgeSummary[]): EdgeReference {
    return fitMedians(normal.map((s) => Array.from(s, ([k, e]) => keyMedian(k, e.gaps))));
  },
  score(s: EdgeSummary, ref: EdgeReference): RawScores {
    // per callee: the deviations of its incoming edges; the median across edges, so one starved
    // caller (whose calls all look slow) does not convict the callee, while a delay at the
    // callee, which every caller sees, does
    const perCallee = new Map<string, { devs: number[]; pods: Map<string, number[]>; items: EvidenceItem[]; incoming: Map<string, number> }>();
    for (const [k, e] of s) {
      const r = ref.get(k);
      if (!r || e.gaps.length < EDGE_MIN_CALLS) continue;
      const med = median(e.gaps);
      // a median of a few calls is judged by the spread such a median has (`supportScale`)
      const dev = (Math.log1p(med) - r.center) / supportScale(r, e.gaps.length);
      let c = perCallee.get(e.callee);
      if (!c) perCallee.set(e.callee, (c = { devs: [], pods: new Map(), items: [], incoming: new Map() }));
      c.devs.push(dev);
      c.incoming.set(e.caller, dev);
      for (const [pod, g] of e.byPod) {
        if (g.length < EDGE_MIN_CALLS) continue;
        const pd = (Math.log1p(median(g)) - r.center) / supportScale(r, g.length);
        const l = c.pods.get(pod);
        if (l) l.push(pd);
        else c.pods.set(pod, [pd]);
      }
      c.items.push({
        family: 'edge-gap',
        service: e.callee,
        subject: `${e.caller} → ${e.callee} (p90 ${quantile(e.gaps, 0.9).toFixed(1)} ms)`,
        value: med,
        reference: Math.expm1(r.center),
        deviation: dev,
        unit: 'ms',
        support: e.gaps.length,
      });
    }
    const out: RawScores = new Map();
    for (const [svc, c] of perCallee) {
      c.items.sort((a, b) => b.deviation - a.deviation);
      out.set(svc, {
        score: median(c.devs),
        pods: new Map([...c.pods].map(([p, d]) => [p, median(d)])),
        items: c.items.slice(0, 3),
        incoming: c.incoming,
      });
    }
    return out;
  },
};
