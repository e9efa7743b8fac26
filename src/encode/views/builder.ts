import type { LogRecord, Span } from '../../telemetry/index.js';
import type { Window, WindowLabel, WindowSlice } from '../../windows/index.js';
import { TemplateMiner, type TemplateMinerOptions, type TemplateMinerState } from '../templates/index.js';
import { VIEWS_FORMAT_VERSION } from './layout.js';
import { LogsFit, ServiceNumbers, ShapeTable, logView, logWindowOf, summarizeLogs, type LogBaselines, type LogScopeBaseline, type LogSummary } from './logs.js';
import { MetricsFit, SeriesKeyCache, metricFeatures, metricText, metricWindow, type MetricWindow } from './metrics.js';
import { SliceMemo } from './memo.js';
import { SeriesParts, isParts, metricCount, type MetricData, type MetricParts } from './parts.js';
import { SeededRandom, type Baseline } from './stats.js';
import { DEFAULT_TEXT_BUDGET } from './text.js';
import { ResourceHistory, type PodResources } from './evidence-resources.js';
import { EvidencePass, describeTemplate, evidenceFromJSON, evidenceRows, evidenceToJSON, type EvidenceReferences, type EvidenceRow, type EvidenceState, type EvidenceWindow } from './evidence.js';
import { foreignRecords } from './foreign-records.js';
import type { EvidenceThread } from '../threads/evidence.js';
import { EDGE_ARROW, SYSTEM, TracesFit, traceView, traceWindow, SpanIndex, type StatBaselines, type TraceBaselines, type TraceWindow } from './traces.js';

/** What the backbone reads (`text`) and what the model reads beside it (`features`). */
export interface View {
  text: string;
  /** layout: METRIC_FEATURES / TRACE_FEATURES / LOG_FEATURES */
  features: Float32Array;
}

/** A modality without data in the window (or entity) is absent, never an empty view. */
export interface ModalityViews {
  metrics?: View;
  traces?: View;
  logs?: View;
}

export interface WindowViews {
  window: Window;
  label: WindowLabel;
  system: ModalityViews;
  /** keyed by service, in name order */
  entities: Map<string, ModalityViews>;
  /** root-cause evidence per service and pod (`evidence` option; docs/views.md) */
  evidence?: EvidenceRow[];
}

/**
 * What a window's views need besides the fitted baselines and its metric series: per-window
 * trace figures and log counts per (service, line shape), which refer to no baseline, so one
 * reading of the data serves both fitting and building views (`beginFit`, `render`).
 */
export interface WindowSummary {
  window: Window;
  /** when the window has spans */
  traces?: TraceWindow;
  /** when the window has logs */
  logs?: LogSummary;
  /** span and log evidence, before any reference (evidence on, and spans or logs) */
  evidence?: EvidenceWindow;
}

/**
 * A window's logs summarised by another `ShapeTable` (a worker thread's): `summary.shapes` are
 * that table's numbers.
 */
export interface ForeignLogs {
  summary: LogSummary;
  /** that table's shapes first seen in this window, in number order: [shape key, first body] */
  newShapes: [number, string][];
  /**
   * Training windows: the first line of each shape not seen in a training window before, in
   * line order (null: the shape's first body), which is what the miner learns from.
   */
  trainLines?: [number, string | null][];
  /**
   * The records themselves for the evidence (when asked for): each record once, with the first
   * window whose end is after it; `shape` in that table's numbers.
   */
  records?: ForeignRecords;
}

/** The fields of a record the evidence reads, for records the log thread hands over. */
export interface ForeignRecords {
  time: Float64Array;
  traceId: (string | null)[];
  spanId: (string | null)[];
  entity: string[];
  service: string[];
  shape: Int32Array;
  /** the body of each ERROR / FATAL record with a span id (a caller's complaint), else null */
  errorBody?: (string | null)[];
}

/**
 * One window's data as views read it: a `WindowSlice`, or the same with its metrics as parts
 * (`MetricWindows`), which saves a typed-array view per series and window.
 */
