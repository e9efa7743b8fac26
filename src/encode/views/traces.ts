import type { Span } from '../../telemetry/index.js';
import type { Window } from '../../windows/index.js';
import { TRACE_FEATURES, indexOf } from './layout.js';
import { Reservoir, SeededRandom, fmt, fmtZ, maxFinite, pct, slog, selectQuantiles, zOf, type Baseline, type ScaleFloor } from './stats.js';
import { assemble, type Line } from './text.js';
import { SliceMemo } from './memo.js';

/**
 * Caller of a root span, and of a span whose parent lies outside the window: one pseudo-service
 * for both, so that where a window boundary cuts a trace does not invent edges.
 */
export const ENTRY = '(entry)';
/**
 * Bucket of spans that are no incoming call: client, producer and internal spans, where the
 * source gives kinds. They count for their service's figures but make no edge: a call edge is
 * a client (or producer) span and its server (or consumer) child, and the child carries it.
 */
export const LOCAL = '(local)';
export const EDGE_ARROW = ' -> ';

/** Rates (per minute): 5% of the level, at least half a call a minute. */
export const RATE_FLOOR: ScaleFloor = { rel: 0.05, abs: 0.5 };
/** ln(ms): 0.1 ≈ a 10% change of a duration. */
export const LOGMS_FLOOR: ScaleFloor = { rel: 0, abs: 0.1 };
/** Error shares: two percentage points. */
export const SHARE_FLOOR: ScaleFloor = { rel: 0, abs: 0.02 };

/** An edge needs this share of baseline trace windows to be missed when absent. */
export const ABSENT_PRESENCE = 0.5;

/** Time over which a modality was collected in a window: first to last record, at least a minute. */
export function observedMinutes(min: number, max: number, w: Window): number {
  const len = w.end - w.start;
  const span = max >= min ? max - min : 0;
  return Math.max(span, Math.min(len, 60_000)) / 60_000;
}

export interface EdgeFigures {
  caller: string;
  callee: string;
  count: number;
  rate: number;
  errShare: number;
  /** ln(ms) */
  lp50: number;
  lp90: number;
  lp99: number;
}

export interface ScopeFigures {
  spans: number;
  traces: number;
  rate: number;
  errShare: number;
  lp50: number;
  lp90: number;
  lp99: number;
}

export interface TraceWindow {
  minutes: number;
  /** sorted by key */
  edges: Map<string, EdgeFigures>;
  /** per service (spans it emitted) */
  services: Map<string, ScopeFigures>;
  system: ScopeFigures;
}

const lnMs = (ms: number) => Math.log(Math.max(ms, 1e-3));
const QS = [0.5, 0.9, 0.99];

/** A trace, or a (service, trace) pair: stamped with the last window that counted it. */
interface Stamp {
  stamp: number;
  /** latest start of a span in it, for sweeping */
  last: number;
}

/** A trace: its spans by span id, and a stamp per service of its spans. */
interface TraceEntry extends Stamp {
  spans: Map<string, SpanInfo>;
  services: Map<string, Stamp>;
}

/** What a span contributes to edges, worked out once per span however many windows hold it. */
interface SpanInfo {
  parentId: string | undefined;
  /** the span is not an incoming call (kind client, producer or internal) */
  local: boolean;
  service: string;
  start: number;
  /** the parent span's info, once found */
  parent: SpanInfo | undefined;
  /** spans its trace held when the parent was last looked for in vain (no new span: no new answer) */
  parentMiss: number;
  /** edge ids: parent's service → service (once the parent is known), (entry) or (local) → service */
  edgeParent: number;
  edgeEntry: number;
  trace: TraceEntry;
  serviceTrace: Stamp;
}

/**
 * Span lookups shared by the windows of one pass: spans are keyed once (not once per window
 * that holds them) and a span's parent is found once. Spans are kept per trace (so no key
 * strings are built: a trace id and a span id look a span up); traces whose spans all started
 * before the current window are swept, so the table's size follows the window, not the dataset.
 *
 * A parent is the caller of a span in a window when the parent started inside that window,
 * which for slices of one stream is the same as "the parent is among the window's spans".
 */
