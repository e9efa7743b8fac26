import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
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
 * Yields batches of lines (without the line terminator; a trailing '\r' is removed) from a
 * plain or gzipped file. Batches keep per-line overhead off the hot path: callers loop over
 * an array instead of awaiting every line. Line numbers are 1-based: the first line of a batch
 * is `firstLine`.
 */
export async function* lineBatches(path: string, opts: ReadOptions = {}): AsyncGenerator<{ lines: string[]; firstLine: number }> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 1;
  for await (const chunk of openBytes(path, opts)) {
    const text = rest + decoder.write(chunk as Buffer);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      if (l.length > 0 && l.charCodeAt(l.length - 1) === 13) lines[i] = l.slice(0, -1);
    }
    if (lines.length > 0) {
      yield { lines, firstLine: lineNo };
      lineNo += lines.length;
    }
  }
  rest += decoder.end();
  if (rest.length > 0) {
    if (rest.charCodeAt(rest.length - 1) === 13) rest = rest.slice(0, -1);
    yield { lines: [rest], firstLine: lineNo };
  }
}

/** Reads a whole (possibly gzipped) text file. For small files only. */
export async function readText(path: string): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of openBytes(path)) parts.push(chunk as Buffer);
  return Buffer.concat(parts).toString('utf8');
}