export interface ViewInput {
  window: Window;
  metrics: MetricData;
  spans: readonly Span[];
  logs: readonly LogRecord[];
}

/** One fitting pass over a stream of windows (`ViewBuilder.beginFit`). */
export interface ViewFitPass {
  /**
   * Summarises the next window of the stream (windows in stream order) and learns from it when
   * `train`. Labels are never looked at. `logs`, when given, are the window's logs summarised
   * elsewhere (a worker thread); the slice then holds none.
   */
  add(slice: ViewInput, train: boolean, logs?: ForeignLogs): WindowSummary;
  /** Freezes what was learnt into the builder's baselines. */
  finish(): ViewBuilder;
}

export interface ViewBuilderOptions {
  /**
   * Service of an entity (pod, node, service). Baselines are kept per service, because pod
   * names change between deployments. Spans and logs that name their service keep it.
   * Default: the entity id itself.
   */
  serviceOf?: (entity: string) => string | undefined;
  /** Seed of the reservoir sampling. Default 0. */
  seed?: number;
  /** Values kept per baseline statistic. Default 256. */
  reservoirSize?: number;
  /** Characters per view text. Default 1500. */
  textBudget?: number;
  /** Build per-service views too. Default true. */
  entities?: boolean;
  /** Options of the log template miner trained in `fit`. */
  miner?: TemplateMinerOptions;
  /** Root-cause evidence rows (`WindowViews.evidence`). Default true. */
  evidence?: boolean;
}

type Triple = [number, number, number];
const STAT_NAMES = ['rate', 'errShare', 'lp50', 'lp90', 'lp99'] as const;

/** JSON form of a fitted ViewBuilder (`toJSON`); `serviceOf` is code and is passed again to `fromJSON`. */
export interface ViewBuilderState {
  format: 'runtimeslicer-views';
  version: number;
  options: { seed: number; reservoirSize: number; textBudget: number; entities: boolean };
  fitted: boolean;
  trainWindows: number;
  /** [service\0metric, n, median, scale] */
  metrics: [string, number, number, number][];
  traces: {
    windows: number;
    /** [caller, callee, presence, rate, errShare, lp50, lp90, lp99] */
    edges: [string, string, number, ...Triple[]][];
    scopes: [string, ...Triple[]][];
  };
  logs: {
    /** [scope, windows, rate, errRate, warnRate, [[id, mean, sd]...]] */
    scopes: [string, number, Triple, Triple, Triple, Triple[]][];
    texts: [number, string][];
  };
  miner: TemplateMinerState;
  /** evidence references (absent in states saved before them: evidence then has no reference) */
  evidence?: EvidenceState;
}

const emptyTraces = (): TraceBaselines => ({ windows: 0, edges: new Map(), scopes: new Map() });
const emptyLogs = (): LogBaselines => ({ scopes: new Map(), texts: new Map() });

const tri = (b: Baseline): Triple => [b.n, b.median, b.scale];
const untri = (t: Triple): Baseline => ({ n: t[0], median: t[1], scale: t[2] });

/**
 * Turns windows into per-modality views (text + features), for the whole system and per
 * service. `fit` learns baselines from training windows only, streaming (bounded reservoirs,
 * running sums); `transform` is then a pure function of the fitted state and one window.
 */
