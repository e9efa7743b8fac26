import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UserError, type Dataset, type Modality } from '../telemetry/index.js';
import { datasetWindows, windowStream, type Window, type WindowSlice, type WindowSpec } from '../windows/index.js';
import { createBackbone, type Backbone, type BackboneOptions } from './backbones/index.js';
import { cachedEmbed, type EmbeddingCache } from './cache/index.js';
import { COLUMNAR_FORMAT_VERSION, ColumnarWriter, type EncodedRow } from './columnar.js';
import { FEATURE_LAYOUTS, SYSTEM_ENTITY, VIEWS_FORMAT_VERSION, ViewBuilder, datasetServiceOf, type ModalityViews, type ViewBuilderOptions, type WindowSummary } from './views/index.js';

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
  /** called with every batch of rows (after embedding), e.g. to keep them in memory */
  onRows?: (rows: readonly EncodedRow[]) => void;
}

export interface EncodeTimings {
  /** reading and windowing, both passes */
  readMs: number;
  /** fit and transform of the views */
  viewsMs: number;
  /** backbone (and cache) */
  embedMs: number;
  /** Arrow batches */
  writeMs: number;
  totalMs: number;
}

export interface EncodeResult {
  path?: string;
  windows: number;
  trainWindows: number;
  rows: number;
  texts: number;
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
function viewRows(slice: WindowSlice, system: ModalityViews, entities: Map<string, ModalityViews>): { row: Omit<EncodedRow, 'vector'>; text: string }[] {
  const w = slice.window;
  const l = slice.label;
  const out: { row: Omit<EncodedRow, 'vector'>; text: string }[] = [];
  const push = (entity: string, mv: ModalityViews) => {
    for (const m of ['metrics', 'traces', 'logs'] as const) {
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
 * The whole `encode` stage: streams the dataset twice — once to fit the views' baselines on
 * the training windows, once to build every window's views — embeds all texts through one
 * backbone in batches that span windows (cached by content when a cache is given), and writes
 * one Arrow row per (window, entity, modality).
 */
export async function encodeDataset(ds: Dataset, opts: EncodeOptions): Promise<EncodeResult> {
  const t0 = performance.now();
  const ownBackbone = !opts.backbone;
  const backbone = opts.backbone ?? (await createBackbone(opts.backboneSpec ?? 'hash', opts.backboneOptions));
  try {
    return await encodeWith(ds, opts, backbone, t0);
  } finally {
    if (ownBackbone) await backbone.dispose?.();
  }
}

async function encodeWith(ds: Dataset, opts: EncodeOptions, backbone: Backbone, t0: number): Promise<EncodeResult> {
  const read = { ms: 0 };
  let viewsMs = 0;
  let embedMs = 0;
  let writeMs = 0;
  const batchTexts = opts.batchTexts ?? 512;
  const entities = opts.entities ?? true;
  const streamOpts = { range: opts.range, modalities: opts.modalities };
  if (opts.out) {
    // fail before the (long) fit pass, not after it
    const dir = dirname(resolve(opts.out));
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UserError(`output folder does not exist: ${dir} (expected an existing folder for ${opts.out})`);
  }
  const total = datasetWindows(ds, opts.spec, opts.range).length;
  const builder = new ViewBuilder({ ...opts.views, serviceOf: datasetServiceOf(ds), entities });

  // Pass 1 reads every modality once: baselines are learnt from the training windows, and each
  // window's traces and logs are kept as a small summary that needs no baseline.
  const pass = builder.beginFit();
  const summaries: (WindowSummary | undefined)[] = [];
  let fitSeen = 0;
  for await (const slice of timed(windowStream(ds, opts.spec, streamOpts), read)) {
    const t = performance.now();
    const s = pass.add(slice, !opts.fitFilter || opts.fitFilter(slice.window));
    if (s.traces || s.logs) summaries[fitSeen] = s;
    viewsMs += performance.now() - t;
    fitSeen++;
    opts.onProgress?.({ phase: 'fit', windows: fitSeen, total, rows: 0 });
  }
  pass.finish();

  // Pass 2: views, vectors, rows.
  const writer = opts.out
    ? await ColumnarWriter.open(opts.out, {
        dim: backbone.dim,
        includeText: opts.includeText,
        metadata: {
          backbone: backbone.id,
          dim: backbone.dim,
          window: { lengthMs: opts.spec.lengthMs, strideMs: opts.spec.strideMs },
          views_version: VIEWS_FORMAT_VERSION,
          columnar_version: COLUMNAR_FORMAT_VERSION,
          feature_layouts: FEATURE_LAYOUTS,
          system_entity: SYSTEM_ENTITY,
          entities,
          dataset: { format: ds.format, root: ds.root },
          train_windows: builder.trainWindows,
        },
      })
    : undefined;
  let pending: { row: Omit<EncodedRow, 'vector'>; text: string }[] = [];
  let rows = 0;
  let texts = 0;
  let windows = 0;
  const flush = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    const t = performance.now();
    const vectors = await embedTexts(backbone, batch.map((p) => p.text), opts.cache);
    embedMs += performance.now() - t;
    const out: EncodedRow[] = batch.map((p, i) => ({ ...p.row, text: opts.includeText ? p.text : undefined, vector: vectors[i] }));
    const tw = performance.now();
    await writer?.write(out);
    writeMs += performance.now() - tw;
    opts.onRows?.(out);
    rows += out.length;
  };
  // Pass 2 reads metrics only (the summaries hold the rest): views, vectors, rows.
  const metricsOnly = { range: opts.range, modalities: (opts.modalities ?? ['metrics']).filter((m) => m === 'metrics') };
  try {
    for await (const slice of timed(windowStream(ds, opts.spec, metricsOnly), read)) {
      const t = performance.now();
      const k = windows;
      const s = summaries[k] ?? { window: slice.window };
      summaries[k] = undefined;
      if (s.window.index !== slice.window.index) throw new Error(`encode: window ${slice.window.index} read where ${s.window.index} was summarised`);
      const v = builder.render(s, slice);
      const r = viewRows(slice, v.system, v.entities);
      viewsMs += performance.now() - t;
      pending.push(...r);
      texts += r.length;
      windows++;
      if (pending.length >= batchTexts) await flush();
      opts.onProgress?.({ phase: 'encode', windows, total, rows: rows + pending.length });
    }
    await flush();
    const tw = performance.now();
    await writer?.close();
    writeMs += performance.now() - tw;
  } catch (e) {
    await writer?.abort();
    throw e;
  }
  return {
    path: opts.out,
    windows,
    trainWindows: builder.trainWindows,
    rows,
    texts,
    dim: backbone.dim,
    backboneId: backbone.id,
    builder,
    timings: { readMs: read.ms, viewsMs, embedMs, writeMs, totalMs: performance.now() - t0 },
  };
}

/** Vectors for `texts` in order; identical texts are embedded once. */
export async function embedTexts(backbone: Backbone, texts: string[], cache?: EmbeddingCache): Promise<Float32Array[]> {
  if (cache) return cachedEmbed(backbone, texts, cache);
  const first = new Map<string, number>();
  const distinct: string[] = [];
  const at = texts.map((t) => {
    let i = first.get(t);
    if (i === undefined) {
      i = distinct.length;
      first.set(t, i);
      distinct.push(t);
    }
    return i;
  });
  const rows = await backbone.embed(distinct);
  if (rows.length !== distinct.length) throw new Error(`backbone ${backbone.id} returned ${rows.length} rows for ${distinct.length} texts`);
  return at.map((i) => rows[i]);
}
