import type { Span } from '../../telemetry/index.js';
import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { childrenOf, inRange, indexSpans, isRemoteCall, parentOf, spanKind, type SpanIndex } from './spans.js';
import { median, normalUpperQuantile, quantile } from './stats.js';
import { distinctSpans } from './span-structure.js';

/** Calls an edge needs in a window before its failure share counts. */
export const OUTCOME_MIN_CALLS = 3;
/**
 * A call is slow on its edge when its gap (caller's duration − callee's) exceeds this quantile
 * of the edge's normal gaps: packet loss delays a share of the calls by a retransmission
 * timeout, which the median gap does not show.
 */
export const SLOW_GAP_QUANTILE = 0.99;
/**
 * Variance floor, in calls, of an edge's failure count: on an edge that never fails in normal
 * windows (p₀ ≈ 0) a single failed call would otherwise be extreme by itself.
 */
export const OUTCOME_VARIANCE_FLOOR = 1;

export interface OutcomeEdge {
  caller: string;
  callee: string;
  /** call attempts along the edge in the window */
  calls: number;
  /** attempts that failed at the callee (not inherited from deeper down) */
  failed: number;
  /** gaps (ms) of the attempts that reached the callee and did not fail */
  gaps: number[];
}
export type OutcomeSummary = Map<string, OutcomeEdge>;
/**
 * per edge: the slow-gap threshold, and calls and bad calls (failed or slow) over all normal
 * windows
 */
export type OutcomeReference = Map<string, { slowMs: number; calls: number; bad: number; windows: number; dispersion: number }>;

const isError = (s: Span) => s.status === 'error';

/** A failing span whose own outgoing call failed passes on a failure from deeper down. */
function inherited(idx: SpanIndex, s: Span): boolean {
  for (const c of childrenOf(idx, s)) {
    if (!isError(c)) continue;
    // a failing client child (OTLP), or a failing span in another service (no kinds: Nezha)
    if (spanKind(c) === 'client' || spanKind(c) === 'producer' || c.service !== s.service) return true;
    // a failing local (internal) child: look through it
    if (c.service === s.service && inherited(idx, c)) return true;
  }
  return false;
}

/**
 * A failed attempt with the callee's span behind it: the callee's own error, or a timeout
 * spent mostly between the two (the callee answered in time, its answer did not arrive). A
 * timeout spent inside the callee is slowness passed on from there or deeper down, which the
 * gap and self-time families judge.
 */
function failedAtEdge(idx: SpanIndex, client: Span, server: Span): boolean {
  if (isError(server)) return !inherited(idx, server);
  return client.duration - server.duration >= client.duration / 2;
}

function binomialDev(bad: number, calls: number, p0: number, dispersion = 1): number {
  return (bad - calls * p0) / Math.sqrt(dispersion * calls * p0 * (1 - p0) + OUTCOME_VARIANCE_FLOOR);
}

/** Below this tail probability the normal quantile saturates: the binomial sd takes over. */
const EXACT_TAIL_MIN = 1e-10;

/**
 * An edge's bad calls as a z: the exact binomial mid-p tail P(X > k) + ½·P(X = k) under the
 * edge's normal share, with counts divided by the overdispersion φ (quasi-binomial effective
 * size), as a normal quantile. Exact rather than a normal approximation because counts are
 * small: one slow call of 7 (a 7 % event at p₀ = 1 %) must not look rarer than one of 30 looks
 * to a z with a variance floor — the calibration then sees a rare *value*, not a rare event.
 * Beyond `EXACT_TAIL_MIN` the quantile saturates and the binomial sd (`binomialDev`) is used.
 */
export function outcomeZ(bad: number, calls: number, p0: number, dispersion = 1): number {
  const n = Math.max(1, Math.round(calls / dispersion));
  const k = Math.min(n, Math.round(bad / dispersion));
  const q = 1 - p0;
  let pmf = Math.pow(q, n);
  let cdfBelow = 0;
  for (let j = 0; j < k; j++) {
    cdfBelow += pmf;
    pmf *= ((n - j) / (j + 1)) * (p0 / q);
  }
  const tail = Math.max(0, 1 - cdfBelow - pmf) + pmf / 2;
  const sd = binomialDev(bad, calls, p0, dispersion);
  return tail > EXACT_TAIL_MIN ? normalUpperQuantile(Math.min(tail, 1 - 1e-16)) : Math.max(normalUpperQuantile(EXACT_TAIL_MIN), sd);
}

