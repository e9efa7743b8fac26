import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { MODALITIES, UserError, type Dataset, type Modality } from '../telemetry/index.js';
import { datasetWindows, labelWindows, windowStream, type Window, type WindowLabel, type WindowSpec } from '../windows/index.js';
import { createBackbone, embedDistinct, type Backbone, type BackboneOptions } from './backbones/index.js';
import { cachedEmbed, type EmbeddingCache } from './cache/index.js';
import { ColumnarWriter, EvidenceWriter, evidencePath, rowBlock, viewsMetadata, type ColumnarOptions, type EncodedRow, type EvidenceRecord } from './formats/index.js';
import { EVIDENCE_FEATURES, EVIDENCE_VERSION, FEATURE_LAYOUTS, SYSTEM_ENTITY, VIEWS_FORMAT_VERSION, ViewBuilder, datasetServiceOf, type ModalityViews, type ViewBuilderOptions, type ViewBuilderState, type WindowSummary, type ForeignLogs, type ViewInput, MetricWindows, type MetricData } from './views/index.js';
import { ColumnarSink, EvidenceThread, LogSummaryThread } from './threads/index.js';
import type { EvidenceRow } from './views/evidence.js';

export interface EncodeProgress {
  phase: 'fit' | 'encode';
  /** windows done in this phase */
  windows: number;
  total: number;
  /** rows written so far (encode phase) */
  rows: number;
}

export interface EncodeOptions {
  spec: WindowSpec;
  /** an open backbone, or a spec for `createBackbone` (default 'hash') */
  backbone?: Backbone;
  backboneSpec?: string;
  backboneOptions?: BackboneOptions;
  /** embedding cache; without one every distinct text of a batch is embedded */
  cache?: EmbeddingCache;
  /** per-service rows besides the whole system's (default true) */
  entities?: boolean;
  /**
   * Root-cause evidence per service and pod, written beside `out` as `evidencePath(out)` and
   * handed to `onEvidence`. Default: on when someone takes it (`out` or `onEvidence`); a run
   * that only wants rows (`onRows`) does not pay for it, nor get its references in `builder`.
   */
  evidence?: boolean;
  /** Called with each window's evidence rows (`evidence`), in window order. */
  onEvidence?: (rows: readonly EvidenceRecord[]) => void;
  /** windows the baselines learn from (default all); it sees the window, never its label */
  fitFilter?: (w: Window) => boolean;
  /** output Arrow file; when absent nothing is written (views and vectors are still computed) */
  out?: string;
  /** write the `text` column */
  includeText?: boolean;
  /** texts embedded (and rows written) together; default 512 */
  batchTexts?: number;
  /** options of the views (text budget, seed, reservoir size, miner) */
  views?: Omit<ViewBuilderOptions, 'serviceOf' | 'entities'>;
  /** windows restricted to this range */
  range?: { start: number; end: number };
  modalities?: readonly Modality[];
  onProgress?: (p: EncodeProgress) => void;
  /**
   * Called with every batch of rows (after embedding), e.g. to keep them in memory. A row's
   * `vector` may be a view into one buffer shared by its batch (copy it with `slice()` to
   * keep a single row's without the batch's).
   */
  onRows?: (rows: readonly EncodedRow[]) => void;
  /**
   * Use worker threads where the source and backbone allow: the logs of the fitting pass (sources
   * that describe their log stream, src/sources/threadlogs.ts: Nezha exports, OTLP folders) are
   * read and summarised in one, embedding (a `hash` backbone made from `backboneSpec`, without a
   * cache) and writing the Arrow file happen in another, so both cores work. The output is the same either way. Default: on for passes of at least 1,000
   * windows (a thread's start costs about half a second of CPU, which smaller runs do not win
   * back).
   */
  threads?: boolean;
  /**
   * With `threads`, also make the span and log evidence and the evidence rows in a thread of
   * their own (src/encode/threads/evidence.ts; the same rows). Default off: measured, it
   * takes ≈ 3 s of CPU off the main thread but adds about as much CPU in all, and on two cores
   * the wall time did not come down (docs/views.md, "Evidence in a thread").
   */
  evidenceThread?: boolean;
  /**
   * A fitted views state (`ViewBuilder.toJSON`, e.g. the one `tune` saves): windows are rendered
   * against its baselines, template miner and evidence references, and nothing is fitted on
   * `ds` (`fitFilter` is not read), so new data is judged against the references the task
   * models were fitted with rather than against its own (docs/tasks.md, "For use").
   */
  fitted?: ViewBuilderState;
}

