import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { isAscii } from 'node:buffer';
import type { Readable } from 'node:stream';

export interface ReadOptions {
  /** Bytes per chunk handed on (after gunzip); smaller suits reading only a file's head. */
  chunkSize?: number;
}

/** Opens a file as a byte stream, gunzipping when the name ends in .gz. */
export function openBytes(path: string, opts: ReadOptions = {}): Readable {
  const chunk = opts.chunkSize ?? 1 << 18;
  const raw = createReadStream(path, { highWaterMark: opts.chunkSize ? Math.max(chunk, 1 << 16) : 1 << 20 });
  if (!path.endsWith('.gz')) return raw;
  const gz = createGunzip({ chunkSize: chunk });
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
  for await (const chunk of openBytes(path, opts)) {
    const buf = chunk as Buffer;
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
  if (carry && carry.length > 0) {
    const lines: string[] = [];
    pushLines(decode(carry, 0, carry.length), lines);
    yield { lines, firstLine: lineNo };
  }
}

/** Reads a whole (possibly gzipped) text file. For small files only. */
export async function readText(path: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of openBytes(path)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
