// The evidence in a worker thread (src/encode/threads/evidence.ts): the fitting pass's
// span and log evidence and the views pass's rows made there must be the rows, references and
// file bytes of the same encode on one thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVIDENCE_FEATURES, encodeDataset, type EncodeResult, type EvidenceRecord } from '../../src/encode/index.js';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import type { Dataset } from '../../src/telemetry/index.js';
import { SPEC, fixture, isTrain, writeNezhaFixture } from './views-fixture.js';

const MIN = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'rs-evidence-thread-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface Run {
  result: EncodeResult;
  rows: EvidenceRecord[];
  file: Buffer;
}

async function run(ds: Dataset, name: string, threads: boolean, fitFilter?: (w: { end: number }) => boolean): Promise<Run> {
  const out = join(tmp, `${name}.arrow`);
  const rows: EvidenceRecord[] = [];
  const result = await encodeDataset(ds, { spec: SPEC, backboneSpec: 'hash:dim=8', out, threads, evidenceThread: threads, fitFilter, onEvidence: (r) => rows.push(...r) });
  return { result, rows, file: readFileSync(result.evidencePath!) };
}

function sameEvidence(a: Run, b: Run): void {
  assert.equal(a.rows.length, b.rows.length);
  for (let i = 0; i < a.rows.length; i++) {
    const x = a.rows[i];
    const y = b.rows[i];
    assert.deepEqual([x.windowIndex, x.entity, x.pod, x.items], [y.windowIndex, y.entity, y.pod, y.items], `row ${i}`);
    // bit for bit, NaN included
    assert.ok(Buffer.from(x.features.buffer, x.features.byteOffset, x.features.byteLength).equals(Buffer.from(y.features.buffer, y.features.byteOffset, y.features.byteLength)), `row ${i} features`);
  }
  assert.equal(JSON.stringify(a.result.builder.toJSON()), JSON.stringify(b.result.builder.toJSON()), 'the same fitted state (evidence references included)');
  assert.ok(a.file.equals(b.file), 'the same evidence file bytes');
}

const col = (name: string) => EVIDENCE_FEATURES.indexOf(name);
const carried = (r: Run, name: string) => r.rows.filter((x) => Number.isFinite(x.features[col(name)])).length;

test('simulator mesh with faults: the same evidence in the thread as on one thread', async () => {
  const dir = join(tmp, 'mesh');
  await simulate({ outDir: dir, hours: 1.5, seed: 5, faults: 4, topology: 'mesh' });
  const first = await loadDataset(dir);
  const trainEnd = first.timeRange.start + 45 * MIN;
  const fitFilter = (w: { end: number }) => w.end <= trainEnd;
  const threaded = await run(first, 'mesh-threads', true, fitFilter);
  const plain = await run(await loadDataset(dir), 'mesh-plain', false, fitFilter);
  assert.ok(threaded.result.timings.threaded.includes('evidence'));
  assert.deepEqual(plain.result.timings.threaded, []);
  sameEvidence(threaded, plain);
  // what the comparison covered: every span and log family, with references
  assert.ok(threaded.rows.length > 100, `${threaded.rows.length} rows`);
  for (const f of ['edge_in_dev_max', 'self_dev_max', 'logt_t_max', 'out_in_calls_log', 'struct_spans_log', 'res_own_z_max']) assert.ok(carried(threaded, f) > 0, `${f} carried`);
  assert.ok(threaded.rows.some((x) => x.items !== ''), 'items');
});

test('a memory dataset (logs read on the main thread, records handed over): the same evidence', async () => {
  const threaded = await run(fixture({ minutes: 60 }), 'mem-threads', true, isTrain);
  const plain = await run(fixture({ minutes: 60 }), 'mem-plain', false, isTrain);
  assert.deepEqual(threaded.result.timings.threaded, ['evidence', 'embed', 'write']);
  sameEvidence(threaded, plain);
  assert.ok(threaded.rows.length > 0);
  assert.ok(carried(threaded, 'edge_in_calls_log') > 0, 'edges');
});

test('a Nezha export (records sent on from the log thread): the same evidence', async () => {
  const dir = join(tmp, 'nezha');
  const { trainEnd } = writeNezhaFixture(dir);
  const fitFilter = (w: { end: number }) => w.end <= trainEnd;
  const threaded = await run(await loadDataset(dir), 'nezha-threads', true, fitFilter);
  const plain = await run(await loadDataset(dir), 'nezha-plain', false, fitFilter);
  assert.deepEqual(threaded.result.timings.threaded, ['logs', 'evidence', 'embed', 'write']);
  sameEvidence(threaded, plain);
  assert.ok(threaded.rows.length > 0);
  assert.ok(carried(threaded, 'lograte_records_log') > 0, 'records handed over');
});
