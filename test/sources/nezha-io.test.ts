// Tests of src/sources/io (lineBatches, csvFieldBounds) as changed for the Nezha reader's speed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { csvField, csvFieldBounds, lineBatches, splitCsvLine } from '../../src/sources/io/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-io-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

async function readAll(path: string, chunkSize?: number): Promise<{ lines: string[]; firsts: number[] }> {
  const lines: string[] = [];
  const firsts: number[] = [];
  for await (const b of lineBatches(path, chunkSize ? { chunkSize } : {})) {
    assert.equal(b.firstLine, lines.length + 1, 'firstLine numbers lines from 1 across batches');
    firsts.push(b.firstLine);
    lines.push(...b.lines);
  }
  return { lines, firsts };
}

test('lineBatches: CRLF, empty lines, no final newline, multi-byte text across chunk edges (plain and gzip)', async () => {
  // Lines of mixed ASCII and non-ASCII text, long enough to cross many 64-byte gunzip chunks and
  // 32 KiB decode blocks; one line longer than a chunk.
  const expected: string[] = [];
  for (let i = 0; i < 3000; i++) {
    if (i % 500 === 7) expected.push('');
    else if (i % 97 === 0) expected.push(`line ${i} 计算时间：175 — naïve ✓ ${'é'.repeat(i % 13)}`);
    else expected.push(`line ${i},"quoted ""x""",${'a'.repeat(i % 50)}`);
  }
  expected.push('ü'.repeat(5000));
  const text = expected.map((l, i) => (i % 3 === 0 ? l + '\r\n' : l + '\n')).join('') + 'last line without newline';
  expected.push('last line without newline');
  writeFileSync(join(dir, 'a.csv'), text);
  writeFileSync(join(dir, 'a.csv.gz'), gzipSync(text));
  for (const [name, chunk] of [['a.csv', undefined], ['a.csv.gz', undefined], ['a.csv.gz', 64], ['a.csv.gz', 1000]] as const) {
    const { lines, firsts } = await readAll(join(dir, name), chunk);
    assert.equal(lines.length, expected.length, `${name}/${chunk}`);
    assert.deepEqual(lines, expected, `${name}/${chunk}`);
    if (chunk === 64) assert.ok(firsts.length > 100, 'small chunks give many batches');
  }
});

test('lineBatches: empty file, lone newline', async () => {
  writeFileSync(join(dir, 'empty.csv'), '');
  writeFileSync(join(dir, 'nl.csv.gz'), gzipSync('\n'));
  assert.deepEqual((await readAll(join(dir, 'empty.csv'))).lines, []);
  assert.deepEqual((await readAll(join(dir, 'nl.csv.gz'))).lines, ['']);
});

test('csvFieldBounds: fields, quotes, malformed lines, lenient reading', () => {
  const starts = new Int32Array(8);
  const ends = new Int32Array(8);
  const fields = (line: string, n: number) => Array.from({ length: n }, (_, k) => csvField(line, starts[k], ends[k]));

  let line = 'a,"b,""c""",,d';
  assert.equal(csvFieldBounds(line, starts, ends), 4);
  assert.deepEqual(fields(line, 4), ['a', 'b,"c"', '', 'd']);
  assert.deepEqual(fields(line, 4), splitCsvLine(line));

  line = 'x,';
  assert.equal(csvFieldBounds(line, starts, ends), 2);
  assert.deepEqual(fields(line, 2), ['x', '']);

  assert.equal(csvFieldBounds('a,"open', starts, ends), -1, 'unterminated quote');
  line = 'a,"q"tail,b,c';
  assert.equal(csvFieldBounds(line, starts, ends), -2, 'text after a closing quote');
  assert.equal(csvFieldBounds(line, starts, ends, true), 4, 'lenient: the stray text stays in its field, as Python csv reads it');
  assert.deepEqual(fields(line, 4), ['a', 'q', 'b', 'c'], 'lenient: the quoted part is the field');
  assert.equal(csvFieldBounds('"a"x', starts, ends, true), 1);

  // More fields than room: the count is still right.
  const small = new Int32Array(2);
  assert.equal(csvFieldBounds('1,2,3,4,5', small, new Int32Array(2)), 5);
});
