import type { LogRecord, Span, TimeRange } from '../../telemetry/index.js';
import { isRemoteCall, spanKind } from '../evidence/spans.js';
import { namesPeer } from '../evidence/call-outcomes.js';
import { sweptUnion } from '../evidence/self-time.js';
import { SliceMemo } from './memo.js';
import { PairIds } from './evidence-ids.js';

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
  /**
   * its children so far, in the order they were indexed (undefined: none yet); the copies of a
   * span the collector wrote twice share one list, as they share the span id
   */
  kids: SpanEvidence[] | undefined;
  /** the parent, once found (undefined: not yet / root) */
  parent: SpanEvidence | undefined;
  /** trace size when the parent was last looked for and missing (−1: never) */
  parentMiss: number;
  /** its (service, operation)'s number in the pass (`EvidenceSpanIndex.opOf`), −1 until asked for */
  opId: number;
  /** a later copy of a span already indexed (the collector wrote it twice): not a call of its own */
  dup: boolean;
  /** the call this span is (call-outcome family), null when it is none, undefined until looked at */
  call: OutcomeCall | null | undefined;
  /** what the span is as a child (span-structure `childKey`): its number in the pass, −1 until asked for */
  childId: number;
  /** its calls per child operation as an interned signature (span-structure family), −1: not compared (a call, a copy, touched by a failure) */
  sig: number;
  /**
   * Its edge gap and self time with the values they go into, made for the spans that have one
   * (about one span in six on Nezha): the two figures are doubles, which an object holds as
   * boxes of their own, and these objects live as long as their trace (up to an hour), so every
   * field and box is copied twice by the young generation's collections and marked by every
   * full one. Kept on every span they were a fifth of its bytes.
   */
  fig: SpanFigures | undefined;
  /** the records joined to the span so far, made on its first (about one span in seven on Nezha) */
  rec: SpanRecords | undefined;
  /**
   * The entry status (settled, and whether) and which figures are final, as bits (`F_*`): five
   * boolean fields were a fifth of the object, and these objects live as long as their trace
   * (up to an hour), so each field is copied by the young generation's collections and marked
   * again by every full one.
   */
  flags: number;
}

/** A span's edge gap and self time, and the values they are counted into (`SpanEvidence.fig`). */
export interface SpanFigures {
  /** parent duration − duration when the parent is a call from another service (edge gap), else NaN */
  gap: number;
  /** exclusive self time of an entry span (NaN: not an entry, or not known yet) */
  self: number;
  /** the span's edge and (edge, pod) values, once it has an edge gap */
  edgeAt: KeyValues | undefined;
  edgePodAt: PodValues | undefined;
  /** its operation's and (operation, pod) self times, once an entry span */
  selfAt: KeyValues | undefined;
  selfPodAt: PodValues | undefined;
}

/** The records joined to a span (views/evidence.ts `join`; `SpanEvidence.rec`). */
export interface SpanRecords {
  /**
   * Per line shape: [shape, count] pairs in the order the shapes first came. Flat arrays, not
   * maps: a span holds a few records, and these live as long as their trace (up to an hour),
   * where every object costs the garbage collector again at each full collection.
   */
  logs: number[];
  /** [time, shape] of the records joined so far (duplicates are dropped); by time once there are many */
  times: number[] | Map<number, number[]>;
  /** ERROR / FATAL records (a caller's complaints about its calls), and the window they were last charged in */
  errs: SpanErrors | undefined;
}

/** `SpanEvidence.flags`: entry status settled; an entry span; gap, self time, call and signature final */
const F_ENTRY_KNOWN = 2;
const F_ENTRY = 4;
const F_GAP_DONE = 8;
const F_SELF_DONE = 16;
const F_CALL_DONE = 32;
const F_SIG_DONE = 64;

/** A caller's ERROR / FATAL records (made on its first): its complaints about its calls. */
interface SpanErrors {
  records: LogRecord[];
  /** window in which they were charged to its calls */
  chargedIn: number;
}

/**
 * One operation's span structure in the window (src/encode/evidence/span-structure.ts): its
 * compared spans, counted per signature (which child operations a span calls, how many times
 * each). Most spans of an operation share a few signatures, so a window adds one count per span
 * and no per-child entry; the children's moments are worked out once per operation and window.
 */
export class StructOp {
  window = 0;
  at = -Infinity;
  n = 0;
  /** [signature, spans] pairs of the window */
  readonly sigs: number[] = [];
  constructor(
    /** service \t operation */
    readonly key: string,
    readonly service: string,
    readonly operation: string,
  ) {}
  open(w: number, at: number): boolean {
    if (this.window === w) return false;
    this.window = w;
    this.at = at;
    this.n = 0;
    this.sigs.length = 0;
    return true;
  }
  add(sig: number): void {
    this.n++;
    const v = this.sigs;
    for (let i = 0; i < v.length; i += 2) {
      if (v[i] === sig) {
        v[i + 1]++;
        return;
      }
    }
    v.push(sig, 1);
  }
}