export class SpanIndex {
  private memo = new SliceMemo<Span, SpanInfo>((s) => this.info(s));
  private traces = new Map<string, TraceEntry>();
  private spanCount = 0;
  /** numbers the windows, for distinct-trace counting by stamps */
  windowStamp = 0;
  private edgeIds = new Map<string, Map<string, number>>();
  readonly callers: string[] = [];
  readonly callees: string[] = [];
  readonly keys: string[] = [];

  constructor(private readonly serviceOf: (entity: string) => string) {}

  /** A new span's info (spans shared with the previous window reuse theirs: `infosOf`). */
  private info(s: Span): SpanInfo {
    const service = s.service || this.serviceOf(s.entity);
    const start = s.start;
    let t = this.traces.get(s.traceId);
    if (!t) this.traces.set(s.traceId, (t = { stamp: -1, last: start, spans: new Map(), services: new Map() }));
    else if (start > t.last) t.last = start;
    let st = t.services.get(service);
    if (!st) t.services.set(service, (st = { stamp: -1, last: start }));
    const local = s.kind === 'client' || s.kind === 'producer' || s.kind === 'internal';
    const k: SpanInfo = { parentId: s.parentId, local, service, start, parent: undefined, parentMiss: -1, edgeParent: -1, edgeEntry: -1, trace: t, serviceTrace: st };
    const n = t.spans.size;
    t.spans.set(s.spanId, k);
    this.spanCount += t.spans.size - n;
    return k;
  }

  /** Infos of a window's spans (those shared with the previous window by position). */
  infosOf(spans: readonly Span[]): SpanInfo[] {
    return this.memo.map(spans);
  }

  parentOf(k: SpanInfo): SpanInfo | undefined {
    if (k.parent === undefined && k.parentId !== undefined) {
      const spans = k.trace.spans;
      if (k.parentMiss !== spans.size) {
        k.parent = spans.get(k.parentId);
        if (k.parent === undefined) k.parentMiss = spans.size;
      }
    }
    return k.parent;
  }

  edge(caller: string, callee: string): number {
    let m = this.edgeIds.get(caller);
    if (!m) this.edgeIds.set(caller, (m = new Map()));
    let e = m.get(callee);
    if (e === undefined) {
      e = this.callers.length;
      m.set(callee, e);
      this.callers.push(caller);
      this.callees.push(callee);
      this.keys.push(caller + EDGE_ARROW + callee);
    }
    return e;
  }

  /** Spans in the table. */
  get size(): number {
    return this.spanCount;
  }

  /** Forgets traces whose spans all started before `t` (no later window can hold them). */
  sweep(t: number): void {
    // a forgotten trace that shows up again gets a new entry: counting stays right
    for (const [id, e] of this.traces) {
      if (e.last < t) {
        this.traces.delete(id);
        this.spanCount -= e.spans.size;
      }
    }
  }
}

