import { createReadStream, statSync } from 'node:fs';
import { constants as zlibConstants, createGunzip } from 'node:zlib';
import { isAscii } from 'node:buffer';
import type { Readable } from 'node:stream';

export interface ReadOptions {
  /** Bytes per chunk handed on (after gunzip); smaller suits reading only a file's head. */
  chunkSize?: number;
  /**
   * Called when the file cannot be read to its end (truncated or corrupt gzip, not gzip at
   * all, I/O error). Every whole line read before the damage has been yielded; the partial
   * line at the point of damage is dropped (a cut number would be misread). Without it the
   * error is thrown, as `ReadError` naming the file and how far reading got.
   */
  onError?: (damage: ReadDamage) => void;
}

/** How far a file was read before it failed. */
export interface ReadDamage {
  path: string;
  /** whole lines yielded before the damage */
  linesRead: number;
  /** bytes of (decompressed) text in those lines */
  bytesRead: number;
  /** one line: what went wrong, in words ("truncated gzip", "not gzip", ...) */
  reason: string;
  cause: unknown;
}

/** A file that could not be read to its end; the message names the file and how far it got. */
export class ReadError extends Error {
  constructor(readonly damage: ReadDamage) {
    super(describeDamage(damage));
    this.name = 'ReadError';
  }
}

/** `<path>: <reason> after N line(s) (B bytes)`. */
export function describeDamage(d: ReadDamage): string {
  return `${d.path}: ${d.reason} after ${d.linesRead} line(s) (${d.bytesRead} bytes)`;
}

function isEmptyFile(path: string): boolean {
  try {
    return statSync(path).size === 0;
  } catch {
    return false;
  }
}

/** zlib and fs errors in words a user can act on; zlib's own messages name no file. */
export function readErrorReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : String(err);
  switch (code) {
    case 'Z_BUF_ERROR':
      return 'truncated gzip (unexpected end of file)';
    case 'Z_DATA_ERROR':
      if (/header check/i.test(msg)) return 'not gzip data (incorrect header check)';
      if (/data check|crc/i.test(msg)) return 'gzip checksum (CRC) error';
      return `corrupt gzip data (${msg})`;
    case 'ENOENT':
      return 'file not found';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code ? `${msg} (${code})` : msg;
  }
}

/** Opens a file as a byte stream, gunzipping when the name ends in .gz. */
export function openBytes(path: string, opts: ReadOptions & { recover?: boolean } = {}): Readable {
  const chunk = opts.chunkSize ?? 1 << 18;
  const raw = createReadStream(path, { highWaterMark: opts.chunkSize ? Math.max(chunk, 1 << 16) : 1 << 20 });
  if (!path.endsWith('.gz')) return raw;
  // `recover`: a truncated member ends the output instead of failing (see lineBatches).
  // Small output chunks there too: gunzip drops the chunk it is filling when it fails.
  const gz = createGunzip(opts.recover ? { chunkSize: 1024, finishFlush: zlibConstants.Z_SYNC_FLUSH } : { chunkSize: chunk });
  raw.on('error', (e) => gz.destroy(e));
  return raw.pipe(gz);
}

/**
 * Text is decoded in blocks of about this many bytes, cut at line ends. Small blocks keep each
 * string out of V8's large-object space, and a block of plain ASCII (the usual case in
 * telemetry) becomes a one-byte string; only a block holding other characters is decoded as
 * UTF-8, so one non-ASCII line does not widen a whole chunk to two bytes per character.
 */
const DECODE_BLOCK = 32 * 1024;

function pushLines(text: string, into: string[]): void {
  let from = 0;
  for (;;) {
    const nl = text.indexOf('\n', from);
    const end = nl < 0 ? text.length : nl;
    into.push(end > from && text.charCodeAt(end - 1) === 13 ? text.slice(from, end - 1) : text.slice(from, end));
    if (nl < 0) return;
    from = nl + 1;
  }
}

/** Bytes [from, to) of `buf` as text (no line ends split across a multi-byte character: '\n' is never part of one). */
function decode(buf: Buffer, from: number, to: number): string {
  return isAscii(buf.subarray(from, to)) ? buf.toString('latin1', from, to) : buf.toString('utf8', from, to);
}

