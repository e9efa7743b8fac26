import { closeSync, fstatSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import * as zlib from 'node:zlib';

/**
 * One backbone's rows: an append-only pack file of self-checking records.
 *
 *   record = magic u32 | len u32 | key 32 B | dim u32 | row dim×f32 | crc32 u32   (little-endian)
 *
 * `len` counts the bytes after the 8-byte header; the CRC covers key, dim and row. Writers
 * open the file with O_APPEND and hand whole records to single write() calls, so records
 * of concurrent processes never interleave on a local file system. A reader trusts a
 * record only when its magic, length, dim and CRC all agree; anything else (a torn tail
 * from a crash, a half-copied file) is skipped by searching for the next magic that starts
 * a valid record. An incomplete record at the very end may still be being written, so the
 * scan stops before it and the next refresh looks again.
 */

export const RECORD_MAGIC = 0x31455352; // "RSE1" read little-endian
export const HEADER_BYTES = 8;
export const KEY_BYTES = 32;
const ROW_OFFSET = HEADER_BYTES + KEY_BYTES + 4;
/** Larger rows than this are not embeddings: a corrupt length field. */
const MAX_DIM = 1 << 16;
const SCAN_CHUNK = 8 << 20;
const WRITE_CHUNK = 8 << 20;
const READ_CHUNK = 16 << 20;
const MAGIC_BYTES = Buffer.from([0x52, 0x53, 0x45, 0x31]);

export function recordBytes(dim: number): number {
  return ROW_OFFSET + dim * 4 + 4;
}

const crc32: (data: Uint8Array) => number =
  typeof (zlib as { crc32?: unknown }).crc32 === 'function' ? (d) => zlib.crc32(d) : crc32Js;

let CRC_TABLE: Int32Array | undefined;
/** Node < 20.15 has no zlib.crc32. */
function crc32Js(data: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c;
    }
  }
  let c = -1;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function encodeRecords(keys: Buffer[], rows: Float32Array[]): Buffer {
  let total = 0;
  for (const r of rows) total += recordBytes(r.length);
  const buf = Buffer.allocUnsafe(total);
  let o = 0;
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const len = recordBytes(row.length) - HEADER_BYTES;
    buf.writeUInt32LE(RECORD_MAGIC, o);
    buf.writeUInt32LE(len, o + 4);
    keys[i].copy(buf, o + HEADER_BYTES);
    buf.writeUInt32LE(row.length, o + HEADER_BYTES + KEY_BYTES);
    Buffer.from(row.buffer, row.byteOffset, row.byteLength).copy(buf, o + ROW_OFFSET);
    const end = o + ROW_OFFSET + row.length * 4;
    buf.writeUInt32LE(crc32(buf.subarray(o + HEADER_BYTES, end)), end);
    o = end + 4;
  }
  return buf;
}

export interface PackStats {
  /** valid records read (duplicates included) */
  records: number;
  /** bytes passed over because they formed no valid record */
  skippedBytes: number;
}

export class Pack {
  /** key (hex) → offset of its record. First record of a key wins. */
  readonly index = new Map<string, number>();
  /** Row length, fixed by the first valid record. */
  dim: number | undefined;
  readonly stats: PackStats = { records: 0, skippedBytes: 0 };
  private readFd: number | undefined;
  private appendFd: number | undefined;
  private ino: number | undefined;
  private scanned = 0;

  constructor(readonly path: string) {}

  /** Reads what other writers (or this one) appended since the last call. */
  refresh(): void {
    let st;
    try {
      st = statSync(this.path, { bigint: false });
    } catch {
      // No file (yet, or removed by clear()): nothing cached.
      this.reset();
      return;
    }
    if (this.readFd !== undefined && st.ino !== this.ino) this.reset();
    if (this.readFd === undefined) {
      this.readFd = openSync(this.path, 'r');
      this.ino = fstatSync(this.readFd).ino;
    }
    const size = fstatSync(this.readFd).size;
    if (size > this.scanned) this.scan(size);
  }

  private reset(): void {
    this.close();
    this.index.clear();
    this.dim = undefined;
    this.scanned = 0;
    this.stats.records = 0;
    this.stats.skippedBytes = 0;
  }

