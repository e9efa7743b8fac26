/**
 * The `encode` output written from a worker thread: embedding (when given a backbone spec) and
 * Arrow writing overlap the views on the main thread. The file format itself is
 * encode/formats/views.ts.
 */
import { rm } from 'node:fs/promises';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import type { Backbone } from '../backbones/index.js';
import { WorkerChannel, failureOf, startModuleWorker } from './worker.js';
import { ColumnarWriter, type ColumnarOptions, type RowBlock } from '../formats/index.js';

const SINK_KIND = 'runtimeslicer:columnar-sink';

export interface SinkSettings {
  /** output file; absent: the thread only embeds (vectors come back) */
  out?: string;
  /** vector length */
  dim: number;
  /** a backbone spec the thread embeds with (a cheap, pure one: `hash`); absent: vectors come with each block */
  backboneSpec?: string;
  /** the id the thread's backbone must have (the main thread's) */
  backboneId?: string;
  /** send each block's vectors back (the caller wants the rows) */
  returnVectors: boolean;
}

type SinkIn = { type: 'open'; columnar: ColumnarOptions } | { type: 'block'; block: RowBlock; vectors?: Float32Array } | { type: 'close' } | { type: 'abort' };
type SinkOut =
  | { type: 'ready' }
  | { type: 'done'; rows: number; vectors?: Float32Array }
  | { type: 'closed'; embedMs: number; writeMs: number }
  | { type: 'aborted' };

/**
 * Embedding (when given a backbone spec) and Arrow writing in a worker thread, fed one block of
 * rows at a time, so that they overlap the views on the main thread. Blocks are handled in
 * order; `done` hands back the outcome of the oldest block not yet collected.
 */
export class ColumnarSink {
  private outstanding = 0;
  private constructor(
    private readonly ch: WorkerChannel<SinkIn, SinkOut>,
    private readonly tmp: string | undefined,
    readonly settings: SinkSettings,
  ) {}

  /**
   * Starts the thread (it makes its backbone meanwhile); `open` then opens the output. Starting
   * early keeps the thread's start-up off the critical path. Undefined where no thread can be
   * started (see `startModuleWorker`).
   */
  static spawn(settings: SinkSettings): ColumnarSink | undefined {
    const tmp = settings.out ? ColumnarWriter.tempPath(settings.out) : undefined;
    const worker = startModuleWorker(import.meta.url, { kind: SINK_KIND, settings, tmp });
    return worker ? new ColumnarSink(new WorkerChannel<SinkIn, SinkOut>(worker), tmp, settings) : undefined;
  }

  /** Opens the output (schema and metadata are known by now) and waits until the thread is ready. */
  async open(columnar: ColumnarOptions): Promise<void> {
    if (columnar.dim !== this.settings.dim) throw new Error(`columnar sink: dim ${columnar.dim}, expected ${this.settings.dim}`);
    this.ch.post({ type: 'open', columnar });
    const m = await this.ch.next();
    if (m.type !== 'ready') throw new Error(`columnar sink: unexpected ${m.type}`);
  }

  /** Blocks handed over and not yet collected with `done`. */
  get pending(): number {
    return this.outstanding;
  }

  /** Hands a block over; `vectors` (`dim` floats per row) are moved, not copied. */
  post(block: RowBlock, vectors?: Float32Array): void {
    const transfer = [block.windowIndex.buffer, block.windowStart.buffer, block.windowEnd.buffer, block.modality.buffer, block.abnormal.buffer, block.featureOffsets.buffer, block.features.buffer] as ArrayBuffer[];
    if (vectors) transfer.push(vectors.buffer as ArrayBuffer);
    this.ch.post({ type: 'block', block, vectors }, transfer);
    this.outstanding++;
  }

  /** Waits for the oldest block handed over: its row count, and its vectors when asked for. */
  async done(): Promise<{ rows: number; vectors?: Float32Array }> {
    const m = await this.ch.next();
    if (m.type !== 'done') throw new Error(`columnar sink: unexpected ${m.type}`);
    this.outstanding--;
    return m;
  }

