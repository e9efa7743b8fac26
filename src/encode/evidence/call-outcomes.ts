import type { Span } from '../../telemetry/index.js';
import type { EvidenceFamily, EvidenceItem, RawScores, TemplatedLog, WindowInput } from './types.js';
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
  /** attempts that succeeded but whose answer the caller then logged an error about */
  complained: number;
  /** gaps (ms) of the attempts that reached the callee and did not fail */
  gaps: number[];
  /** attempts that ended in an error of any kind, passed on from deeper down or not */
  errored?: number;
  /** caller-side durations (ms) of the attempts that did not error */
  durations?: number[];
}
export type OutcomeSummary = Map<string, OutcomeEdge>;
/**
 * per edge: the slow-gap threshold, and calls and bad calls (failed or slow) over all normal
 * windows
 */
export type OutcomeReference = Map<string, { slowMs: number; calls: number; bad: number; windows: number; dispersion: number; felt?: FeltReference }>;

/** What callers feel on an edge in normal windows: the slow end-to-end threshold, calls and felt-bad calls, dispersion. */
interface FeltReference {
  slowMs: number;
  calls: number;
  bad: number;
  dispersion: number;
}

/** Calls that went bad as the caller felt them: errored, or slower end to end than `slowMs`. */
function feltBad(e: OutcomeEdge, slowMs: number): number {
  let n = e.errored ?? 0;
  for (const d of e.durations ?? []) if (d > slowMs) n++;
  return n;
}

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

/**
 * The shared `quantile` (finite values only, linear between order statistics) of a pooled
 * sample, sorted as a typed array: the same value — ±0 may change places, which no
 * interpolation between them can tell — without the generic array copy and comparator sort
 * (the pooled gaps of the reference windows: ≈ 0.15 s at the end of a Nezha pass).
 */
export function pooledQuantile(xs: readonly number[], q: number): number {
  const a = new Float64Array(xs.length);
  let n = 0;
  for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i])) a[n++] = xs[i];
  if (n === 0) return NaN;
  const s = a.subarray(0, n).sort();
  const pos = Math.min(1, Math.max(0, q)) * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Median of the χ² distribution with one degree of freedom (Φ⁻¹(¾)²): a squared z's median under the null. */
export const CHI2_1_MEDIAN = 0.454936423119572;

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
 * hypothesis the data fit better wins. `own` is the caller's incoming calls, or its calls into
 * one of its other callees (the score's second witness).
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

/** Calls of an edge that failed at the callee, were complained about or were slower on the edge than `slowMs`. */
function badCalls(e: OutcomeEdge, slowMs: number): number {
  let n = e.failed + e.complained;
  for (const g of e.gaps) if (g > slowMs) n++;
  return n;
}

function peerOf(s: Span): string | undefined {
  const p = s.attributes?.['peer.service'];
  return typeof p === 'string' && p ? p : undefined;
}

/** Names shorter than this are too common as words to say which peer a line is about. */
const MIN_NAME_CHARS = 3;
/** Log and span clocks agree to about a millisecond (log timestamps are often whole ms). */
const CLOCK_SLACK_MS = 1;

/** Characters that continue a name (`ts-order-service-v2`, `GET /cart`); a dot ends one (`chain-store.default.svc`). */
const continuesName = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_\-/]/.test(c);

/** `text` names `name` as a whole (a service or an operation, not part of a longer name). */
export function namesPeer(text: string, name: string): boolean {
  if (name.length < MIN_NAME_CHARS) return false;
  for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
    if (!continuesName(text[i - 1]) && !continuesName(text[i + name.length])) return true;
  }
  return false;
}

