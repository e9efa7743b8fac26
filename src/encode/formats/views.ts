import { readFile } from 'node:fs/promises';
import {
  Bool,
  Dictionary,
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int8,
  List,
  RecordBatch,
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
import { MODALITIES, type Modality } from '../../telemetry/index.js';
import { AtomicArrowFile, formatMetadata, labelFields, windowFields } from './arrow-file.js';

/**
 * The `encode` output: one Arrow IPC file (random-access "file" format, readable by pyarrow's
 * `pyarrow.ipc.open_file` / `pyarrow.feather.read_table`, polars, DuckDB, apache-arrow JS).
 * One row per (window, entity, modality) view; see docs/views.md for every column.
 */

/**
 * Bumped when a column changes meaning or type. 2: the file may have an evidence companion
 * (`runtimeslicer.evidence_file`, `evidencePath`); its own columns are those of version 1, so
 * readers of either read both.
 */
export const COLUMNAR_FORMAT_VERSION = 2;
/** Versions `readColumnar` reads. */
const READABLE_VERSIONS = new Set(['1', '2']);
/** the modality dictionary's order (MODALITIES); a stored index is a position in it */
export const MODALITY_VALUES: readonly Modality[] = MODALITIES;

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
  const fields: Field[] = [...windowFields(), new Field('modality', MODALITY_TYPE, false)];
  if (opts.includeText) fields.push(new Field('text', new Utf8(), false));
  fields.push(
    new Field('vector', new FixedSizeList(opts.dim, new Field('item', new Float32(), false)), false),
    new Field('features', new List(new Field('item', new Float32(), false)), false),
    ...labelFields(),
  );
  return new Schema(fields, formatMetadata('runtimeslicer-views', COLUMNAR_FORMAT_VERSION, opts.metadata));
}

/**
 * Rows of one batch, column by column and without their vectors: what the views produce per
 * batch, cheap to hand to a worker thread (typed arrays and strings, no per-row objects).
 */
export interface RowBlock {
  length: number;
  windowIndex: Int32Array;
  windowStart: Float64Array;
  windowEnd: Float64Array;
  caseId: (string | null)[];
  entity: string[];
  /** index into MODALITY_VALUES */
  modality: Int8Array;
  abnormal: Uint8Array;
  rootCause: (string | null)[];
  rootCauseService: (string | null)[];
  faultType: (string | null)[];
  /** row i's features are features[featureOffsets[i] .. featureOffsets[i + 1]) */
  featureOffsets: Int32Array;
  features: Float32Array;
  /** the views' texts (for the `text` column, or for a thread that embeds them) */
  texts?: string[];
}

/** Packs rows into a block (vectors left out); `texts` (one per row) fill `block.texts`. */
export function rowBlock(rows: readonly Omit<EncodedRow, 'vector' | 'text'>[], texts?: readonly string[]): RowBlock {
  const n = rows.length;
  const b: RowBlock = {
    length: n,
    windowIndex: new Int32Array(n),
    windowStart: new Float64Array(n),
    windowEnd: new Float64Array(n),
    caseId: new Array(n),
    entity: new Array(n),
    modality: new Int8Array(n),
    abnormal: new Uint8Array(n),
    rootCause: new Array(n),
    rootCauseService: new Array(n),
    faultType: new Array(n),
    featureOffsets: new Int32Array(n + 1),
    features: new Float32Array(0),
  };
  let featLen = 0;
  for (const r of rows) featLen += r.features.length;
  b.features = new Float32Array(featLen);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    b.windowIndex[i] = r.windowIndex;
    b.windowStart[i] = r.windowStart;
    b.windowEnd[i] = r.windowEnd;
    b.caseId[i] = r.caseId ?? null;
    b.entity[i] = r.entity;
    b.modality[i] = MODALITY_INDEX[r.modality];
    b.abnormal[i] = r.abnormal ? 1 : 0;
    b.rootCause[i] = r.rootCause ?? null;
    b.rootCauseService[i] = r.rootCauseService ?? null;
    b.faultType[i] = r.faultType ?? null;
    b.features.set(r.features, b.featureOffsets[i]);
    b.featureOffsets[i + 1] = b.featureOffsets[i] + r.features.length;
  }
  if (texts) b.texts = texts.slice();
  return b;
}

/**
 * A utf8 column built in one buffer: each string is encoded straight into place (one native
 * write), where a generic builder goes through a TextEncoder and a growing buffer per value.
 */
function utf8(values: readonly (string | null | undefined)[]): Data<Utf8> {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let bytes = 0;
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v == null) nulls++;
    else bytes += Buffer.byteLength(v, 'utf8');
    offsets[i + 1] = bytes;
  }
  const data = new Uint8Array(bytes);
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v != null && v.length > 0) buf.write(v, offsets[i], 'utf8');
  }
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i] != null) nullBitmap[i >> 3] |= 1 << (i & 7);
  }
  return makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap, valueOffsets: offsets, data });
}