export class ViewBuilder {
  readonly seed: number;
  readonly reservoirSize: number;
  readonly textBudget: number;
  readonly entities: boolean;
  private readonly serviceOf: (entity: string) => string;
  private minerOptions: TemplateMinerOptions;
  private _miner: TemplateMiner | undefined;
  /** the fitted miner's state, while no miner has been made from it (see `finish`) */
  private minerState: TemplateMinerState | undefined;
  private metricBase = new Map<string, Baseline>();
  /** baseline metric keys per service, for the share of series absent in a window */
  private metricKeysOf = new Map<string, number>();
  private traceBase: TraceBaselines = emptyTraces();
  private logBase: LogBaselines = emptyLogs();
  private spanIndex: SpanIndex;
  private seriesKeys: SeriesKeyCache;
  /** line shapes of every pass, with the first body of each */
  private shapes = new ShapeTable();
  private serviceNumbers = new ServiceNumbers();
  private seriesParts = new SeriesParts();
  /** shape → template id of the fitted miner (−1: none), worked out on first use */
  private shapeIds: number[] = [];
  private logShapes = this.newLogShapes();
  private _fitted = false;
  private _trainWindows = 0;
  readonly evidence: boolean;
  private evidenceRefs: EvidenceReferences | undefined;
  /** evidence of windows summarised outside a fitting pass (`summarize`) */
  private evidencePass: EvidencePass;
  private resources = new ResourceHistory();
  /** the thread making the evidence rows of rendered windows (after a fitting pass given one) */
  private _evidenceThread: EvidenceThread | undefined;

  constructor(opts: ViewBuilderOptions = {}) {
    this.seed = opts.seed ?? 0;
    this.reservoirSize = opts.reservoirSize ?? 256;
    this.textBudget = opts.textBudget ?? DEFAULT_TEXT_BUDGET;
    this.entities = opts.entities ?? true;
    this.evidence = opts.evidence ?? true;
    this.evidencePass = new EvidencePass(this.seed);
    if (!(this.reservoirSize >= 8)) throw new RangeError('ViewBuilder: reservoirSize must be at least 8');
    if (!(this.textBudget >= 80)) throw new RangeError('ViewBuilder: textBudget must be at least 80 characters');
    const so = opts.serviceOf;
    const cache = new Map<string, string>();
    this.serviceOf = so
      ? (e) => {
          let s = cache.get(e);
          if (s === undefined) {
            s = so(e) || e;
            cache.set(e, s);
          }
          return s;
        }
      : (e) => e;
    // params cost time and the views never read them
    this.minerOptions = { params: false, ...opts.miner };
    this.spanIndex = new SpanIndex(this.serviceOf);
    this.seriesKeys = new SeriesKeyCache(this.serviceOf);
    this.miner = new TemplateMiner(this.minerOptions);
  }

  private get miner(): TemplateMiner {
    this._miner ??= TemplateMiner.fromJSON(this.minerState!);
    return this._miner;
  }

  private set miner(m: TemplateMiner) {
    this._miner = m;
    this.minerState = undefined;
  }

  get fitted(): boolean {
    return this._fitted;
  }

  /** Training windows the baselines were learned from. */
  get trainWindows(): number {
    return this._trainWindows;
  }

  /**
   * Learns baselines from the windows `isTrain` accepts (default: all). Reads each window
   * once and keeps bounded state; labels are never looked at. Refitting starts over.
   */
  async fit(slices: AsyncIterable<WindowSlice> | Iterable<WindowSlice>, isTrain?: (w: Window) => boolean): Promise<this> {
    const pass = this.beginFit();
    for await (const slice of slices) if (!isTrain || isTrain(slice.window)) pass.add(slice, true);
    pass.finish();
    return this;
  }

