import { readFile } from 'node:fs/promises';
import {
  DataType,
  Precision,
  TimeUnit,
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
import { MODALITIES, UserError, type Modality } from '../../telemetry/index.js';
import type { WindowSpec } from '../../windows/index.js';
import { SYSTEM as SYSTEM_ENTITY } from '../views/traces.js';
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
/** Versions the readers (`readViews`, `readColumnar`) read. */
const READABLE_VERSIONS = new Set(['1', '2']);
/** the modality dictionary's order (MODALITIES); a stored index is a position in it */
export const MODALITY_VALUES: readonly Modality[] = MODALITIES;

/**
 * The views file's identity: its format name and the schema metadata keys encode writes. One
 * list for the writer (`viewsMetadata`) and the reader (`viewsFileInfo`), so the format is
 * changed in one place.
 */
export const VIEWS_FORMAT = 'runtimeslicer-views';
export const VIEWS_META = {
  format: 'runtimeslicer.format',
  formatVersion: 'runtimeslicer.format_version',
  backbone: 'runtimeslicer.backbone',
  dim: 'runtimeslicer.dim',
  window: 'runtimeslicer.window',
  viewsVersion: 'runtimeslicer.views_version',
  columnarVersion: 'runtimeslicer.columnar_version',
  featureLayouts: 'runtimeslicer.feature_layouts',
  systemEntity: 'runtimeslicer.system_entity',
  entities: 'runtimeslicer.entities',
  dataset: 'runtimeslicer.dataset',
  trainWindows: 'runtimeslicer.train_windows',
  evidenceVersion: 'runtimeslicer.evidence_version',
} as const;

/** What encode records about how a views file was made (`viewsMetadata` writes it). */
export interface ViewsIdentity {
  backboneId: string;
  dim: number;
  window: WindowSpec;
  /** VIEWS_FORMAT_VERSION of the views that rendered the rows */
  viewsVersion: number;
  featureLayouts: Record<Modality, readonly string[]>;
  /** the file has per-service rows */
  entities: boolean;
  dataset: { format: string; root: string };
  /** windows the views' baselines learnt from */
  trainWindows: number;
  /** the evidence companion's version, when the file has one */
  evidenceVersion?: number;
}

/**
 * The schema metadata of a views file (ColumnarOptions.metadata), keys in a fixed order (the
 * order is part of the file's bytes).
 */
export function viewsMetadata(id: ViewsIdentity): Record<string, string | number | boolean | object> {
  const m: Record<string, string | number | boolean | object> = {
    [VIEWS_META.backbone]: id.backboneId,
    [VIEWS_META.dim]: id.dim,
    [VIEWS_META.window]: { lengthMs: id.window.lengthMs, strideMs: id.window.strideMs },
    [VIEWS_META.viewsVersion]: id.viewsVersion,
    [VIEWS_META.columnarVersion]: COLUMNAR_FORMAT_VERSION,
    [VIEWS_META.featureLayouts]: id.featureLayouts,
    // the system's rows' entity: a constant of the format, recorded for other readers
    [VIEWS_META.systemEntity]: SYSTEM_ENTITY,
    [VIEWS_META.entities]: id.entities,
    [VIEWS_META.dataset]: { format: id.dataset.format, root: id.dataset.root },
    [VIEWS_META.trainWindows]: id.trainWindows,
  };
  if (id.evidenceVersion !== undefined) m[VIEWS_META.evidenceVersion] = id.evidenceVersion;
  return m;
}

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
  return new Schema(fields, formatMetadata(VIEWS_FORMAT, COLUMNAR_FORMAT_VERSION, opts.metadata));
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

/**
 * A views file as read: its identity. Lenient where older files may lack an entry (the
 * fallbacks below), strict where the rows could not be read right (dim, columns, version).
 */
export interface ViewsFileInfo {
  path: string;
  formatVersion: number;
  backboneId: string;
  /** the `vector` column's list size */
  dim: number;
  /** NaN where the file does not say */
  viewsVersion: number;
  featureLayouts: Record<Modality, readonly string[]>;
  window?: WindowSpec;
  entities: boolean;
  /** The dataset's format and root, as recorded by encode. */
  dataset?: { format?: string; root?: string };
  /** the file has the `text` column */
  hasText: boolean;
}

/**
 * The columns the reader walks, with the Arrow type each must have: the walk views their
 * buffers as the typed arrays these types store (Int32, BigInt64 ms, Int8 codes, Float32).
 */
const isFloat32 = (t: DataType) => DataType.isFloat(t) && t.precision === Precision.SINGLE;
const isMs = (t: DataType) => DataType.isTimestamp(t) && t.unit === TimeUnit.MILLISECOND;
const REQUIRED_COLUMNS: readonly [string, (t: DataType) => boolean][] = [
  ['window_index', (t) => DataType.isInt(t) && t.bitWidth === 32 && t.isSigned],
  ['window_start', isMs],
  ['window_end', isMs],
  ['case_id', (t) => DataType.isUtf8(t)],
  ['entity', (t) => DataType.isUtf8(t)],
  ['modality', (t) => DataType.isDictionary(t) && DataType.isUtf8(t.dictionary) && t.indices.bitWidth === 8 && t.indices.isSigned],
  ['vector', (t) => DataType.isFixedSizeList(t) && isFloat32(t.children[0].type)],
  ['features', (t) => DataType.isList(t) && isFloat32(t.children[0].type)],
  ['abnormal', (t) => DataType.isBool(t)],
  ['root_cause', (t) => DataType.isUtf8(t)],
  ['root_cause_service', (t) => DataType.isUtf8(t)],
  ['fault_type', (t) => DataType.isUtf8(t)],
];

function metaJSON<T>(meta: Map<string, string>, key: string): T | undefined {
  const v = meta.get(key);
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v) as T;
  } catch {
    return undefined;
  }
}