/** Builds one record batch from rows (all columns typed-array backed, no per-cell objects). */
export function rowsToBatch(schema: Schema, rows: readonly EncodedRow[], dim: number, includeText: boolean): RecordBatch {
  const vec = new Float32Array(rows.length * dim);
  for (let i = 0; i < rows.length; i++) {
    const v = rows[i].vector;
    if (v.length !== dim) throw new Error(`columnar: row ${i} has a ${v.length}-d vector, expected ${dim}`);
    vec.set(v, i * dim);
  }
  return blockToBatch(schema, rowBlock(rows, includeText ? rows.map((r) => r.text ?? '') : undefined), vec, dim, includeText);
}

/** One record batch from a block and its vectors (`vectors` holds `dim` floats per row, in row order). */
export function blockToBatch(schema: Schema, b: RowBlock, vectors: Float32Array, dim: number, includeText: boolean): RecordBatch {
  const n = b.length;
  if (vectors.length !== n * dim) throw new Error(`columnar: ${vectors.length} vector values for ${n} rows of dimension ${dim}`);
  const start = new BigInt64Array(n);
  const end = new BigInt64Array(n);
  const abnormal = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    start[i] = BigInt(Math.round(b.windowStart[i]));
    end[i] = BigInt(Math.round(b.windowEnd[i]));
    if (b.abnormal[i]) abnormal[i >> 3] |= 1 << (i & 7);
  }
  const featLen = b.featureOffsets[n];
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const children: Data[] = [
    makeData({ type: new Int32(), data: b.windowIndex, length: n }),
    makeData({ type: type('window_start') as TimestampMillisecond, data: start, length: n }),
    makeData({ type: type('window_end') as TimestampMillisecond, data: end, length: n }),
    utf8(b.caseId),
    utf8(b.entity),
    makeData({ type: MODALITY_TYPE, data: b.modality, length: n, dictionary: MODALITY_DICT }),
  ];
  if (includeText) children.push(utf8(b.texts ?? new Array<string>(n).fill('')));
  const vecType = type('vector') as FixedSizeList<Float32>;
  const featType = type('features') as List<Float32>;
  children.push(
    makeData({ type: vecType, length: n, nullCount: 0, child: makeData({ type: new Float32(), data: vectors, length: n * dim }) }),
    makeData({ type: featType, length: n, nullCount: 0, valueOffsets: b.featureOffsets, child: makeData({ type: new Float32(), data: b.features.subarray(0, featLen), length: featLen }) }),
    makeData({ type: new Bool(), data: abnormal, length: n }),
    utf8(b.rootCause),
    utf8(b.rootCauseService),
    utf8(b.faultType),
  );
  const struct = makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children });
  return new RecordBatch(schema, struct);
}

/**
 * The encode output: record batches of rows streamed into an atomic Arrow file (AtomicArrowFile:
 * temporary file renamed into place on close).
 */
export class ColumnarWriter {
  readonly schema: Schema;
  rows = 0;

  private constructor(
    private readonly file: AtomicArrowFile,
    private readonly opts: ColumnarOptions,
  ) {
    this.schema = file.schema;
  }

  get path(): string {
    return this.file.path;
  }

  get batches(): number {
    return this.file.batches;
  }

  /** The temporary file a writer for `path` fills before renaming it. */
  static tempPath(path: string): string {
    return AtomicArrowFile.tempPath(path);
  }

  static async open(path: string, opts: ColumnarOptions, tmp = ColumnarWriter.tempPath(path)): Promise<ColumnarWriter> {
    if (!Number.isInteger(opts.dim) || opts.dim < 1) throw new RangeError(`columnar: dim must be a positive integer, got ${opts.dim}`);
    const schema = columnarSchema(opts);
    const file = await AtomicArrowFile.open(path, schema, () => rowsToBatch(schema, [], opts.dim, !!opts.includeText), tmp);
    return new ColumnarWriter(file, opts);
  }

  /** Appends one record batch holding `rows` (nothing for an empty list). */
  async write(rows: readonly EncodedRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.file.write(rowsToBatch(this.schema, rows, this.opts.dim, !!this.opts.includeText));
    this.rows += rows.length;
  }

  /** Appends one record batch holding a block's rows and their vectors (`dim` floats per row). */
  async writeBlock(block: RowBlock, vectors: Float32Array): Promise<void> {
    if (block.length === 0) return;
    await this.file.write(blockToBatch(this.schema, block, vectors, this.opts.dim, !!this.opts.includeText));
    this.rows += block.length;
  }

  /** Writes the footer and moves the file into place. */
  close(): Promise<void> {
    return this.file.close();
  }

  /** Drops the temporary file; the destination is left as it was. */
  abort(): Promise<void> {
    return this.file.abort();
  }
}

/** Reads an encode output back (whole file in memory: for tests and small outputs). */
export async function readColumnar(path: string): Promise<Table> {
  const t = tableFromIPC(await readFile(path));
  const v = t.schema.metadata.get('runtimeslicer.format_version');
  if (t.schema.metadata.get('runtimeslicer.format') === 'runtimeslicer-views' && v !== undefined && !READABLE_VERSIONS.has(v)) {
    throw new Error(`${path}: encode output of format version ${v}; this version of runtimeslicer reads versions ${[...READABLE_VERSIONS].join(' and ')} (encode the data again)`);
  }
  return t;
}