  /**
   * Starts a fitting pass that also hands back each window's summary, so that a caller reads
   * the data once: `add` every window in stream order (training or not), `finish`, then
   * `render` each summary with the window's metric series. The builder keeps its previous
   * baselines until `finish`. With `evidenceThread`, the evidence is made in that thread (same
   * rows): the views pass then gets its rows from `evidenceThread` instead of `render`.
   */
  beginFit(opts: { evidenceThread?: EvidenceThread } = {}): ViewFitPass {
    const rng = new SeededRandom(this.seed);
    const metrics = new MetricsFit(this.reservoirSize, rng, this.serviceOf);
    const traces = new TracesFit(this.reservoirSize, rng);
    const logs = new LogsFit(this.reservoirSize, rng);
    const miner = new TemplateMiner(this.minerOptions);
    const shapes = this.shapes;
    // The miner learns one line per shape (lines of a shape mask alike): the first line of the
    // shape in a training window. Records shared with the previous window keep their shape.
    const trainIds: number[] = [];
    const logShapes = new SliceMemo<LogRecord, number>((r) => shapes.idOf(r.body));
    const spanIndex = new SpanIndex(this.serviceOf);
    const bodyOf = (shape: number) => shapes.bodies[shape];
    // shapes of a foreign table: their numbers here, and their first bodies
    const foreignShape: number[] = [];
    let n = 0;
    let done = false;
    const foreignBody: string[] = [];
    const addForeign = (f: ForeignLogs, train: boolean): LogSummary => {
      for (const [key, body] of f.newShapes) {
        foreignShape.push(shapes.idOfKey(key, body));
        foreignBody.push(body);
      }
      const ls = f.summary;
      for (let g = 0; g < ls.shapes.length; g++) ls.shapes[g] = foreignShape[ls.shapes[g]];
      if (train) {
        if (!f.trainLines) throw new Error('ViewBuilder: foreign logs of a training window come without their training lines');
        for (const [sh, body] of f.trainLines) {
          const local = foreignShape[sh];
          if (trainIds[local] === undefined) trainIds[local] = miner.add(body ?? foreignBody[sh]).templateId;
        }
        logs.add(logWindowOf(ls, (s) => trainIds[s], bodyOf, this.minerOptions));
      }
      return ls;
    };
    const seriesParts = new SeriesParts();
    // the span and log evidence in a thread, when given one: the same pass, beside this one
    const remote = this.evidence ? opts.evidenceThread : undefined;
    const evidence = this.evidence && !remote ? new EvidencePass(this.seed) : undefined;
    const add = (slice: ViewInput, train: boolean, foreign?: ForeignLogs): WindowSummary => {
      if (done) throw new Error('ViewBuilder: add after finish');
      const w = slice.window;
      const summary: WindowSummary = { window: w };
      if (train) {
        n++;
        if (metricCount(slice.metrics)) metrics.add(isParts(slice.metrics) ? slice.metrics : seriesParts.of(slice.metrics));
      }
      if (slice.spans.length) {
        const tw = traceWindow(slice.spans, w, spanIndex);
        summary.traces = tw;
        if (train) traces.add(tw);
      }
      let sh: number[] = [];
      if (foreign) {
        summary.logs = addForeign(foreign, train);
      } else if (slice.logs.length) {
        sh = logShapes.map(slice.logs);
        if (train) {
          for (let i = 0; i < sh.length; i++) {
            if (trainIds[sh[i]] === undefined) trainIds[sh[i]] = miner.add(slice.logs[i].body).templateId;
          }
        }
        const ls = summarizeLogs(slice.logs, w, this.serviceOf, sh, this.serviceNumbers);
        summary.logs = ls;
        if (train) logs.add(logWindowOf(ls, (s) => trainIds[s], bodyOf, this.minerOptions));
      }
      if (remote) {
        let records: ForeignRecords | undefined;
        if (foreign) records = foreign.records && { ...foreign.records, shape: Int32Array.from(foreign.records.shape, (x) => foreignShape[x]) };
        else if (slice.logs.length) records = remote.recordsOf(slice.logs, sh, w);
        remote.add(w, slice.spans, records, train);
        return summary;
      }
      let evLogs: readonly LogRecord[] = slice.logs;
      if (foreign && evidence) {
        // logs summarised in another thread: their records come apart (if asked for), each once
        evLogs = [];
        if (foreign.records) ({ logs: evLogs, shapes: sh } = foreignRecords(foreign.records, (x) => foreignShape[x]));
      }
      const ev = evidence?.add(w, slice.spans, evLogs, sh, train);
      if (ev) summary.evidence = ev;
      return summary;
    };
    const finish = (): ViewBuilder => {
      if (done) return this;
      done = true;
      this.logBase = logs.finish(
        (id) => miner.resolve(id),
        (id) => miner.template(id),
      );
      // The templates of the shapes seen so far are all the views of this pass need; the miner
      // itself is kept as its state and made again only when asked (a new shape, toJSON): its
      // indexes of long lines run to tens of MB, which every later garbage collection would
      // walk through.
      this.shapeIds = Array.from(shapes.bodies, (body) => miner.match(body)?.templateId ?? -1);
      this._miner = undefined;
      this.minerState = miner.toJSON();
      this.metricBase = metrics.finish();
      this.indexMetricKeys();
      this.traceBase = traces.finish();
      this.logShapes = this.newLogShapes();
      this.spanIndex = new SpanIndex(this.serviceOf);
      this.evidenceRefs = evidence?.finish((s) => this.templateOf(s));
      if (remote) {
        // the thread fits the references and makes the rows of the views pass (`evidenceThread`)
        remote.finish((s) => this.templateOf(s), this.logBase.texts, this.shapes.bodies);
        this._evidenceThread = remote;
      }
      this.evidencePass = new EvidencePass(this.seed);
      this.resources = new ResourceHistory();
      this._trainWindows = n;
      this._fitted = true;
      return this;
    };
    return { add, finish };
  }

