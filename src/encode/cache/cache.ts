import { createHash, type Hash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { endianness, homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../telemetry/index.js';
import { embedDistinct, type Backbone } from '../backbones/index.js';
import { PackLock, describeFsError, isUnwritable, mkdirs } from './lock.js';
import { Pack } from './pack.js';

/**
 * Content-addressed embedding cache on disk: key = sha256(backbone id + '\0' + text).
 *
 * Layout under `dir`:
 *   v1/<first 32 hex of sha256(backbone id)>/id.txt      the backbone id, for people
 *   v1/<first 32 hex of sha256(backbone id)>/rows.pack   append-only records (see pack.ts)
 *
 * Each process keeps, per backbone, a hash→offset index of the pack in a Map and reads rows
 * with positioned reads; before embedding misses it re-reads the pack's new tail, so rows
 * appended meanwhile by other processes (or earlier calls) are hits. Appends hold
 * `rows.pack.lock` (see lock.ts) around "re-read the tail, drop keys now present, append", so
 * two processes embedding the same texts at once store each row once.
 *
 * A folder that cannot be written (read-only file system, no permission, disk full) is not
 * an error: the cache warns once (`onWarning`, default stderr) and the run goes on without
 * storing rows, since the vectors are the same either way. Backbones with `cacheable: false`
 * (`hash`) bypass the cache in `cachedEmbed`.
 */

export const CACHE_LAYOUT_VERSION = 'v1';

export interface EmbeddingCacheOptions {
  /** Default: $RUNTIMESLICER_CACHE/embeddings, else ~/.cache/runtimeslicer/embeddings. */
  dir?: string;
  /** Told once when the folder cannot be written and the cache turns itself off. Default: a `warning:` line on stderr. */
  onWarning?: (message: string) => void;
}

export interface CacheSize {
  /** distinct (backbone, text) rows */
  entries: number;
  /** bytes on disk */
  bytes: number;
}

export function defaultCacheDir(): string {
  const root = process.env.RUNTIMESLICER_CACHE;
  if (root) return join(root, 'embeddings');
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'runtimeslicer', 'embeddings');
}

export class EmbeddingCache {
  readonly dir: string;
  private readonly packs = new Map<string, Pack>();
  private readonly onWarning: (message: string) => void;
  /** Why writes are off (the folder is not writable); undefined while they work. */
  private writeOff: string | undefined;

  constructor(options: EmbeddingCacheOptions = {}) {
    // Rows are stored as the machine's float32 bytes; every platform Node runs on is LE.
    if (endianness() !== 'LE') throw new Error('embedding cache: only little-endian machines are supported');
    this.dir = options.dir ?? defaultCacheDir();
    this.onWarning = options.onWarning ?? ((m) => process.stderr.write(`warning: ${m}\n`));
  }

  /** Undefined while rows are stored; else why not (the folder could not be written). */
  get disabledReason(): string | undefined {
    return this.writeOff;
  }

  /** Hex sha256(id + '\0' + text) for each text (the id's part hashed once). */
  keys(backboneId: string, texts: string[]): string[] {
    const prefix: Hash = createHash('sha256').update(backboneId).update('\0');
    return texts.map((t) => prefix.copy().update(t).digest('hex'));
  }

  /** Cached rows by position; undefined where missing. Sees other processes' appends. */
  get(backboneId: string, texts: string[]): (Float32Array | undefined)[] {
    return this.lookup(this.pack(backboneId), this.keys(backboneId, texts));
  }

  /** Stores rows (already-present keys are skipped). */
  put(backboneId: string, texts: string[], rows: Float32Array[]): void {
    if (texts.length !== rows.length) throw new Error(`embedding cache: ${texts.length} texts but ${rows.length} rows`);
    this.appendTo(this.pack(backboneId), backboneId, this.keys(backboneId, texts), rows);
  }

  /** @internal used by cachedEmbed, which already has the keys. */
  lookup(pack: Pack, hexKeys: string[]): (Float32Array | undefined)[] {
    pack.refresh();
    const out: (Float32Array | undefined)[] = new Array<Float32Array | undefined>(hexKeys.length).fill(undefined);
    const at: number[] = [];
    const offsets: number[] = [];
    for (let i = 0; i < hexKeys.length; i++) {
      const off = pack.index.get(hexKeys[i]);
      if (off !== undefined) {
        at.push(i);
        offsets.push(off);
      }
    }
    if (offsets.length > 0) {
      const rows = pack.read(offsets);
      for (let k = 0; k < at.length; k++) out[at[k]] = rows[k];
    }
    return out;
  }

  /** @internal Stores rows whose keys the pack does not hold yet, under the pack's lock. */
  appendTo(pack: Pack, backboneId: string, keys: string[], rows: Float32Array[]): void {
    if (rows.length === 0 || this.writeOff !== undefined) return;
    const dim = pack.dim ?? rows[0].length;
    for (const r of rows) {
      if (r.length !== dim) throw new Error(`embedding cache: backbone ${backboneId} gave a ${r.length}-d row, the cache holds ${dim}-d rows`);
    }
    try {
      this.ensureDir(pack, backboneId);
      const lock = PackLock.acquire(`${pack.path}.lock`);
      try {
        // Another process may have stored some of these rows since our last look.
        pack.refresh();
        const newKeys: Buffer[] = [];
        const newRows: Float32Array[] = [];
        const seen = new Set<string>();
        for (let i = 0; i < keys.length; i++) {
          if (pack.index.has(keys[i]) || seen.has(keys[i])) continue;
          seen.add(keys[i]);
          newKeys.push(Buffer.from(keys[i], 'hex'));
          newRows.push(rows[i]);
        }
        if (pack.dim !== undefined && pack.dim !== dim) {
          throw new Error(`embedding cache: backbone ${backboneId} gave a ${dim}-d row, the cache holds ${pack.dim}-d rows`);
        }
        pack.append(newKeys, newRows);
      } finally {
        lock.release();
      }
    } catch (e) {
      if (!isUnwritable(e)) throw e;
      this.writeOff = describeFsError(e);
      this.onWarning(`embedding cache folder ${this.dir} is not writable (${this.writeOff}); going on without storing vectors (use --cache-dir DIR or --no-cache)`);
    }
  }

  /** @internal the pack of one backbone (created on first write). */
  pack(backboneId: string): Pack {
    let p = this.packs.get(backboneId);
    if (!p) {
      p = new Pack(join(this.backboneDir(backboneId), 'rows.pack'));
      this.packs.set(backboneId, p);
    }
    return p;
  }

  private backboneDir(backboneId: string): string {
    return join(this.dir, CACHE_LAYOUT_VERSION, createHash('sha256').update(backboneId).digest('hex').slice(0, 32));
  }

  private ensureDir(pack: Pack, backboneId: string): void {
    const d = this.backboneDir(backboneId);
    if (existsSync(pack.path)) return;
    mkdirs(d);
    const idFile = join(d, 'id.txt');
    if (!existsSync(idFile)) {
      // tmp + rename: a concurrent reader sees the whole id or none.
      const tmp = `${idFile}.${process.pid}.${Date.now()}.tmp`;
      writeFileSync(tmp, backboneId + '\n');
      renameSync(tmp, idFile);
    }
  }

  /** Entries and bytes of every backbone in the cache folder. */
  size(): CacheSize {
    let entries = 0;
    let bytes = 0;
    const root = join(this.dir, CACHE_LAYOUT_VERSION);
    for (const name of safeReaddir(root)) {
      const d = join(root, name);
      for (const f of safeReaddir(d)) bytes += safeSize(join(d, f));
      const pack = this.packForDir(d);
      if (!pack) continue;
      pack.refresh();
      entries += pack.index.size;
    }
    return { entries, bytes };
  }

  /** One backbone's pack, as this process reads it now. */
  stats(backboneId: string): { entries: number; records: number; skippedBytes: number; dim: number | undefined; bytes: number } {
    const pack = this.pack(backboneId);
    pack.refresh();
    return { entries: pack.index.size, ...pack.stats, dim: pack.dim, bytes: pack.fileBytes() };
  }

  /** Backbone ids present in the cache, as their id.txt says. */
  backbones(): string[] {
    const root = join(this.dir, CACHE_LAYOUT_VERSION);
    const ids: string[] = [];
    for (const name of safeReaddir(root)) {
      try {
        ids.push(readFileSync(join(root, name, 'id.txt'), 'utf8').replace(/\n$/, ''));
      } catch {
        // a folder being created right now
      }
    }
    return ids.sort();
  }

  /** Removes every cached row (of all backbones), or of one backbone. A UserError when the folder cannot be written. */
  clear(backboneId?: string): void {
    let target: string;
    if (backboneId !== undefined) {
      this.packs.get(backboneId)?.close();
      this.packs.delete(backboneId);
      target = this.backboneDir(backboneId);
    } else {
      this.close();
      target = join(this.dir, CACHE_LAYOUT_VERSION);
    }
    try {
      rmSync(target, { recursive: true, force: true });
    } catch (e) {
      if (!isUnwritable(e)) throw e;
      throw new UserError(`cannot clear embedding cache folder ${this.dir}: ${describeFsError(e)}`);
    }
  }

  close(): void {
    for (const p of this.packs.values()) p.close();
    this.packs.clear();
  }

  private packForDir(d: string): Pack | undefined {
    let id: string;
    try {
      id = readFileSync(join(d, 'id.txt'), 'utf8').replace(/\n$/, '');
    } catch {
      return undefined;
    }
    return this.pack(id);
  }
}

function safeReaddir(d: string): string[] {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
}

function safeSize(f: string): number {
  try {
    return statSync(f).size;
  } catch {
    return 0;
  }
}

export interface CachedEmbedOptions {
  /** Misses per backbone.embed call (each stored before the next). Default 256. */
  batchSize?: number;
  /** Texts whose rows are known so far (hits first, then each embedded batch). */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Rows for `texts` in order: cached rows are read, misses are embedded once each (duplicates
 * among them share one embed) in batches, and stored as each batch completes, so an
 * interrupted run keeps what it paid for.
 */
export async function cachedEmbed(
  backbone: Backbone,
  texts: string[],
  cache: EmbeddingCache,
  options: CachedEmbedOptions = {},
): Promise<Float32Array[]> {
  const batchSize = options.batchSize ?? 256;
  if (backbone.cacheable === false) return embedOnce(backbone, texts, options.onProgress);
  const hex = cache.keys(backbone.id, texts);
  const pack = cache.pack(backbone.id);
  const found = cache.lookup(pack, hex);
  const out = found as Float32Array[];
  // Distinct misses, in first-seen order, with every position that wants each.
  const missAt = new Map<string, number[]>();
  for (let i = 0; i < texts.length; i++) {
    if (found[i] !== undefined) continue;
    const list = missAt.get(hex[i]);
    if (list) list.push(i);
    else missAt.set(hex[i], [i]);
  }
  let done = texts.length - [...missAt.values()].reduce((s, l) => s + l.length, 0);
  options.onProgress?.(done, texts.length);
  const misses = [...missAt.values()];
  for (let s = 0; s < misses.length; s += batchSize) {
    const group = misses.slice(s, s + batchSize);
    const rows = await backbone.embed(group.map((positions) => texts[positions[0]]));
    if (rows.length !== group.length) throw new Error(`backbone ${backbone.id} returned ${rows.length} rows for ${group.length} texts`);
    cache.appendTo(
      pack,
      backbone.id,
      group.map((positions) => hex[positions[0]]),
      rows,
    );
    for (let g = 0; g < group.length; g++) {
      // Repeats of a text get their own copy: callers may normalise or scale rows in place.
      group[g].forEach((i, k) => (out[i] = k === 0 ? rows[g] : rows[g].slice()));
      done += group[g].length;
    }
    options.onProgress?.(done, texts.length);
  }
  return out;
}

/** Rows for `texts` without a cache: each distinct text embedded once, repeats get copies. */
async function embedOnce(backbone: Backbone, texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
  const { rows, at } = await embedDistinct(backbone, texts);
  const used = new Uint8Array(rows.length);
  const out = at.map((i) => (used[i]++ === 0 ? rows[i] : rows[i].slice()));
  onProgress?.(texts.length, texts.length);
  return out;
}