/** A signature: child operations (their numbers, ascending) and calls per span of each. */
export interface StructSig {
  kids: Int32Array;
  counts: Int32Array;
}

/**
 * One call as its caller saw it (src/encode/evidence/call-outcomes.ts `CallView`): a client
 * span and the server span behind it, or, without span kinds (Nezha), a span called from
 * another service.
 */
export interface OutcomeCall {
  caller: string;
  callee: string;
  /** the callee's pod, when its span is there (a refused connection has none) */
  calleePod: string | undefined;
  /** the operation called (the server span's, else the client span's) */
  operation: string;
  /** the caller's span that made the call (where its complaints are logged) */
  callerSpan: SpanEvidence | undefined;
  end: number;
  failed: boolean;
  errored: boolean;
  /** caller's duration − callee's (NaN without the callee's span) */
  gap: number;
  /** the edge's values, looked up once per span */
  at: OutcomeValues | undefined;
  podAt: OutcomeCounts | undefined;
  /** window in which this call was found complained about (by its caller's records) */
  complainedIn: number;
}

/**
 * One key's values (an edge's gaps, an operation's self times) in the window being summarised,
 * kept for the whole pass and refilled each window: a window's values go into a buffer that
 * is reused, where per-window maps and arrays (≈2.5 million values over Nezha's windows,
 * each span counted in five overlapping windows) cost allocations and garbage collection.
 * `window` tells whether the values are the current window's.
 */
export class WindowValues {
  window = 0;
  /** start of the last window with values (keys long unused are swept) */
  at = -Infinity;
  n = 0;
  private buf = new Float64Array(16);
  private sortedIn = 0;

  /** Starts this key in window `w` (starting at `at`); false when it already was. */
  open(w: number, at: number): boolean {
    if (this.window === w) return false;
    this.window = w;
    this.at = at;
    this.n = 0;
    this.sortedIn = 0;
    return true;
  }

  push(v: number): void {
    if (this.n === this.buf.length) {
      const grown = new Float64Array(2 * this.buf.length);
      grown.set(this.buf);
      this.buf = grown;
    }
    this.buf[this.n++] = v;
  }

  /** The window's values in arrival order (valid until the next window or `sorted`). */
  values(): Float64Array {
    return this.buf.subarray(0, this.n);
  }

  /** The window's values, sorted (in place: valid until the next window). */
  sorted(): Float64Array {
    const v = this.buf.subarray(0, this.n);
    if (this.sortedIn !== this.window) {
      v.sort();
      this.sortedIn = this.window;
    }
    return v;
  }
}

/**
 * A key's pods: the window's, in the order they first came (`list`), and every pod seen since
 * the last sweep, whose buffers are reused from window to window.
 */
export class KeyPods<P extends WindowValues> {
  readonly list: P[] = [];
  private readonly of = new Map<string, P>();

  constructor(private readonly make: (pod: string) => P) {}

  get count(): number {
    return this.of.size;
  }

  /** Forgets pods with no values since `before` (pods come and go: bounded memory). */
  sweep(before: number): void {
    for (const [pod, p] of this.of) if (p.at < before) this.of.delete(pod);
  }

  get(pod: string): P {
    let p = this.of.get(pod);
    if (!p) this.of.set(pod, (p = this.make(pod)));
    return p;
  }
}

/** An edge (caller → callee) or an operation (service, operation), with its pods in the window. */
export class KeyValues extends WindowValues {
  readonly podSet = new KeyPods((pod) => new PodValues(pod, `${this.owner}\t${pod}`));

  constructor(
    /** caller \t callee, or service \t operation */
    readonly key: string,
    /** the caller, or the service */
    readonly a: string,
    /** the callee, or the operation */
    readonly b: string,
    /** the service the values are attributed to (callee, or the service) */
    readonly owner: string,
  ) {
    super();
  }

  /** the window's pods, in the order they first came */
  get pods(): PodValues[] {
    return this.podSet.list;
  }

  override open(w: number, at: number): boolean {
    if (!super.open(w, at)) return false;
    this.podSet.list.length = 0;
    return true;
  }

}

export class PodValues extends WindowValues {
  constructor(
    readonly pod: string,
    /** owner service \t pod */
    readonly ownerKey: string,
  ) {
    super();
  }
}

