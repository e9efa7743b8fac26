import { open, readFile, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  AsyncByteQueue,
  Bool,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int8,
  List,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  TimestampMillisecond,
  Utf8,
  makeData,
  tableFromIPC,
  vectorFromArray,
  type Data,
  type Table,
} from 'apache-arrow';
import type { Modality } from '../telemetry/index.js';

/**
 * The `encode` output: one Arrow IPC file (random-access "file" format, readable by pyarrow's
 * `pyarrow.ipc.open_file` / `pyarrow.feather.read_table`, polars, DuckDB, apache-arrow JS).
 * One row per (window, entity, modality) view; see docs/views.md for every column.
 */

/** Bumped when a column changes meaning or type. */
export const COLUMNAR_FORMAT_VERSION = 1;
export const MODALITY_VALUES: readonly Modality[] = ['metrics', 'traces', 'logs'];

export interface EncodedRow {
  windowIndex: number;
  /** ms since the epoch, UTC */
  windowStart: number;
  windowEnd: number;
  /** case id of case-based sources (aiops22) */
  caseId?: string;
  /** '__system__' or a service */
  entity: string;
  modality: Modality;
  text?: string;
  vector: Float32Array;
  features: Float32Array;
  abnormal: boolean;
  rootCause?: string;
  rootCauseService?: string;
  faultType?: string;
}

export interface ColumnarOptions {
  /** backbone output dimension: the `vector` column's list size */
  dim: number;
  /** write the `text` column (the views' texts) */
  includeText?: boolean;
  /** schema metadata: string values (objects are written as JSON) */
  metadata?: Record<string, string | number | boolean | object>;
}

// One dictionary vector for every batch: the IPC file format allows a dictionary once, so each
// batch must point at the same one.
const MODALITY_DICT = vectorFromArray(MODALITY_VALUES as Modality[], new Utf8());
const MODALITY_TYPE = new Dictionary(new Utf8(), new Int8(), 0);
const MODALITY_INDEX: Record<Modality, number> = { metrics: 0, traces: 1, logs: 2 };

export function columnarSchema(opts: ColumnarOptions): Schema {
  const fields: Field[] = [
    new Field('window_index', new Int32(), false),
    new Field('window_start', new TimestampMillisecond('UTC'), false),
    new Field('window_end', new TimestampMillisecond('UTC'), false),
    new Field('case_id', new Utf8(), true),
    new Field('entity', new Utf8(), false),
    new Field('modality', MODALITY_TYPE, false),
  ];
  if (opts.includeText) fields.push(new Field('text', new Utf8(), false));
  fields.push(
    new Field('vector', new FixedSizeList(opts.dim, new Field('item', new Float32(), false)), false),
    new Field('features', new List(new Field('item', new Float32(), false)), false),
    new Field('abnormal', new Bool(), false),
    new Field('root_cause', new Utf8(), true),
    new Field('root_cause_service', new Utf8(), true),
    new Field('fault_type', new Utf8(), true),
  );
  const meta = new Map<string, string>();
  meta.set('runtimeslicer.format', 'runtimeslicer-views');
  meta.set('runtimeslicer.format_version', String(COLUMNAR_FORMAT_VERSION));
  for (const [k, v] of Object.entries(opts.metadata ?? {})) meta.set(k.includes('.') ? k : `runtimeslicer.${k}`, typeof v === 'object' ? JSON.stringify(v) : String(v));
  return new Schema(fields, meta);
}

function utf8(values: (string | undefined)[]): Data<Utf8> {
  return vectorFromArray(
    values.map((v) => v ?? null),
    new Utf8(),
  ).data[0];
}