/**
 * Packet loss at a caller loses its outgoing packets too: its calls go bad as often as the
 * calls into it, and a callee it alone calls looks as bad as the caller. Two hypotheses for a
 * bad edge: the fault is at the caller (the caller's incoming share equals the edge's) or at
 * the callee (the caller's incoming share is its normal one). The edge is the caller's when its
 * incoming calls contradict "normal" at least as strongly (binomial z against their p₀) as they
 * contradict "equal to this edge" (z of the difference of two shares). No constant: the
 * hypothesis the data fit better wins.
 */
function explainedByLossyCaller(edge: { bad: number; calls: number; p0: number }, own: { bad: number; calls: number; expected: number }): boolean {
  const xe = edge.bad / edge.calls;
  if (xe <= edge.p0 || own.calls === 0) return false;
  const p0 = own.expected / own.calls;
  const notNormal = binomialDev(own.bad, own.calls, p0);
  if (notNormal <= 0) return false;
  const xi = own.bad / own.calls;
  const se = Math.sqrt((xi * (1 - xi)) / own.calls + (xe * (1 - xe)) / edge.calls + 1 / (own.calls * edge.calls));
  const notEqual = (xe - xi) / se;
  return notNormal >= notEqual;
}

/** Calls of an edge that failed at the callee or were slower on the edge than `slowMs`. */
function badCalls(e: OutcomeEdge, slowMs: number): number {
  let n = e.failed;
  for (const g of e.gaps) if (g > slowMs) n++;
  return n;
}

function peerOf(s: Span): string | undefined {
  const p = s.attributes?.['peer.service'];
  return typeof p === 'string' && p ? p : undefined;
}

/**
 * Call outcomes per edge: of the calls from a caller into a callee, the share that went bad on
 * the edge — failed at the callee (refused or reset connections, timeouts, the callee's own
 * errors) or slower between the two than the edge's normal 99th percentile gap — against the
 * edge's normal share. Packet loss shows as resets and timeouts on the calls into the pod, a
 * killed pod as refused calls. A failure the callee merely passes on (its own outgoing call
 * failed) counts as a success of this edge: it belongs to the edge further down, so a caller
 * never inherits its callee's failures.
 */