/** Call counts of an edge, or of an edge's callee pod, in the window; the values are the gaps of calls that neither failed nor were complained about. */
export class OutcomeCounts extends WindowValues {
  calls = 0;
  failed = 0;
  complained = 0;
  errored = 0;
  constructor(readonly pod: string) {
    super();
  }
  override open(w: number, at: number): boolean {
    if (!super.open(w, at)) return false;
    this.calls = this.failed = this.complained = this.errored = 0;
    return true;
  }
}

/** An edge's call outcomes (caller → callee) with its callee pods in the window. */
export class OutcomeValues extends OutcomeCounts {
  readonly podSet = new KeyPods((pod) => new OutcomeCounts(pod));
  constructor(
    /** caller \t callee */
    readonly key: string,
    readonly caller: string,
    readonly callee: string,
  ) {
    super('');
  }
  get pods(): OutcomeCounts[] {
    return this.podSet.list;
  }
  override open(w: number, at: number): boolean {
    if (!super.open(w, at)) return false;
    this.podSet.list.length = 0;
    return true;
  }
}

/** A window's edge gaps and self times: keys in the order they first came (valid until the next window). */
export interface WindowSpanValues {
  edges: KeyValues[];
  self: KeyValues[];
  /**
   * The window's spans (those starting in it): the first `nInRange` of `inRange`, a buffer
   * reused from window to window (≈8,000 spans a window on Nezha: a new array each window, grown
   * push by push, was most of what the per-window walk allocated)
   */
  inRange: readonly SpanEvidence[];
  nInRange: number;
  /** the window's calls (spans that are one), in span order, the first `nCalls` (a reused buffer too): counted by `outcomes` once records are joined */
  calls: readonly SpanEvidence[];
  nCalls: number;
  /** operations with compared spans (span structure), in the order they first came */
  struct: StructOp[];
}

interface TraceSpans {
  spans: Map<string, SpanEvidence>;
  /**
   * children indexed before their parent, by parent span id (made when first needed): a parent
   * takes its list when indexed, and later children go straight to it (a map of every parent's
   * children per trace cost a map and its growth per trace, and a look-up per span)
   */
  orphans: Map<string, SpanEvidence[]> | undefined;
  last: number;
}

/** Depth limit of the walk through a service's own nested spans (as the family's). */
const MAX_DEPTH = 64;

/** One span's value into its key's and its pod's buffers of window `w` (each opened, and listed, on its first value). */
function record(into: KeyValues[], key: KeyValues, pod: PodValues, w: number, at: number, v: number): void {
  if (key.open(w, at)) into.push(key);
  key.push(v);
  if (pod.open(w, at)) key.pods.push(pod);
  pod.push(v);
}

export class EvidenceSpanIndex {
  /** the window's spans' evidence: `summarize` keeps none of its arrays (buffers reused) */
  private memo = new SliceMemo<Span, SpanEvidence>((s) => this.info(s), true);
  private traces = new Map<string, TraceSpans>();
  private sweptAt = -Infinity;
  /** (service, operation) pairs and (caller, callee) service pairs, numbered in the pass */
  readonly opIds = new PairIds();
  private readonly edgeIds = new PairIds();
  /** the pass's edges and operations by number, each with its values in the current window (undefined: none, or swept) */
  private readonly edges: (KeyValues | undefined)[] = [];
  private readonly ops: (KeyValues | undefined)[] = [];
  private readonly outcomeEdges: (OutcomeValues | undefined)[] = [];
  private readonly structOps: (StructOp | undefined)[] = [];
  /** child operations ("service operation", the family's `childKey`) and signatures, numbered in the pass */
  private readonly childIds = new Map<string, Map<string, number>>();
  readonly childKeys: string[] = [];
  private readonly sigIds = new Map<string, number>();
  readonly sigs: StructSig[] = [];
  private window = 0;
  /** `summarize`'s window spans and calls (`WindowSpanValues`), reused */
  private readonly inRangeBuf: SpanEvidence[] = [];
  private readonly callsBuf: SpanEvidence[] = [];