/** Builds one record batch from rows (all columns typed-array backed, no per-cell objects). */
export function rowsToBatch(schema: Schema, rows: readonly EncodedRow[], dim: number, includeText: boolean): RecordBatch {
  const n = rows.length;
  const idx = new Int32Array(n);
  const start = new BigInt64Array(n);
  const end = new BigInt64Array(n);
  const mod = new Int8Array(n);
  const vec = new Float32Array(n * dim);
  const offsets = new Int32Array(n + 1);
  let featLen = 0;
  for (const r of rows) featLen += r.features.length;
  const feats = new Float32Array(featLen);
  const abnormal = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    idx[i] = r.windowIndex;
    start[i] = BigInt(Math.round(r.windowStart));
    end[i] = BigInt(Math.round(r.windowEnd));
    mod[i] = MODALITY_INDEX[r.modality];
    if (r.vector.length !== dim) throw new Error(`columnar: row ${i} has a ${r.vector.length}-d vector, expected ${dim}`);
    vec.set(r.vector, i * dim);
    feats.set(r.features, offsets[i]);
    offsets[i + 1] = offsets[i] + r.features.length;
    if (r.abnormal) abnormal[i >> 3] |= 1 << (i & 7);
  }
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const children: Data[] = [
    makeData({ type: new Int32(), data: idx, length: n }),
    makeData({ type: type('window_start') as TimestampMillisecond, data: start, length: n }),
    makeData({ type: type('window_end') as TimestampMillisecond, data: end, length: n }),
    utf8(rows.map((r) => r.caseId)),
    utf8(rows.map((r) => r.entity)),
    makeData({ type: MODALITY_TYPE, data: mod, length: n, dictionary: MODALITY_DICT }),
  ];
  if (includeText) children.push(utf8(rows.map((r) => r.text ?? '')));
  const vecType = type('vector') as FixedSizeList<Float32>;
  const featType = type('features') as List<Float32>;
  children.push(
    makeData({ type: vecType, length: n, nullCount: 0, child: makeData({ type: new Float32(), data: vec, length: n * dim }) }),
    makeData({ type: featType, length: n, nullCount: 0, valueOffsets: offsets, child: makeData({ type: new Float32(), data: feats, length: featLen }) }),
    makeData({ type: new Bool(), data: abnormal, length: n }),
    utf8(rows.map((r) => r.rootCause)),
    utf8(rows.map((r) => r.rootCauseService)),
    utf8(rows.map((r) => r.faultType)),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

type SinkInput = Parameters<AsyncByteQueue['write']>[0];

/**
 * Where the Arrow writer puts its bytes: kept until ColumnarWriter hands them to the file, so
 * at most one batch is held in memory (arrow's own queue would grow while nobody reads it).
 */
class CollectingSink extends AsyncByteQueue {
  chunks: Uint8Array[] = [];
  override write(value: SinkInput): void {
    const v = value as ArrayBufferView | ArrayBuffer;
    const u8 = v instanceof Uint8Array ? v : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v as ArrayBuffer);
    if (u8.byteLength > 0) this.chunks.push(u8);
  }
  take(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    return c;
  }
}

/**
 * Streams record batches into a temporary file beside `path` and renames it to `path` on
 * `close`, so a reader never sees a half-written file and a failed run leaves no file (and an
 * older file at `path` untouched).
 */
export class ColumnarWriter {
  readonly schema: Schema;
  rows = 0;
  batches = 0;
  private readonly writer = new RecordBatchFileWriter();
  private readonly sink = new CollectingSink();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly fh: FileHandle,
    private readonly opts: ColumnarOptions,
  ) {
    this.schema = columnarSchema(opts);
    this.writer.reset(this.sink, this.schema);
  }

  static async open(path: string, opts: ColumnarOptions): Promise<ColumnarWriter> {
    if (!Number.isInteger(opts.dim) || opts.dim < 1) throw new RangeError(`columnar: dim must be a positive integer, got ${opts.dim}`);
    const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${Date.now()}`);
    const fh = await open(tmp, 'w');
    return new ColumnarWriter(path, tmp, fh, opts);
  }

  private async drain(): Promise<void> {
    for (const c of this.sink.take()) await this.fh.write(c);
  }

  /** Appends one record batch holding `rows` (nothing for an empty list). */
  async write(rows: readonly EncodedRow[]): Promise<void> {
    if (this.closed) throw new Error('columnar: write after close');
    if (rows.length === 0) return;
    this.writer.write(rowsToBatch(this.schema, rows, this.opts.dim, !!this.opts.includeText));
    this.rows += rows.length;
    this.batches++;
    await this.drain();
  }

  /** Writes the footer and moves the file into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // A file with no rows still carries its schema (and so its metadata): one empty batch.
      if (this.batches === 0) this.writer.write(rowsToBatch(this.schema, [], this.opts.dim, !!this.opts.includeText));
      this.writer.finish();
      await this.drain();
      await this.fh.close();
    } catch (e) {
      await this.fh.close().catch(() => undefined);
      await rm(this.tmp, { force: true });
      throw e;
    }
    await rename(this.tmp, this.path);
  }

  /** Drops the temporary file; the destination is left as it was. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.fh.close().catch(() => undefined);
    }
    await rm(this.tmp, { force: true });
  }
}

/** Reads an encode output back (whole file in memory: for tests and small outputs). */
export async function readColumnar(path: string): Promise<Table> {
  return tableFromIPC(await readFile(path));
}