/** Aggregates a window's spans per call edge (caller service → callee service) and per service. */
export function traceWindow(spans: readonly Span[], w: Window, index: SpanIndex): TraceWindow {
  const n = spans.length;
  const infos = index.infosOf(spans);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const t = infos[i].start;
    if (t < min) min = t;
    if (t > max) max = t;
  }
  if (index.size > 4 * n + 4096) index.sweep(w.start);
  const minutes = observedMinutes(min, max, w);
  // Each span belongs to one edge (its caller → its service). Edge ids are global to the
  // index; here they get window-local numbers, and all durations are laid out grouped by edge
  // in one typed array, so nothing is boxed or pushed per span.
  const localOf = new Int32Array(index.callers.length + n).fill(-1);
  const callers: string[] = [];
  const callees: string[] = [];
  const keys: string[] = [];
  const edgeOf = new Int32Array(n);
  let counts = new Int32Array(64);
  let errors = new Int32Array(64);
  // distinct traces, of the system and per service, by stamping with this window's number
  const stamp = ++index.windowStamp;
  let traceCount = 0;
  const svcTraceCount = new Map<string, number>();
  let sysErrors = 0;
  for (let i = 0; i < n; i++) {
    const s = spans[i];
    const k = infos[i];
    // Spans without a kind (Nezha CSV) keep the parent rule: parent's service → service.
    const p = k.parentId === undefined || k.local ? undefined : index.parentOf(k);
    let g: number;
    if (k.local) {
      if (k.edgeEntry < 0) k.edgeEntry = index.edge(LOCAL, k.service);
      g = k.edgeEntry;
    } else if (p !== undefined && p.start >= w.start && p.start < w.end) {
      if (k.edgeParent < 0) k.edgeParent = index.edge(p.service, k.service);
      g = k.edgeParent;
    } else {
      if (k.edgeEntry < 0) k.edgeEntry = index.edge(ENTRY, k.service);
      g = k.edgeEntry;
    }
    let e = localOf[g];
    if (e < 0) {
      e = localOf[g] = callers.length;
      callers.push(index.callers[g]);
      callees.push(index.callees[g]);
      keys.push(index.keys[g]);
      if (e >= counts.length) {
        const c2 = new Int32Array(counts.length * 2);
        c2.set(counts);
        counts = c2;
        const e2 = new Int32Array(errors.length * 2);
        e2.set(errors);
        errors = e2;
      }
    }
    edgeOf[i] = e;
    counts[e]++;
    if (s.status === 'error') {
      errors[e]++;
      sysErrors++;
    }
    if (k.trace.stamp !== stamp) {
      k.trace.stamp = stamp;
      traceCount++;
    }
    if (k.serviceTrace.stamp !== stamp) {
      k.serviceTrace.stamp = stamp;
      svcTraceCount.set(k.service, (svcTraceCount.get(k.service) ?? 0) + 1);
    }
  }
  const m = callers.length;
  const offsets = new Int32Array(m + 1);
  for (let e = 0; e < m; e++) offsets[e + 1] = offsets[e] + counts[e];
  const fill = offsets.slice(0, m);
  const grouped = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = spans[i].duration;
    grouped[fill[edgeOf[i]]++] = Number.isFinite(d) ? d : 0;
  }
  // Quantiles by selection (the arrays are scratch): a window has thousands of spans, and
  // three selections cost less than a sort.
  const q = (values: Float64Array) => {
    const [a, b, c] = selectQuantiles(values, QS);
    return [lnMs(a), lnMs(b), lnMs(c)];
  };
  const out: TraceWindow = { minutes, edges: new Map(), services: new Map(), system: undefined as unknown as ScopeFigures };
  const order = [...Array(m).keys()].map((e) => [keys[e], e] as const);
  order.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  const svcEdges = new Map<string, number[]>();
  for (let e = 0; e < m; e++) {
    const l = svcEdges.get(callees[e]);
    if (l) l.push(e);
    else svcEdges.set(callees[e], [e]);
  }
  // system and services first: edge selections below reorder the segments they copy from
  const [lp50, lp90, lp99] = q(grouped.slice());
  for (const svc of [...svcEdges.keys()].sort()) {
    const es = svcEdges.get(svc)!;
    let c = 0;
    let err = 0;
    for (const e of es) {
      c += counts[e];
      err += errors[e];
    }
    const values = new Float64Array(c);
    let o = 0;
    for (const e of es) {
      values.set(grouped.subarray(offsets[e], offsets[e + 1]), o);
      o += counts[e];
    }
    const [s50, s90, s99] = q(values);
    out.services.set(svc, { spans: c, traces: svcTraceCount.get(svc) ?? 0, rate: c / minutes, errShare: err / c, lp50: s50, lp90: s90, lp99: s99 });
  }
  for (const [key, e] of order) {
    if (callers[e] === LOCAL) continue;
    const [e50, e90, e99] = q(grouped.subarray(offsets[e], offsets[e + 1]));
    out.edges.set(key, { caller: callers[e], callee: callees[e], count: counts[e], rate: counts[e] / minutes, errShare: errors[e] / counts[e], lp50: e50, lp90: e90, lp99: e99 });
  }
  out.system = { spans: n, traces: traceCount, rate: n / minutes, errShare: n > 0 ? sysErrors / n : 0, lp50, lp90, lp99 };
  return out;
}

