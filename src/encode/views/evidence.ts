import type { LogRecord, Span, TimeRange } from '../../telemetry/index.js';
import {
  EDGE_MIN_CALLS,
  LOG_MIN_SPANS,
  OUTCOME_MIN_CALLS,
  STRUCTURE_MIN_SPANS,
  callOutcomes,
  spanStructure,
  outcomeZ,
  logRates,
  rateZ,
  logTemplates,
  supportScale,
  welchT,
  type EdgeReference,
  type LogReference,
  type LogSummary as TemplateSummary,
  type OutcomeReference,
  type OutcomeSummary,
  type RateReference,
  type RateSummary,

  type SupportedLocation,
  type SelfReference,
  type StructureReference,
  type StructureSummary,
} from '../evidence/index.js';
import { fitMedians, type KeyMedian } from '../evidence/edges.js';
import { EvidenceSpanIndex, type KeyValues, type OutcomeCounts, type OutcomeValues, type SpanEvidence, type SpanRecords, type StructOp, type StructSig } from './evidence-spans.js';
import { ITEM_MIN, fmt, push, q, sig, sorted, sortedMedian, type Item } from './evidence-util.js';
import type { PodResources } from './evidence-resources.js';
import { SeededRandom } from './stats.js';

/**
 * Root-cause evidence in the views (issue 11): per window, per service and per pod, the
 * evidence families' figures (src/encode/evidence/) against references fitted from training
 * windows. docs/views.md ("Evidence features") defines every entry; change both together and
 * bump EVIDENCE_VERSION.
 *
 * Values are in the families' own units (robust z, Welch t, ln ms), not compressed: a feature
 * that cannot be computed (the family has no data in the window, or no reference) is NaN.
 */
export const EVIDENCE_VERSION = 3;

export const EVIDENCE_FEATURES: readonly string[] = [
  // edge gaps, attributed to the callee (this service / pod)
  'edge_in_calls_log',
  'edge_in_gap_p50_logms',
  'edge_in_gap_p90_logms',
  'edge_in_dev_median',
  'edge_in_dev_min',
  'edge_in_dev_max',
  'edge_in_edges_log',
  'edge_in_new_log',
  'edge_out_dev_median',
  // exclusive self time of entry spans
  'self_spans_log',
  'self_p50_logms',
  'self_dev_max',
  'self_dev_median',
  // log templates per span, per (service, operation, template)
  'logt_spans_log',
  'logt_t_max',
  'logt_t_min',
  'logt_vanished_log',
  'logt_appeared_log',
  // template counts per window of logs without span ids
  'lograte_records_log',
  'lograte_z_max',
  'lograte_z_min',
  // resource metrics: own rolling history, and the global (training) baseline
  'res_metrics_log',
  'res_own_z_max',
  'res_cpu_own_z',
  'res_mem_own_z',
  'res_global_z_max',
  'res_cpu_global_z',
  // call outcomes into the service (pod): failed, complained about or slow on the edge
  'out_in_calls_log',
  'out_in_failed_share',
  'out_in_complained_share',
  'out_in_z_median',
  'out_in_z_max',
  'out_out_z_median',
  // span structure: calls per span to each child operation, per (service, operation)
  'struct_spans_log',
  'struct_t_max',
  'struct_t_min',
  'struct_vanished_log',
  'struct_appeared_log',
  // resource metrics again: the pod's CPU over the rest of the system's, against its own history
  // (last, so every earlier column keeps its place)
  'res_cpu_share_z',
];

const F = Object.fromEntries(EVIDENCE_FEATURES.map((n, i) => [n, i])) as Record<string, number>;

/** Training windows whose span and log summaries the references are fitted from, at most. */
export const EVIDENCE_REFERENCE_WINDOWS = 256;

/** One evidence row of a window: a service (pod undefined) or one of its pods. */
export interface EvidenceRow {
  /** the service */
  entity: string;
  pod?: string;
  /** layout: EVIDENCE_FEATURES */
  features: Float32Array;
  /** the strongest items, e.g. `edge-gap a → b 1.2e3 ms (ref 3.1, dev +45.2)`; '' when none */
  items: string;
}

interface Pooled {
  n: number;
  p50: number;
  p90: number;
}

interface EdgeStat {
  caller: string;
  callee: string;
  n: number;
  med: number;
  p90: number;
  /** [pod, calls, median gap] */
  pods: [string, number, number][];
}

/** Call counts of an edge or of one of its callee pods; `gaps`: gaps of the calls neither failed nor complained about (in no order). */
interface OutcomeCount {
  calls: number;
  failed: number;
  complained: number;
  errored: number;
  gaps: Float64Array;
}

interface OutcomeStat extends OutcomeCount {
  caller: string;
  callee: string;
  pods: (OutcomeCount & { pod: string })[];
}

/** One operation's compared spans in the window and, per child operation, Σ calls per span and Σ squares. */
export interface StructStat {
  service: string;
  operation: string;
  n: number;
  /** child operations ("service operation"), with `sum[i]`, `sumSq[i]` */
  kids: string[];
  sum: number[];
  sumSq: number[];
}

interface OpStat {
  service: string;
  operation: string;
  n: number;
  med: number;
  pods: [string, number, number][];
}

/**
 * An item's text for a log template (`TemplateOf`): the training template's text, or a line
 * shape no training template matches (`texts`: the fitted templates, `bodies`: the shapes).
 */
export function describeTemplate(t: number, texts: ReadonlyMap<number, string>, bodies: readonly string[]): string {
  return t >= 0 ? (texts.get(t) ?? `template ${t}`) : `NEW ${bodies[-t - 2] ?? ''}`;
}

/** A window's span and log evidence with no reference in it (kept between the two passes). */
export interface EvidenceWindow {
  edges?: EdgeStat[];
  /** incoming calls pooled per callee, and per callee pod */
  calleeGaps?: Map<string, Pooled>;
  podGaps?: Map<string, Pooled>;
  ops?: OpStat[];
  serviceSelf?: Map<string, Pooled>;
  podSelf?: Map<string, Pooled>;
  /** call outcomes per edge (caller → callee) */
  outcomes?: OutcomeStat[];
  /** span structure per (service, operation) */
  structure?: StructStat[];
  /** keyed by line shape until rendered (`mapTemplates`) */
  templates?: TemplateSummary;
  rates?: RateSummary;
}

/** Template id of a line shape (the views' shapes); negative for lines no training template matches. */
export type TemplateOf = (shape: number) => number;

/** The references the features are computed against, fitted from training windows only. */
export interface EvidenceReferences {
  edges: EdgeReference;
  self: SelfReference;
  templates?: LogReference;
  rates?: RateReference;
  outcomes?: OutcomeReference;
  structure?: StructureReference;
}

