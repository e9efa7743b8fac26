import type { Span, TimeRange } from '../../telemetry/index.js';
import type { EdgeSummary, SelfSummary } from '../evidence/index.js';
import { isRemoteCall, spanKind } from '../evidence/spans.js';
import { unionLength } from '../evidence/self-time.js';
import { SliceMemo } from './memo.js';

/**
 * What the evidence needs of each span, worked out once per pass instead of once per window:
 * the families' own `summarize` index every window's spans again, and with 5 min windows
 * stepped by 1 min each span is indexed five times (on Nezha the two span families took
 * ≈18 s that way, more than the whole `encode`). The figures are the families' definitions
 * (src/encode/evidence/edges.ts, self-time.ts); only the bookkeeping differs.
 */
export interface SpanEvidence {
  span: Span;
  trace: TraceSpans;
  /** the parent, once found (undefined: not yet / root) */
  parent: SpanEvidence | undefined;
  /** trace size when the parent was last looked for and missing (−1: never) */
  parentMiss: number;
  /** parent duration − duration when the parent is a call from another service (edge gap), else NaN */
  gap: number;
  /** gap worked out (only once the parent is known) */
  gapDone: boolean;
  /** an entry span (root, or called from another service), once settled (undefined: not yet) */
  entry: boolean | undefined;
  /** exclusive self time of an entry span (NaN: not an entry, or not known yet) */
  self: number;
  /** self time final: the span ended before the window its children were last read in */
  selfDone: boolean;
  /**
   * Records joined to the span so far, per line shape (views/evidence.ts): [shape, count]
   * pairs in the order the shapes first came. Flat arrays, not maps: a span holds a few
   * records, and these live as long as their trace (up to an hour), where every object costs
   * the garbage collector again at each full collection.
   */
  logs?: number[];
  /** [time, shape] of the records joined so far (duplicates are dropped); by time once there are many */
  logTimes?: number[] | Map<number, number[]>;
  /** the operation's number in the pass (views/evidence.ts) */
  opId?: number;
  /** caller service \t service, for a span with an edge gap */
  slot?: string;
  /** service \t operation, once asked for */
  opKey?: string;
}

interface TraceSpans {
  spans: Map<string, SpanEvidence>;
  /** children by parent span id, whether or not the parent has been seen */
  kids: Map<string, SpanEvidence[]>;
  last: number;
}

/** Depth limit of the walk through a service's own nested spans (as the family's). */
const MAX_DEPTH = 64;

export class EvidenceSpanIndex {
  private memo = new SliceMemo<Span, SpanEvidence>((s) => this.info(s));
  private traces = new Map<string, TraceSpans>();
  private sweptAt = -Infinity;

  private info(s: Span): SpanEvidence {
    let t = this.traces.get(s.traceId);
    if (!t) this.traces.set(s.traceId, (t = { spans: new Map(), kids: new Map(), last: s.start }));
    else if (s.start > t.last) t.last = s.start;
    const e: SpanEvidence = { span: s, trace: t, parent: undefined, parentMiss: -1, gap: NaN, gapDone: false, entry: s.parentId ? undefined : true, self: NaN, selfDone: false };
    t.spans.set(s.spanId, e);
    if (s.parentId) {
      const k = t.kids.get(s.parentId);
      if (k) k.push(e);
      else t.kids.set(s.parentId, [e]);
    }
    return e;
  }

  private parentOf(e: SpanEvidence): SpanEvidence | undefined {
    const pid = e.span.parentId;
    if (e.parent === undefined && pid !== undefined && e.parentMiss !== e.trace.spans.size) {
      e.parent = e.trace.spans.get(pid);
      if (e.parent === undefined) e.parentMiss = e.trace.spans.size;
    }
    return e.parent;
  }

  private kidsOf(e: SpanEvidence): SpanEvidence[] {
    return e.trace.kids.get(e.span.spanId) ?? NO_KIDS;
  }

