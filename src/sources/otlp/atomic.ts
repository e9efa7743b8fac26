/**
 * Files that appear whole or not at all: written under a temporary name in the same folder and
 * renamed on success, so a reader never sees half a file and a crash leaves the old one intact.
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { Gzip } from 'node:zlib';
import { sweepStaleTemps, tempPathFor as tempName } from '../io/index.js';

export { writeFileAtomic } from '../io/index.js';

/** An append-only text file (gzipped when asked) that gets its final name on commit(). */
export class AtomicFile {
  private handle: FileHandle | null = null;
  private gzip: Gzip | null = null;
  private gzipDone: Promise<void> | null = null;
  private readonly tmp: string;
  private pending: string[] = [];
  private pendingBytes = 0;
  bytes = 0;

  constructor(
    readonly path: string,
    private readonly compress = false,
    private readonly flushBytes = 1 << 20,
  ) {
    this.tmp = tempName(path);
  }

  /** Buffers text and writes it out in large pieces (many small writes are slow). */
  async append(text: string): Promise<void> {
    this.pending.push(text);
    this.pendingBytes += text.length;
    this.bytes += text.length;
    if (this.pendingBytes >= this.flushBytes) await this.flush();
  }

  private async flush(): Promise<void> {
    if (!this.gzip && !this.handle) await sweepStaleTemps(this.path);
    if (this.compress) {
      if (!this.gzip) {
        this.gzip = createGzip({ level: 1 });
        this.gzipDone = pipeline(this.gzip, createWriteStream(this.tmp));
        // a failed pipeline surfaces at commit(); keep it from being an unhandled rejection
        this.gzipDone.catch(() => undefined);
      }
    } else if (!this.handle) {
      this.handle = await open(this.tmp, 'w');
    }
    if (this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingBytes = 0;
    if (this.gzip) {
      // honour backpressure: the gzip stream's buffer is the only one allowed to grow
      if (!this.gzip.write(text)) await once(this.gzip, 'drain');
    } else {
      await this.handle!.write(text, null, 'utf8');
    }
  }

  async commit(): Promise<void> {
    await this.flush();
    if (this.gzip) {
      this.gzip.end();
      await this.gzipDone;
      this.gzip = null;
      this.handle = await open(this.tmp, 'r+'); // only to sync it
    }
    await this.handle!.sync();
    await this.handle!.close();
    this.handle = null;
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    if (this.gzip) {
      this.gzip.destroy();
      await this.gzipDone?.catch(() => undefined);
      this.gzip = null;
    }
    if (this.handle) await this.handle.close().catch(() => undefined);
    this.handle = null;
    this.pending = [];
    await rm(this.tmp, { force: true });
  }
}