  private info(s: Span): SpanEvidence {
    let t = this.traces.get(s.traceId);
    if (!t) this.traces.set(s.traceId, (t = { spans: new Map(), orphans: undefined, last: s.start }));
    else if (s.start > t.last) t.last = s.start;
    const copyOf = t.spans.get(s.spanId);
    let kids: SpanEvidence[] | undefined;
    if (copyOf) {
      // a copy: one list for all copies of the span id, whichever of them is asked (copies
      // already share one: a list is only missing while the span id has one copy)
      if (copyOf.kids === undefined) copyOf.kids = [];
      kids = copyOf.kids;
    } else if (t.orphans !== undefined) {
      kids = t.orphans.get(s.spanId);
      if (kids) t.orphans.delete(s.spanId);
    }
    // every field from the start: fields added later change the object's shape (slower
    // look-ups where spans of several shapes meet) and go to a separately allocated store
    const e: SpanEvidence = {
      span: s,
      trace: t,
      kids,
      parent: undefined,
      parentMiss: -1,
      opId: -1,
      dup: copyOf !== undefined,
      call: undefined,
      childId: -1,
      sig: -1,
      fig: undefined,
      rec: undefined,
      flags: s.parentId ? 0 : F_ENTRY_KNOWN | F_ENTRY,
    };
    t.spans.set(s.spanId, e);
    if (s.parentId) {
      // the parent's latest copy holds the list all its copies share
      const p = t.spans.get(s.parentId);
      if (p !== undefined) {
        if (p.kids === undefined) p.kids = [e];
        else p.kids.push(e);
      } else {
        const o = (t.orphans ??= new Map());
        const k = o.get(s.parentId);
        if (k) k.push(e);
        else o.set(s.parentId, [e]);
      }
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
    return e.kids ?? NO_KIDS;
  }

  /**
   * Edge gaps and self times of a window's spans (those starting in `range`): the families'
   * summaries (edges.ts, self-time.ts) as per-key values. Windows of one stream must come in
   * stream order.
   */
  summarize(spans: readonly Span[], range: TimeRange): WindowSpanValues {
    this.sweep(range.start);
    const infos = this.memo.map(spans);
    const w = ++this.window;
    const edges: KeyValues[] = [];
    const self: KeyValues[] = [];
    const inRange = this.inRangeBuf;
    const calls = this.callsBuf;
    let nInRange = 0;
    let nCalls = 0;
    const struct: StructOp[] = [];
    for (let i = 0; i < infos.length; i++) {
      const e = infos[i];
      const s = e.span;
      if (s.start < range.start || s.start >= range.end) continue;
      inRange[nInRange++] = e;
      if (!(e.flags & F_CALL_DONE)) {
        e.call = this.callOf(e, e.call ?? undefined);
        // as self time: once the span ended inside what has been read, its children are known;
        // its parent (the caller's span) must be known too
        if (s.start + s.duration < range.end && (s.parentId === undefined || e.parent !== undefined)) e.flags |= F_CALL_DONE;
      }
      if (e.call) calls[nCalls++] = e;
      if (!(e.flags & F_SIG_DONE)) {
        e.sig = this.signature(e);
        // as self time: once the span ended inside what has been read, its children are known
        if (s.start + s.duration < range.end) e.flags |= F_SIG_DONE;
      }
      if (e.sig >= 0) {
        // the operation's structure counts by its number (the entry cannot have been swept
        // while one of its spans is in a window: a sweep drops entries idle for an hour)
        const id = this.opOf(e);
        let o = this.structOps[id];
        if (!o) this.structOps[id] = o = new StructOp(this.opIds.keys[id], s.service, s.operation);
        if (o.open(w, range.start)) struct.push(o);
        o.add(e.sig);
      }
      // a gap settles with the parent found (`e.parent` then set): the look-up only until then
      if (!(e.flags & F_GAP_DONE)) {
        const p = this.parentOf(e);
        if (p) {
          const remote = isRemoteCall(p.span, s);
          if (remote) figOf(e).gap = Math.max(0, p.span.duration - s.duration);
          e.flags = (e.flags & ~F_ENTRY) | F_GAP_DONE | F_ENTRY_KNOWN | (remote ? F_ENTRY : 0);
        }
      }
      const f = e.fig;
      if (f !== undefined && !Number.isNaN(f.gap)) {
        // the edge's values, looked up once per span (a look-up per span and window costs more than the rest)
        let a = f.edgeAt;
        if (!a) {
          a = f.edgeAt = this.keyValues(this.edges, this.edgeIds, this.edgeIds.id(e.parent!.span.service, s.service), s.service);
          f.edgePodAt = a.podSet.get(s.entity);
        }
        record(edges, a, f.edgePodAt!, w, range.start, f.gap);
      }
      // an entry span: a root, or called from another service (the family's rule); a span whose
      // parent is not (yet) known is not one
      if (!(e.flags & F_ENTRY)) continue;
      const g = f ?? figOf(e);
      if (!(e.flags & F_SELF_DONE)) {
        g.self = selfTime(this, e);
        // children start before their parent ends: once it ended inside what has been read,
        // every child is known
        if (s.start + s.duration < range.end) e.flags |= F_SELF_DONE;
      }
      let o = g.selfAt;
      if (!o) {
        o = g.selfAt = this.keyValues(this.ops, this.opIds, this.opOf(e), s.service);
        g.selfPodAt = o.podSet.get(s.entity);
      }
      record(self, o, g.selfPodAt!, w, range.start, g.self);
    }
    return { edges, self, inRange, nInRange, calls, nCalls, struct };
  }

  /**
   * A span's calls per child operation, as the span-structure family counts them (`summarize`):
   * each (trace, span id) once as a parent and as a child; client and producer spans are calls,
   * not operations; a span touched by a failure is left out (−1).
   */
  private signature(e: SpanEvidence): number {
    if (e.dup) return -1;
    const kind = spanKind(e.span);
    if (kind === 'client' || kind === 'producer') return -1;
    if (isError(e)) return -1;
    const kids = this.kidsOf(e);
    for (const c of kids) if (!c.dup && (isError(c) || (c.span.service === e.span.service && touched(this, c, 1)))) return -1;
    sigN = 0;
    for (const c of kids) {
      if (c.dup) continue;
      let id = c.childId;
      if (id < 0) id = c.childId = this.childId(c);
      let j = 0;
      while (j < sigN && sigKid[j] !== id) j++;
      if (j === sigN) {
        if (sigN === sigKid.length) growSig();
        sigKid[sigN] = id;
        sigCount[sigN++] = 0;
      }
      sigCount[j]++;
    }
    if (sigN === 0) return this.leafSig();
    if (sigN === 1) return this.oneKidSig(sigKid[0], sigCount[0]);
    // by child number: one signature whatever order the children came in
    for (let i = 1; i < sigN; i++) {
      const k = sigKid[i];
      const n = sigCount[i];
      let j = i - 1;
      while (j >= 0 && sigKid[j] > k) {
        sigKid[j + 1] = sigKid[j];
        sigCount[j + 1] = sigCount[j];
        j--;
      }
      sigKid[j + 1] = k;
      sigCount[j + 1] = n;
    }
    let key = '';
    for (let i = 0; i < sigN; i++) key += `${sigKid[i]}:${sigCount[i]},`;
    let id = this.sigIds.get(key);
    if (id === undefined) {
      this.sigIds.set(key, (id = this.sigs.length));
      this.sigs.push({ kids: sigKid.slice(0, sigN), counts: sigCount.slice(0, sigN) });
    }
    return id;
  }

  /** The signature of a span without children (most spans: looked up once per pass). */
  private leafSig(): number {
    if (this.leaf < 0) {
      this.leaf = this.sigs.length;
      this.sigIds.set('', this.leaf);
      this.sigs.push({ kids: new Int32Array(0), counts: new Int32Array(0) });
    }
    return this.leaf;
  }
  private leaf = -1;

  /** The signature of a span calling one child operation `n` times (by number: no key string made). */
  private oneKidSig(kid: number, n: number): number {
    let byN = this.oneKid.get(kid);
    if (!byN) this.oneKid.set(kid, (byN = new Map()));
    let id = byN.get(n);
    if (id === undefined) {
      byN.set(n, (id = this.sigs.length));
      this.sigs.push({ kids: Int32Array.of(kid), counts: Int32Array.of(n) });
    }
    return id;
  }
  private readonly oneKid = new Map<number, Map<number, number>>();

  /** The family's `childKey`: the operation a child is ("service operation"; a client span names its peer). */
  private childId(c: SpanEvidence): number {
    const s = c.span;
    const kind = spanKind(s);
    if (kind !== 'client' && kind !== 'producer') {
      // the child is its own operation: numbered through the operation's number, which the
      // span keeps (every span's is asked for by the template sums), so most children cost no
      // look-up by name
      const op = this.opOf(c);
      let id = this.childOfOp[op];
      if (id === undefined) id = this.childOfOp[op] = this.childKeyId(s.service, s.operation);
      return id;
    }
    const peer = s.attributes?.['peer.service'];
    return this.childKeyId(typeof peer === 'string' ? peer : s.service, s.operation);
  }
  /** child numbers by operation number (`opIds`), for children that are their own operation */
  private readonly childOfOp: number[] = [];

  /** The number of child operation (service, operation), made on its first use. */
  private childKeyId(svc: string, operation: string): number {
    // by service, then operation: no key string made per span
    let ops = this.childIds.get(svc);
    if (!ops) this.childIds.set(svc, (ops = new Map()));
    let id = ops.get(operation);
    if (id === undefined) {
      ops.set(operation, (id = this.childKeys.length));
      this.childKeys.push(`${svc} ${operation}`);
    }
    return id;
  }

  /**
   * The call a span is, as the family sees it (call-outcomes.ts `summarize`): a client (or
   * producer) span, into the service of its first child in another service or else its
   * `peer.service`; without kinds, a span whose parent (also without a kind) is in another
   * service. `into` is the object to refill (a call is worked out again until it settles).
   */
  private callOf(e: SpanEvidence, into: OutcomeCall | undefined): OutcomeCall | null {
    if (e.dup) return null;
    const s = e.span;
    const kind = spanKind(s);
    if (kind === 'client' || kind === 'producer') {
      // the family's `find`: the first child in another service
      const server = this.kidsOf(e).find((c) => !c.dup && c.span.service !== s.service);
      const peer = s.attributes?.['peer.service'];
      const callee = server?.span.service ?? (typeof peer === 'string' && peer ? peer : undefined);
      if (!callee || callee === s.service) return null;
      const errored = s.status === 'error';
      return fillCall(into, s.service, callee, server?.span.entity, server?.span.operation ?? s.operation, this.parentOf(e), s.start + s.duration, errored && (!server || failedAtEdge(this, s, server)), errored, server ? Math.max(0, s.duration - server.span.duration) : NaN);
    }
    if (kind !== undefined) return null;
    const p = this.parentOf(e);
    if (!p || spanKind(p.span) !== undefined || !isRemoteCall(p.span, s)) return null;
    const errored = s.status === 'error';
    return fillCall(into, p.span.service, s.service, s.entity, s.operation, p, s.start + s.duration, errored && !inherited(this, e), errored, Math.max(0, p.span.duration - s.duration));
  }

  /**
   * Call outcomes of a window's calls (`summarize`'s `calls`), once the window's records are
   * joined to their spans: per edge and per (edge, callee pod), calls, failed, complained about
   * and errored ones, and the gaps of the others — the family's summary as per-key values.
   */
  outcomes(calls: readonly SpanEvidence[], nCalls: number, range: TimeRange): OutcomeValues[] {
    const w = this.window;
    const out: OutcomeValues[] = [];
    for (let i = 0; i < nCalls; i++) {
      const e = calls[i];
      const c = e.call!;
      const p = c.callerSpan;
      const errs = p?.rec?.errs;
      if (errs !== undefined && errs.chargedIn !== w) this.complaints(p!, errs, w);
      let a = c.at;
      if (!a) {
        const id = this.edgeIds.id(c.caller, c.callee);
        a = this.outcomeEdges[id];
        if (!a) this.outcomeEdges[id] = a = new OutcomeValues(this.edgeIds.keys[id], c.caller, c.callee);
        c.at = a;
      }
      if (a.open(w, range.start)) out.push(a);
      const complained = !c.failed && c.complainedIn === w;
      count(a, c, complained);
      if (c.calleePod !== undefined) {
        const pv = (c.podAt ??= a.podSet.get(c.calleePod));
        if (pv.open(w, range.start)) a.pods.push(pv);
        count(pv, c, complained);
      }
    }
    return out;
  }

  /**
   * Charges each ERROR record of a caller's span to the latest of its calls that had ended by
   * then and that the record names (callee service or operation), unless that call errored
   * (call-outcomes.ts `complaints`); marks the charged calls in window `w`.
   */
  private complaints(p: SpanEvidence, errs: SpanErrors, w: number): void {
    errs.chargedIn = w;
    const kids = this.kidsOf(p);
    for (const r of errs.records) {
      let best: SpanEvidence | undefined;
      for (const k of kids) {
        const c = k.call;
        if (!c || c.callerSpan !== p) continue;
        if (c.end > r.time + CLOCK_SLACK_MS || (best && c.end <= best.call!.end)) continue;
        if (namesPeer(r.body, c.callee) || namesPeer(r.body, c.operation)) best = k;
      }
      if (best && !best.call!.errored) best.call!.complainedIn = w;
    }
  }

  /** Notes an ERROR / FATAL record of a span (for its complaints about its calls). */
  noteError(e: SpanEvidence, r: LogRecord): void {
    const rec = (e.rec ??= { logs: [], times: [], errs: undefined });
    (rec.errs ??= { records: [], chargedIn: 0 }).records.push(r);
  }

  /** Edges, operations and their pods held (what `sweep` bounds). */
  get retained(): number {
    let n = 0;
    for (const m of [this.edges, this.ops, this.outcomeEdges]) for (const v of m) if (v) n += 1 + v.podSet.count;
    for (const o of this.structOps) if (o) n++;
    return n;
  }

  /** The key of pair `id` (made on its first use, or again once swept). */
  private keyValues(m: (KeyValues | undefined)[], ids: PairIds, id: number, owner: string): KeyValues {
    let v = m[id];
    if (!v) m[id] = v = new KeyValues(ids.keys[id], ids.a[id], ids.b[id], owner);
    return v;
  }

  /** The number of a span's (service, operation) in the pass (`opIds`), kept on the span. */
  opOf(e: SpanEvidence): number {
    if (e.opId < 0) e.opId = this.opIds.id(e.span.service, e.span.operation);
    return e.opId;
  }

  /** The span of a log record (trace and span id), when indexed. */
  spanOf(traceId: string, spanId: string): SpanEvidence | undefined {
    // a trace's records mostly come together: its look-up is kept for the next one (a trace not
    // indexed yet is not remembered: its spans may come in a later window)
    if (traceId !== this.lastTraceId || this.lastTrace === undefined) {
      this.lastTrace = this.traces.get(traceId);
      this.lastTraceId = this.lastTrace ? traceId : undefined;
    }
    return this.lastTrace?.spans.get(spanId);
  }
  private lastTraceId: string | undefined;
  private lastTrace: TraceSpans | undefined;

  /**
   * Drops traces with no span started in the last hour before `start`, and edges, operations
   * and pods with no values in that hour (bounded memory). A span's cached values (`fig.edgeAt` …)
   * are never used again once dropped: a window only holds spans that start in it.
   */
  private sweep(start: number): void {
    if (start - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = start;
    this.lastTraceId = this.lastTrace = undefined;
    const before = start - KEEP_TRACES_MS;
    for (const [id, t] of this.traces) if (t.last < before) this.traces.delete(id);
    for (const m of [this.edges, this.ops, this.outcomeEdges] as (KeyValues | OutcomeValues | undefined)[][]) {
      for (let i = 0; i < m.length; i++) {
        const v = m[i];
        if (v === undefined) continue;
        if (v.at < before) m[i] = undefined;
        else v.podSet.sweep(before);
      }
    }
    const so = this.structOps;
    for (let i = 0; i < so.length; i++) if (so[i] !== undefined && so[i]!.at < before) so[i] = undefined;
  }

  static childrenOf(idx: EvidenceSpanIndex, e: SpanEvidence): SpanEvidence[] {
    return idx.kidsOf(e);
  }
}

/** A span's figures (made on its first edge gap or self time). */
function figOf(e: SpanEvidence): SpanFigures {
  return (e.fig ??= { gap: NaN, self: NaN, edgeAt: undefined, edgePodAt: undefined, selfAt: undefined, selfPodAt: undefined });
}

/** Log and span clocks agree to about a millisecond (the family's `CLOCK_SLACK_MS`). */
const CLOCK_SLACK_MS = 1;

function fillCall(into: OutcomeCall | undefined, caller: string, callee: string, calleePod: string | undefined, operation: string, callerSpan: SpanEvidence | undefined, end: number, failed: boolean, errored: boolean, gap: number): OutcomeCall {
  if (!into || into.caller !== caller || into.callee !== callee || into.calleePod !== calleePod) {
    return { caller, callee, calleePod, operation, callerSpan, end, failed, errored, gap, at: undefined, podAt: undefined, complainedIn: 0 };
  }
  into.operation = operation;
  into.callerSpan = callerSpan;
  into.end = end;
  into.failed = failed;
  into.errored = errored;
  into.gap = gap;
  return into;
}

/** One call into its edge's (or pod's) counts: the family's tally (call-outcomes.ts `summarize`). */
function count(into: OutcomeCounts, c: OutcomeCall, complained: boolean): void {
  into.calls++;
  if (c.errored) into.errored++;
  if (c.failed) into.failed++;
  else if (complained) into.complained++;
  else if (!Number.isNaN(c.gap)) into.push(c.gap);
}

const isError = (e: SpanEvidence) => e.span.status === 'error';

/** A failing span whose own outgoing call failed passes on a failure from deeper down (the family's `inherited`). */
function inherited(idx: EvidenceSpanIndex, e: SpanEvidence, depth = 0): boolean {
  if (depth > MAX_DEPTH) return false;
  for (const c of EvidenceSpanIndex.childrenOf(idx, e)) {
    if (c.dup || !isError(c)) continue;
    const kind = spanKind(c.span);
    if (kind === 'client' || kind === 'producer' || c.span.service !== e.span.service) return true;
    if (inherited(idx, c, depth + 1)) return true;
  }
  return false;
}

/** A failed attempt charged to the edge: the callee's own error, or a timeout spent mostly between the two (the family's `failedAtEdge`). */
function failedAtEdge(idx: EvidenceSpanIndex, client: Span, server: SpanEvidence): boolean {
  if (isError(server)) return !inherited(idx, server);
  return client.duration - server.span.duration >= client.duration / 2;
}

/** A span that failed, or one of whose calls failed, looking through its service's own children (the family's `touchedByFailure`). */
function touched(idx: EvidenceSpanIndex, e: SpanEvidence, depth: number): boolean {
  if (isError(e)) return true;
  if (depth > 2) return false;
  for (const c of EvidenceSpanIndex.childrenOf(idx, e)) {
    if (c.dup) continue;
    if (isError(c) || (c.span.service === e.span.service && touched(idx, c, depth + 1))) return true;
  }
  return false;
}

/** The signature being worked out (`signature`): child numbers and calls, in scratch arrays reused from span to span. */
let sigKid = new Int32Array(16);
let sigCount = new Int32Array(16);
let sigN = 0;

function growSig(): void {
  const k = new Int32Array(2 * sigKid.length);
  const c = new Int32Array(2 * sigKid.length);
  k.set(sigKid);
  c.set(sigCount);
  sigKid = k;
  sigCount = c;
}

/** the children of a leaf (shared: never added to) */
const NO_KIDS: SpanEvidence[] = [];

const SWEEP_EVERY_MS = 5 * 60_000;
/** Traces kept after their last span: long enough for any window's parents and children. */
const KEEP_TRACES_MS = 60 * 60_000;

/**
 * Outgoing call intervals of the span being worked out (`selfTime`), in scratch arrays reused
 * from span to span: the family's [start, end] pairs (self-time.ts `unionLength`) cost two
 * allocations per call, for every entry span.
 */
let ivStart = new Float64Array(64);
let ivEnd = new Float64Array(64);
let ivN = 0;
let ivOrder: number[] = [];

function addInterval(start: number, end: number): void {
  if (ivN === ivStart.length) {
    const s = new Float64Array(2 * ivN);
    const e = new Float64Array(2 * ivN);
    s.set(ivStart);
    e.set(ivEnd);
    ivStart = s;
    ivEnd = e;
  }
  ivStart[ivN] = start;
  ivEnd[ivN++] = end;
}

/** Intervals sorted by start beyond this many: by an index sort instead of in place. */
const INSERTION_MAX = 32;

/**
 * The family's `unionLength` (self-time.ts) over the scratch intervals: sorted by start, then
 * swept. Intervals of equal start may come in any order — the sweep gives the same segments —
 * so the sort need not be the family's, only by start.
 */
function scratchUnion(lo: number, hi: number): number {
  const n = ivN;
  let starts = ivStart;
  let ends = ivEnd;
  if (n <= INSERTION_MAX) {
    for (let i = 1; i < n; i++) {
      const a = starts[i];
      const b = ends[i];
      let j = i - 1;
      while (j >= 0 && starts[j] > a) {
        starts[j + 1] = starts[j];
        ends[j + 1] = ends[j];
        j--;
      }
      starts[j + 1] = a;
      ends[j + 1] = b;
    }
  } else {
    const order = ivOrder;
    order.length = n;
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((x, y) => starts[x] - starts[y]);
    const s2 = new Float64Array(n);
    const e2 = new Float64Array(n);
    for (let i = 0; i < n; i++) ((s2[i] = starts[order[i]]), (e2[i] = ends[order[i]]));
    starts = s2;
    ends = e2;
  }
  return sweptUnion(starts, ends, n, lo, hi);
}

/** Exclusive self time: duration minus the union of the service's outgoing calls under it. */
function selfTime(idx: EvidenceSpanIndex, e: SpanEvidence): number {
  ivN = 0;
  outgoing(idx, e, 0);
  const s = e.span;
  return Math.max(0, s.duration - scratchUnion(s.start, s.start + s.duration));
}

function outgoing(idx: EvidenceSpanIndex, e: SpanEvidence, depth: number): void {
  if (depth > MAX_DEPTH) return;
  const svc = e.span.service;
  for (const c of EvidenceSpanIndex.childrenOf(idx, e)) {
    const cs = c.span;
    if (cs.service !== svc) {
      addInterval(cs.start, cs.start + cs.duration);
      continue;
    }
    const kind = spanKind(cs);
    const callsOut = kind === 'client' || kind === 'producer' || callsAnother(idx, c);
    if (callsOut) addInterval(cs.start, cs.start + cs.duration);
    else outgoing(idx, c, depth + 1);
  }
}

/** A child of `e` runs in another service. */
function callsAnother(idx: EvidenceSpanIndex, e: SpanEvidence): boolean {
  for (const g of EvidenceSpanIndex.childrenOf(idx, e)) if (g.span.service !== e.span.service) return true;
  return false;
}