/** JSON form, saved with the fitted views (`ViewBuilderState.evidence`). */
export interface EvidenceState {
  version: number;
  historyMs: number;
  /** [key, center, scale, windows, support (median calls per reference window)] */
  edges: [string, number, number, number, number][];
  self: [string, number, number, number, number][];
  /** [service\toperation, spans, [template, Σ, Σ²][]] */
  templates?: [string, number, [number, number, number][]][];
  rates?: { windows: number; moments: [string, [number, number, number][]][] };
  /** [caller\tcallee, slow gap ms (null: none), calls, bad calls, windows, dispersion] */
  outcomes?: [string, number | null, number, number, number, number][];
  /** [service\toperation, spans, [child operation, Σ, Σ²][]] */
  structure?: [string, number, [string, number, number][]][];
}

function pooled(parts: readonly Float64Array[]): Pooled {
  // one part (a service with one incoming edge, a pod with one) is sorted already
  if (parts.length === 1) return { n: parts[0].length, p50: q(parts[0], 0.5), p90: q(parts[0], 0.9) };
  let n = 0;
  for (const p of parts) n += p.length;
  const all = new Float64Array(n);
  let k = 0;
  for (const p of parts) (all.set(p, k), (k += p.length));
  all.sort();
  return { n, p50: q(all, 0.5), p90: q(all, 0.9) };
}

/** Per-key figures of a window's values, and the values pooled per owner service and per (owner, pod). */
function compact<T>(keys: readonly KeyValues[], stat: (k: KeyValues, v: Float64Array, pods: [string, number, number][]) => T): { stats: T[]; owners: Map<string, Pooled>; pods: Map<string, Pooled> } {
  const stats: T[] = [];
  const byOwner = new Map<string, Float64Array[]>();
  const byPod = new Map<string, Float64Array[]>();
  for (const k of keys) {
    const v = k.sorted();
    stats.push(stat(k, v, k.pods.map((p) => [p.pod, p.n, q(p.sorted(), 0.5)])));
    push(byOwner, k.owner, v);
    for (const p of k.pods) push(byPod, p.ownerKey, p.sorted());
  }
  return { stats, owners: new Map([...byOwner].map(([k, v]) => [k, pooled(v)])), pods: new Map([...byPod].map(([k, v]) => [k, pooled(v)])) };
}

function compactEdges(edges: readonly KeyValues[], out: EvidenceWindow): void {
  const c = compact(edges, (k, g, pods): EdgeStat => ({ caller: k.a, callee: k.b, n: g.length, med: q(g, 0.5), p90: q(g, 0.9), pods }));
  out.edges = c.stats;
  out.calleeGaps = c.owners;
  out.podGaps = c.pods;
}

function compactSelf(ops: readonly KeyValues[], out: EvidenceWindow): void {
  const c = compact(ops, (k, v, pods): OpStat => ({ service: k.a, operation: k.b, n: v.length, med: q(v, 0.5), pods }));
  out.ops = c.stats;
  out.serviceSelf = c.owners;
  out.podSelf = c.pods;
}

/**
 * A window's values as the edge and self-time fits read them (`fitMedians`: each key's count
 * and median), made only for the windows the reference sample keeps. The families' summaries
 * (every value, and every pod's values) were made here before: the sample holds up to 256
 * windows through the whole fitting pass, so all of it lived long enough to be copied into the
 * old generation, and the fit reads none of the values but their median.
 */
function keyMedians(keys: readonly KeyValues[]): KeyMedian[] {
  // `keyMedian` (edges.ts) on the sorted values: its shared median copied, filtered and sorted
  // them again with a comparator (≈ 120 MB allocated over Nezha's kept windows)
  return keys.map((k): KeyMedian => {
    const v = k.sorted();
    return [k.key, v.length, v.length < EDGE_MIN_CALLS ? NaN : sortedMedian(v)];
  });
}

/**
 * A key's counts as kept for the window; its gaps are only counted above a threshold (rows) or
 * pooled into a quantile (fit), so they stay in arrival order (no per-window sort); a pod's
 * gaps are kept only where a row judges it (≥ OUTCOME_MIN_CALLS calls).
 */
const outcomeCount = (k: OutcomeCounts, keep = true): OutcomeCount => ({ calls: k.calls, failed: k.failed, complained: k.complained, errored: k.errored, gaps: keep ? k.values().slice() : NO_GAPS });
const NO_GAPS = new Float64Array(0);

function compactOutcomes(edges: readonly OutcomeValues[]): OutcomeStat[] {
  return edges.map((k) => ({ caller: k.caller, callee: k.callee, ...outcomeCount(k), pods: k.pods.map((p) => ({ pod: p.pod, ...outcomeCount(p, p.calls >= OUTCOME_MIN_CALLS) })) }));
}

/** A window's call outcomes as the family's summary (for `fit`; no caller-side durations: the rows read no felt figures). */
function outcomeSummary(stats: readonly OutcomeStat[]): OutcomeSummary {
  return new Map(stats.map((o) => [`${o.caller}\t${o.callee}`, { caller: o.caller, callee: o.callee, calls: o.calls, failed: o.failed, complained: o.complained, errored: o.errored, gaps: Array.from(o.gaps) }]));
}

/** Per-child sums of the window's operations, in child-number slots stamped per operation (no map per window). */
let kidSum = new Float64Array(64);
let kidSumSq = new Float64Array(64);
let kidStamp = new Int32Array(64);
let kidTurn = 0;

/** Each operation's children moments from its signature counts. */
function compactStructure(ops: readonly StructOp[], sigs: readonly StructSig[], childKeys: readonly string[]): StructStat[] {
  if (kidStamp.length < childKeys.length) {
    const n = Math.max(2 * kidStamp.length, childKeys.length);
    kidSum = new Float64Array(n);
    kidSumSq = new Float64Array(n);
    kidStamp = new Int32Array(n);
  }
  const out: StructStat[] = [];
  for (const o of ops) {
    const turn = ++kidTurn;
    const order: number[] = [];
    for (let i = 0; i < o.sigs.length; i += 2) {
      const g = sigs[o.sigs[i]];
      const spans = o.sigs[i + 1];
      for (let j = 0; j < g.kids.length; j++) {
        const k = g.kids[j];
        const c = g.counts[j];
        if (kidStamp[k] !== turn) {
          kidStamp[k] = turn;
          kidSum[k] = kidSumSq[k] = 0;
          order.push(k);
        }
        kidSum[k] += spans * c;
        kidSumSq[k] += spans * c * c;
      }
    }
    out.push({ service: o.service, operation: o.operation, n: o.n, kids: order.map((k) => childKeys[k]), sum: order.map((k) => kidSum[k]), sumSq: order.map((k) => kidSumSq[k]) });
  }
  return out;
}