export const callOutcomes: EvidenceFamily<OutcomeSummary, OutcomeReference> = {
  name: 'call-outcome',
  summarize(w: WindowInput): OutcomeSummary | undefined {
    if (!w.spans.length) return undefined;
    // a span the collector wrote twice is one call
    const spans = distinctSpans(w.spans);
    const idx = indexSpans(spans);
    const out: OutcomeSummary = new Map();
    const add = (caller: string, callee: string, failed: boolean, gap: number) => {
      const k = `${caller}\t${callee}`;
      let e = out.get(k);
      if (!e) out.set(k, (e = { caller, callee, calls: 0, failed: 0, gaps: [] }));
      e.calls++;
      if (failed) e.failed++;
      else if (Number.isFinite(gap)) e.gaps.push(gap);
    };
    for (const s of spans) {
      if (!inRange(s.start, w.range)) continue;
      const kind = spanKind(s);
      if (kind === 'client' || kind === 'producer') {
        // the caller's side of one attempt: a failure without a server span behind it is the
        // connection's (refused, reset, timed out before the callee answered)
        const server = childrenOf(idx, s).find((c) => c.service !== s.service);
        const callee = server?.service ?? peerOf(s);
        if (!callee || callee === s.service) continue;
        add(s.service, callee, isError(s) && (!server || failedAtEdge(idx, s, server)), server ? Math.max(0, s.duration - server.duration) : NaN);
        continue;
      }
      if (kind !== undefined) continue;
      // no span kinds (Nezha): a span whose parent is in another service is one call
      const p = parentOf(idx, s);
      if (!p || spanKind(p) !== undefined || !isRemoteCall(p, s)) continue;
      add(p.service, s.service, isError(s) && !inherited(idx, s), Math.max(0, p.duration - s.duration));
    }
    return out.size ? out : undefined;
  },
  fit(normal: readonly OutcomeSummary[]): OutcomeReference {
    const gaps = new Map<string, number[]>();
    for (const w of normal) for (const [k, e] of w) {
      const g = gaps.get(k);
      if (g) for (const x of e.gaps) g.push(x);
      else gaps.set(k, [...e.gaps]);
    }
    const ref: OutcomeReference = new Map();
    for (const [k, g] of gaps) ref.set(k, { slowMs: g.length ? quantile(g, SLOW_GAP_QUANTILE) : Infinity, calls: 0, bad: 0, windows: 0, dispersion: 1 });
    for (const w of normal) for (const [k, e] of w) {
      const r = ref.get(k)!;
      r.calls += e.calls;
      r.bad += badCalls(e, r.slowMs);
      r.windows++;
    }
    // overdispersion (quasi-binomial φ): bad calls come in bursts (a callee's GC pause, a
    // queue), so normal windows vary more than a binomial does; φ = mean over normal windows of
    // the squared binomial z, at least 1
    const sq = new Map<string, number[]>();
    for (const w of normal) for (const [k, e] of w) {
      if (e.calls < OUTCOME_MIN_CALLS) continue;
      const r = ref.get(k)!;
      const p0 = (r.bad + 0.5) / (r.calls + 1);
      const z = (badCalls(e, r.slowMs) - e.calls * p0) / Math.sqrt(e.calls * p0 * (1 - p0));
      sq.set(k, [...(sq.get(k) ?? []), z * z]);
    }
    for (const [k, v] of sq) ref.get(k)!.dispersion = Math.max(1, v.reduce((a, b) => a + b, 0) / v.length);
    return ref;
  },
  score(s: OutcomeSummary, ref: OutcomeReference): RawScores {
    // per edge: bad calls beyond what the edge's normal share predicts, in binomial sd
    const devs = new Map<string, number>();
    const counts = new Map<string, { bad: number; calls: number; p0: number }>();
    for (const [k, e] of s) {
      const r = ref.get(k);
      if (!r || e.calls < OUTCOME_MIN_CALLS) continue;
      // the normal share with half a bad call added, so an edge never seen failing is not p₀ = 0
      const p0 = (r.bad + 0.5) / (r.calls + 1);
      const bad = badCalls(e, r.slowMs);
      counts.set(k, { bad, calls: e.calls, p0 });
      devs.set(k, outcomeZ(bad, e.calls, p0, r.dispersion));
    }
    // each service's incoming calls pooled over its callers
    const into = new Map<string, { bad: number; calls: number; expected: number }>();
    for (const [k, c] of counts) {
      const callee = s.get(k)!.callee;
      const a = into.get(callee) ?? { bad: 0, calls: 0, expected: 0 };
      into.set(callee, { bad: a.bad + c.bad, calls: a.calls + c.calls, expected: a.expected + c.calls * c.p0 });
    }
    const explained = new Set<string>();
    for (const [k, c] of counts) {
      const own = into.get(s.get(k)!.caller);
      if (own && explainedByLossyCaller(c, own)) explained.add(k);
    }
    const callees = new Set([...devs.keys()].map((k) => s.get(k)!.callee));
    const out: RawScores = new Map();
    for (const callee of callees) {
      const items: EvidenceItem[] = [];
      const incoming = new Map<string, number>();
      for (const [k, dev] of devs) {
        const e = s.get(k)!;
        if (e.callee !== callee || explained.has(k)) continue;
        incoming.set(e.caller, dev);
        const r = ref.get(k)!;
        items.push({
          family: 'call-outcome',
          service: callee,
          subject: `${e.caller} → ${callee} (${e.failed} of ${e.calls} calls failed, ${badCalls(e, r.slowMs) - e.failed} slower than ${r.slowMs.toFixed(1)} ms)`,
          value: badCalls(e, r.slowMs) / e.calls,
          reference: r.bad / r.calls,
          deviation: dev,
          unit: 'failed or slow share',
          support: e.calls,
        });
      }
      if (!incoming.size) continue;
      items.sort((a, b) => b.deviation - a.deviation);
      out.set(callee, { score: median([...incoming.values()]), items: items.slice(0, 3), incoming });
    }
    return out;
  },
};