  private indexMetricKeys(): void {
    this.metricKeysOf = new Map();
    for (const k of this.metricBase.keys()) {
      const svc = k.slice(0, k.indexOf('\u0000'));
      this.metricKeysOf.set(svc, (this.metricKeysOf.get(svc) ?? 0) + 1);
    }
  }

  private newLogShapes(): SliceMemo<LogRecord, number> {
    return new SliceMemo((r) => this.shapes.idOf(r.body));
  }

  private partsOf(m: MetricData): MetricParts {
    return isParts(m) ? m : this.seriesParts.of(m);
  }

  /** Template id of a line shape under the fitted miner, −1 when none matches. */
  private shapeId(shape: number): number {
    let id = this.shapeIds[shape];
    if (id === undefined) {
      id = this.miner.match(this.shapes.bodies[shape])?.templateId ?? -1;
      this.shapeIds[shape] = id;
    }
    return id;
  }

  /** Template of a line shape for the evidence: lines no training template matches keep their shape (negative). */
  private templateOf(shape: number): number {
    const id = this.shapeId(shape);
    return id >= 0 ? id : -(shape + 2);
  }

  private describeTemplate(t: number): string {
    return describeTemplate(t, this.logBase.texts, this.shapes.bodies);
  }

  /**
   * The baseline-free part of one window (outside a fitting pass), for `render`. Windows of
   * one stream share work: summarise them in stream order.
   */
  summarize(slice: Pick<ViewInput, 'window' | 'spans' | 'logs'>): WindowSummary {
    const w = slice.window;
    const summary: WindowSummary = { window: w };
    if (slice.spans.length) summary.traces = traceWindow(slice.spans, w, this.spanIndex);
    const sh = slice.logs.length ? this.logShapes.map(slice.logs) : [];
    if (slice.logs.length) summary.logs = summarizeLogs(slice.logs, w, this.serviceOf, sh, this.serviceNumbers);
    if (this.evidence) {
      const ev = this.evidencePass.add(w, slice.spans, slice.logs, sh, false);
      if (ev) summary.evidence = ev;
    }
    return summary;
  }

  /** Views of one window. Works unfitted too (no baselines: every z is 0 in features, n/a in text). */
  transform(slice: WindowSlice): WindowViews {
    return this.render(this.summarize(slice), slice);
  }