/** A window's structure as the family's summary (for `fit`). */
function structureSummary(stats: readonly StructStat[]): StructureSummary {
  return new Map(stats.map((o) => [`${o.service}\t${o.operation}`, { service: o.service, operation: o.operation, n: o.n, children: new Map(o.kids.map((k, i) => [k, { sum: o.sum[i], sumSq: o.sumSq[i] }])) }]));
}

/** Algorithm R over whole window summaries (seeded: the same windows give the same sample). */
class SummaryReservoir<S> {
  readonly items: S[] = [];
  private seen = 0;
  constructor(
    private readonly cap: number,
    private readonly rng: SeededRandom,
  ) {}
  /** `make` is called only when the window is kept (most windows past the first `cap` are not). */
  add(make: () => S): void {
    this.seen++;
    if (this.items.length < this.cap) this.items.push(make());
    else {
      const j = Math.floor(this.rng.next() * this.seen);
      if (j < this.cap) this.items[j] = make();
    }
  }
}

/**
 * Span and log evidence of a stream of windows (one pass, windows in stream order), and the
 * references learnt from the training ones. Labels are never seen.
 */
export class EvidencePass {
  private readonly spans = new EvidenceSpanIndex();
  /** records before this time were taken in by an earlier window */
  private logsUpTo = -Infinity;
  /** records with a span id whose span was not indexed yet, tried again in later windows */
  private unjoined: { r: LogRecord; shape: number }[] = [];
  /** records without a span id, while a window can hold them (for the per-window rates) */
  private unspanned: { r: LogRecord; shape: number }[] = [];
  /** duplicate keys of recent records, with their time */
  private readonly dupKeys = new Map<string, number>();
  private dupSweptAt = -Infinity;
  /** each operation's entry in the current window, by its number in the span index (`opOf`) */
  private opStamp = new Int32Array(64);
  private opAt: Op[] = [];
  private opWindow = 0;
  private readonly edgeSample: SummaryReservoir<KeyMedian[]>;
  private readonly selfSample: SummaryReservoir<KeyMedian[]>;
  private readonly tplSample: SummaryReservoir<TemplateSummary>;
  private readonly rateSample: SummaryReservoir<RateSummary>;
  /**
   * the outcomes' and structure's samples hold the window's own compact figures (kept for the
   * rows anyway, and never changed), made into the families' summaries only by `finish`
   */
  private readonly outcomeSample: SummaryReservoir<OutcomeStat[]>;
  private readonly structSample: SummaryReservoir<StructStat[]>;

  constructor(seed: number, cap = EVIDENCE_REFERENCE_WINDOWS) {
    const rng = new SeededRandom(seed ^ 0x5eed11);
    // a generator of its own: the other samples draw what they drew before the outcomes came
    this.outcomeSample = new SummaryReservoir(cap, new SeededRandom(seed ^ 0x0c0e11));
    this.structSample = new SummaryReservoir(cap, new SeededRandom(seed ^ 0x57c7e1));
    this.edgeSample = new SummaryReservoir(cap, rng);
    this.selfSample = new SummaryReservoir(cap, rng);
    this.tplSample = new SummaryReservoir(cap, rng);
    this.rateSample = new SummaryReservoir(cap, rng);
  }

  /**
   * A window's evidence. `logs` and `shapes` (each record's line shape) may be empty (no logs,
   * or logs summarised elsewhere); undefined when the window has nothing for any family.
   */
  add(range: TimeRange, spans: readonly Span[], logs: readonly LogRecord[], shapes: readonly number[], train: boolean): EvidenceWindow | undefined {
    const out: EvidenceWindow = {};
    let any = false;
    let inRange: readonly SpanEvidence[] = NO_SPANS;
    let nInRange = 0;
    let calls: readonly SpanEvidence[] = NO_SPANS;
    let nCalls = 0;
    if (spans.length) {
      const s = this.spans.summarize(spans, range);
      inRange = s.inRange;
      nInRange = s.nInRange;
      calls = s.calls;
      nCalls = s.nCalls;
      if (s.edges.length) {
        compactEdges(s.edges, out);
        if (train) this.edgeSample.add(() => keyMedians(s.edges));
        any = true;
      }
      if (s.self.length) {
        compactSelf(s.self, out);
        if (train) this.selfSample.add(() => keyMedians(s.self));
        any = true;
      }
      if (s.struct.length) {
        const st = compactStructure(s.struct, this.spans.sigs, this.spans.childKeys);
        out.structure = st;
        if (train) this.structSample.add(() => st);
        any = true;
      }
    }
    if (logs.length) this.takeRecords(logs, shapes, range);
    // after the records: a caller's complaints are its ERROR records
    if (nCalls) {
      const o = compactOutcomes(this.spans.outcomes(calls, nCalls, range));
      if (o.length) {
        out.outcomes = o;
        if (train) this.outcomeSample.add(() => o);
        any = true;
      }
    }
    const t = nInRange ? this.templateSummary(inRange, nInRange) : undefined;
    if (t) {
      out.templates = t;
      if (train) this.tplSample.add(() => t);
      any = true;
    }
    const r = this.unspanned.length ? rateSummary(range, this.unspanned) : undefined;
    if (r) {
      out.rates = r;
      if (train) this.rateSample.add(() => r);
      any = true;
    }
    return any ? out : undefined;
  }

  /**
   * Takes in a window's new records, each once per pass: those from the previous window's end
   * on (windows overlap; a record arriving later than that, out of order, is left out, as the
   * log thread leaves it out). A record repeating an earlier one (the collector's duplicates —
   * same span or entity, time and line — are one event, as in the families) is dropped; one
   * with a span id is counted at its span (`SpanEvidence.rec`), or kept until its span is
   * indexed; one without is kept for the per-window rates.
   */
  private takeRecords(logs: readonly LogRecord[], shapes: readonly number[], range: TimeRange): void {
    if (range.start - this.dupSweptAt >= DUP_KEEP_MS) {
      for (const [k, t] of this.dupKeys) if (t < range.start - DUP_KEEP_MS) this.dupKeys.delete(k);
      this.dupSweptAt = range.start;
    }
    const from = this.logsUpTo;
    this.logsUpTo = Math.max(this.logsUpTo, range.end);
    const pending = this.unjoined;
    this.unjoined = [];
    // a span starts before its records, so a record whose span is not indexed by now mostly has
    // none in the data: it is tried while its time is inside the windows
    for (const p of pending) if (p.r.time >= range.start) this.join(p.r, p.shape);
    this.unspanned = this.unspanned.filter((p) => p.r.time >= range.start);
    for (let i = 0; i < logs.length; i++) {
      const r = logs[i];
      if (r.time < from || r.time >= range.end) continue;
      if (r.spanId) {
        this.join(r, shapes[i]);
        continue;
      }
      const key = `${r.entity}\t${r.time}\t${shapes[i]}`;
      if (this.dupKeys.has(key)) continue;
      this.dupKeys.set(key, r.time);
      this.unspanned.push({ r, shape: shapes[i] });
    }
  }

