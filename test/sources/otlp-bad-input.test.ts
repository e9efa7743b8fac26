/**
 * Unusable OTLP input is refused or reported, never accepted in silence and never a crash:
 * folders with no readable telemetry, mixed good and bad files, malformed faults.json, and
 * times that are huge, negative or junk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOtlp } from '../../src/sources/otlp/index.js';
import { UserError } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const resource = { attributes: [{ key: 'service.name', value: { stringValue: 'api' } }] };

async function inTmp(files: Record<string, string>, body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'rs-otlp-bad-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

function spans(...list: Record<string, unknown>[]): string {
  return JSON.stringify({ resourceSpans: [{ resource, scopeSpans: [{ spans: list }] }] });
}

const good = (id: string, startNs: unknown = ns(T0), endNs: unknown = ns(T0 + 5)) => ({
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: id.padStart(16, '0'),
  name: 'op',
  startTimeUnixNano: startNs,
  endTimeUnixNano: endNs,
});

/** openOtlp must refuse with one line naming the folder and the first problem. */
async function refuses(dir: string, first: RegExp): Promise<void> {
  await assert.rejects(openOtlp(dir), (e: unknown) => {
    assert.ok(e instanceof UserError, `a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    assert.ok(e.message.includes(dir), `names the folder: ${e.message}`);
    assert.match(e.message, first);
    return true;
  });
}

test('a folder whose only file is invalid JSON is an error naming file and line', async () => {
  // looks like OTLP (names a resource key) but is cut short
  await inTmp({ 'traces.json': '{\n  "resourceSpans": [\n    { "resource": \n' }, (dir) => refuses(dir, /no readable telemetry .*traces\.json:\d+ malformed JSON/));
  // not OTLP-looking at all
  await inTmp({ 'a.json': '{ this is not json' }, (dir) => refuses(dir, /a\.json not OTLP JSON/));
});

test('valid JSON of another shape is an error', async () => {
  await inTmp({ 'x.json': '{"foo": 1}' }, (dir) => refuses(dir, /x\.json not OTLP JSON/));
  await inTmp({ 'x.json': '[1, 2, 3]' }, (dir) => refuses(dir, /not OTLP JSON/));
  // OTLP keys of the wrong type: nothing readable in them
  await inTmp({ 'x.json': '{"resourceSpans": 5, "resourceLogs": {"a": 1}}' }, (dir) => refuses(dir, /no readable telemetry/));
  await inTmp({ 'x.jsonl': '[{"resourceSpans": [{"scopeSpans": [{"spans": [{"name": "no ids"}]}]}]}]\n' }, (dir) => refuses(dir, /x\.jsonl:1 span without traceId/));
});

test('mixed good and bad files: problems reported, the good data intact', async () => {
  await inTmp(
    {
      'good.jsonl': [spans(good('1')), spans(good('2'))].join('\n') + '\n',
      'broken.json': '{"resourceSpans": [',
      'other.json': '{"foo": 1}',
    },
    async (dir) => {
      const ds = await openOtlp(dir);
      assert.deepEqual((await collect(ds.spans())).map((s) => s.spanId), ['0000000000000001', '0000000000000002']);
      const where = ds.problems.items.map((p) => `${p.file}:${p.line} ${p.kind}`);
      assert.deepEqual(where, ['other.json:0 layout', 'broken.json:1 malformed-record']);
      assert.equal(ds.labelIssues, undefined);
    },
  );
});

test('a malformed faults.json gives labelIssues (and problems of kind labels)', async () => {
  const data = spans(good('1')) + '\n';
  const cases: [string, RegExp][] = [
    ['{"version": 1, "faults": [', /faults\.json:1: malformed JSON/],
    ['[1, 2]', /faults\.json: faults\.json must be an object/],
    ['{"version": 1, "faults": {"id": "f1"}}', /"faults" must be an array/],
    ['{\n "version": 1,\n "faults": [\n  {"id": "f1", "end": "2024-05-01T12:03:00Z", "type": "cpu"}\n ]\n}', /faults\.json:4: faults\[0\]: "rootCause" is required; "rootCauseService" is required; "start" is required/],
  ];
  for (const [text, want] of cases) {
    await inTmp({ 'traces.jsonl': data, 'faults.json': text }, async (dir) => {
      const ds = await openOtlp(dir);
      assert.ok(ds.labelIssues && ds.labelIssues.length === 1, `labelIssues for ${text}: ${JSON.stringify(ds.labelIssues)}`);
      assert.match(ds.labelIssues[0], want);
      assert.ok(ds.problems.items.every((p) => p.kind === 'labels'));
      assert.deepEqual(ds.labels, []);
    });
  }
  // a good one: no issues
  const ok = JSON.stringify({ version: 1, faults: [{ id: 'f1', start: T0, end: T0 + 60_000, rootCause: 'api', rootCauseService: 'api', type: 'cpu' }] });
  await inTmp({ 'traces.jsonl': data, 'faults.json': ok }, async (dir) => {
    const ds = await openOtlp(dir);
    assert.equal(ds.labelIssues, undefined);
    assert.equal(ds.labels.length, 1);
  });
});

test('huge, negative and junk times are reported problems, never an exception', async () => {
  const metric = (t: unknown) =>
    JSON.stringify({ resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'g', gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 1 }] } }] }] }] });
  const log = (t: unknown, observed: unknown) =>
    JSON.stringify({ resourceLogs: [{ resource, scopeLogs: [{ logRecords: [{ timeUnixNano: t, observedTimeUnixNano: observed, body: { stringValue: 'x' } }] }] }] });
  const lines = [
    spans(good('1')), // 1: fine
    spans(good('2', 1e30, 1e30 + 5)), // 2: 1e30 ns as a number
    spans(good('3', '1000000000000000000000000000000')), // 3: 1e30 ns as a string
    spans(good('4', -5)), // 4: negative
    spans(good('5', '17000abc')), // 5: junk in a 64-bit string
    spans(good('6', ns(T0 + 1), 'Infinity')), // 6: bad end: kept, duration 0
    metric(1e30), // 7
    metric(ns(T0 + 2)), // 8: fine
    log('0', ns(T0 + 3)), // 9: zero time: observed time used, no problem
    log('99999999999999999999999999', ns(T0 + 4)), // 10: huge time: observed time used, reported
    log('-1', 'x'), // 11: both unusable
    spans(good('7', '12')), // 12: 1970
    // 13: junk in a 64-bit count: reported, the count is missing (NaN), never a silent number
    JSON.stringify({ resourceMetrics: [{ resource, scopeMetrics: [{ metrics: [{ name: 'h', histogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: ns(T0 + 2), count: '12abc', sum: 5 }] } }] }] }] }),
    spans({ ...good('8'), events: [{ timeUnixNano: 1e30, name: 'exception' }, { timeUnixNano: ns(T0 + 1), name: 'ok' }] }), // 14: one bad event
  ];
  await inTmp({ 'all.jsonl': lines.join('\n') + '\n' }, async (dir) => {
    const ds = await openOtlp(dir);
    const got = await collect(ds.spans());
    assert.deepEqual(got.map((s) => [s.spanId.slice(-1), s.duration]), [['1', 5], ['8', 5], ['6', 0]]);
    assert.deepEqual(got[1].events?.map((e) => e.name), ['ok']);
    const logs = await collect(ds.logs());
    assert.deepEqual(logs.map((l) => l.time), [T0 + 3, T0 + 4]);
    const metrics = await collect(ds.metrics());
    assert.deepEqual(metrics.map((m) => [m.name, ...m.times]), [['g', T0 + 2], ['h.count', T0 + 2], ['h.sum', T0 + 2], ['h.mean', T0 + 2]]);
    assert.ok(Number.isNaN(metrics[1].values[0]) && Number.isNaN(metrics[3].values[0]));
    assert.deepEqual(ds.timeRange, { start: T0, end: T0 + 6 });
    const byLine = ds.problems.items.map((p) => [p.line, p.kind]);
    assert.deepEqual(byLine, [[2, 'time'], [3, 'time'], [4, 'time'], [5, 'time'], [6, 'time'], [7, 'time'], [10, 'time'], [11, 'time'], [12, 'time'], [13, 'malformed-record'], [14, 'time']]);
    assert.match(ds.problems.items[9].reason, /count "12abc" is not an integer/);
    assert.match(ds.problems.items[10].reason, /span event dropped/);
    assert.match(ds.problems.items[0].reason, /outside 2000-01-01\.\.2100-01-01/);
    assert.match(ds.problems.items[3].reason, /"17000abc" is not a decimal integer/);
  });
});
