import { gunzipSync, gzipSync } from 'node:zlib';
import { seededRandom } from '../helpers/rng.js';

/*
 * Seeded damage to one input file. A mutation maps the file's bytes to new bytes; those that
 * work on the content (header, shape, times, clocks) see the decompressed text of a .gz file
 * and write it back gzipped, those that damage the container (cut, flip, CRC) see raw bytes.
 */

/** What the readers must do with the damage: name the file (`report`) or merely survive it (`any`). */
export type Expect = 'report' | 'any';

export interface Mutation {
  name: string;
  /** path of the damaged file, relative to the fixture root */
  file: string;
  expect: Expect;
  /** the lines before the damage must still be read (line-based files cut well after their start) */
  keeps?: boolean;
  apply(bytes: Buffer): Buffer;
}

/** mulberry32 (the project's `SeededRandom`): small, fast, and the same sequence on every machine. */
export const seeded = seededRandom;

const isGz = (file: string) => file.endsWith('.gz');

/** Applies `f` to the text of the file, through gzip when the file is gzipped. */
function onText(file: string, f: (text: string) => string): (b: Buffer) => Buffer {
  return (b) => {
    const text = (isGz(file) ? gunzipSync(b) : b).toString('utf8');
    const out = Buffer.from(f(text), 'utf8');
    return isGz(file) ? gzipSync(out) : out;
  };
}

/** Cut at a fraction of the length, moved off a line end so the last record is really cut. */
export function truncate(file: string, fraction: number, expect: Expect, keeps = false): Mutation {
  return {
    name: `truncate@${fraction}`,
    file,
    expect: isGz(file) ? 'report' : expect,
    keeps,
    apply: (b) => {
      let cut = Math.max(1, Math.floor(b.length * fraction));
      while (cut > 1 && (b[cut - 1] === 0x0a || b[cut] === 0x0a)) cut--;
      return b.subarray(0, cut);
    },
  };
}

/** Flips one bit in each of `n` seeded bytes (of a gzip file: inside the deflate data). */
export function bitFlip(file: string, seed: number, n: number, expect: Expect): Mutation {
  return {
    name: `bit-flip#${seed}x${n}`,
    file,
    expect: isGz(file) ? 'report' : expect,
    apply: (b) => {
      const out = Buffer.from(b);
      const rnd = seeded(seed);
      // gzip: skip the 10-byte header (its mtime byte may change silently) and the 8-byte trailer
      const lo = isGz(file) ? 10 : 0;
      const hi = isGz(file) ? out.length - 8 : out.length;
      for (let i = 0; i < n; i++) {
        const at = lo + Math.floor(rnd() * (hi - lo));
        out[at] ^= 1 << Math.floor(rnd() * 8);
      }
      return out;
    },
  };
}

/** Same length, every byte 0. */
export function zero(file: string): Mutation {
  return { name: 'zero-bytes', file, expect: 'report', apply: (b) => Buffer.alloc(b.length) };
}

/** 0 bytes: a file created and never written (JSON is then invalid; a CSV merely has no header). */
export function empty(file: string, expect: Expect): Mutation {
  return { name: 'empty', file, expect, apply: () => Buffer.alloc(0) };
}

/** Replaces the first line (a CSV header, the first OTLP request) by `line`. */
export function replaceHeader(file: string, line: string): Mutation {
  return { name: 'wrong-header', file, expect: 'report', apply: onText(file, (t) => line + t.slice(t.indexOf('\n'))) };
}

/** The whole file replaced by valid content of another shape (JSON of another schema, a CSV of other columns). */
export function wrongShape(file: string, content: string): Mutation {
  return { name: 'wrong-shape', file, expect: 'report', apply: onText(file, () => content) };
}

/** Any text rewrite: huge, negative or disagreeing times. */
export function rewrite(file: string, name: string, f: (text: string) => string, expect: Expect = 'report'): Mutation {
  return { name, file, expect, apply: onText(file, f) };
}

/**
 * Replaces the value of CSV column `column` in the first `rows` data rows (all when Infinity)
 * by `f(old)`. The fixtures quote only their last column, so a plain split finds the cell.
 */
export function csvColumn(column: string, rows: number, f: (old: string) => string): (text: string) => string {
  return (text) => {
    const lines = text.split('\n');
    const at = lines[0].split(',').indexOf(column);
    if (at < 0) throw new Error(`fixture has no column ${column}`);
    for (let i = 1; i < lines.length && i <= rows; i++) {
      if (!lines[i]) continue;
      const cells = lines[i].split(',');
      cells[at] = f(cells[at]);
      lines[i] = cells.join(',');
    }
    return lines.join('\n');
  };
}

/** Replaces the first `n` values of JSON string fields `"key":"digits"` by `value`. */
export function jsonTimes(keys: string[], n: number, value: string): (text: string) => string {
  return (text) => {
    let left = n;
    return text.replace(new RegExp(`"(${keys.join('|')})":"(-?\\d+)"`, 'g'), (m, k: string) => (left-- > 0 ? `"${k}":"${value}"` : m));
  };
}

/**
 * The four ways a .gz file breaks: cut in half, 0 bytes, not gzip at all, CRC error. Of a
 * line-based file cut in half, the lines inflated before the cut must be kept.
 */
export function gzipDamage(file: string, lineBased: boolean): Mutation[] {
  return [
    { name: 'gzip-cut-half', file, expect: 'report', keeps: lineBased, apply: (b) => b.subarray(0, b.length >> 1) },
    { name: 'gzip-empty', file, expect: 'report', apply: () => Buffer.alloc(0) },
    { name: 'gzip-not-gzip', file, expect: 'report', apply: (b) => Buffer.concat([Buffer.from('this is not gzip\n'), gunzipSync(b).subarray(0, 200)]) },
    {
      name: 'gzip-crc',
      file,
      expect: 'report',
      apply: (b) => {
        const out = Buffer.from(b);
        out[out.length - 8] ^= 0xff; // first byte of the CRC32 in the trailer
        return out;
      },
    },
  ];
}