  private join(r: LogRecord, shape: number): void {
    const e = r.traceId ? this.spans.spanOf(r.traceId, r.spanId!) : undefined;
    if (!e) {
      this.unjoined.push({ r, shape });
      return;
    }
    const rec = e.rec;
    const error = r.severity === 'error' || r.severity === 'fatal';
    if (rec === undefined) {
      // its first record (most spans with records have one or two): lists made to size
      e.rec = { logs: [shape, 1], times: [r.time, shape], errs: undefined };
      if (error) this.spans.noteError(e, r);
      return;
    }
    // a duplicate (same span, time and line) is the same event
    if (!firstOf(rec, r.time, shape)) return;
    if (error) this.spans.noteError(e, r);
    const m = rec.logs;
    let i = 0;
    while (i < m.length && m[i] !== shape) i += 2;
    if (i < m.length) m[i + 1]++;
    else m.push(shape, 1);
  }

  /**
   * Records per span of each (service, operation, template): the log-template family's
   * summary (src/encode/evidence/log-templates.ts), keyed by line shape. Each record is joined
   * to its span once (`takeRecords`) and counted there, so a window only adds up its spans'
   * counts. A span's counts are those of all its records read so far (up to the window's end):
   * unlike the family's window-local join, a record just after the window's end, of a span
   * that started inside it, counts from the next window on.
   */
  private templateSummary(spans: readonly SpanEvidence[], n: number): TemplateSummary | undefined {
    let joined = 0;
    const ops: TemplateSummary['ops'] = new Map();
    // the window's entry of each operation, by the operation's number (stamped with the window)
    const stamp = ++this.opWindow;
    const opAt = this.opAt;
    for (let i = 0; i < n; i++) {
      const e = spans[i];
      const s = e.span;
      const id = this.spans.opOf(e);
      if (this.opStamp.length <= id) {
        const grown = new Int32Array(Math.max(64, 2 * (id + 1)));
        grown.set(this.opStamp);
        this.opStamp = grown;
      }
      let o = opAt[id];
      if (this.opStamp[id] !== stamp) {
        this.opStamp[id] = stamp;
        // per-pod span counts (`pods`) are left empty, one map shared by all: the family's
        // statistic does not read them
        // and its templates one empty map shared by all until it has a record (most operations
        // have none in a window, and the summaries are kept until the views pass)
        o = opAt[id] = { service: s.service, operation: s.operation, n: 0, pods: NO_PODS, templates: NO_TEMPLATES };
        ops.set(this.spans.opIds.keys[id], o);
      }
      o!.n++;
      const counts = e.rec?.logs;
      if (!counts?.length) continue;
      joined++;
      let tpl = o!.templates;
      if (tpl === NO_TEMPLATES) o!.templates = tpl = new Map();
      for (let i = 0; i < counts.length; i += 2) {
        const t = counts[i];
        const c = counts[i + 1];
        const m = tpl.get(t);
        if (m) ((m.sum += c), (m.sumSq += c * c));
        else tpl.set(t, { sum: c, sumSq: c * c });
      }
    }
    return joined ? { ops, text: new Map() } : undefined;
  }

  /** The references, fitted by the families from the sampled training windows. */
  finish(templateOf: TemplateOf): EvidenceReferences {
    const tpl = this.tplSample.items.map((s) => mapTemplates(s, templateOf));
    const rates = this.rateSample.items.map((s) => mapRates(s, templateOf));
    return {
      // the families' own fits (edgeGaps.fit, selfTime.fit) on the figures they read
      edges: fitMedians(this.edgeSample.items),
      self: fitMedians(this.selfSample.items),
      templates: tpl.length ? logTemplates.fit(tpl) : undefined,
      rates: rates.length ? logRates.fit(rates) : undefined,
      outcomes: this.outcomeSample.items.length ? callOutcomes.fit(this.outcomeSample.items.map(outcomeSummary)) : undefined,
      structure: this.structSample.items.length ? spanStructure.fit(this.structSample.items.map(structureSummary)) : undefined,
    };
  }
}

function rateSummary(range: TimeRange, records: readonly { r: LogRecord; shape: number }[]): RateSummary | undefined {
  const counts = new Map<string, Map<number, number>>();
  for (const { r, shape } of records) {
    if (r.time < range.start || r.time >= range.end) continue;
    let m = counts.get(r.service);
    if (!m) counts.set(r.service, (m = new Map()));
    m.set(shape, (m.get(shape) ?? 0) + 1);
  }
  return counts.size ? { counts, text: new Map() } : undefined;
}

/** Notes a record (time, shape) at its span's records; false when the span had it already (a duplicate). */
function firstOf(rec: SpanRecords, time: number, shape: number): boolean {
  const lt = rec.times;
  if (Array.isArray(lt)) {
    // SameValueZero, as the map's keys compare
    for (let i = 0; i < lt.length; i += 2) if ((lt[i] === time || (lt[i] !== lt[i] && time !== time)) && lt[i + 1] === shape) return false;
    if (lt.length < FLAT_RECORDS * 2) {
      lt.push(time, shape);
      return true;
    }
    // a span with many records: by time from now on
    const m = new Map<number, number[]>();
    for (let i = 0; i < lt.length; i += 2) {
      const at = m.get(lt[i]);
      if (at) at.push(lt[i + 1]);
      else m.set(lt[i], [lt[i + 1]]);
    }
    rec.times = m;
    return firstOf(rec, time, shape);
  }
  const at = lt.get(time);
  if (at?.includes(shape)) return false;
  if (at) at.push(shape);
  else lt.set(time, [shape]);
  return true;
}

const NO_SPANS: readonly SpanEvidence[] = [];

/** Records of a span checked for duplicates by a walk over them, up to this many. */
const FLAT_RECORDS = 32;

/** Duplicate keys are kept this long (stream time): duplicates share their time. */
const DUP_KEEP_MS = 10 * 60_000;

/**
 * An operation's counts by line shape added into `into` by template. Shapes of one template in
 * one span add up; Σ² of the merged counts is not known from the parts, so it is bounded by
 * (Σa)²+(Σb)² ≤ it: the variance of a merged template is understated only when one span logs
 * both shapes, which lines of one statement rarely do.
 */
function rekeyShapes(shapes: Op['templates'], templateOf: TemplateOf, into: Op['templates']): void {
  for (const [shape, m] of shapes) {
    const id = templateOf(shape);
    const a = into.get(id);
    if (a) ((a.sum += m.sum), (a.sumSq += m.sumSq));
    else into.set(id, { sum: m.sum, sumSq: m.sumSq });
  }
}