  /**
   * Views of a summarised window (`summarize`, or a fitting pass's `add`), given the window's
   * metric series and label (a slice of the same window, which may hold metrics only).
   */
  render(summary: WindowSummary, slice: { metrics: MetricData; label: WindowLabel }): WindowViews {
    const w = summary.window;
    const budget = this.textBudget;
    const mw = metricCount(slice.metrics) ? metricWindow(this.partsOf(slice.metrics), w, this.metricBase, this.seriesKeys) : undefined;
    const tw = summary.traces;
    const lw = summary.logs
      ? logWindowOf(
          summary.logs,
          (s) => this.shapeId(s),
          (s) => this.shapes.bodies[s],
          this.minerOptions,
        )
      : undefined;
    const system: ModalityViews = {};
    if (mw) system.metrics = this.metricView(mw, undefined);
    if (tw) {
      const v = traceView(tw, this.traceBase, undefined, budget);
      if (v) system.traces = v;
    }
    if (lw) {
      const v = logView(lw, this.logBase, undefined, budget);
      if (v) system.logs = v;
    }
    const entities = new Map<string, ModalityViews>();
    if (this.entities) {
      const services = new Set<string>();
      if (mw) for (const s of mw.byService.keys()) services.add(s);
      if (tw) for (const s of tw.services.keys()) services.add(s);
      if (lw) for (const s of lw.services.keys()) services.add(s);
      for (const svc of [...services].sort()) {
        const mv: ModalityViews = {};
        if (mw && mw.byService.has(svc)) mv.metrics = this.metricView(mw, svc);
        if (tw) {
          const v = traceView(tw, this.traceBase, svc, budget);
          if (v) mv.traces = v;
        }
        if (lw) {
          const v = logView(lw, this.logBase, svc, budget);
          if (v) mv.logs = v;
        }
        entities.set(svc, mv);
      }
    }
    const out: WindowViews = { window: w, label: slice.label, system, entities };
    if (this.evidence) {
      if (this._evidenceThread) this._evidenceThread.rows(w.index, this.resourcesOf(slice.metrics, w));
      else out.evidence = this.evidenceOf(summary, slice.metrics);
    }
    return out;
  }

  /**
   * The thread that makes the evidence rows of rendered windows, after a fitting pass that was
   * given one (`beginFit`): `render` then leaves `evidence` out and asks the thread, which
   * hands the rows back in window order (`EvidenceThread.ready` / `rest`). `endEvidenceThread`
   * takes the references back once every window is rendered.
   */
  get evidenceThread(): EvidenceThread | undefined {
    return this._evidenceThread;
  }

  /** After `EvidenceThread.rest`: the thread's references become the builder's; later windows are rendered here. */
  endEvidenceThread(): void {
    if (!this._evidenceThread) return;
    this.evidenceRefs = this._evidenceThread.references();
    this._evidenceThread = undefined;
  }

  private resourcesOf(metrics: MetricData, w: Window): Map<string, PodResources> | undefined {
    if (!metricCount(metrics)) return undefined;
    this.resources.add(metrics, w);
    return this.resources.deviations(w, this.serviceOf, (svc, name) => this.metricBase.get(`${svc}\u0000${name}`));
  }

  /**
   * Evidence rows of a window. Resource evidence compares each pod with its own history, which
   * the builder keeps from the windows rendered before: render windows in stream order.
   */
  private evidenceOf(summary: WindowSummary, metrics: MetricData): EvidenceRow[] {
    return evidenceRows(
      summary.evidence,
      this.resourcesOf(metrics, summary.window),
      this.evidenceRefs,
      (s) => this.templateOf(s),
      (t) => this.describeTemplate(t),
    );
  }

  private metricView(mw: MetricWindow, service: string | undefined): View {
    const idx = service === undefined ? allIndices(mw.count) : mw.byService.get(service)!;
    // distinct baseline keys among the scope's series (replicas share theirs)
    const stamp = ++this.seriesKeys.viewStamp;
    let present = 0;
    for (let q = 0; q < idx.length; q++) {
      const i = idx[q];
      if (!mw.hasBase[i]) continue;
      const ref = mw.refs[i].keyRef;
      if (ref.stamp !== stamp) {
        ref.stamp = stamp;
        present++;
      }
    }
    const baseKeys = service === undefined ? this.metricBase.size : (this.metricKeysOf.get(service) ?? 0);
    return {
      text: metricText(mw, idx, service, this.textBudget, baseKeys, present),
      features: metricFeatures(mw, idx, baseKeys, present),
    };
  }