  private scan(size: number): void {
    const fd = this.readFd!;
    let buf = Buffer.alloc(0);
    let bufStart = this.scanned; // file offset of buf[0]
    let off = this.scanned; // file offset being parsed
    let skipFrom = -1; // start of an unparseable stretch not yet followed by a valid record
    /** Makes buf hold file bytes [off, off + n); false when the file is shorter. */
    const ensure = (n: number): boolean => {
      if (off >= bufStart && off + n <= bufStart + buf.length) return true;
      if (off + n > size) return false;
      const want = Math.min(size - off, Math.max(n, SCAN_CHUNK));
      buf = Buffer.allocUnsafe(want);
      buf = buf.subarray(0, readFully(fd, buf, 0, want, off));
      bufStart = off;
      return buf.length >= n;
    };
    for (;;) {
      if (!ensure(HEADER_BYTES)) break;
      const p = off - bufStart;
      const len = buf.readUInt32LE(p + 4);
      const headerOk =
        buf.readUInt32LE(p) === RECORD_MAGIC &&
        (this.dim !== undefined
          ? len === recordBytes(this.dim) - HEADER_BYTES
          : len >= KEY_BYTES + 8 && (len - KEY_BYTES - 8) % 4 === 0 && len <= KEY_BYTES + 8 + MAX_DIM * 4);
      if (headerOk) {
        // An incomplete last record may still be being written: stop, look again next time.
        if (!ensure(HEADER_BYTES + len)) break;
        const q = off - bufStart;
        const dim = buf.readUInt32LE(q + HEADER_BYTES + KEY_BYTES);
        const end = q + ROW_OFFSET + dim * 4;
        if (dim * 4 + KEY_BYTES + 8 === len && crc32(buf.subarray(q + HEADER_BYTES, end)) === buf.readUInt32LE(end)) {
          if (skipFrom >= 0) this.stats.skippedBytes += off - skipFrom;
          skipFrom = -1;
          this.dim ??= dim;
          const key = buf.toString('hex', q + HEADER_BYTES, q + HEADER_BYTES + KEY_BYTES);
          if (!this.index.has(key)) this.index.set(key, off);
          this.stats.records++;
          off += HEADER_BYTES + len;
          continue;
        }
      }
      // No valid record starts here: resynchronise on the next magic.
      if (skipFrom < 0) skipFrom = off;
      let found = false;
      let from = off + 1;
      for (;;) {
        const at = from - bufStart < buf.length ? buf.indexOf(MAGIC_BYTES, from - bufStart) : -1;
        if (at >= 0) {
          off = bufStart + at;
          found = true;
          break;
        }
        const bufEnd = bufStart + buf.length;
        if (bufEnd >= size) break;
        // Keep 3 bytes of overlap: a magic may straddle the chunk boundary.
        from = Math.max(from, bufEnd - 3);
        off = from;
        if (!ensure(Math.min(SCAN_CHUNK, size - off))) break;
      }
      if (!found) break;
    }
    // Unfinished or not-yet-explained bytes are parsed again by the next refresh; they count
    // as skipped only once a valid record after them proves them torn.
    this.scanned = skipFrom >= 0 ? skipFrom : off;
  }

  /**
   * Reads the rows at the given record offsets (as found in `index`). Records that sit back
   * to back in the file (the usual case: texts looked up in the order they were stored) come
   * in one read into one uninitialised buffer, and the rows are views into it: no per-row
   * allocation, no copy.
   */
  read(offsets: number[]): Float32Array[] {
    const dim = this.dim!;
    const rec = recordBytes(dim);
    const out: Float32Array[] = new Array(offsets.length);
    const order = offsets.map((_, i) => i).sort((a, b) => offsets[a] - offsets[b]);
    for (let s = 0; s < order.length; ) {
      let e = s + 1;
      let bytes = rec;
      while (e < order.length && bytes < READ_CHUNK) {
        const gap = offsets[order[e]] - offsets[order[e - 1]];
        if (gap !== rec && gap !== 0) break;
        if (gap === rec) bytes += rec;
        e++;
      }
      const start = offsets[order[s]];
      const buf = Buffer.allocUnsafeSlow(bytes);
      const got = readFully(this.readFd!, buf, 0, bytes, start);
      if (got < bytes) throw new Error(`embedding cache: ${this.path} is shorter than its index (truncated while in use?)`);
      for (let k = s; k < e; k++) {
        const off = offsets[order[k]];
        const row = new Float32Array(buf.buffer, buf.byteOffset + (off - start) + ROW_OFFSET, dim);
        // The same text twice in one lookup: each position gets its own row.
        out[order[k]] = k > s && off === offsets[order[k - 1]] ? row.slice() : row;
      }
      s = e;
    }
    return out;
  }

  /** Appends records in whole-record writes of at most WRITE_CHUNK bytes each. */
  append(keys: Buffer[], rows: Float32Array[]): void {
    if (rows.length === 0) return;
    if (this.appendFd === undefined) this.appendFd = openSync(this.path, 'a');
    let s = 0;
    while (s < rows.length) {
      let e = s;
      let bytes = 0;
      while (e < rows.length && (e === s || bytes + recordBytes(rows[e].length) <= WRITE_CHUNK)) bytes += recordBytes(rows[e++].length);
      const buf = encodeRecords(keys.slice(s, e), rows.slice(s, e));
      let off = 0;
      // A short write is rare on a regular file (disk full, signal); the rest goes in a second
      // write, and a reader that finds the pieces apart skips the torn record.
      while (off < buf.length) off += writeSync(this.appendFd, buf, off, buf.length - off);
      s = e;
    }
  }

  fileBytes(): number {
    try {
      return statSync(this.path).size;
    } catch {
      return 0;
    }
  }

  close(): void {
    if (this.readFd !== undefined) closeSync(this.readFd);
    if (this.appendFd !== undefined) closeSync(this.appendFd);
    this.readFd = undefined;
    this.appendFd = undefined;
    this.ino = undefined;
  }
}

function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, offset + got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}