/** A summary keyed by line shape, re-keyed by template (shapes of one template merged). */
export function mapTemplates(s: TemplateSummary, templateOf: TemplateOf): TemplateSummary {
  const ops: TemplateSummary['ops'] = new Map();
  for (const [k, o] of s.ops) {
    if (o.templates.size === 0) {
      // nothing to re-key: the operation as it is (summaries are never changed once made)
      ops.set(k, o);
      continue;
    }
    const t: Op['templates'] = new Map();
    rekeyShapes(o.templates, templateOf, t);
    ops.set(k, { ...o, templates: t });
  }
  return { ops, text: s.text };
}

export function mapRates(s: RateSummary, templateOf: TemplateOf): RateSummary {
  const counts = new Map<string, Map<number, number>>();
  for (const [svc, m] of s.counts) {
    const c = new Map<number, number>();
    for (const [shape, n] of m) {
      const id = templateOf(shape);
      c.set(id, (c.get(id) ?? 0) + n);
    }
    counts.set(svc, c);
  }
  return { counts, text: s.text };
}

const ln1p = (x: number) => Math.log1p(Math.max(0, x));

/** The value of largest magnitude (NaN for none). */
function maxAbs(values: Iterable<number>): number {
  let best = NaN;
  for (const v of values) if (Number.isFinite(v) && !(Math.abs(v) <= Math.abs(best))) best = v;
  return best;
}

function med(v: number[]): number {
  return v.length ? q(sorted(v), 0.5) : NaN;
}

interface Acc {
  f: Float32Array;
  items: Item[];
}

/**
 * The evidence rows of one window: one per service with any evidence, then one per pod of it
 * (rows in service order, the service first). `templateOf` maps the window's line shapes to
 * the references' template ids; `describe` gives a template's text for the items.
 */
export function evidenceRows(
  ew: EvidenceWindow | undefined,
  resources: Map<string, PodResources> | undefined,
  refs: EvidenceReferences | undefined,
  templateOf: TemplateOf,
  describe: (template: number) => string,
): EvidenceRow[] {
  const svcs = new Map<string, Acc>();
  const pods = new Map<string, Map<string, Acc>>();
  const acc = () => ({ f: featureRow(), items: [] });
  const svc = (s: string): Acc => {
    let a = svcs.get(s);
    if (!a) svcs.set(s, (a = acc()));
    return a;
  };
  const pod = (s: string, p: string): Acc => {
    svc(s);
    let m = pods.get(s);
    if (!m) pods.set(s, (m = new Map()));
    let a = m.get(p);
    if (!a) m.set(p, (a = acc()));
    return a;
  };
  if (ew) {
    edgeFeatures(ew, refs?.edges, svc, pod);
    selfFeatures(ew, refs?.self, svc, pod);
    if (ew.templates) templateFeatures(ew.templates, templateOf, refs?.templates, svc, describe);
    if (ew.rates) rateFeatures(mapRates(ew.rates, templateOf), refs?.rates, svc, describe);
    if (ew.outcomes) outcomeFeatures(ew.outcomes, refs?.outcomes, svc, pod);
    if (ew.structure) structureFeatures(ew.structure, refs?.structure, svc);
  }
  if (resources) resourceFeatures(resources, svc, pod);
  const rows: EvidenceRow[] = [];
  const items = (a: Acc) =>
    a.items.length === 0
      ? ''
      : a.items
          .sort((x, y) => Math.abs(y.dev) - Math.abs(x.dev))
          .slice(0, 3)
          .map((i) => i.text())
          .join('; ');
  for (const s of [...svcs.keys()].sort()) {
    const a = svcs.get(s)!;
    rows.push({ entity: s, features: a.f, items: items(a) });
    const pm = pods.get(s);
    if (pm) for (const p of [...pm.keys()].sort()) rows.push({ entity: s, pod: p, features: pm.get(p)!.f, items: items(pm.get(p)!) });
  }
  return rows;
}

/** Rows a slab of feature vectors holds (see `featureRow`). */
const SLAB_ROWS = 256;
let slab = new Float32Array(0);
let slabUsed = 0;

/**
 * A NaN-filled feature vector of one row: a view into a slab shared by the rows of the windows
 * made one after the other, since a typed array of its own per row (≈150,000 on Nezha) costs an
 * ArrayBuffer each, which the garbage collector tracks one by one. Slabs are never reused: a
 * row keeps its part for as long as anyone holds it.
 */
function featureRow(): Float32Array {
  const w = EVIDENCE_FEATURES.length;
  if (slabUsed + w > slab.length) {
    slab = new Float32Array(SLAB_ROWS * w).fill(NaN);
    slabUsed = 0;
  }
  const f = slab.subarray(slabUsed, slabUsed + w);
  slabUsed += w;
  return f;
}

type SvcAcc = (s: string) => Acc;
type PodAcc = (s: string, p: string) => Acc;

/**
 * A reference's entry for a pair of names (caller and callee, service and operation), keyed
 * "a\tb" as the families key them. Looked up through the two names themselves, kept per
 * reference: the rows looked each key up by a "a\tb" string built and hashed per key and
 * window (≈ 0.2 s on Nezha), where the names are mostly the same string objects window after
 * window. The references are never changed once fitted, so an answer kept is the answer.
 */
function refOf<R>(ref: ReadonlyMap<string, R>, a: string, b: string): R | undefined {
  let byA = pairRefs.get(ref) as Map<string, Map<string, R | null>> | undefined;
  if (!byA) pairRefs.set(ref, (byA = new Map()));
  let byB = byA.get(a);
  if (!byB) byA.set(a, (byB = new Map()));
  let r = byB.get(b);
  if (r === undefined) byB.set(b, (r = ref.get(`${a}\t${b}`) ?? null));
  return r ?? undefined;
}
const pairRefs = new WeakMap<ReadonlyMap<string, unknown>, Map<string, Map<string, unknown>>>();

/** The families' deviation of a median of `n` calls (edges.ts, self-time.ts). */
const dev = (v: number, n: number, r: SupportedLocation) => (Math.log1p(v) - r.center) / supportScale(r, n);

