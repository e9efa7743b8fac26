// The registry through which a worker thread reads a dataset's logs (src/sources/threadlogs.ts):
// a source describes its log stream as plain data, the worker finds the reader by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset, openOtlp, readNezhaLogs, writeOtlpDataset } from '../../src/sources/index.js';
import { loadLogReader, logReader, registerLogReader, threadLogReaderOf, type LogReaderDescriptor } from '../../src/sources/threadlogs.js';
import { ProblemLog, type Dataset, type LogRecord, type TimeRange } from '../../src/telemetry/index.js';
import { MIN, fixture, writeNezhaFixture } from '../encode/views-fixture.js';

async function collect(it: AsyncIterable<LogRecord[]>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

/** What the thread does: clone the descriptor (as postMessage does), load its reader, read. */
async function readElsewhere(d: LogReaderDescriptor, range?: TimeRange): Promise<{ records: LogRecord[]; problems: number }> {
  const read = await loadLogReader(structuredClone(d));
  const problems = new ProblemLog();
  return { records: await collect(read(range, problems)), problems: problems.total };
}

test('an unknown reader name is a clear error', async () => {
  assert.throws(() => logReader('no-such-reader'), /no log reader named "no-such-reader" is registered \(registered: .*nezha/);
  // the module loads, but registers no reader of that name
  const d: LogReaderDescriptor = { reader: 'no-such-reader', module: new URL('../../src/sources/threadlogs.ts', import.meta.url).href, args: {} };
  await assert.rejects(loadLogReader(d), /no log reader named "no-such-reader"/);
});

test('a registered reader is found by name and gets the descriptor\'s arguments', async () => {
  assert.equal(logReader('nezha'), readNezhaLogs, 'the Nezha source registers itself');
  const seen: unknown[] = [];
  registerLogReader<{ n: number }>('test-counting', async function* (args, range) {
    seen.push(args.n, range);
    yield [{ time: 1, entity: 'a', service: 'a', severity: 'info', body: 'x' }];
  });
  const out = await readElsewhere({ reader: 'test-counting', module: 'unused:loaded-already', args: { n: 3 } }, { start: 0, end: 5 });
  assert.equal(out.records.length, 1);
  assert.deepEqual(seen, [3, { start: 0, end: 5 }]);
});

test('datasets that cannot be read elsewhere have no descriptor', () => {
  assert.equal(threadLogReaderOf(fixture({ minutes: 10 })), undefined);
});

async function sameLogsElsewhere(ds: Dataset, reader: string, ranges: (TimeRange | undefined)[]): Promise<void> {
  const d = threadLogReaderOf(ds);
  assert.ok(d, 'a descriptor');
  assert.equal(d.reader, reader);
  assert.deepEqual(structuredClone(d), d, 'plain data: survives structured clone unchanged');
  for (const range of ranges) {
    const here = await collect(ds.logs(range));
    assert.ok(here.length > 0);
    const there = await readElsewhere(d, range);
    assert.deepEqual(there.records, here, `the same records in the same order (${range ? 'range' : 'all'})`);
  }
}

test('a Nezha export: the descriptor reads the same records as the dataset', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-threadlogs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { start } = writeNezhaFixture(join(dir, 'nezha'));
  const ds = await loadDataset(join(dir, 'nezha'));
  await sameLogsElsewhere(ds, 'nezha', [undefined, { start: start + 30 * MIN, end: start + 44 * MIN }]);
});

test('an OTLP folder: the descriptor reads the same records as the dataset', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-threadlogs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeOtlpDataset(join(dir, 'otlp'), fixture({ minutes: 40 }));
  const ds = await openOtlp(join(dir, 'otlp'));
  const start = ds.timeRange.start;
  await sameLogsElsewhere(ds, 'otlp', [undefined, { start: start + 10 * MIN, end: start + 17 * MIN }]);
});