  /**
   * Edge gaps and self times of a window's spans (those starting in `range`), as the families'
   * summaries. Windows of one stream must come in stream order.
   */
  summarize(spans: readonly Span[], range: TimeRange): { edges?: EdgeSummary; self?: SelfSummary; inRange: SpanEvidence[] } {
    this.sweep(range.start);
    const infos = this.memo.map(spans);
    const edges: EdgeSummary = new Map();
    const self: SelfSummary = new Map();
    const inRange: SpanEvidence[] = [];
    for (let i = 0; i < infos.length; i++) {
      const e = infos[i];
      const s = e.span;
      if (s.start < range.start || s.start >= range.end) continue;
      inRange.push(e);
      const p = this.parentOf(e);
      if (p && !e.gapDone) {
        e.gapDone = true;
        const remote = isRemoteCall(p.span, s);
        if (remote) e.gap = Math.max(0, p.span.duration - s.duration);
        e.entry = remote;
      }
      if (!Number.isNaN(e.gap)) {
        // the edge's key, made once per span (a string per span and window costs more than the rest)
        const key = (e.slot ??= `${p!.span.service}\t${s.service}`);
        let w = edges.get(key);
        if (!w) edges.set(key, (w = { caller: p!.span.service, callee: s.service, gaps: [], byPod: new Map() }));
        w.gaps.push(e.gap);
        const pg = w.byPod.get(s.entity);
        if (pg) pg.push(e.gap);
        else w.byPod.set(s.entity, [e.gap]);
      }
      // an entry span: a root, or called from another service (the family's rule); a span whose
      // parent is not (yet) known is not one
      if (!e.entry) continue;
      if (!e.selfDone) {
        e.self = selfTime(this, e);
        // children start before their parent ends: once it ended inside what has been read,
        // every child is known
        e.selfDone = s.start + s.duration < range.end;
      }
      const key = (e.opKey ??= `${s.service}\t${s.operation}`);
      let w = self.get(key);
      if (!w) self.set(key, (w = { service: s.service, operation: s.operation, selfMs: [], byPod: new Map() }));
      w.selfMs.push(e.self);
      const pl = w.byPod.get(s.entity);
      if (pl) pl.push(e.self);
      else w.byPod.set(s.entity, [e.self]);
    }
    return { edges: edges.size ? edges : undefined, self: self.size ? self : undefined, inRange };
  }

  /** The span of a log record (trace and span id), when indexed. */
  spanOf(traceId: string, spanId: string): SpanEvidence | undefined {
    return this.traces.get(traceId)?.spans.get(spanId);
  }

  /** Drops traces with no span started in the last hour before `start` (bounded memory). */
  private sweep(start: number): void {
    if (start - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = start;
    for (const [id, t] of this.traces) if (t.last < start - KEEP_TRACES_MS) this.traces.delete(id);
  }

  static childrenOf(idx: EvidenceSpanIndex, e: SpanEvidence): SpanEvidence[] {
    return idx.kidsOf(e);
  }
}

/** the children of a leaf (shared: never added to) */
const NO_KIDS: SpanEvidence[] = [];

const SWEEP_EVERY_MS = 5 * 60_000;
/** Traces kept after their last span: long enough for any window's parents and children. */
const KEEP_TRACES_MS = 60 * 60_000;

/** Exclusive self time: duration minus the union of the service's outgoing calls under it. */
function selfTime(idx: EvidenceSpanIndex, e: SpanEvidence): number {
  const iv: [number, number][] = [];
  outgoing(idx, e, iv, 0);
  const s = e.span;
  return Math.max(0, s.duration - unionLength(iv, s.start, s.start + s.duration));
}

function outgoing(idx: EvidenceSpanIndex, e: SpanEvidence, out: [number, number][], depth: number): void {
  if (depth > MAX_DEPTH) return;
  const svc = e.span.service;
  for (const c of EvidenceSpanIndex.childrenOf(idx, e)) {
    const cs = c.span;
    if (cs.service !== svc) {
      out.push([cs.start, cs.start + cs.duration]);
      continue;
    }
    const kind = spanKind(cs);
    const callsOut = kind === 'client' || kind === 'producer' || callsAnother(idx, c);
    if (callsOut) out.push([cs.start, cs.start + cs.duration]);
    else outgoing(idx, c, out, depth + 1);
  }
}

/** A child of `e` runs in another service. */
function callsAnother(idx: EvidenceSpanIndex, e: SpanEvidence): boolean {
  for (const g of EvidenceSpanIndex.childrenOf(idx, e)) if (g.span.service !== e.span.service) return true;
  return false;
}