function edgeFeatures(ew: EvidenceWindow, ref: EdgeReference | undefined, svc: SvcAcc, pod: PodAcc): void {
  if (!ew.edges) return;
  const inDev = new Map<string, number[]>();
  const outDev = new Map<string, number[]>();
  const newIn = new Map<string, number>();
  const podDev = new Map<string, number[]>();
  for (const e of ew.edges) {
    svc(e.callee);
    if (e.n < EDGE_MIN_CALLS) continue;
    const r = ref && refOf(ref, e.caller, e.callee);
    if (!r) {
      newIn.set(e.callee, (newIn.get(e.callee) ?? 0) + 1);
      continue;
    }
    const d = dev(e.med, e.n, r);
    push(inDev, e.callee, d);
    push(outDev, e.caller, d);
    if (Math.abs(d) >= ITEM_MIN) svc(e.callee).items.push({ dev: d, text: () => `edge-gap ${e.caller} → ${e.callee} ${fmt(e.med)} ms (p90 ${fmt(e.p90)}, ref ${fmt(Math.expm1(r.center))}, dev ${sig(d)}, ${e.n} calls)` });
    for (const [p, n, m] of e.pods) if (n >= EDGE_MIN_CALLS) push(podDev, `${e.callee}\t${p}`, dev(m, n, r));
  }
  const fill = (a: Acc, g: Pooled | undefined, devs: number[] | undefined, nNew: number | undefined, refKnown: boolean) => {
    if (g) {
      a.f[F.edge_in_calls_log] = ln1p(g.n);
      a.f[F.edge_in_gap_p50_logms] = ln1p(g.p50);
      a.f[F.edge_in_gap_p90_logms] = ln1p(g.p90);
    }
    if (devs?.length) {
      a.f[F.edge_in_dev_median] = med(devs);
      a.f[F.edge_in_dev_min] = Math.min(...devs);
      a.f[F.edge_in_dev_max] = Math.max(...devs);
    }
    if (refKnown) {
      a.f[F.edge_in_edges_log] = ln1p(devs?.length ?? 0);
      a.f[F.edge_in_new_log] = ln1p(nNew ?? 0);
    }
  };
  for (const [callee, g] of ew.calleeGaps ?? []) fill(svc(callee), g, inDev.get(callee), newIn.get(callee), !!ref);
  for (const [caller, d] of outDev) svc(caller).f[F.edge_out_dev_median] = med(d);
  for (const [k, g] of ew.podGaps ?? []) {
    const [s, p] = k.split('\t');
    fill(pod(s, p), g, podDev.get(k), undefined, false);
  }
}

function selfFeatures(ew: EvidenceWindow, ref: SelfReference | undefined, svc: SvcAcc, pod: PodAcc): void {
  if (!ew.ops) return;
  const devs = new Map<string, number[]>();
  const podDevs = new Map<string, number[]>();
  for (const o of ew.ops) {
    const r = ref && refOf(ref, o.service, o.operation);
    if (!r || o.n < EDGE_MIN_CALLS) continue;
    const d = dev(o.med, o.n, r);
    push(devs, o.service, d);
    if (Math.abs(d) >= ITEM_MIN) svc(o.service).items.push({ dev: d, text: () => `self-time ${o.service} ${o.operation} ${fmt(o.med)} ms (ref ${fmt(Math.expm1(r.center))}, dev ${sig(d)}, ${o.n} spans)` });
    for (const [p, n, m] of o.pods) if (n >= EDGE_MIN_CALLS) push(podDevs, `${o.service}\t${p}`, dev(m, n, r));
  }
  const fill = (a: Acc, g: Pooled | undefined, d: number[] | undefined) => {
    if (g) {
      a.f[F.self_spans_log] = ln1p(g.n);
      a.f[F.self_p50_logms] = ln1p(g.p50);
    }
    if (d?.length) {
      a.f[F.self_dev_max] = Math.max(...d);
      a.f[F.self_dev_median] = med(d);
    }
  };
  for (const [s, g] of ew.serviceSelf ?? []) fill(svc(s), g, devs.get(s));
  for (const [k, g] of ew.podSelf ?? []) {
    const [s, p] = k.split('\t');
    fill(pod(s, p), g, podDevs.get(k));
  }
}

/** Values of `v` above `x`. */
function countAbove(v: Float64Array, x: number): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > x) n++;
  return n;
}

interface OutcomeAcc {
  calls: number;
  failed: number;
  complained: number;
  z: number[];
}

/**
 * Call outcomes into each service and pod (call-outcomes.ts): shares of failed and
 * complained-about calls, and per incoming edge with a reference and ≥ OUTCOME_MIN_CALLS calls
 * the family's z of its bad calls (failed, complained about, or slower on the edge than its
 * normal 99th percentile gap) against the edge's normal share (`outcomeZ`); a pod's calls are
 * judged against its edge's reference.
 */
function outcomeFeatures(stats: readonly OutcomeStat[], ref: OutcomeReference | undefined, svc: SvcAcc, pod: PodAcc): void {
  const into = new Map<string, OutcomeAcc>();
  const podInto = new Map<string, OutcomeAcc>();
  const outZ = new Map<string, number[]>();
  const acc = (m: Map<string, OutcomeAcc>, k: string, c: OutcomeCount): OutcomeAcc => {
    let a = m.get(k);
    if (!a) m.set(k, (a = { calls: 0, failed: 0, complained: 0, z: [] }));
    a.calls += c.calls;
    a.failed += c.failed;
    a.complained += c.complained;
    return a;
  };
  const zOf = (c: OutcomeCount, r: OutcomeReference extends Map<string, infer R> ? R : never) => {
    const bad = c.failed + c.complained + countAbove(c.gaps, r.slowMs);
    return { bad, z: outcomeZ(bad, c.calls, (r.bad + 0.5) / (r.calls + 1), r.dispersion) };
  };
  for (const o of stats) {
    const a = acc(into, o.callee, o);
    const r = ref && refOf(ref, o.caller, o.callee);
    if (r && o.calls >= OUTCOME_MIN_CALLS) {
      const { bad, z } = zOf(o, r);
      a.z.push(z);
      push(outZ, o.caller, z);
      if (Math.abs(z) >= ITEM_MIN) {
        svc(o.callee).items.push({
          dev: z,
          text: () => `call-outcome ${o.caller} → ${o.callee} ${bad} of ${o.calls} calls bad (${o.failed} failed, ${o.complained} complained about, ${bad - o.failed - o.complained} slower than ${fmt(r.slowMs)} ms; ref share ${fmt(r.bad / r.calls)}, z ${sig(z)})`,
        });
      }
    }
    for (const p of o.pods) {
      const pa = acc(podInto, `${o.callee}\t${p.pod}`, p);
      if (r && p.calls >= OUTCOME_MIN_CALLS) pa.z.push(zOf(p, r).z);
    }
  }
  const fill = (a: Acc, x: OutcomeAcc) => {
    a.f[F.out_in_calls_log] = Math.log1p(x.calls);
    if (x.calls) {
      a.f[F.out_in_failed_share] = x.failed / x.calls;
      a.f[F.out_in_complained_share] = x.complained / x.calls;
    }
    if (x.z.length) {
      a.f[F.out_in_z_median] = med(x.z);
      a.f[F.out_in_z_max] = Math.max(...x.z);
    }
  };
  for (const [callee, x] of into) fill(svc(callee), x);
  for (const [k, x] of podInto) {
    const [s, p] = k.split('\t');
    fill(pod(s, p), x);
  }
  for (const [caller, z] of outZ) svc(caller).f[F.out_out_z_median] = med(z);
}

