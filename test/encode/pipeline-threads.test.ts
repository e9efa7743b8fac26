// Worker threads of encodeDataset (the log thread of the fitting pass, the embedding and
// writing thread of the second): the output must not depend on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HashBackbone, encodeDataset, readColumnar, type EncodeResult, type EncodedRow } from '../../src/encode/index.js';
import { loadDataset } from '../../src/sources/index.js';
import type { Dataset } from '../../src/telemetry/index.js';
import { MIN, SPEC, fixture, isTrain, writeNezhaFixture } from './views-fixture.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rs-encode-threads-'));
}

interface Run {
  result: EncodeResult;
  rows: EncodedRow[];
  file: Buffer;
  problems: string;
}

async function run(ds: Dataset, dir: string, name: string, threads: boolean, fitFilter?: (w: { end: number }) => boolean): Promise<Run> {
  const out = join(dir, `${name}.arrow`);
  const rows: EncodedRow[] = [];
  const result = await encodeDataset(ds, { spec: SPEC, backboneSpec: 'hash:dim=32', out, includeText: true, threads, fitFilter, batchTexts: 64, onRows: (r) => rows.push(...r) });
  // The log thread reports its problems when it reads them, so their order between modalities
  // differs with threads; the set of problems must not.
  return { result, rows, file: readFileSync(out), problems: JSON.stringify([ds.problems.total, Object.entries(ds.problems.byReason()).sort(), ds.problems.items.map((p) => JSON.stringify(p)).sort()]) };
}

function sameRuns(a: Run, b: Run): void {
  assert.equal(a.rows.length, b.rows.length);
  for (let i = 0; i < a.rows.length; i++) {
    const x = a.rows[i];
    const y = b.rows[i];
    assert.equal(x.text, y.text, `row ${i}`);
    assert.deepEqual([x.windowIndex, x.entity, x.modality, x.abnormal, x.rootCause], [y.windowIndex, y.entity, y.modality, y.abnormal, y.rootCause]);
    assert.deepEqual(x.features, y.features, `row ${i} features`);
    assert.deepEqual(x.vector, y.vector, `row ${i} vector`);
  }
  assert.equal(JSON.stringify(a.result.builder.toJSON()), JSON.stringify(b.result.builder.toJSON()));
  assert.ok(a.file.equals(b.file), 'the same Arrow bytes');
  assert.equal(a.problems, b.problems);
}

test('a Nezha export encodes the same with and without worker threads', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { trainEnd } = writeNezhaFixture(join(dir, 'nezha'));
  const fitFilter = (w: { end: number }) => w.end <= trainEnd;
  const threaded = await run(await loadDataset(join(dir, 'nezha')), dir, 'threads', true, fitFilter);
  const plain = await run(await loadDataset(join(dir, 'nezha')), dir, 'plain', false, fitFilter);
  assert.deepEqual(threaded.result.timings.threaded, ['logs', 'embed', 'write']);
  assert.deepEqual(plain.result.timings.threaded, []);
  sameRuns(threaded, plain);
  // what the comparison covered: log views (known, new and missing templates), the thread's
  // problem report, training windows only in the baselines
  const logs = threaded.rows.filter((r) => r.modality === 'logs');
  assert.ok(logs.length > 0);
  assert.ok(logs.some((r) => /NEW x\d+ \[error \d+\]/.test(r.text!)), 'fault lines are new templates');
  assert.ok(logs.some((r) => /^x\d+ .*\(base /m.test(r.text!)), 'known templates');
  assert.match(threaded.problems, /10_44_log\.csv/);
  assert.ok(threaded.result.trainWindows > 0 && threaded.result.trainWindows < threaded.result.windows);
  for (const r of threaded.rows) assert.deepEqual(r.vector, new HashBackbone({ dim: 32 }).embedOne(r.text!));
  assert.deepEqual(readdirSync(dir).sort(), ['nezha', 'plain.arrow', 'plain.evidence.arrow', 'threads.arrow', 'threads.evidence.arrow']);
});

test('a memory dataset: the writer thread embeds and writes the same file', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const threaded = await run(fixture({ minutes: 60 }), dir, 'threads', true, isTrain);
  const plain = await run(fixture({ minutes: 60 }), dir, 'plain', false, isTrain);
  assert.deepEqual(threaded.result.timings.threaded, ['embed', 'write'], 'memory datasets read logs on the main thread');
  sameRuns(threaded, plain);
  const table = await readColumnar(join(dir, 'threads.arrow'));
  assert.equal(table.numRows, threaded.rows.length);
  assert.equal(table.numRows, 60 * 4 * 3);
});