/**
 * The evidence companion of an encode output (docs/views.md, "Evidence features"): one row
 * per (window, service) and per (window, service, pod) with evidence, its features in the
 * fixed layout named in the metadata (`runtimeslicer.evidence_layout`). A file of its own,
 * because its rows are per service and pod, not per (entity, modality) view.
 */
export const EVIDENCE_FILE_FORMAT_VERSION = 1;

/** `views.arrow` → `views.evidence.arrow` (any other name: `<name>.evidence.arrow`). */
export function evidencePath(out: string): string {
  return `${out.replace(/\.arrow$/i, '')}.evidence.arrow`;
}

export interface EvidenceRecord {
  windowIndex: number;
  windowStart: number;
  windowEnd: number;
  caseId?: string;
  /** the service */
  entity: string;
  /** the pod, for a pod's row; absent for the service's */
  pod?: string;
  features: Float32Array;
  items: string;
  abnormal: boolean;
  rootCause?: string;
  rootCauseService?: string;
  faultType?: string;
}

export function evidenceSchema(layout: readonly string[], metadata: Record<string, string | number | boolean | object> = {}): Schema {
  const fields: Field[] = [
    ...windowFields(),
    new Field('pod', new Utf8(), true),
    new Field('features', new FixedSizeList(layout.length, new Field('item', new Float32(), true)), false),
    new Field('items', new Utf8(), false),
    ...labelFields(),
  ];
  return new Schema(fields, formatMetadata('runtimeslicer-evidence', EVIDENCE_FILE_FORMAT_VERSION, { 'runtimeslicer.evidence_layout': JSON.stringify(layout), ...metadata }));
}

function evidenceBatch(schema: Schema, rows: readonly EvidenceRecord[], width: number): RecordBatch {
  const n = rows.length;
  const idx = new Int32Array(n);
  const start = new BigInt64Array(n);
  const end = new BigInt64Array(n);
  const abnormal = new Uint8Array((n + 7) >> 3);
  const feats = new Float32Array(n * width);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (r.features.length !== width) throw new Error(`evidence: row ${i} has ${r.features.length} features, expected ${width}`);
    idx[i] = r.windowIndex;
    start[i] = BigInt(Math.round(r.windowStart));
    end[i] = BigInt(Math.round(r.windowEnd));
    if (r.abnormal) abnormal[i >> 3] |= 1 << (i & 7);
    feats.set(r.features, i * width);
  }
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const children: Data[] = [
    makeData({ type: new Int32(), data: idx, length: n }),
    makeData({ type: type('window_start') as TimestampMillisecond, data: start, length: n }),
    makeData({ type: type('window_end') as TimestampMillisecond, data: end, length: n }),
    utf8(rows.map((r) => r.caseId)),
    utf8(rows.map((r) => r.entity)),
    utf8(rows.map((r) => r.pod)),
    makeData({ type: type('features') as FixedSizeList<Float32>, length: n, nullCount: 0, child: makeData({ type: new Float32(), data: feats, length: n * width }) }),
    utf8(rows.map((r) => r.items)),
    makeData({ type: new Bool(), data: abnormal, length: n }),
    utf8(rows.map((r) => r.rootCause)),
    utf8(rows.map((r) => r.rootCauseService)),
    utf8(rows.map((r) => r.faultType)),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/** The evidence companion, written batch by batch into an atomic file. */
export class EvidenceWriter {
  rows = 0;
  private constructor(
    private readonly file: AtomicArrowFile,
    private readonly width: number,
  ) {}

  get path(): string {
    return this.file.path;
  }

  static async open(path: string, layout: readonly string[], metadata?: Record<string, string | number | boolean | object>): Promise<EvidenceWriter> {
    const schema = evidenceSchema(layout, metadata);
    const file = await AtomicArrowFile.open(path, schema, () => evidenceBatch(schema, [], layout.length));
    return new EvidenceWriter(file, layout.length);
  }

  async write(rows: readonly EvidenceRecord[]): Promise<void> {
    if (!rows.length) return;
    await this.file.write(evidenceBatch(this.file.schema, rows, this.width));
    this.rows += rows.length;
  }

  close(): Promise<void> {
    return this.file.close();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}

/** Reads an evidence companion back (whole file in memory); refuses other files and versions. */
export async function readEvidence(path: string): Promise<{ table: Table; layout: string[] }> {
  const t = tableFromIPC(await readFile(path));
  const meta = t.schema.metadata;
  if (meta.get('runtimeslicer.format') !== 'runtimeslicer-evidence') throw new Error(`${path}: not an evidence file (no runtimeslicer-evidence metadata)`);
  const v = meta.get('runtimeslicer.format_version');
  if (v !== String(EVIDENCE_FILE_FORMAT_VERSION)) throw new Error(`${path}: evidence file of format version ${v}; this version of runtimeslicer reads version ${EVIDENCE_FILE_FORMAT_VERSION} (encode the data again)`);
  return { table: t, layout: JSON.parse(meta.get('runtimeslicer.evidence_layout') ?? '[]') as string[] };
}