  /** Writes the footer and moves the file into place; the thread's own embed and write times. */
  async close(): Promise<{ embedMs: number; writeMs: number }> {
    while (this.outstanding > 0) await this.done();
    this.ch.post({ type: 'close' });
    const m = await this.ch.next();
    if (m.type !== 'closed') throw new Error(`columnar sink: unexpected ${m.type}`);
    await this.ch.stop();
    return m;
  }

  /** Ends the thread and removes the temporary file; the destination is left as it was. */
  async abort(): Promise<void> {
    await this.ch.stop();
    if (this.tmp) await rm(this.tmp, { force: true });
  }
}

/** The thread's side: one block at a time, in order. */
function runSink(settings: SinkSettings, tmp: string | undefined): void {
  const port = parentPort!;
  let writer: ColumnarWriter | undefined;
  let backbone: Backbone | undefined;
  let embedMs = 0;
  let writeMs = 0;
  let failed = false;
  const dim = settings.dim;
  const fail = (e: unknown) => {
    failed = true;
    port.postMessage(failureOf(e));
  };
  let chain: Promise<void> = (async () => {
    if (settings.backboneSpec) {
      const { createBackbone } = await import('../backbones/index.js');
      backbone = await createBackbone(settings.backboneSpec);
      if (settings.backboneId && backbone.id !== settings.backboneId) throw new Error(`columnar sink: backbone ${backbone.id} is not ${settings.backboneId}`);
      if (backbone.dim !== dim) throw new Error(`columnar sink: backbone dim ${backbone.dim}, expected ${dim}`);
    }
  })().catch(fail);
  const handle = async (m: SinkIn): Promise<void> => {
    if (failed) return;
    if (m.type === 'open') {
      if (settings.out) writer = await ColumnarWriter.open(settings.out, m.columnar, tmp);
      port.postMessage({ type: 'ready' } satisfies SinkOut);
    } else if (m.type === 'block') {
      const b = m.block;
      let vectors = m.vectors;
      if (!vectors) {
        if (!backbone) throw new Error('columnar sink: a block without vectors, and no backbone');
        const t = performance.now();
        vectors = await embedInto(backbone, b.texts ?? [], dim);
        embedMs += performance.now() - t;
      }
      const t = performance.now();
      await writer?.writeBlock(b, vectors);
      writeMs += performance.now() - t;
      if (settings.returnVectors) port.postMessage({ type: 'done', rows: b.length, vectors } satisfies SinkOut, [vectors.buffer as ArrayBuffer]);
      else port.postMessage({ type: 'done', rows: b.length } satisfies SinkOut);
    } else if (m.type === 'close') {
      const t = performance.now();
      await writer?.close();
      writeMs += performance.now() - t;
      port.postMessage({ type: 'closed', embedMs, writeMs } satisfies SinkOut);
    }
  };
  port.on('message', (m: SinkIn) => {
    chain = chain.then(() => handle(m)).catch(fail);
  });
}

/** Vectors of `texts`, `dim` floats per text in one array; identical texts are embedded once. */
async function embedInto(backbone: Backbone, texts: readonly string[], dim: number): Promise<Float32Array> {
  const first = new Map<string, number>();
  const distinct: string[] = [];
  const at = new Int32Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    let k = first.get(texts[i]);
    if (k === undefined) {
      k = distinct.length;
      first.set(texts[i], k);
      distinct.push(texts[i]);
    }
    at[i] = k;
  }
  const rows = await backbone.embed(distinct);
  if (rows.length !== distinct.length) throw new Error(`backbone ${backbone.id} returned ${rows.length} rows for ${distinct.length} texts`);
  const out = new Float32Array(texts.length * dim);
  for (let i = 0; i < texts.length; i++) {
    const v = rows[at[i]];
    if (v.length !== dim) throw new Error(`backbone ${backbone.id} returned a ${v.length}-d vector, expected ${dim}`);
    out.set(v, i * dim);
  }
  return out;
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === SINK_KIND) {
  const d = workerData as { settings: SinkSettings; tmp?: string };
  runSink(d.settings, d.tmp);
}