/** One call as its caller saw it: the span the caller logs on, the callee, and how it ended. */
interface CallView {
  caller: string;
  /** the caller's span that made the call (where its log lines about the call go) */
  callerSpan: Span | undefined;
  callee: string;
  operation: string;
  end: number;
  /** failed at the callee (counted on this edge) */
  failed: boolean;
  /** the attempt ended in an error of any kind (also one passed on from deeper down) */
  errored: boolean;
  /** started inside the window (counted); others are context for complaints */
  counted: boolean;
  /** caller's duration − callee's, ms (NaN without the callee's span) */
  gap: number;
  /** the call's duration as the caller saw it, ms */
  duration: number;
}

/**
 * Calls the caller complained about: a wrong answer (a return-value fault) fails no span — the
 * callee's spans and logs can look normal — but the caller notices and logs an error naming
 * what it called. An ERROR record on the caller's span that names a callee (its service or the
 * operation called) is charged to the latest call to that callee that had ended by then, unless
 * that call failed (its error line is about the failure, already counted). Errors naming no
 * callee (the caller's own exceptions) charge nobody.
 */
function complaints(logs: readonly TemplatedLog[], calls: readonly CallView[]): Set<CallView> {
  const out = new Set<CallView>();
  if (!logs.length || !calls.length) return out;
  const bySpan = new Map<string, CallView[]>();
  for (const c of calls) {
    if (!c.callerSpan) continue;
    const k = `${c.callerSpan.traceId}/${c.callerSpan.spanId}`;
    const l = bySpan.get(k);
    if (l) l.push(c);
    else bySpan.set(k, [c]);
  }
  for (const { record: r } of logs) {
    if (!r.spanId || !r.traceId || (r.severity !== 'error' && r.severity !== 'fatal')) continue;
    const cands = bySpan.get(`${r.traceId}/${r.spanId}`);
    if (!cands) continue;
    let best: CallView | undefined;
    for (const c of cands) {
      if (c.end > r.time + CLOCK_SLACK_MS || (best && c.end <= best.end)) continue;
      if (namesPeer(r.body, c.callee) || namesPeer(r.body, c.operation)) best = c;
    }
    if (best && !best.errored) out.add(best);
  }
  return out;
}