/**
 * Yields batches of lines (without the line terminator; a trailing '\r' is removed) from a
 * plain or gzipped file. Batches keep per-line overhead off the hot path: callers loop over
 * an array instead of awaiting every line. Line numbers are 1-based: the first line of a batch
 * is `firstLine`.
 */
export async function* lineBatches(path: string, opts: ReadOptions = {}): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  let carry: Buffer | null = null; // bytes of a line not yet ended
  let lineNo = 1;
  let bytes = 0;
  let damage: ReadDamage | null = null;
  // After damage to a .gz, output bytes already handed on are skipped by the recovery pass.
  let skip = 0;
  // The stream is iterated by hand so that a read error can be told apart from an error
  // thrown into this generator by its consumer.
  let stream = openBytes(path, opts);
  let it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  try {
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await it.next();
      } catch (err) {
        stream.destroy();
        if (damage) break; // the recovery pass ended at the damage too
        const reason = bytes === 0 && isEmptyFile(path) ? 'empty file (0 bytes, not even a gzip header)' : readErrorReason(err);
        damage = { path, linesRead: 0, bytesRead: 0, reason, cause: err };
        if (!path.endsWith('.gz')) break;
        // gunzip holds up to a chunk of output back when its input fails; a second pass that
        // flushes at the end of the input recovers the text up to the point of damage.
        stream = openBytes(path, { ...opts, recover: true });
        it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
        skip = bytes;
        continue;
      }
      if (step.done) break;
      let buf = step.value;
      if (skip > 0) {
        if (buf.length <= skip) {
          skip -= buf.length;
          continue;
        }
        buf = buf.subarray(skip);
        skip = 0;
      }
      bytes += buf.length;
      const lines: string[] = [];
      let pos = 0;
      if (carry) {
        const nl = buf.indexOf(10);
        if (nl < 0) {
          carry = Buffer.concat([carry, buf]);
          continue;
        }
        const joined = Buffer.concat([carry, buf.subarray(0, nl)]);
        pushLines(decode(joined, 0, joined.length), lines);
        carry = null;
        pos = nl + 1;
      }
      const last = buf.lastIndexOf(10);
      if (last >= pos) {
        while (pos <= last) {
          let end = pos + DECODE_BLOCK >= last ? last : buf.indexOf(10, pos + DECODE_BLOCK);
          if (end < 0 || end > last) end = last;
          pushLines(decode(buf, pos, end), lines);
          pos = end + 1;
        }
      }
      // Copied: the chunk's memory may be reused by the stream once we move on.
      if (pos < buf.length) carry = Buffer.from(buf.subarray(pos));
      if (lines.length > 0) {
        yield { lines, firstLine: lineNo };
        lineNo += lines.length;
      }
    }
  } finally {
    // Also when the consumer stops early: the file handle and gunzip are released now.
    stream.destroy();
  }
  if (damage) {
    // The unfinished line at the damage is dropped: a cut number would be misread.
    damage.linesRead = lineNo - 1;
    damage.bytesRead = bytes - (carry?.length ?? 0);
    if (opts.onError) opts.onError(damage);
    else throw new ReadError(damage);
    return;
  }
  if (carry && carry.length > 0) {
    const lines: string[] = [];
    pushLines(decode(carry, 0, carry.length), lines);
    yield { lines, firstLine: lineNo };
  }
}

/** Reads a whole (possibly gzipped) text file. For small files only. */
export async function readText(path: string): Promise<string> {
  const parts: Buffer[] = [];
  let bytes = 0;
  try {
    for await (const chunk of openBytes(path)) {
      parts.push(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
  } catch (err) {
    const reason = bytes === 0 && isEmptyFile(path) ? 'empty file (0 bytes, not even a gzip header)' : readErrorReason(err);
    throw new ReadError({ path, linesRead: 0, bytesRead: bytes, reason, cause: err });
  }
  return Buffer.concat(parts).toString('utf8');
}