/**
 * Span structure per service (span-structure.ts): per (service, operation) with
 * ≥ STRUCTURE_MIN_SPANS compared spans now and in the reference, and children on either side,
 * the family's Welch t of calls per span to each child operation (the window's children, then
 * the reference's others); the strongest up and down over the service's operations, and how many
 * child operations vanished or appeared.
 */
function structureFeatures(stats: readonly StructStat[], ref: StructureReference | undefined, svc: SvcAcc): void {
  if (!ref) return;
  const per = new Map<string, TemplateAcc>();
  for (const o of stats) {
    const r = refOf(ref, o.service, o.operation);
    if (!r || o.n < STRUCTURE_MIN_SPANS || r.n < STRUCTURE_MIN_SPANS) continue;
    if (!o.kids.length && !r.children.size) continue; // a leaf operation has no structure to change
    const x = tallyOf(per, o.service);
    x.spans += o.n;
    const a = svc(o.service);
    const one = (c: string, wm: { sum: number; sumSq: number }) => {
      const rm = r.children.get(c) ?? ZERO;
      const t = tallyChange(x, o.n, wm, r.n, rm);
      const what = changeKind(wm, rm);
      if (Math.abs(t) >= ITEM_MIN) a.items.push({ dev: t, text: () => `span-structure ${o.service} ${o.operation} → ${c} ${what} ${fmt(wm.sum / o.n)} calls/span (ref ${fmt(rm.sum / r.n)}, t ${sig(t)}, ${o.n} spans)` });
    };
    const seen = new Set(o.kids);
    for (let i = 0; i < o.kids.length; i++) one(o.kids[i], { sum: o.sum[i], sumSq: o.sumSq[i] });
    for (const c of r.children.keys()) if (!seen.has(c)) one(c, ZERO);
  }
  writeTallies(per, svc, 'struct');
}

const ZERO = { sum: 0, sumSq: 0 } as const;
/** The (empty, never written) per-pod span counts of every operation's template summary. */
const NO_PODS: Op['pods'] = new Map();
/** The (empty, never written) templates of an operation's template summary with no record in the window. */
const NO_TEMPLATES: Op['templates'] = new Map();
/** moments handed to `welchT`, filled per template instead of made (it keeps neither) */
const WA = { n: 0, sum: 0, sumSq: 0 };
const RA = { n: 0, sum: 0, sumSq: 0 };
function moments(into: typeof WA, n: number, m: { sum: number; sumSq: number }): typeof WA {
  into.n = n;
  into.sum = m.sum;
  into.sumSq = m.sumSq;
  return into;
}

type Op = TemplateSummary['ops'] extends Map<string, infer O> ? O : never;
type RefOp = LogReference['ops'] extends Map<string, infer O> ? O : never;
interface TemplateAcc {
  spans: number;
  tMax: number;
  tMin: number;
  vanished: number;
  appeared: number;
}

/** A service's tally of counts per span (log templates, span structure), made on its first count. */
function tallyOf(per: Map<string, TemplateAcc>, service: string): TemplateAcc {
  let x = per.get(service);
  if (!x) per.set(service, (x = { spans: 0, tMax: NaN, tMin: NaN, vanished: 0, appeared: 0 }));
  return x;
}

/** Each service's tally into its row, as the family's five features (`<prefix>_spans_log`, `_t_max`, `_t_min`, `_vanished_log`, `_appeared_log`). */
function writeTallies(per: ReadonlyMap<string, TemplateAcc>, svc: SvcAcc, prefix: 'logt' | 'struct'): void {
  const [spans, tMax, tMin, vanished, appeared] = ['spans_log', 't_max', 't_min', 'vanished_log', 'appeared_log'].map((n) => F[`${prefix}_${n}`]);
  for (const [service, x] of per) {
    const f = svc(service).f;
    f[spans] = Math.log1p(x.spans);
    f[tMax] = x.tMax;
    f[tMin] = x.tMin;
    f[vanished] = Math.log1p(x.vanished);
    f[appeared] = Math.log1p(x.appeared);
  }
}

/** How a count per span moved against its reference: it appears (none in the reference), vanishes (none now) or changes. */
function changeKind(now: { sum: number }, ref: { sum: number }): 'appears' | 'vanishes' | 'changes' {
  return ref.sum === 0 ? 'appears' : now.sum === 0 ? 'vanishes' : 'changes';
}

/**
 * The Welch t of a count per span (`n` spans, moments `now`) against its reference (`rn`, `ref`),
 * tallied into the service's figures: its extremes, and how many such counts vanished or appeared.
 */
function tallyChange(x: TemplateAcc, n: number, now: { sum: number; sumSq: number }, rn: number, ref: { sum: number; sumSq: number }): number {
  const t = welchT(moments(WA, n, now), moments(RA, rn, ref));
  if (!(t <= x.tMax)) x.tMax = t;
  if (!(t >= x.tMin)) x.tMin = t;
  const what = changeKind(now, ref);
  // an appearance is counted only where its own t says it is evidence: welchT is built so that one
  // stray line is not extreme, and a tally of every appearance made two lines an alarm
  if (what === 'appears' && Math.abs(t) >= ITEM_MIN) x.appeared++;
  else if (what === 'vanishes') x.vanished++;
  return t;
}

/** One template of an operation (`templates`: its counts by template): its Welch t into the service's figures, and an item when strong. */
function oneTemplate(t: number, o: Op, templates: Op['templates'], r: RefOp, x: TemplateAcc, a: Acc, describe: (t: number) => string): void {
  const wm = templates.get(t) ?? ZERO;
  const rm = r.templates.get(t) ?? ZERO;
  const tv = tallyChange(x, o.n, wm, r.n, rm);
  const what = changeKind(wm, rm);
  if (Math.abs(tv) >= ITEM_MIN) a.items.push({ dev: tv, text: () => `log-template ${o.service} ${o.operation} ${what}: ${describe(t).slice(0, 80)} ${fmt(wm.sum / o.n)}/span (ref ${fmt(rm.sum / r.n)}, t ${sig(tv)})` });
}

/**
 * The log-template features of a window's summary keyed by line shape: each operation judged is
 * re-keyed by template (`rekeyShapes`, as `mapTemplates`) into one map reused from operation to operation,
 * and only once judged — re-keying the whole summary made a map per operation and window that
 * lived only for this call. The moments are new objects per template (items read them later).
 */