const THREADS_MIN_WINDOWS = 1000;

/** Blocks handed to the writer thread and not yet written, at most (bounds memory). */
const MAX_BLOCKS_IN_FLIGHT = 2;

export interface EncodeTimings {
  /** reading and windowing on the main thread, both passes */
  readMs: number;
  /** views on the main thread: summaries and fitting, then rendering */
  viewsMs: number;
  /** backbone (and cache); measured in the writer thread when it embeds */
  embedMs: number;
  /** Arrow batches; measured in the writer thread when it writes */
  writeMs: number;
  /** main thread waiting for worker threads */
  waitMs: number;
  /** what ran in worker threads: 'logs' (fitting pass), 'embed', 'write' */
  threaded: string[];
  totalMs: number;
}

export interface EncodeResult {
  path?: string;
  windows: number;
  trainWindows: number;
  rows: number;
  texts: number;
  /** evidence rows (per service and pod) */
  evidenceRows: number;
  /** the evidence file written beside `path` */
  evidencePath?: string;
  dim: number;
  backboneId: string;
  builder: ViewBuilder;
  timings: EncodeTimings;
}

/** Wraps a stream so the time spent producing its items is added to `acc.ms`. */
async function* timed<T>(src: AsyncIterable<T>, acc: { ms: number }): AsyncGenerator<T> {
  const it = src[Symbol.asyncIterator]();
  try {
    for (;;) {
      const t0 = performance.now();
      const r = await it.next();
      acc.ms += performance.now() - t0;
      if (r.done) return;
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}

/** Rows of one window's views, in a fixed order: system first, then services; metrics, traces, logs. */
function viewRows(slice: { window: Window; label: WindowLabel }, system: ModalityViews, entities: Map<string, ModalityViews>): { row: Omit<EncodedRow, 'vector'>; text: string }[] {
  const w = slice.window;
  const l = slice.label;
  const out: { row: Omit<EncodedRow, 'vector'>; text: string }[] = [];
  const push = (entity: string, mv: ModalityViews) => {
    for (const m of MODALITIES) {
      const v = mv[m];
      if (!v) continue;
      out.push({
        text: v.text,
        row: {
          windowIndex: w.index,
          windowStart: w.start,
          windowEnd: w.end,
          caseId: w.caseId,
          entity,
          modality: m,
          features: v.features,
          abnormal: l.abnormal,
          rootCause: l.rootCause,
          rootCauseService: l.rootCauseService,
          faultType: l.type,
        },
      });
    }
  };
  push(SYSTEM_ENTITY, system);
  for (const [e, mv] of entities) push(e, mv);
  return out;
}

/**
 * The whole `encode` stage: one pass reads every modality, fits the views' baselines on the
 * training windows and keeps each window's trace and log summary; a second pass reads the
 * metrics again and builds every window's views. All texts go through one backbone in batches
 * that span windows (cached by content when a cache is given), and one Arrow row is written per
 * (window, entity, modality). See docs/views.md (the `encode` pipeline) for the threads.
 */
export async function encodeDataset(ds: Dataset, opts: EncodeOptions): Promise<EncodeResult> {
  const t0 = performance.now();
  const ownBackbone = !opts.backbone;
  const spec = ownBackbone ? (opts.backboneSpec ?? 'hash') : undefined;
  const backbone = opts.backbone ?? (await createBackbone(spec!, opts.backboneOptions));
  try {
    return await encodeWith(ds, opts, backbone, spec, t0);
  } finally {
    if (ownBackbone) await backbone.dispose?.();
  }
}

/** What the two passes share. */
interface Run {
  ds: Dataset;
  opts: EncodeOptions;
  backbone: Backbone;
  builder: ViewBuilder;
  /** the pass's windows */
  all: Window[];
  /** per window: 1 when the baselines learn from it */
  train: Uint8Array;
  wanted: readonly Modality[];
  /** metrics are cut into windows here (as index ranges, not views): every source but case-based ones */
  ownMetrics: boolean;
  read: { ms: number };
  t: { viewsMs: number; embedMs: number; writeMs: number; waitMs: number };
}

async function encodeWith(ds: Dataset, opts: EncodeOptions, backbone: Backbone, spec: string | undefined, t0: number): Promise<EncodeResult> {
  if (opts.out) {
    // fail before the (long) fit pass, not after it
    const dir = dirname(resolve(opts.out));
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UserError(`output folder does not exist: ${dir} (expected an existing folder for ${opts.out})`);
  }
  const all = datasetWindows(ds, opts.spec, opts.range);
  const wanted = opts.modalities ?? MODALITIES;
  const caseBased = !!ds.caseData && all.length > 0 && all.every((w) => w.caseId !== undefined);
  const run: Run = {
    ds,
    opts,
    backbone,
    builder: opts.fitted
      ? ViewBuilder.fromJSON(opts.fitted, { serviceOf: datasetServiceOf(ds), entities: opts.entities ?? true, evidence: opts.evidence ?? (!!opts.out || !!opts.onEvidence) })
      : new ViewBuilder({ ...opts.views, serviceOf: datasetServiceOf(ds), entities: opts.entities ?? true, evidence: opts.evidence ?? (!!opts.out || !!opts.onEvidence) }),
    all,
    train: Uint8Array.from(all, (w) => (!opts.fitFilter || opts.fitFilter(w) ? 1 : 0)),
    wanted,
    ownMetrics: !caseBased && wanted.includes('metrics'),
    read: { ms: 0 },
    t: { viewsMs: 0, embedMs: 0, writeMs: 0, waitMs: 0 },
  };
  // Worker threads, where the source and backbone allow (`threads`): logs of the fitting pass
  // are read and summarised beside the main thread, which reads metrics and traces and trains
  // the template miner; the writer thread starts now (and makes its backbone) so that it is
  // ready for the second pass. Only a backbone made here from a `hash` spec is made again
  // there: it is pure JS, cheap to make, and gives the same vectors anywhere; others embed on
  // the main thread.
  const threads = opts.threads ?? all.length >= THREADS_MIN_WINDOWS;
  const threaded: string[] = [];
  // the log thread trains the miner beside the fit: with a fitted state there is nothing to train
  const logThread = threads && !opts.fitted && wanted.includes('logs') ? LogSummaryThread.start(ds, opts.spec, opts.range, run.train, run.builder.evidence) : undefined;
  // the span and log evidence and the evidence rows beside both passes (src/encode/threads/evidence.ts)
  const evidenceThread = threads && opts.evidenceThread && !opts.fitted && run.builder.evidence ? EvidenceThread.start(run.builder.seed) : undefined;
  const sinkEmbeds = threads && spec !== undefined && backbone.id.startsWith('hash-') && (!opts.cache || backbone.cacheable === false);
  let sink: ColumnarSink | undefined;
  try {
    if (threads && (opts.out || sinkEmbeds)) sink = ColumnarSink.spawn({ out: opts.out, dim: backbone.dim, backboneSpec: sinkEmbeds ? spec : undefined, backboneId: backbone.id, returnVectors: !!opts.onRows });
    if (logThread) threaded.push('logs');
    if (evidenceThread) threaded.push('evidence');
    if (sink && sinkEmbeds) threaded.push('embed');
    if (sink && opts.out) threaded.push('write');
    const summaries = opts.fitted ? await summaryPass(run) : await fitPass(run, logThread, evidenceThread);
    await logThread?.stop();
    const out = await viewPass(run, summaries, sink, !!sink && sinkEmbeds);
    await evidenceThread?.stop();
    const { viewsMs, embedMs, writeMs, waitMs } = run.t;
    return {
      path: opts.out,
      windows: out.windows,
      trainWindows: run.builder.trainWindows,
      rows: out.rows,
      texts: out.texts,
      evidenceRows: out.evidenceRows,
      evidencePath: out.evidencePath,
      dim: backbone.dim,
      backboneId: backbone.id,
      builder: run.builder,
      timings: { readMs: run.read.ms, viewsMs, embedMs, writeMs, waitMs, threaded, totalMs: performance.now() - t0 },
    };
  } catch (e) {
    await sink?.abort();
    throw e;
  } finally {
    await logThread?.stop();
    await evidenceThread?.stop();
  }
}

/**
 * Pass 1 reads every modality once: baselines are learnt from the training windows, and each
 * window's traces and logs are kept as a small summary that needs no baseline (indexed by
 * window position; windows without traces or logs have none).
 */
async function fitPass(run: Run, logThread: LogSummaryThread | undefined, evidenceThread?: EvidenceThread): Promise<(WindowSummary | undefined)[]> {
  const { ds, opts, all, train, t } = run;
  const pass = run.builder.beginFit({ evidenceThread });
  const summaries: (WindowSummary | undefined)[] = [];
  const elsewhere = (m: Modality) => (m === 'metrics' && run.ownMetrics) || (m === 'logs' && !!logThread);
  const metrics = run.ownMetrics ? metricWindows(run) : undefined;
  let k = 0;
  try {
    for await (const slice of timed(windowStream(ds, opts.spec, { range: opts.range, modalities: run.wanted.filter((m) => !elsewhere(m)) }), run.read)) {
      let foreign: ForeignLogs | undefined;
      if (logThread) {
        const tw = performance.now();
        foreign = await logThread.logsOf(k);
        t.waitMs += performance.now() - tw;
      }
      let input: ViewInput = slice;
      if (metrics) {
        const tr = performance.now();
        input = { window: slice.window, metrics: await metrics.window(slice.window, nextStart(all, k)), spans: slice.spans, logs: slice.logs };
        run.read.ms += performance.now() - tr;
      }
      const tv = performance.now();
      const s = pass.add(input, train[k] === 1, foreign);
      if (s.traces || s.logs) summaries[k] = s;
      t.viewsMs += performance.now() - tv;
      k++;
      opts.onProgress?.({ phase: 'fit', windows: k, total: all.length, rows: 0 });
    }
    const tw = performance.now();
    await logThread?.finish();
    t.waitMs += performance.now() - tw;
    pass.finish();
  } finally {
    await metrics?.close();
  }
  return summaries;
}

/** Pass 1 with a fitted state (`fitted`): the windows' trace and log summaries only, nothing learnt. */
async function summaryPass(run: Run): Promise<(WindowSummary | undefined)[]> {
  const { ds, opts, all, t } = run;
  const summaries: (WindowSummary | undefined)[] = [];
  let k = 0;
  for await (const slice of timed(windowStream(ds, opts.spec, { range: opts.range, modalities: run.wanted.filter((m) => m !== 'metrics') }), run.read)) {
    const tv = performance.now();
    const s = run.builder.summarize(slice);
    if (s.traces || s.logs) summaries[k] = s;
    t.viewsMs += performance.now() - tv;
    k++;
    opts.onProgress?.({ phase: 'fit', windows: k, total: all.length, rows: 0 });
  }
  return summaries;
}

function metricWindows(run: Run): MetricWindows {
  return new MetricWindows(run.ds.metrics(MetricWindows.readRange(run.all)), run.ds.disorderMs);
}

const nextStart = (all: readonly Window[], k: number) => (k + 1 < all.length ? all[k + 1].start : Infinity);

type Pending = { row: Omit<EncodedRow, 'vector'>; text: string };

/**
 * Pass 2 reads metrics only (the summaries hold the rest): views, vectors, rows. With a writer
 * thread, embedding (`sinkEmbeds`) and writing happen there, overlapping the views.
 */
async function viewPass(
  run: Run,
  summaries: (WindowSummary | undefined)[],
  sink: ColumnarSink | undefined,
  sinkEmbeds: boolean,
): Promise<{ windows: number; rows: number; texts: number; evidenceRows: number; evidencePath?: string }> {
  const { ds, opts, backbone, builder, all, t } = run;
  const dim = backbone.dim;
  const evOut = builder.evidence && opts.out ? evidencePath(opts.out) : undefined;
  const columnar: ColumnarOptions = {
    dim,
    includeText: opts.includeText,
    // the companion's name follows from the file's (`evidencePath`), so it is not written here:
    // the same data gives the same bytes whatever the file is called
    metadata: viewsMetadata({
      backboneId: backbone.id,
      dim,
      window: opts.spec,
      viewsVersion: VIEWS_FORMAT_VERSION,
      featureLayouts: FEATURE_LAYOUTS,
      entities: builder.entities,
      dataset: { format: ds.format, root: ds.root },
      trainWindows: builder.trainWindows,
      ...(evOut ? { evidenceVersion: EVIDENCE_VERSION } : {}),
    }),
  };
  // evidence rows are few (services and pods of windows with evidence): written here, beside
  // the writer thread's file
  const evWriter = evOut
    ? await EvidenceWriter.open(evOut, EVIDENCE_FEATURES, { evidence_version: EVIDENCE_VERSION, window: { lengthMs: opts.spec.lengthMs, strideMs: opts.spec.strideMs }, dataset: { format: ds.format, root: ds.root }, train_windows: builder.trainWindows })
    : undefined;
  let evPending: EvidenceRecord[] = [];
  let evidenceRows = 0;
  const evFlush = async () => {
    const b = evPending;
    evPending = [];
    const tw = performance.now();
    await evWriter?.write(b);
    t.writeMs += performance.now() - tw;
  };
  let writer: ColumnarWriter | undefined;
  if (sink) {
    const tw = performance.now();
    await sink.open(columnar);
    t.waitMs += performance.now() - tw;
  } else if (opts.out) writer = await ColumnarWriter.open(opts.out, columnar);
  const batchTexts = opts.batchTexts ?? 512;
  let pending: Pending[] = [];
  /** batches handed to the sink, oldest first, with what `onRows` needs of them */
  const handed: { batch: Pending[]; vectors?: Float32Array[] }[] = [];
  let rows = 0;
  let texts = 0;
  let windows = 0;
  const collect = async () => {
    const tw = performance.now();
    const r = await sink!.done();
    t.waitMs += performance.now() - tw;
    const h = handed.shift()!;
    const packed = r.vectors;
    if (opts.onRows) opts.onRows(h.batch.map((p, i) => ({ ...p.row, text: opts.includeText ? p.text : undefined, vector: h.vectors?.[i] ?? packed!.subarray(i * dim, (i + 1) * dim) })));
    rows += h.batch.length;
  };
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const textsOf = batch.map((p) => p.text);
    let vectors: Float32Array[] | undefined;
    if (!sinkEmbeds) {
      const te = performance.now();
      vectors = await embedTexts(backbone, textsOf, opts.cache);
      t.embedMs += performance.now() - te;
    }
    if (sink) {
      const block = rowBlock(
        batch.map((p) => p.row),
        opts.includeText || sinkEmbeds ? textsOf : undefined,
      );
      let packed: Float32Array | undefined;
      if (vectors) {
        packed = new Float32Array(vectors.length * dim);
        for (let i = 0; i < vectors.length; i++) {
          if (vectors[i].length !== dim) throw new Error(`encode: backbone ${backbone.id} returned a ${vectors[i].length}-d vector, expected ${dim}`);
          packed.set(vectors[i], i * dim);
        }
      }
      sink.post(block, packed);
      handed.push({ batch, vectors: opts.onRows ? vectors : undefined });
      // a bounded queue: the thread works on one block while the next is being built
      while (sink.pending > MAX_BLOCKS_IN_FLIGHT) await collect();
      return;
    }
    const out: EncodedRow[] = batch.map((p, i) => ({ ...p.row, text: opts.includeText ? p.text : undefined, vector: vectors![i] }));
    const tw = performance.now();
    await writer?.write(out);
    t.writeMs += performance.now() - tw;
    opts.onRows?.(out);
    rows += out.length;
  };
  const takeEvidence = async (ev: EvidenceRecord[]) => {
    evidenceRows += ev.length;
    opts.onEvidence?.(ev);
    if (evWriter) for (const x of ev) evPending.push(x);
    if (evPending.length >= EVIDENCE_BATCH_ROWS) await evFlush();
  };
  // evidence rows made in a thread (builder.evidenceThread) come back later, in window order
  const remote = builder.evidenceThread;
  const remoteSlices = new Map<number, { window: Window; label: WindowLabel }>();
  const takeRemote = async (index: number, rows: readonly EvidenceRow[]) => {
    const slice = remoteSlices.get(index)!;
    remoteSlices.delete(index);
    if (rows.length) await takeEvidence(evidenceRecords(slice, rows));
  };
  const labels = labelWindows(all, ds.labels, ds.cases);
  const slices = async function* (): AsyncGenerator<{ window: Window; label: WindowLabel; metrics: MetricData }> {
    if (!run.ownMetrics) {
      yield* windowStream(ds, opts.spec, { range: opts.range, modalities: run.wanted.filter((m) => m === 'metrics') });
      return;
    }
    const mws = metricWindows(run);
    try {
      for (let k = 0; k < all.length; k++) yield { window: all[k], label: labels[k], metrics: await mws.window(all[k], nextStart(all, k)) };
    } finally {
      await mws.close();
    }
  };
  try {
    for await (const slice of timed(slices(), run.read)) {
      const tv = performance.now();
      const k = windows;
      const s = summaries[k] ?? { window: slice.window };
      summaries[k] = undefined;
      if (s.window.index !== slice.window.index) throw new Error(`encode: window ${slice.window.index} read where ${s.window.index} was summarised`);
      const v = builder.render(s, slice);
      const r = viewRows(slice, v.system, v.entities);
      const ev = v.evidence?.length ? evidenceRecords(slice, v.evidence) : undefined;
      t.viewsMs += performance.now() - tv;
      if (ev) await takeEvidence(ev);
      if (remote) {
        remoteSlices.set(slice.window.index, { window: slice.window, label: slice.label });
        for (const [i, rows] of remote.ready()) await takeRemote(i, rows);
      }
      for (const x of r) pending.push(x);
      texts += r.length;
      windows++;
      if (pending.length >= batchTexts) await flush();
      opts.onProgress?.({ phase: 'encode', windows, total: all.length, rows: rows + pending.length });
    }
    await flush();
    if (sink) {
      while (sink.pending > 0) await collect();
      const tw = performance.now();
      const st = await sink.close();
      t.waitMs += performance.now() - tw;
      t.embedMs += st.embedMs;
      t.writeMs += st.writeMs;
    }
    if (remote) {
      const tw = performance.now();
      const rest = await remote.rest();
      t.waitMs += performance.now() - tw;
      for (const [i, rows] of rest) await takeRemote(i, rows);
      builder.endEvidenceThread();
    }
    await evFlush();
    const tw = performance.now();
    await writer?.close();
    await evWriter?.close();
    t.writeMs += performance.now() - tw;
  } catch (e) {
    await writer?.abort();
    await evWriter?.abort();
    throw e;
  }
  return { windows, rows, texts, evidenceRows, evidencePath: evOut };
}

const EVIDENCE_BATCH_ROWS = 4096;

function evidenceRecords(slice: { window: Window; label: WindowLabel }, rows: readonly { entity: string; pod?: string; features: Float32Array; items: string }[]): EvidenceRecord[] {
  const w = slice.window;
  const l = slice.label;
  return rows.map((r) => ({
    windowIndex: w.index,
    windowStart: w.start,
    windowEnd: w.end,
    caseId: w.caseId,
    entity: r.entity,
    pod: r.pod,
    features: r.features,
    items: r.items,
    abnormal: l.abnormal,
    rootCause: l.rootCause,
    rootCauseService: l.rootCauseService,
    faultType: l.type,
  }));
}

/** Vectors for `texts` in order; identical texts are embedded once. */
export async function embedTexts(backbone: Backbone, texts: string[], cache?: EmbeddingCache): Promise<Float32Array[]> {
  // Backbones cheaper to recompute than to read back (hash) skip the cache.
  if (cache && backbone.cacheable !== false) return cachedEmbed(backbone, texts, cache);
  const { rows, at } = await embedDistinct(backbone, texts);
  return at.map((i) => rows[i]);
}