const STATS = ['rate', 'errShare', 'lp50', 'lp90', 'lp99'] as const;
type Stat = (typeof STATS)[number];
const FLOORS: Record<Stat, ScaleFloor> = { rate: RATE_FLOOR, errShare: SHARE_FLOOR, lp50: LOGMS_FLOOR, lp90: LOGMS_FLOOR, lp99: LOGMS_FLOOR };

export type StatBaselines = Record<Stat, Baseline>;

export type EdgeBaseline = StatBaselines & { caller: string; callee: string; presence: number };

export interface TraceBaselines {
  /** training windows that had spans */
  windows: number;
  edges: Map<string, EdgeBaseline>;
  /** per service, and SYSTEM for the whole */
  scopes: Map<string, StatBaselines>;
}

export const SYSTEM = '__system__';

export class TracesFit {
  private windows = 0;
  private edges = new Map<string, { res: Record<Stat, Reservoir>; seen: number; caller: string; callee: string }>();
  private scopes = new Map<string, Record<Stat, Reservoir>>();

  constructor(private readonly cap: number, private readonly rng: SeededRandom) {}

  private reservoirs(): Record<Stat, Reservoir> {
    return { rate: new Reservoir(this.cap, this.rng), errShare: new Reservoir(this.cap, this.rng), lp50: new Reservoir(this.cap, this.rng), lp90: new Reservoir(this.cap, this.rng), lp99: new Reservoir(this.cap, this.rng) };
  }

  add(tw: TraceWindow): void {
    if (tw.system.spans === 0) return;
    this.windows++;
    for (const [k, e] of tw.edges) {
      let r = this.edges.get(k);
      if (!r) this.edges.set(k, (r = { res: this.reservoirs(), seen: 0, caller: e.caller, callee: e.callee }));
      r.seen++;
      for (const s of STATS) r.res[s].add(e[s]);
    }
    const scopes: [string, ScopeFigures][] = [[SYSTEM, tw.system], ...tw.services];
    for (const [k, f] of scopes) {
      let r = this.scopes.get(k);
      if (!r) this.scopes.set(k, (r = this.reservoirs()));
      for (const s of STATS) r[s].add(f[s]);
    }
  }

  finish(): TraceBaselines {
    const sum = (r: Record<Stat, Reservoir>): StatBaselines => Object.fromEntries(STATS.map((s) => [s, r[s].summarize(FLOORS[s])])) as StatBaselines;
    const edges = new Map<string, EdgeBaseline>();
    for (const k of [...this.edges.keys()].sort()) {
      const e = this.edges.get(k)!;
      edges.set(k, { ...sum(e.res), caller: e.caller, callee: e.callee, presence: e.seen / this.windows });
    }
    const scopes = new Map<string, StatBaselines>();
    for (const k of [...this.scopes.keys()].sort()) scopes.set(k, sum(this.scopes.get(k)!));
    return { windows: this.windows, edges, scopes };
  }
}

interface EdgeZ {
  key: string;
  e: EdgeFigures;
  rate: number;
  err: number;
  lp50: number;
  lp90: number;
  lp99: number;
  isNew: boolean;
}

