import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { inRange } from './spans.js';

/** Per service and template, records per window — for logs that carry no span id. */
export interface RateSummary {
  counts: Map<string, Map<number, number>>;
  text: Map<number, string>;
}
export interface RateReference {
  windows: number;
  /** per service, per template: Σ count, Σ count² over the normal windows */
  moments: Map<string, Map<number, { sum: number; sumSq: number }>>;
  text: Map<number, string>;
}

/**
 * Where logs cannot be joined to spans, a template's count per window against its count over
 * normal windows of the same length, z with variance floored at the mean (Poisson) and 1.
 */
export const logRates: EvidenceFamily<RateSummary, RateReference> = {
  name: 'log-rate',
  summarize(w: WindowInput): RateSummary | undefined {
    const counts = new Map<string, Map<number, number>>();
    const text = new Map<number, string>();
    const seen = new Set<string>();
    for (const l of w.logs) {
      const r = l.record;
      if (r.spanId || !inRange(r.time, w.range)) continue;
      // the collector's duplicates (same entity, time and text) are one event
      const dup = `${r.entity}\t${r.time}\t${r.body}`;
      if (seen.has(dup)) continue;
      seen.add(dup);
      let m = counts.get(r.service);
      if (!m) counts.set(r.service, (m = new Map()));
      m.set(l.template, (m.get(l.template) ?? 0) + 1);
      if (w.templateText && !text.has(l.template)) text.set(l.template, w.templateText(l.template) ?? `#${l.template}`);
    }
    return counts.size ? { counts, text } : undefined;
  },
  fit(normal: readonly RateSummary[]): RateReference {
    const moments: RateReference['moments'] = new Map();
    const text = new Map<number, string>();
    for (const s of normal) {
      for (const [svc, m] of s.counts) {
        let r = moments.get(svc);
        if (!r) moments.set(svc, (r = new Map()));
        for (const [t, c] of m) {
          const a = r.get(t);
          if (a) (a.sum += c, (a.sumSq += c * c));
          else r.set(t, { sum: c, sumSq: c * c });
        }
      }
      for (const [t, x] of s.text) text.set(t, x);
    }
    return { windows: normal.length, moments, text };
  },
  score(s: RateSummary, ref: RateReference): RawScores {
    const out: RawScores = new Map();
    if (ref.windows < 2) return out;
    for (const [svc, m] of s.counts) {
      const r = ref.moments.get(svc);
      if (!r) continue;
      let best = 0;
      let item: EvidenceItem | undefined;
      for (const t of new Set([...m.keys(), ...r.keys()])) {
        const c = m.get(t) ?? 0;
        const a = r.get(t) ?? { sum: 0, sumSq: 0 };
        const mean = a.sum / ref.windows;
        const v = Math.max((a.sumSq - ref.windows * mean * mean) / (ref.windows - 1), mean, 1);
        const z = (c - mean) / Math.sqrt(v);
        if (Math.abs(z) <= Math.abs(best)) continue;
        best = z;
        item = { family: 'log-rate', service: svc, subject: s.text.get(t) ?? ref.text.get(t) ?? `#${t}`, value: c, reference: mean, deviation: z, unit: 'records/window' };
      }
      out.set(svc, { score: Math.abs(best), items: item ? [item] : [] });
    }
    return out;
  },
};