test('without an output file, vectors embedded in the writer thread come back to onRows', async () => {
  const rows: EncodedRow[] = [];
  const r = await encodeDataset(fixture({ minutes: 20 }), { spec: SPEC, backboneSpec: 'hash:dim=16', threads: true, onRows: (x) => rows.push(...x), batchTexts: 50 });
  assert.deepEqual(r.timings.threaded, ['embed']);
  assert.equal(rows.length, r.rows);
  const hb = new HashBackbone({ dim: 16 });
  const texts: string[] = [];
  const plain = await encodeDataset(fixture({ minutes: 20 }), { spec: SPEC, backboneSpec: 'hash:dim=16', includeText: true, onRows: (x) => texts.push(...x.map((y) => y.text!)) });
  assert.deepEqual(plain.timings.threaded, [], 'small runs use no threads unless asked');
  for (let i = 0; i < rows.length; i++) assert.deepEqual(rows[i].vector, hb.embedOne(texts[i]));
});

test('a Nezha range whose last windows hold logs: the log thread ends the pass cleanly', { timeout: 60_000 }, async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { start } = writeNezhaFixture(join(dir, 'nezha'));
  // 20 windows, the last 15 with logs: the thread's last message carries a part (not a multiple of its batch)
  const range = { start: start + 20 * MIN, end: start + 44 * MIN };
  const runs: [number, string[], EncodedRow[]][] = [];
  for (const threads of [true, false]) {
    const ds = await loadDataset(join(dir, 'nezha'));
    const rows: EncodedRow[] = [];
    const r = await encodeDataset(ds, { spec: SPEC, backboneSpec: 'hash:dim=8', includeText: true, threads, range, onRows: (x) => rows.push(...x) });
    runs.push([r.windows, r.timings.threaded, rows]);
  }
  assert.equal(runs[0][0], 20);
  assert.deepEqual(runs[0][1], ['logs', 'embed']);
  const last = Math.max(...runs[0][2].map((r) => r.windowIndex));
  assert.equal(last, 19);
  assert.ok(runs[0][2].some((r) => r.windowIndex === last && r.modality === 'logs'), 'the last window has logs');
  assert.deepEqual(
    runs[0][2].map((r) => r.text),
    runs[1][2].map((r) => r.text),
  );
});

const DATASETS = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const NEZHA = join(DATASETS, 'nezha-trainticket');
const nezhaAbsent = !existsSync(NEZHA) && 'datasets absent (set RS_DATASETS or place shared/datasets beside the repo)';

test('real Nezha data (40 min with a malformed log line): the same rows and problems with and without threads', { skip: nezhaAbsent, timeout: 120_000 }, async () => {
  const range = { start: Date.UTC(2023, 0, 29, 10, 0), end: Date.UTC(2023, 0, 29, 10, 40) };
  const fitFilter = (w: { end: number }) => w.end <= Date.UTC(2023, 0, 29, 10, 20);
  const runs: { rows: EncodedRow[]; problems: string; threaded: string[]; json: string }[] = [];
  for (const threads of [true, false]) {
    const ds = await loadDataset(NEZHA);
    const rows: EncodedRow[] = [];
    const r = await encodeDataset(ds, { spec: SPEC, backboneSpec: 'hash:dim=16', includeText: true, entities: false, threads, range, fitFilter, onRows: (x) => rows.push(...x) });
    runs.push({ rows, problems: JSON.stringify([ds.problems.total, ds.problems.byReason()]), threaded: r.timings.threaded, json: JSON.stringify(r.builder.toJSON()) });
  }
  const [a, b] = runs;
  assert.deepEqual(a.threaded, ['logs', 'embed']);
  assert.equal(a.rows.length, b.rows.length);
  assert.ok(a.rows.some((r) => r.modality === 'logs') && a.rows.some((r) => r.modality === 'traces'));
  for (let i = 0; i < a.rows.length; i++) {
    assert.equal(a.rows[i].text, b.rows[i].text);
    assert.deepEqual(a.rows[i].features, b.rows[i].features);
    assert.deepEqual(a.rows[i].vector, b.rows[i].vector);
  }
  assert.equal(a.json, b.json);
  assert.equal(a.problems, b.problems);
  assert.match(a.problems, /two records run together/);
});