function edgeZ(key: string, e: EdgeFigures, tb: TraceBaselines): EdgeZ {
  const b = tb.edges.get(key);
  if (!b) return { key, e, rate: NaN, err: NaN, lp50: NaN, lp90: NaN, lp99: NaN, isNew: true };
  return { key, e, rate: zOf(e.rate, b.rate), err: zOf(e.errShare, b.errShare), lp50: zOf(e.lp50, b.lp50), lp90: zOf(e.lp90, b.lp90), lp99: zOf(e.lp99, b.lp99), isNew: false };
}

/** Edges seen in at least ABSENT_PRESENCE of the baseline windows, for the system and per service. */
const frequentIndex = new WeakMap<TraceBaselines, Map<string | undefined, [string, EdgeBaseline][]>>();

function frequentEdges(tb: TraceBaselines, service: string | undefined): [string, EdgeBaseline][] {
  let idx = frequentIndex.get(tb);
  if (!idx) {
    idx = new Map();
    const add = (s: string | undefined, e: [string, EdgeBaseline]) => {
      const l = idx!.get(s);
      if (l) l.push(e);
      else idx!.set(s, [e]);
    };
    for (const [k, b] of tb.edges) {
      if (b.presence < ABSENT_PRESENCE) continue;
      add(undefined, [k, b]);
      add(b.caller, [k, b]);
      if (b.callee !== b.caller) add(b.callee, [k, b]);
    }
    frequentIndex.set(tb, idx);
  }
  return idx.get(service) ?? [];
}

/** Edges of a scope: all of them for the system, those a service calls or serves otherwise. */
function scopeEdges(tw: TraceWindow, tb: TraceBaselines, service: string | undefined): { present: EdgeZ[]; absent: [string, number][]; frequent: number } {
  const present: EdgeZ[] = [];
  for (const [k, e] of tw.edges) if (service === undefined || e.caller === service || e.callee === service) present.push(edgeZ(k, e, tb));
  const absent: [string, number][] = [];
  const frequent = frequentEdges(tb, service);
  for (const [k, b] of frequent) if (!tw.edges.has(k)) absent.push([k, b.presence]);
  return { present, absent, frequent: frequent.length };
}

const F = indexOf(TRACE_FEATURES);
const lg1 = (x: number) => (Number.isFinite(x) ? Math.log1p(Math.abs(x)) : 0);

