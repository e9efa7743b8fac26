/**
 * The `embed` output: one Arrow IPC file, one row per (window, entity, kind) embedding, in the
 * conventions of the encode output (formats/views.ts); docs/training.md lists the columns.
 */
import { stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { Bool, Dictionary, Field, Float32, Int32, Int8, List, RecordBatch, Schema, Struct, TimestampMillisecond, Utf8, makeData, vectorFromArray, type Data } from 'apache-arrow';
import { UserError } from '../../telemetry/index.js';
import { AtomicArrowFile, formatMetadata, labelFields, windowFields } from './arrow-file.js';

/** Bumped when a column of the embeddings file changes meaning or type. */
export const EMBEDDINGS_FORMAT_VERSION = 1;
export const EMBEDDING_KINDS = ['state', 'metrics', 'traces', 'logs'] as const;
export type EmbeddingKind = (typeof EMBEDDING_KINDS)[number];

/** What the embeddings file reads of a window (the model's EncodedWindow has these fields). */
export interface EmbeddedWindow {
  window: { index: number; start: number; end: number };
  caseId?: string;
  label: { abnormal: boolean; rootCause?: string; rootCauseService?: string; type?: string };
}

export interface EmbeddingRow {
  window: EmbeddedWindow;
  /** SYSTEM_ENTITY or a service */
  entity: string;
  kind: EmbeddingKind;
  vector: Float32Array;
}

const KIND_DICT = vectorFromArray(EMBEDDING_KINDS as unknown as string[], new Utf8());
const KIND_TYPE = new Dictionary(new Utf8(), new Int8(), 1);
const KIND_INDEX: Record<EmbeddingKind, number> = { state: 0, metrics: 1, traces: 2, logs: 3 };

export function embeddingsSchema(metadata: Record<string, string | number | boolean | object> = {}): Schema {
  return new Schema(
    [...windowFields(), new Field('kind', KIND_TYPE, false), new Field('vector', new List(new Field('item', new Float32(), false)), false), ...labelFields()],
    formatMetadata('runtimeslicer-embeddings', EMBEDDINGS_FORMAT_VERSION, metadata),
  );
}

function utf8Data(values: (string | undefined)[]): Data<Utf8> {
  return vectorFromArray(
    values.map((v) => v ?? null),
    new Utf8(),
  ).data[0];
}

function embeddingBatch(schema: Schema, rows: readonly EmbeddingRow[]): RecordBatch {
  const n = rows.length;
  const idx = new Int32Array(n);
  const start = new BigInt64Array(n);
  const end = new BigInt64Array(n);
  const kind = new Int8Array(n);
  const offsets = new Int32Array(n + 1);
  let len = 0;
  for (const r of rows) len += r.vector.length;
  const values = new Float32Array(len);
  const abnormal = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    idx[i] = r.window.window.index;
    start[i] = BigInt(Math.round(r.window.window.start));
    end[i] = BigInt(Math.round(r.window.window.end));
    kind[i] = KIND_INDEX[r.kind];
    values.set(r.vector, offsets[i]);
    offsets[i + 1] = offsets[i] + r.vector.length;
    if (r.window.label.abnormal) abnormal[i >> 3] |= 1 << (i & 7);
  }
  const type = (name: string) => schema.fields.find((f) => f.name === name)!.type;
  const children: Data[] = [
    makeData({ type: new Int32(), data: idx, length: n }),
    makeData({ type: type('window_start') as TimestampMillisecond, data: start, length: n }),
    makeData({ type: type('window_end') as TimestampMillisecond, data: end, length: n }),
    utf8Data(rows.map((r) => r.window.caseId)),
    utf8Data(rows.map((r) => r.entity)),
    makeData({ type: KIND_TYPE, data: kind, length: n, dictionary: KIND_DICT }),
    makeData({ type: type('vector') as List<Float32>, length: n, nullCount: 0, valueOffsets: offsets, child: makeData({ type: new Float32(), data: values, length: len }) }),
    makeData({ type: new Bool(), data: abnormal, length: n }),
    utf8Data(rows.map((r) => r.window.label.rootCause)),
    utf8Data(rows.map((r) => r.window.label.rootCauseService)),
    utf8Data(rows.map((r) => r.window.label.type)),
  ];
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}

/**
 * Streams embedding rows into an Arrow IPC file (temporary file renamed into place on close).
 * Same conventions as the encode output; `kind` is 'state' or a modality, `vector` a list.
 */
export class EmbeddingsWriter {
  rows = 0;

  private constructor(private readonly file: AtomicArrowFile) {}

  get path(): string {
    return this.file.path;
  }

  get schema(): Schema {
    return this.file.schema;
  }

  static async open(path: string, metadata: Record<string, string | number | boolean | object> = {}): Promise<EmbeddingsWriter> {
    const dir = dirname(resolvePath(path));
    const st = await stat(dir).catch(() => undefined);
    if (!st?.isDirectory()) throw new UserError(`output folder does not exist: ${dir} (expected an existing folder for ${path})`);
    const schema = embeddingsSchema(metadata);
    return new EmbeddingsWriter(await AtomicArrowFile.open(path, schema, () => embeddingBatch(schema, [])));
  }

  async write(rows: readonly EmbeddingRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.file.write(embeddingBatch(this.schema, rows));
    this.rows += rows.length;
  }

  close(): Promise<void> {
    return this.file.close();
  }

  abort(): Promise<void> {
    return this.file.abort();
  }
}
