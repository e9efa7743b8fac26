import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { AsyncByteQueue, Bool, Field, Int32, RecordBatchFileWriter, TimestampMillisecond, Utf8, type RecordBatch, type Schema } from 'apache-arrow';
import { sweepStaleTemps, tempPathFor } from '../../sources/index.js';

type SinkInput = Parameters<AsyncByteQueue['write']>[0];

/**
 * Where the Arrow writer puts its bytes: kept until the file writer hands them to the file, so
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
 * An Arrow IPC file written batch by batch into a temporary file beside `path` and renamed to
 * `path` on `close`: a reader never sees a half-written file, and a failed run leaves no file
 * (and an older file at `path` untouched). Shared by the encode and embed outputs.
 */
export class AtomicArrowFile {
  batches = 0;
  private readonly writer = new RecordBatchFileWriter();
  private readonly sink = new CollectingSink();
  private closed = false;

  private constructor(
    readonly path: string,
    readonly schema: Schema,
    readonly tmp: string,
    private readonly fh: FileHandle,
    /** a batch with no rows: a file without rows still carries its schema and metadata */
    private readonly emptyBatch: () => RecordBatch,
  ) {
    this.writer.reset(this.sink, schema);
  }

  /** The temporary file a writer for `path` fills before renaming it. */
  static tempPath(path: string): string {
    return tempPathFor(path);
  }

  static async open(path: string, schema: Schema, emptyBatch: () => RecordBatch, tmp = AtomicArrowFile.tempPath(path)): Promise<AtomicArrowFile> {
    await sweepStaleTemps(path);
    return new AtomicArrowFile(path, schema, tmp, await open(tmp, 'w'), emptyBatch);
  }

  async write(batch: RecordBatch): Promise<void> {
    if (this.closed) throw new Error('arrow file: write after close');
    this.writer.write(batch);
    this.batches++;
    for (const c of this.sink.take()) await this.fh.write(c);
  }

  /** Writes the footer and moves the file into place. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.batches === 0) this.writer.write(this.emptyBatch());
      this.writer.finish();
      for (const c of this.sink.take()) await this.fh.write(c);
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

/** The leading columns every per-window file shares: the window, its case, the entity. */
export function windowFields(): Field[] {
  return [
    new Field('window_index', new Int32(), false),
    new Field('window_start', new TimestampMillisecond('UTC'), false),
    new Field('window_end', new TimestampMillisecond('UTC'), false),
    new Field('case_id', new Utf8(), true),
    new Field('entity', new Utf8(), false),
  ];
}

/** The trailing label columns every per-window file shares. */
export function labelFields(): Field[] {
  return [
    new Field('abnormal', new Bool(), false),
    new Field('root_cause', new Utf8(), true),
    new Field('root_cause_service', new Utf8(), true),
    new Field('fault_type', new Utf8(), true),
  ];
}

/**
 * Schema metadata: the format's name and version, then the caller's entries (keys without a
 * dot get the `runtimeslicer.` prefix; objects are stored as JSON).
 */
export function formatMetadata(format: string, version: number, metadata: Record<string, string | number | boolean | object> = {}): Map<string, string> {
  const meta = new Map<string, string>();
  meta.set('runtimeslicer.format', format);
  meta.set('runtimeslicer.format_version', String(version));
  for (const [k, v] of Object.entries(metadata)) meta.set(k.includes('.') ? k : `runtimeslicer.${k}`, typeof v === 'object' ? JSON.stringify(v) : String(v));
  return meta;
}