/** A view of the system (`service` undefined) or of one service; undefined when it emitted no span. */
export function traceView(tw: TraceWindow, tb: TraceBaselines, service: string | undefined, budget: number): { text: string; features: Float32Array } | undefined {
  const sf = service === undefined ? tw.system : tw.services.get(service);
  if (!sf || sf.spans === 0) return undefined;
  const sb = tb.scopes.get(service ?? SYSTEM);
  const z = (x: number, s: Stat) => zOf(x, sb?.[s]);
  const { present, absent, frequent: baseEdges } = scopeEdges(tw, tb, service);
  const f = new Float32Array(TRACE_FEATURES.length);
  const rateZ = z(sf.rate, 'rate');
  const errZ = z(sf.errShare, 'errShare');
  const dz = [z(sf.lp50, 'lp50'), z(sf.lp90, 'lp90'), z(sf.lp99, 'lp99')];
  f[F.span_count_log] = Math.log1p(sf.spans);
  f[F.trace_count_log] = Math.log1p(sf.traces);
  f[F.span_rate_z] = slog(rateZ);
  f[F.edges_log] = Math.log1p(present.length);
  const newEdges = present.filter((p) => p.isNew).length;
  f[F.new_edge_share] = present.length ? newEdges / present.length : 0;
  f[F.absent_edges_log] = Math.log1p(absent.length);
  f[F.absent_edge_share] = baseEdges ? absent.length / baseEdges : 0;
  f[F.error_share] = sf.errShare;
  f[F.error_share_z] = slog(errZ);
  f[F.duration_p50_logms] = sf.lp50;
  f[F.duration_p90_logms] = sf.lp90;
  f[F.duration_p99_logms] = sf.lp99;
  f[F.duration_p50_z] = slog(dz[0]);
  f[F.duration_p90_z] = slog(dz[1]);
  f[F.duration_p99_z] = slog(dz[2]);
  let latMax = 0;
  let latSum = 0;
  let latN = 0;
  let latGt3 = 0;
  let rateMax = 0;
  let rateSum = 0;
  let rateN = 0;
  let errMax = 0;
  let deviant = 0;
  for (const p of present) {
    if (p.isNew) continue;
    const lat = Math.abs(p.lp90) >= Math.abs(p.lp99) ? p.lp90 : p.lp99;
    if (Number.isFinite(lat)) {
      latMax = Math.max(latMax, Math.abs(lat));
      latSum += lat;
      latN++;
      if (Math.abs(lat) > 3) latGt3++;
    }
    if (Number.isFinite(p.rate)) {
      rateMax = Math.max(rateMax, Math.abs(p.rate));
      rateSum += p.rate;
      rateN++;
    }
    if (Number.isFinite(p.err)) errMax = Math.max(errMax, Math.abs(p.err));
    if (maxFinite(Math.abs(p.lp50), Math.abs(p.lp90), Math.abs(p.lp99), Math.abs(p.rate), Math.abs(p.err)) > 3) deviant++;
  }
  f[F.edge_latency_absz_max] = lg1(latMax);
  f[F.edge_latency_z_mean] = latN ? slog(latSum / latN) : 0;
  f[F.edge_latency_share_gt3] = latN ? latGt3 / latN : 0;
  f[F.edge_rate_absz_max] = lg1(rateMax);
  f[F.edge_rate_z_mean] = rateN ? slog(rateSum / rateN) : 0;
  f[F.edge_error_absz_max] = lg1(errMax);
  f[F.edge_deviant_share] = present.length ? (deviant + newEdges) / present.length : 0;

  const ms = (l: number) => `${fmt(Math.exp(l))}ms`;
  const header =
    `traces ${service ?? 'system'}: ${sf.spans} spans, ${sf.traces} traces, ${fmt(sf.rate)}/min (z ${fmtZ(rateZ)}); ` +
    `${present.length} edges` +
    (newEdges || absent.length ? ` (${newEdges} new, ${absent.length} absent)` : '') +
    `; errors ${pct(sf.errShare)}` +
    (Number.isFinite(errZ) && Math.abs(errZ) >= 1 ? ` (z ${fmtZ(errZ)})` : '') +
    `; latency p50 ${ms(sf.lp50)} p90 ${ms(sf.lp90)} p99 ${ms(sf.lp99)} (z ${dz.map(fmtZ).join('/')})`;
  const lines: Line[] = [];
  for (const p of present) {
    const e = p.e;
    const lat = () => `p50 ${ms(e.lp50)} p90 ${ms(e.lp90)} p99 ${ms(e.lp99)}`;
    const err = () => (e.errShare > 0 || Math.abs(p.err) >= 1 ? `, err ${pct(e.errShare)}` + (Number.isFinite(p.err) ? ` (z ${fmtZ(p.err)})` : '') : '');
    if (p.isNew) {
      lines.push({ score: 40 + Math.log1p(e.count), tie: p.key, text: () => `NEW ${p.key}: ${e.count} calls, ${lat()}${err()}` });
      continue;
    }
    const score = maxFinite(Math.abs(p.lp50), Math.abs(p.lp90), 0.8 * Math.abs(p.lp99), 0.7 * Math.abs(p.rate), Math.abs(p.err));
    lines.push({ score, tie: p.key, text: () => `${p.key}: ${e.count} calls (z ${fmtZ(p.rate)}), ${lat()} (z ${fmtZ(p.lp50)}/${fmtZ(p.lp90)}/${fmtZ(p.lp99)})${err()}` });
  }
  for (const [k, presence] of absent) lines.push({ score: 4 * presence, tie: k, text: `ABSENT ${k} (in ${pct(presence)} of baseline windows)` });
  return { text: assemble(header, lines, budget), features: f };
}
