import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { inRange, key } from './spans.js';

/** Per service and template, records per window — for logs no span of the window holds. */
export interface RateSummary {
  counts: Map<string, Map<number, number>>;
  text: Map<number, string>;
  /** per pod (the record's entity, where it is not the service itself): its service and counts */
  pods?: Map<string, { service: string; counts: Map<number, number> }>;
}
type Moments = Map<number, { sum: number; sumSq: number }>;
export interface RateReference {
  windows: number;
  /** per service, per template: Σ count, Σ count² over the normal windows */
  moments: Map<string, Moments>;
  text: Map<number, string>;
  /** per pod, per template, over the same windows (a pod absent from a window logged nothing there) */
  podMoments?: Map<string, Moments>;
}

/**
 * Where logs cannot be joined to spans, a template's count per window against its count over
 * normal windows of the same length, z with variance floored at the mean (Poisson) and 1.
 *
 * "Cannot be joined" is a record without a span id, and also one whose span is not in the
 * window's traces: where traces are sampled (head sampling keeps a few per cent, and the logs
 * still carry every request's trace context) or not collected at all, most records name spans
 * the data does not hold, and the log-template family (records per span) never sees them.
 * The two families split the records: one joined to a span counts there, any other here.
 *
 * Each template is a part (the localizer calibrates it against its own null before the max, so
 * a normally bursty line does not set the service's value), and each pod is judged against its
 * own counts: where logs are all there is, they are what tells a service's pods apart. A pod
 * the reference never saw (a new pod after a restart) is left to the service's value.
 */
export const logRates: EvidenceFamily<RateSummary, RateReference> = {
  name: 'log-rate',
  summarize(w: WindowInput): RateSummary | undefined {
    const counts = new Map<string, Map<number, number>>();
    const pods: NonNullable<RateSummary['pods']> = new Map();
    const text = new Map<number, string>();
    const seen = new Set<string>();
    let spanKeys: Set<string> | undefined;
    for (const l of w.logs) {
      const r = l.record;
      if (!inRange(r.time, w.range)) continue;
      if (r.spanId && r.traceId) {
        spanKeys ??= new Set(w.spans.map((s) => key(s.traceId, s.spanId)));
        if (spanKeys.has(key(r.traceId, r.spanId))) continue;
      }
      // the collector's duplicates (same entity, time and text) are one event
      const dup = `${r.entity}\t${r.time}\t${r.body}`;
      if (seen.has(dup)) continue;
      seen.add(dup);
      let m = counts.get(r.service);
      if (!m) counts.set(r.service, (m = new Map()));
      m.set(l.template, (m.get(l.template) ?? 0) + 1);
      if (r.entity !== r.service) {
        let p = pods.get(r.entity);
        if (!p) pods.set(r.entity, (p = { service: r.service, counts: new Map() }));
        p.counts.set(l.template, (p.counts.get(l.template) ?? 0) + 1);
      }
      if (w.templateText && !text.has(l.template)) text.set(l.template, w.templateText(l.template) ?? `#${l.template}`);
    }
    return counts.size ? { counts, text, ...(pods.size ? { pods } : {}) } : undefined;
  },
  fit(normal: readonly RateSummary[]): RateReference {
    const moments: RateReference['moments'] = new Map();
    const podMoments: Map<string, Moments> = new Map();
    const text = new Map<number, string>();
    for (const s of normal) {
      for (const [svc, m] of s.counts) addMoments(moments, svc, m);
      for (const [pod, p] of s.pods ?? []) addMoments(podMoments, pod, p.counts);
      for (const [t, x] of s.text) text.set(t, x);
    }
    return { windows: normal.length, moments, text, ...(podMoments.size ? { podMoments } : {}) };
  },
  score(s: RateSummary, ref: RateReference): RawScores {
    const out: RawScores = new Map();
    if (ref.windows < 2) return out;
    for (const [svc, m] of s.counts) {
      const r = ref.moments.get(svc);
      if (!r) continue;
      const parts = new Map<string, number>();
      let best = 0;
      let item: EvidenceItem | undefined;
      for (const t of new Set([...m.keys(), ...r.keys()])) {
        const c = m.get(t) ?? 0;
        const { z, mean } = rateZ(c, r.get(t), ref.windows);
        parts.set(String(t), Math.abs(z));
        if (Math.abs(z) <= Math.abs(best)) continue;
        best = z;
        item = { family: 'log-rate', service: svc, subject: s.text.get(t) ?? ref.text.get(t) ?? `#${t}`, value: c, reference: mean, deviation: z, unit: 'records/window' };
      }
      out.set(svc, { score: Math.abs(best), parts, items: item ? [item] : [] });
    }
    for (const [pod, p] of s.pods ?? []) {
      const e = out.get(p.service);
      if (!e) continue;
      const r = ref.podMoments?.get(pod);
      let pp: Map<string, number>;
      if (!r) pp = e.parts!;
      else {
        pp = new Map();
        for (const t of new Set([...p.counts.keys(), ...r.keys()])) pp.set(String(t), Math.abs(rateZ(p.counts.get(t) ?? 0, r.get(t), ref.windows).z));
      }
      (e.podParts ??= new Map()).set(pod, pp);
    }
    return out;
  },
};

function addMoments(into: Map<string, Moments>, k: string, counts: Map<number, number>): void {
  let r = into.get(k);
  if (!r) into.set(k, (r = new Map()));
  for (const [t, c] of counts) {
    const a = r.get(t);
    if (a) (a.sum += c, (a.sumSq += c * c));
    else r.set(t, { sum: c, sumSq: c * c });
  }
}

/**
 * A count against its normal windows' moments: variance floored at the mean (Poisson) and 1.
 * The evidence rows' `lograte_z_*` read the same statistic (src/encode/views/evidence.ts).
 */
export function rateZ(c: number, a: { sum: number; sumSq: number } | undefined, windows: number): { z: number; mean: number } {
  const sum = a?.sum ?? 0;
  const mean = sum / windows;
  const v = Math.max(((a?.sumSq ?? 0) - windows * mean * mean) / (windows - 1), mean, 1);
  return { z: (c - mean) / Math.sqrt(v), mean };
}
