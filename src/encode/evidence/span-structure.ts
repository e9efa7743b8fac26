import type { Span } from '../../telemetry/index.js';
import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { childrenOf, inRange, indexSpans, key, spanKind, type SpanIndex } from './spans.js';
import { countTest, type CountScale, type Moments } from './stats.js';

/** Spans an operation needs in a window (and in the reference) before its structure is compared. */
export const STRUCTURE_MIN_SPANS = 3;

interface Counts {
  sum: number;
  sumSq: number;
}
export interface StructureOp {
  service: string;
  operation: string;
  /** clean spans of the operation in the window */
  n: number;
  /** per child operation ("service operation"): Σ calls per span, Σ squares */
  children: Map<string, Counts>;
}
export type StructureSummary = Map<string, StructureOp>;
export type StructureReference = Map<string, { n: number; children: Map<string, Counts> }>;

/** What a child is: the operation it calls ("service operation"); a client span names its peer. */
function childKey(c: Span): string {
  const peer = c.attributes?.['peer.service'];
  const svc = (spanKind(c) === 'client' || spanKind(c) === 'producer') && typeof peer === 'string' ? peer : c.service;
  return `${svc} ${c.operation}`;
}

/**
 * A span that failed, or one of whose calls failed (looking through local children): a failed
 * call ends a method early and adds retries and error lines — changes that belong to whoever
 * failed. Exported for families that must not inherit a callee's failure.
 */
export function touchedByFailure(idx: SpanIndex, s: Span, depth = 0): boolean {
  if (s.status === 'error') return true;
  if (depth > 2) return false;
  for (const c of childrenOf(idx, s)) if (c.status === 'error' || (c.service === s.service && touchedByFailure(idx, c, depth + 1))) return true;
  return false;
}

/** The first record of each (trace, span id). */
export function distinctSpans(spans: readonly Span[]): Span[] {
  const seen = new Set<string>();
  const out: Span[] = [];
  for (const s of spans) {
    const k = key(s.traceId, s.spanId);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(s);
  }
  return out.length === spans.length ? (spans as Span[]) : out;
}

/**
 * Span structure: for each (service, operation), how many calls to each child operation one
 * span makes, against the operation's reference. An exception caught in the middle of a method
 * skips the calls after it; a changed code path calls something new. Compared like log
 * templates, with a Welch t on per-span counts (some children repeat a variable number of
 * times). Spans touched by a failure (their own, or a failed child call, which ends a method
 * early and adds retries) are left out: that change belongs to whoever failed — the call
 * outcome family sees it at the callee. `scale` says how the t becomes a part score
 * (`CountScale`; `spanStructure` keeps it as is).
 */
export function spanStructureFamily(scale: CountScale = 't'): EvidenceFamily<StructureSummary, StructureReference> {
  const test = countTest(scale);
  return {
    name: 'span-structure',
    summarize(w: WindowInput): StructureSummary | undefined {
      if (!w.spans.length) return undefined;
      // a collector that writes a span twice (Nezha does, for minutes at a time) would double
      // every child: each (trace, span id) counts once, as a parent and as a child
      const spans = distinctSpans(w.spans);
      const idx = indexSpans(spans);
      const out: StructureSummary = new Map();
      for (const s of spans) {
        if (!inRange(s.start, w.range)) continue;
        const kind = spanKind(s);
        // the operations themselves: a client span is one call, not an operation with children
        if (kind === 'client' || kind === 'producer') continue;
        if (touchedByFailure(idx, s)) continue;
        const k = `${s.service}\t${s.operation}`;
        let o = out.get(k);
        if (!o) out.set(k, (o = { service: s.service, operation: s.operation, n: 0, children: new Map() }));
        o.n++;
        const per = new Map<string, number>();
        for (const c of childrenOf(idx, s)) per.set(childKey(c), (per.get(childKey(c)) ?? 0) + 1);
        for (const [ck, n] of per) {
          const m = o.children.get(ck);
          if (m) ((m.sum += n), (m.sumSq += n * n));
          else o.children.set(ck, { sum: n, sumSq: n * n });
        }
      }
      return out.size ? out : undefined;
    },
    fit(normal: readonly StructureSummary[]): StructureReference {
      const ref: StructureReference = new Map();
      for (const s of normal) for (const [k, o] of s) {
        let r = ref.get(k);
        if (!r) ref.set(k, (r = { n: 0, children: new Map() }));
        r.n += o.n;
        for (const [c, m] of o.children) {
          const a = r.children.get(c);
          if (a) ((a.sum += m.sum), (a.sumSq += m.sumSq));
          else r.children.set(c, { ...m });
        }
      }
      return ref;
    },
    score(s: StructureSummary, ref: StructureReference): RawScores {
      const out: RawScores = new Map();
      for (const [k, o] of s) {
        const r = ref.get(k);
        if (!r || o.n < STRUCTURE_MIN_SPANS || r.n < STRUCTURE_MIN_SPANS) continue;
        // a leaf operation that never calls anything has no structure to change
        if (!o.children.size && !r.children.size) continue;
        let e = out.get(o.service);
        if (!e) out.set(o.service, (e = { score: 0, parts: new Map(), items: [] }));
        let best = 0;
        let bestItem: EvidenceItem | undefined;
        for (const c of new Set([...o.children.keys(), ...r.children.keys()])) {
          const wm = o.children.get(c) ?? { sum: 0, sumSq: 0 };
          const rm = r.children.get(c) ?? { sum: 0, sumSq: 0 };
          const t = test({ n: o.n, ...wm } as Moments, { n: r.n, ...rm } as Moments);
          e.parts!.set(`${o.operation}|${c}`, Math.abs(t));
          if (Math.abs(t) <= Math.abs(best)) continue;
          best = t;
          const what = rm.sum === 0 ? 'appears' : wm.sum === 0 ? 'vanishes' : 'changes';
          bestItem = {
            family: 'span-structure',
            service: o.service,
            subject: `${o.operation} → ${c} ${what}`,
            value: wm.sum / o.n,
            reference: rm.sum / r.n,
            deviation: t,
            unit: 'calls/span',
            support: o.n,
          };
        }
        e.score = Math.max(e.score, Math.abs(best));
        if (bestItem) e.items.push(bestItem);
      }
      for (const e of out.values()) e.items = e.items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation)).slice(0, 3);
      return out;
    },
  };
}

export const spanStructure = spanStructureFamily();