  toJSON(): ViewBuilderState {
    const stats = (b: StatBaselines): Triple[] => STAT_NAMES.map((s) => tri(b[s]));
    return {
      format: 'runtimeslicer-views',
      version: VIEWS_FORMAT_VERSION,
      options: { seed: this.seed, reservoirSize: this.reservoirSize, textBudget: this.textBudget, entities: this.entities },
      fitted: this._fitted,
      trainWindows: this._trainWindows,
      metrics: [...this.metricBase].map(([k, b]) => [k, b.n, b.median, b.scale]),
      traces: {
        windows: this.traceBase.windows,
        edges: [...this.traceBase.edges.values()].map((b) => [b.caller, b.callee, b.presence, ...stats(b)]),
        scopes: [...this.traceBase.scopes].map(([k, b]) => [k, ...stats(b)]),
      },
      logs: {
        scopes: [...this.logBase.scopes].map(([k, s]) => [k, s.windows, tri(s.rate), tri(s.errRate), tri(s.warnRate), [...s.templates].map(([id, t]) => [id, t.mean, t.sd] as Triple)]),
        texts: [...this.logBase.texts],
      },
      miner: this.minerState ?? this.miner.toJSON(),
      evidence: this.evidenceRefs ? evidenceToJSON(this.evidenceRefs, this.resources.historyMs) : undefined,
    };
  }

  static fromJSON(state: ViewBuilderState, opts: Pick<ViewBuilderOptions, 'serviceOf' | 'textBudget' | 'entities' | 'evidence'> = {}): ViewBuilder {
    if (state?.format !== 'runtimeslicer-views' || state.version !== VIEWS_FORMAT_VERSION) {
      throw new Error(`ViewBuilder.fromJSON: expected a runtimeslicer-views state of version ${VIEWS_FORMAT_VERSION}`);
    }
    const vb = new ViewBuilder({
      serviceOf: opts.serviceOf,
      seed: state.options.seed,
      reservoirSize: state.options.reservoirSize,
      textBudget: opts.textBudget ?? state.options.textBudget,
      entities: opts.entities ?? state.options.entities,
      evidence: opts.evidence,
      miner: TemplateMiner.optionsOf(state.miner),
    });
    vb.miner = TemplateMiner.fromJSON(state.miner);
    vb.metricBase = new Map(state.metrics.map(([k, n, median, scale]) => [k, { n, median, scale }]));
    vb.indexMetricKeys();
    const stats = (t: Triple[]): StatBaselines => Object.fromEntries(STAT_NAMES.map((s, i) => [s, untri(t[i])])) as StatBaselines;
    vb.traceBase = {
      windows: state.traces.windows,
      edges: new Map(state.traces.edges.map(([caller, callee, presence, ...t]) => [caller + EDGE_ARROW + callee, { ...stats(t as Triple[]), caller, callee, presence }])),
      scopes: new Map(state.traces.scopes.map(([k, ...t]) => [k, stats(t as Triple[])])),
    };
    vb.logBase = {
      scopes: new Map(
        state.logs.scopes.map(([k, windows, rate, errRate, warnRate, tmpl]): [string, LogScopeBaseline] => {
          const templates = new Map(tmpl.map(([id, mean, sd]) => [id, { mean, sd }]));
          let total = 0;
          for (const t of templates.values()) total += t.mean;
          return [k, { windows, rate: untri(rate), errRate: untri(errRate), warnRate: untri(warnRate), templates, total }];
        }),
      ),
      texts: new Map(state.logs.texts),
    };
    vb.evidenceRefs = evidenceFromJSON(state.evidence);
    vb._fitted = state.fitted;
    vb._trainWindows = state.trainWindows;
    return vb;
  }
}

let indices: number[] = [];
/** 0 .. n − 1 (shared, read only: windows mostly hold the same number of series) */
function allIndices(n: number): readonly number[] {
  if (indices.length !== n) indices = Array.from({ length: n }, (_, i) => i);
  return indices;
}

export { SYSTEM };