function versionError(path: string, v: string): UserError {
  return new UserError(`${path}: encode output of format version ${v}; this version of runtimeslicer reads versions ${[...READABLE_VERSIONS].join(' and ')} (encode the data again)`);
}

/**
 * A views file's identity from its schema: refuses another format, an unreadable version, a
 * missing or mistyped column, and a `dim` entry that disagrees with the vector column.
 */
export function viewsFileInfo(schema: Schema, path: string): ViewsFileInfo {
  const meta = schema.metadata;
  if (meta.get(VIEWS_META.format) !== VIEWS_FORMAT) throw new UserError(`${path}: not an encode output (no ${VIEWS_FORMAT} metadata)`);
  const v = meta.get(VIEWS_META.formatVersion);
  if (v !== undefined && !READABLE_VERSIONS.has(v)) throw versionError(path, v);
  for (const [name, ok] of REQUIRED_COLUMNS) {
    const f = schema.fields.find((x) => x.name === name);
    if (!f) throw new UserError(`${path}: column ${name} is missing`);
    if (!ok(f.type)) throw new UserError(`${path}: column ${name} has type ${String(f.type)}, not that of an encode output`);
  }
  const text = schema.fields.find((f) => f.name === 'text');
  if (text && !DataType.isUtf8(text.type)) throw new UserError(`${path}: column text has type ${String(text.type)}, not that of an encode output`);
  const dim = (schema.fields.find((f) => f.name === 'vector')!.type as FixedSizeList).listSize;
  const said = meta.get(VIEWS_META.dim);
  if (said !== undefined && Number(said) !== dim) throw new UserError(`${path}: metadata says dimension ${said}, the vector column holds ${dim}`);
  return {
    path,
    formatVersion: Number(v ?? 1),
    backboneId: meta.get(VIEWS_META.backbone) ?? '',
    dim,
    viewsVersion: Number(meta.get(VIEWS_META.viewsVersion)),
    featureLayouts: metaJSON<Record<Modality, string[]>>(meta, VIEWS_META.featureLayouts) ?? { metrics: [], traces: [], logs: [] },
    window: metaJSON<WindowSpec>(meta, VIEWS_META.window),
    entities: meta.get(VIEWS_META.entities) === 'true',
    dataset: metaJSON<{ format?: string; root?: string }>(meta, VIEWS_META.dataset),
    hasText: text !== undefined,
  };
}

/**
 * One record batch of a views file, column by column: typed-array views into the file's
 * buffers (no copy, no object per row) and accessors that decode a string only when asked.
 * The arrays are valid while the file's bytes are (do not keep them past the walk if the
 * caller wants the memory back; copy what it keeps).
 */