/**
 * Call outcomes per edge: of the calls from a caller into a callee, the share that went bad on
 * the edge — failed at the callee (refused or reset connections, timeouts, the callee's own
 * errors), answered but complained about by the caller (`complaints`), or slower between the
 * two than the edge's normal 99th percentile gap — against the edge's normal share. Packet loss shows as resets and timeouts on the calls into the pod, a
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
    // every call seen from its caller's side first (all of them: a complaint may name a call
    // that started before the window), then the window's counted
    const calls: CallView[] = [];
    for (const s of spans) {
      const kind = spanKind(s);
      if (kind === 'client' || kind === 'producer') {
        // the caller's side of one attempt: a failure without a server span behind it is the
        // connection's (refused, reset, timed out before the callee answered)
        const server = childrenOf(idx, s).find((c) => c.service !== s.service);
        const callee = server?.service ?? peerOf(s);
        if (!callee || callee === s.service) continue;
        calls.push({
          caller: s.service,
          callerSpan: parentOf(idx, s),
          callee,
          operation: server?.operation ?? s.operation,
          end: s.start + s.duration,
          failed: isError(s) && (!server || failedAtEdge(idx, s, server)),
          errored: isError(s),
          counted: inRange(s.start, w.range),
          gap: server ? Math.max(0, s.duration - server.duration) : NaN,
          duration: s.duration,
        });
        continue;
      }
      if (kind !== undefined) continue;
      // no span kinds (Nezha): a span whose parent is in another service is one call
      const p = parentOf(idx, s);
      if (!p || spanKind(p) !== undefined || !isRemoteCall(p, s)) continue;
      calls.push({
        caller: p.service,
        callerSpan: p,
        callee: s.service,
        operation: s.operation,
        end: s.start + s.duration,
        failed: isError(s) && !inherited(idx, s),
        errored: isError(s),
        counted: inRange(s.start, w.range),
        gap: Math.max(0, p.duration - s.duration),
        // without kinds the caller's client side is not a span of its own: the callee's server
        // span plus the gap is the nearest to what the caller waited
        duration: p.duration,
      });
    }
    const complained = complaints(w.logs, calls);
    const out: OutcomeSummary = new Map();
    for (const c of calls) {
      if (!c.counted) continue;
      const caller = c.caller;
      const k = `${caller}\t${c.callee}`;
      let e = out.get(k);
      if (!e) out.set(k, (e = { caller, callee: c.callee, calls: 0, failed: 0, complained: 0, gaps: [], errored: 0, durations: [] }));
      e.calls++;
      if (c.errored) e.errored = (e.errored ?? 0) + 1;
      else e.durations!.push(c.duration);
      if (c.failed) e.failed++;
      else if (complained.has(c)) e.complained++;
      else if (Number.isFinite(c.gap)) e.gaps.push(c.gap);
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
    for (const [k, g] of gaps) ref.set(k, { slowMs: g.length ? pooledQuantile(g, SLOW_GAP_QUANTILE) : Infinity, calls: 0, bad: 0, windows: 0, dispersion: 1 });
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
      // appended in place: a copy per window made the fit quadratic in the windows (≈ 0.1 s on Nezha)
      const v = sq.get(k);
      if (v) v.push(z * z);
      else sq.set(k, [z * z]);
    }
    for (const [k, v] of sq) ref.get(k)!.dispersion = Math.max(1, v.reduce((a, b) => a + b, 0) / v.length);
    // what callers feel (end to end, any error): the same reference on the felt counts
    const durs = new Map<string, number[]>();
    for (const w of normal) for (const [k, e] of w) for (const d of e.durations ?? []) (durs.get(k) ?? durs.set(k, []).get(k)!).push(d);
    for (const [k, r] of ref) {
      const d = durs.get(k);
      r.felt = { slowMs: d?.length ? pooledQuantile(d, SLOW_GAP_QUANTILE) : Infinity, calls: 0, bad: 0, dispersion: 1 };
    }
    for (const w of normal) for (const [k, e] of w) {
      const f = ref.get(k)!.felt!;
      f.calls += e.calls;
      f.bad += feltBad(e, f.slowMs);
    }
    const fsq = new Map<string, number[]>();
    for (const w of normal) for (const [k, e] of w) {
      if (e.calls < OUTCOME_MIN_CALLS) continue;
      const f = ref.get(k)!.felt!;
      const p0 = (f.bad + 0.5) / (f.calls + 1);
      const z = (feltBad(e, f.slowMs) - e.calls * p0) / Math.sqrt(e.calls * p0 * (1 - p0));
      (fsq.get(k) ?? fsq.set(k, []).get(k)!).push(z * z);
    }
    // the felt φ from the median window (median z² over the χ²₁ median): end-to-end trouble at
    // a caller is what an unlabelled incident among the normal windows is made of, and a mean of
    // squares is set by its largest terms — four incident minutes of 233 made φ 9.4 (0.35
    // without them) on a simulator edge, so a caller's felt trouble in a fault could never reach
    // the caps' level. Half the windows must be bursty before φ moves (breakdown point ½)
    for (const [k, v] of fsq) ref.get(k)!.felt!.dispersion = Math.max(1, median(v) / CHI2_1_MEDIAN);
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
    // and each caller's outgoing calls, callee by callee (an edge is one caller–callee pair)
    const outOf = new Map<string, Map<string, { bad: number; calls: number; expected: number }>>();
    for (const [k, c] of counts) {
      const e = s.get(k)!;
      const m = outOf.get(e.caller) ?? outOf.set(e.caller, new Map()).get(e.caller)!;
      m.set(e.callee, { bad: c.bad, calls: c.calls, expected: c.calls * c.p0 });
    }
    // the caller's own network explains an edge when its incoming calls go as bad — or its
    // calls into its other callees do: a callee's fault leaves the caller's calls into others
    // as they were (a failure or a gap is counted on the edge where it happened), while the
    // caller's packets or its starved process spoil them all; the second witness is what a
    // service without traced callers (an entry behind an untraced ingress) has
    /** edge → which of the caller's calls go as bad */
    const explained = new Map<string, 'incoming' | 'outgoing'>();
    for (const [k, c] of counts) {
      const e = s.get(k)!;
      const own = into.get(e.caller);
      if (own && explainedByLossyCaller(c, own)) {
        explained.set(k, 'incoming');
        continue;
      }
      // callee by callee, and most of them: pooled, one other callee's own fault would make
      // "the others" look bad for every edge of the caller (the median of the mesh-edge rule)
      let others = 0;
      let asBad = 0;
      for (const [callee, o] of outOf.get(e.caller) ?? []) {
        if (callee === e.callee) continue;
        others++;
        if (explainedByLossyCaller(c, o)) asBad++;
      }
      if (asBad > others / 2) explained.set(k, 'outgoing');
    }
    // what each caller felt through each callee (blame aside): for the localizer's inherited-
    // evidence caps. Not where the caller's own network explains the edge: a lossy caller's
    // calls go bad because of its own packets, so what it felt through the callee is its own
    // trouble, and the caps would file its evidence under a blameless callee
    const felt = new Map<string, Map<string, number>>();
    for (const [k, e] of s) {
      const f = ref.get(k)?.felt;
      if (!f || e.calls < OUTCOME_MIN_CALLS || explained.has(k)) continue;
      const z = outcomeZ(feltBad(e, f.slowMs), e.calls, (f.bad + 0.5) / (f.calls + 1), f.dispersion);
      (felt.get(e.callee) ?? felt.set(e.callee, new Map()).get(e.callee)!).set(e.caller, z);
    }
    // a service's edges: its incoming ones (but those a lossy caller explains) and the outgoing
    // ones its own network explains — dropping those from the callee and crediting nobody left
    // a lossy pod with half its evidence
    const services = new Set<string>();
    for (const k of devs.keys()) {
      const e = s.get(k)!;
      services.add(explained.has(k) ? e.caller : e.callee);
    }
    const out: RawScores = new Map();
    for (const svc of services) {
      const items: EvidenceItem[] = [];
      const incoming = new Map<string, number>();
      const devList: number[] = [];
      for (const [k, dev] of devs) {
        const e = s.get(k)!;
        const own = explained.has(k) ? e.caller === svc : e.callee === svc;
        if (!own) continue;
        if (e.callee === svc) incoming.set(e.caller, dev);
        devList.push(dev);
        const r = ref.get(k)!;
        items.push({
          family: 'call-outcome',
          service: svc,
          subject: `${e.caller} → ${e.callee} (${e.failed} of ${e.calls} calls failed, ${e.complained} complained about, ${badCalls(e, r.slowMs) - e.failed - e.complained} slower than ${r.slowMs.toFixed(1)} ms${e.callee === svc ? '' : explained.get(k) === 'incoming' ? `; ${svc}'s incoming calls go as bad: its own network` : `; ${svc}'s calls into its other callees go as bad: its own network, or its process starved`})`,
          value: badCalls(e, r.slowMs) / e.calls,
          reference: r.bad / r.calls,
          deviation: dev,
          unit: 'failed or slow share',
          support: e.calls,
          kinds: { failed: e.failed / e.calls, complained: e.complained / e.calls, slow: (badCalls(e, r.slowMs) - e.failed - e.complained) / e.calls },
        });
      }
      if (!devList.length) continue;
      items.sort((a, b) => b.deviation - a.deviation);
      // the median over the edges: one caller whose calls all go bad (starved, or lossy beyond
      // what its incoming calls show) does not convict a service its other callers find normal
      const score = median(devList);
      out.set(svc, { score, items: items.slice(0, 3), incoming, ...(felt.has(svc) ? { felt: felt.get(svc) } : {}) });
    }
    return out;
  },
};