function templateFeatures(s: TemplateSummary, templateOf: TemplateOf, ref: LogReference | undefined, svc: SvcAcc, describe: (t: number) => string): void {
  const per = new Map<string, TemplateAcc>();
  const byTemplate = TEMPLATES_SCRATCH;
  for (const o of s.ops.values()) {
    const a = svc(o.service);
    const r = ref && refOf(ref.ops, o.service, o.operation);
    if (!r || o.n < LOG_MIN_SPANS || r.n < LOG_MIN_SPANS) continue;
    if (!o.templates.size && !r.templates.size) continue; // an operation that never logs
    byTemplate.clear();
    rekeyShapes(o.templates, templateOf, byTemplate);
    const x = tallyOf(per, o.service);
    x.spans += o.n;
    // the window's templates, then the reference's others (the order items and ties keep)
    for (const t of byTemplate.keys()) oneTemplate(t, o, byTemplate, r, x, a, describe);
    for (const t of r.templates.keys()) if (!byTemplate.has(t)) oneTemplate(t, o, byTemplate, r, x, a, describe);
  }
  byTemplate.clear();
  writeTallies(per, svc, 'logt');
}
/** `templateFeatures`' per-operation map (emptied after each use) */
const TEMPLATES_SCRATCH: Op['templates'] = new Map();

function rateFeatures(s: RateSummary, ref: RateReference | undefined, svc: SvcAcc, describe: (t: number) => string): void {
  for (const [service, m] of s.counts) {
    const a = svc(service);
    let total = 0;
    for (const c of m.values()) total += c;
    a.f[F.lograte_records_log] = Math.log1p(total);
    const r = ref?.moments.get(service);
    if (!ref || !r || ref.windows < 2) continue;
    let zMax = NaN;
    let zMin = NaN;
    const keys = r.size ? [...m.keys()] : m.keys();
    if (r.size) for (const t of r.keys()) if (!m.has(t)) (keys as number[]).push(t);
    for (const t of keys) {
      const c = m.get(t) ?? 0;
      const { z, mean } = rateZ(c, r.get(t), ref.windows);
      if (!(z <= zMax)) zMax = z;
      if (!(z >= zMin)) zMin = z;
      if (Math.abs(z) >= ITEM_MIN) a.items.push({ dev: z, text: () => `log-rate ${service} ${describe(t).slice(0, 80)} ${c} records (ref ${fmt(mean)}, z ${sig(z)})` });
    }
    a.f[F.lograte_z_max] = zMax;
    a.f[F.lograte_z_min] = zMin;
  }
}

/** The resource features a service takes from its most deviant pod (their places: no look-up by name per window). */
const RES_MAX_FEATURES = ['res_own_z_max', 'res_cpu_own_z', 'res_mem_own_z', 'res_global_z_max', 'res_cpu_global_z', 'res_cpu_share_z'].map((n) => F[n]);

function resourceFeatures(res: Map<string, PodResources>, svc: SvcAcc, pod: PodAcc): void {
  const perSvc = new Map<string, Float32Array[]>();
  for (const [p, r] of res) {
    const a = pod(r.service, p);
    const f = a.f;
    f[F.res_metrics_log] = Math.log1p(r.metrics);
    f[F.res_own_z_max] = r.ownMax;
    f[F.res_cpu_own_z] = r.cpuOwn;
    f[F.res_mem_own_z] = r.memOwn;
    f[F.res_global_z_max] = r.globalMax;
    f[F.res_cpu_global_z] = r.cpuGlobal;
    f[F.res_cpu_share_z] = r.cpuShare;
    for (const i of r.items) a.items.push(i);
    const s = svc(r.service);
    if (r.items.length) s.items.push(r.items[0]);
    push(perSvc, r.service, f);
  }
  // a service's resource figures are those of its most deviant pod, feature by feature
  for (const [s, fs] of perSvc) {
    const a = svc(s);
    let count = 0;
    for (const f of fs) count += Math.expm1(f[F.res_metrics_log]);
    a.f[F.res_metrics_log] = Math.log1p(count);
    for (const k of RES_MAX_FEATURES) {
      let best = NaN;
      for (const f of fs) if (Number.isFinite(f[k]) && !(Math.abs(f[k]) <= Math.abs(best))) best = f[k];
      a.f[k] = best;
    }
  }
}

export function evidenceToJSON(refs: EvidenceReferences, historyMs: number): EvidenceState {
  const loc = (m: Map<string, SupportedLocation>): [string, number, number, number, number][] => [...m].map(([k, r]) => [k, r.center, r.scale, r.n, r.support ?? 0]);
  return {
    version: EVIDENCE_VERSION,
    historyMs,
    edges: loc(refs.edges),
    self: loc(refs.self),
    templates: refs.templates ? [...refs.templates.ops].map(([k, o]) => [k, o.n, [...o.templates].map(([t, m]) => [t, m.sum, m.sumSq] as [number, number, number])]) : undefined,
    rates: refs.rates ? { windows: refs.rates.windows, moments: [...refs.rates.moments].map(([s, m]) => [s, [...m].map(([t, x]) => [t, x.sum, x.sumSq] as [number, number, number])]) } : undefined,
    outcomes: refs.outcomes ? [...refs.outcomes].map(([k, r]) => [k, Number.isFinite(r.slowMs) ? r.slowMs : null, r.calls, r.bad, r.windows, r.dispersion]) : undefined,
    structure: refs.structure ? [...refs.structure].map(([k, r]) => [k, r.n, [...r.children].map(([c, m]) => [c, m.sum, m.sumSq] as [string, number, number])]) : undefined,
  };
}

/** The references of a saved state; undefined for a state of another evidence version. */
export function evidenceFromJSON(s: EvidenceState | undefined): EvidenceReferences | undefined {
  if (!s || s.version !== EVIDENCE_VERSION) return undefined;
  const loc = (v: [string, number, number, number, number][]) => new Map(v.map(([k, center, scale, n, support]) => [k, { center, scale, n, support }]));
  const moments = (v: [number, number, number][]) => new Map(v.map(([t, sum, sumSq]) => [t, { sum, sumSq }]));
  return {
    edges: loc(s.edges),
    self: loc(s.self),
    templates: s.templates ? { ops: new Map(s.templates.map(([k, n, t]) => [k, { n, templates: moments(t) }])), text: new Map() } : undefined,
    rates: s.rates ? { windows: s.rates.windows, moments: new Map(s.rates.moments.map(([k, m]) => [k, moments(m)])), text: new Map() } : undefined,
    outcomes: s.outcomes ? new Map(s.outcomes.map(([k, slowMs, calls, bad, windows, dispersion]) => [k, { slowMs: slowMs ?? Infinity, calls, bad, windows, dispersion }])) : undefined,
    structure: s.structure ? new Map(s.structure.map(([k, n, c]) => [k, { n, children: new Map(c.map(([ck, sum, sumSq]) => [ck, { sum, sumSq }])) }])) : undefined,
  };
}