export interface ViewsBatch {
  readonly length: number;
  readonly windowIndex: Int32Array;
  /** ms since the epoch, UTC */
  readonly windowStart: Float64Array;
  readonly windowEnd: Float64Array;
  /** index into MODALITY_VALUES */
  readonly modality: Int8Array;
  /** 1 where the row's window is labelled abnormal */
  readonly abnormal: Uint8Array;
  /** row i's vector is vectors[i * dim .. (i + 1) * dim) */
  readonly dim: number;
  readonly vectors: Float32Array;
  /** row i's features are features[featureOffsets[i] .. featureOffsets[i + 1]) */
  readonly featureOffsets: Int32Array;
  readonly features: Float32Array;
  /** the row is the system's (entity SYSTEM_ENTITY), compared without decoding the entity */
  isSystem(i: number): boolean;
  entity(i: number): string;
  caseId(i: number): string | undefined;
  rootCause(i: number): string | undefined;
  rootCauseService(i: number): string | undefined;
  faultType(i: number): string | undefined;
  /** the view's text ('' where the file has no `text` column) */
  text(i: number): string;
}

/** The system's rows (as opposed to a service's): their entity's bytes. */
const SYSTEM_BYTES = Buffer.from(SYSTEM_ENTITY, 'utf8');

/** Row i's string of a utf8 column (undefined where null), decoded on request. */
function strings(d: Data): (i: number) => string | undefined {
  const off = d.offset;
  const offsets = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bitmap = d.nullCount !== 0 ? d.nullBitmap : undefined;
  return (i) => {
    const k = off + i;
    if (bitmap && bitmap.length > 0 && !(bitmap[k >> 3] & (1 << (k & 7)))) return undefined;
    return buf.toString('utf8', offsets[k], offsets[k + 1]);
  };
}

function timestamps(d: Data, n: number): Float64Array {
  const v = d.values as BigInt64Array;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Number(v[d.offset + i]);
  return out;
}

/** The batch's modality indices mapped from the file's dictionary onto MODALITY_VALUES. */
function modalities(d: Data, n: number, path: string): Int8Array {
  const codes = (d.values as Int8Array).subarray(d.offset, d.offset + n);
  const dict = (d.dictionary?.toArray() ?? []) as (string | null)[];
  const map = dict.map((m) => MODALITY_VALUES.indexOf(m as Modality));
  // a file written by ColumnarWriter has exactly MODALITY_VALUES: its codes are used as they are
  if (map.length === MODALITY_VALUES.length && map.every((x, k) => x === k)) return codes;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const m = map[codes[i]];
    if (m === undefined || m < 0) throw new UserError(`${path}: modality ${JSON.stringify(dict[codes[i]] ?? codes[i])} is not one of ${MODALITY_VALUES.join(', ')}`);
    out[i] = m;
  }
  return out;
}

function batchView(batch: RecordBatch, info: ViewsFileInfo): ViewsBatch {
  const n = batch.numRows;
  const col = (name: string): Data => batch.getChildAt(batch.schema.fields.findIndex((f) => f.name === name))!.data[0];
  const idx = col('window_index');
  const vec = col('vector');
  const vecChild = vec.children[0];
  const vecStart = vecChild.offset + vec.offset * info.dim;
  const feat = col('features');
  const featChild = feat.children[0];
  const abn = col('abnormal');
  const abnormal = new Uint8Array(n);
  const abnBits = abn.values as Uint8Array;
  for (let i = 0; i < n; i++) {
    const k = abn.offset + i;
    abnormal[i] = (abnBits[k >> 3] >> (k & 7)) & 1;
  }
  const ent = col('entity');
  const entOffsets = ent.valueOffsets as Int32Array;
  const entBytes = ent.values as Uint8Array;
  const entity = strings(ent);
  const text = info.hasText ? strings(col('text')) : undefined;
  return {
    length: n,
    windowIndex: (idx.values as Int32Array).subarray(idx.offset, idx.offset + n),
    windowStart: timestamps(col('window_start'), n),
    windowEnd: timestamps(col('window_end'), n),
    modality: modalities(col('modality'), n, info.path),
    abnormal,
    dim: info.dim,
    vectors: (vecChild.values as Float32Array).subarray(vecStart, vecStart + n * info.dim),
    featureOffsets: (feat.valueOffsets as Int32Array).subarray(feat.offset, feat.offset + n + 1),
    features: (featChild.values as Float32Array).subarray(featChild.offset),
    isSystem: (i) => {
      const s = entOffsets[ent.offset + i];
      if (entOffsets[ent.offset + i + 1] - s !== SYSTEM_BYTES.length) return false;
      for (let k = 0; k < SYSTEM_BYTES.length; k++) if (entBytes[s + k] !== SYSTEM_BYTES[k]) return false;
      return true;
    },
    entity: (i) => entity(i) ?? '',
    caseId: strings(col('case_id')),
    rootCause: strings(col('root_cause')),
    rootCauseService: strings(col('root_cause_service')),
    faultType: strings(col('fault_type')),
    text: (i) => text?.(i) ?? '',
  };
}

/** The first and last bytes of an Arrow IPC file. */
const ARROW_MAGIC = 'ARROW1';

/** A views file opened for reading: its identity and a walk over its batches, in file order. */
export interface ViewsFile {
  info: ViewsFileInfo;
  batches(): IterableIterator<ViewsBatch>;
}

/**
 * Opens an encode output (the whole file in memory, as its vectors are read anyway) and checks
 * its identity (`viewsFileInfo`). Errors are UserErrors naming the file: not an Arrow IPC
 * file (or a truncated one), not a views file, a version this reader does not know, a missing
 * column.
 */
export async function readViews(path: string): Promise<ViewsFile> {
  const unreadable = (why: string) => new UserError(`${path}: not a readable encode output (Arrow IPC file): ${why}`);
  let table: Table;
  try {
    const bytes = await readFile(path);
    // an IPC file opens and ends with the magic: without the end the footer is gone (a copy
    // cut short), which arrow reports only as an internal null dereference
    if (bytes.length >= 6 && bytes.toString('latin1', 0, 6) === ARROW_MAGIC && (bytes.length < 12 || bytes.toString('latin1', bytes.length - 6) !== ARROW_MAGIC)) {
      throw new Error('the file is truncated (no Arrow footer)');
    }
    table = tableFromIPC(bytes);
  } catch (e) {
    throw unreadable((e as Error).message.split('\n')[0]);
  }
  const info = viewsFileInfo(table.schema, path);
  return {
    info,
    *batches() {
      for (const b of table.batches) yield batchView(b, info);
    },
  };
}

/** Reads an encode output back as an Arrow table (whole file in memory: for tests and small outputs). */
export async function readColumnar(path: string): Promise<Table> {
  const t = tableFromIPC(await readFile(path));
  const v = t.schema.metadata.get(VIEWS_META.formatVersion);
  if (t.schema.metadata.get(VIEWS_META.format) === VIEWS_FORMAT && v !== undefined && !READABLE_VERSIONS.has(v)) throw versionError(path, v);
  return t;
}
/**
 * The evidence companion of an encode output (docs/views.md, "Evidence features"): one row
 * per (window, service) and per (window, service, pod) with evidence, its features in the
 * fixed layout named in the metadata (`runtimeslicer.evidence_layout`). A file of its own,
 * because its rows are per service and pod, not per (entity, modality) view.
 */
export const EVIDENCE_FILE_FORMAT_VERSION = 1;
const EVIDENCE_FORMAT = 'runtimeslicer-evidence';
/** the metadata entry naming the features' layout (JSON list) */
const EVIDENCE_LAYOUT_KEY = 'runtimeslicer.evidence_layout';

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
  return new Schema(fields, formatMetadata(EVIDENCE_FORMAT, EVIDENCE_FILE_FORMAT_VERSION, { [EVIDENCE_LAYOUT_KEY]: JSON.stringify(layout), ...metadata }));
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
  if (meta.get(VIEWS_META.format) !== EVIDENCE_FORMAT) throw new Error(`${path}: not an evidence file (no ${EVIDENCE_FORMAT} metadata)`);
  const v = meta.get(VIEWS_META.formatVersion);
  if (v !== String(EVIDENCE_FILE_FORMAT_VERSION)) throw new Error(`${path}: evidence file of format version ${v}; this version of runtimeslicer reads version ${EVIDENCE_FILE_FORMAT_VERSION} (encode the data again)`);
  return { table: t, layout: JSON.parse(meta.get(EVIDENCE_LAYOUT_KEY) ?? '[]') as string[] };
}
