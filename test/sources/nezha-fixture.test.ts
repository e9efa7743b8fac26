import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectNezha, openNezha } from '../../src/sources/nezha/index.js';
import { ProblemLog, UserError } from '../../src/telemetry/index.js';
import type { LogRecord, MetricSeries, Span, TimeRange } from '../../src/telemetry/index.js';

/*
 * A made-up shop system exported in the Nezha layout: two pods (cart-api, pay-svc), a
 * service-level front file, one day with a fault list, a construct_data day whose metric
 * folder repeats rca_data's, a missing minute file, plain and gzipped CSV, records that sit in
 * the "wrong" minute file, a malformed log line and a log row with Go's zero time.
 */

const DAY = '2024-03-05';
const T0 = Date.UTC(2024, 2, 5, 10, 0, 0); // 10:00:00Z
const CART = 'cart-api-7d9f8c6b5d-x2k4p';
const PAY = 'pay-svc-5c4b3a2d1e-q9w8e';
const ns = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;

function write(path: string, text: string, gz: boolean): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(gz ? path + '.gz' : path, gz ? gzipSync(text) : text);
}

const METRIC_HEADER = 'Time,TimeStamp,PodName,CpuUsage(m),CpuUsageRate(%),MemoryUsage(Mi),PodLatencyP90(s)';
function metricCsv(pod: string, rows: number, hole: boolean): string {
  const out = [METRIC_HEADER];
  for (let i = 0; i < rows; i++) {
    const t = T0 / 1000 - 1800 + i * 60; // 09:30 .. one row a minute
    const cpu = hole && i === 2 ? 'NaN' : String(10 + i);
    const lat = hole && i === 3 ? '' : String(0.005 * (i + 1));
    out.push(`2024-03-05 09:${String(30 + i).padStart(2, '0')}:10.1 +0000 UTC m=+1.0,${t},${pod},${cpu},${(10 + i) / 5},${200 + i},${lat}`);
  }
  return out.join('\n') + '\n';
}

const TRACE_HEADER = 'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration';
function span(trace: string, id: string, parent: string, pod: string, op: string, startMs: number, durUs: number): string {
  return `${trace},${id},${parent},${pod},${op},${ns(startMs)},${ns(startMs + durUs / 1000)},${durUs}`;
}

const LOG_HEADER = 'Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log';
const csvQuote = (s: string) => '"' + s.replaceAll('"', '""') + '"';
function log(ms: number, node: string, pod: string, trace: string, spanId: string, text: string): string {
  const envelope = JSON.stringify({ log: text + '\n', stream: 'stdout', time: new Date(ms).toISOString() });
  return `${new Date(ms).toISOString()},${ns(ms)},${node},${pod},app,${trace},${spanId},${csvQuote(envelope)}`;
}

function buildFixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'nezha-fixture-'));
  const rca = join(root, 'rca_data', DAY);
  const cons = join(root, 'construct_data', DAY);
  // Faults: hour groups out of order; inject_timestamp deliberately wrong (as in the real data).
  mkdirSync(rca, { recursive: true });
  writeFileSync(
    join(rca, `${DAY}-fault_list.json`),
    JSON.stringify({
      '10': [{ inject_time: '2024-03-05 10:01:30', inject_timestamp: '1709604090', inject_pod: PAY, inject_type: 'cpu_contention' }],
      '09': [{ inject_time: '2024-03-05 09:45:00', inject_timestamp: '1709603100', inject_pod: CART, inject_type: 'return' }],
    }),
  );
  for (const dir of [rca, cons]) {
    write(join(dir, 'metric', `${CART}_metric.csv`), metricCsv(CART, 40, true), true);
    write(join(dir, 'metric', `${PAY}_metric.csv`), metricCsv(PAY, 40, false), false);
    write(
      join(dir, 'metric', 'front_service.csv'),
      'Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s)\n' +
        Array.from({ length: 40 }, (_, i) => `x,${T0 / 1000 - 1800 + i * 60 + 5},Storefront,99,${0.1 + i / 100}`).join('\n') +
        '\n',
      false,
    );
  }
  // Trace minute files 10_01 (plain), 10_02 (gz), 10_03 missing, 10_04 (gz). File HH_MM holds
  // roughly [HH:MM − 51 s, HH:MM + 9 s), unsorted; 10_02 also holds a span of 10:00:10.
  write(
    join(rca, 'trace', '10_01_trace.csv'),
    [
      TRACE_HEADER,
      span('t1', 'a1', 'root', CART, 'POST /cart', T0 + 5_000, 250_000),
      span('t1', 'b1', 'a1', PAY, 'charge', T0 + 5_100, 120_500),
      span('t0', 'a0', 'root', CART, 'GET /cart', T0 - 40_000, 1_000),
    ].join('\n') + '\n',
    false,
  );
  write(
    join(rca, 'trace', '10_02_trace.csv'),
    [
      TRACE_HEADER,
      span('t2', 'a2', 'root', CART, 'POST /cart', T0 + 100_000, 90_000),
      span('t2', 'b2', 'a2', PAY, 'charge', T0 + 100_050, 50_000),
      span('t9', 'a9', 'root', CART, 'GET /cart', T0 + 10_000, 2_000),
      span('t3', 'a3', 'root', CART, '"say ""hi"", op"', T0 + 75_000, 3_000),
    ].join('\n') + '\n',
    true,
  );
  write(join(rca, 'trace', '10_04_trace.csv'), [TRACE_HEADER, span('t4', 'a4', 'root', PAY, 'refund', T0 + 230_000, 1_500)].join('\n') + '\n', true);

  const bad = `${new Date(T0 + 20_000).toISOString()},${ns(T0 + 20_000)},10.0.0.1,${CART},app,t1,a1,"{""log"":""x""}"tail, with, commas"`;
  const zero = `2024-03-05T10:00:30.250,-6795364578871345152,10.0.0.2,${PAY},app,t1,b1,${csvQuote(JSON.stringify({ log: '10:00:30.250 ERROR payment declined\n' }))}`;
  write(
    join(rca, 'log', '10_01_log.csv'),
    [
      LOG_HEADER,
      log(T0 + 5_000, '10.0.0.1', CART, 't1', 'a1', '10:00:05.000 INFO  c.CartController add item "book" \u003c3 qty=2\tok'),
      bad,
      zero,
      log(T0 + 6_000, '10.0.0.2', PAY, '', '', '10:00:06.000 WARN  p.Pay retry 1 — 支付 \\n literal'),
    ].join('\n') + '\n',
    true,
  );
  write(join(rca, 'log', '10_02_log.csv'), [LOG_HEADER, log(T0 + 70_000, '10.0.0.1', CART, 't2', 'a2', 'no level here')].join('\n') + '\n', false);

  write(join(cons, 'trace', '09_30_trace.csv'), [TRACE_HEADER, span('c1', 'c1a', 'root', CART, 'GET /cart', T0 - 1_800_000 - 20_000, 1_000)].join('\n') + '\n', false);
  write(join(cons, 'log', '09_30_log.csv'), [LOG_HEADER, log(T0 - 1_800_000 - 15_000, '10.0.0.1', CART, 'c1', 'c1a', '09:29:45.000 INFO  ok')].join('\n') + '\n', true);
  return root;
}

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

const root = buildFixture();
test.after(() => rmSync(root, { recursive: true, force: true }));

test('detects the layout at the root, rca_data, or one day folder, and nothing else', async () => {
  assert.equal(await detectNezha(root), true);
  assert.equal(await detectNezha(join(root, 'rca_data')), true);
  assert.equal(await detectNezha(join(root, 'rca_data', DAY)), true);
  assert.equal(await detectNezha(join(root, 'rca_data', DAY, 'trace')), false);
  const empty = mkdtempSync(join(tmpdir(), 'nezha-empty-'));
  try {
    assert.equal(await detectNezha(empty), false);
    await assert.rejects(openNezha(empty), (e: unknown) => e instanceof UserError && /rca_data/.test(e.message));
  } finally {
    rmSync(empty, { recursive: true });
  }
});

test('fault labels: inject_time as UTC, default and custom duration, time-ordered ids', async () => {
  const ds = await openNezha(root);
  assert.deepEqual(
    ds.labels.map((l) => [l.id, new Date(l.start).toISOString(), l.end - l.start, l.rootCause, l.rootCauseService, l.type]),
    [
      [`${DAY}#1`, '2024-03-05T09:45:00.000Z', 180_000, CART, 'cart-api', 'return'],
      [`${DAY}#2`, '2024-03-05T10:01:30.000Z', 180_000, PAY, 'pay-svc', 'cpu_contention'],
    ],
  );
  const short = await openNezha(root, { faultDurationMs: 60_000 });
  assert.ok(short.labels.every((l) => l.end - l.start === 60_000), 'short.labels.every((l) => l.end - l.start === 60_000)');
});

test('metrics: each sample once (construct_data repeats rca_data), NaN and empty cells missing, units', async () => {
  const ds = await openNezha(root);
  const series = await all<MetricSeries>(ds.metrics());
  const byKey = new Map<string, { times: number[]; values: number[]; unit?: string }>();
  for (const s of series) {
    const k = `${s.entity}|${s.name}`;
    const e = byKey.get(k) ?? { times: [], values: [], unit: s.unit };
    e.times.push(...s.times);
    e.values.push(...s.values);
    byKey.set(k, e);
  }
  const cpu = byKey.get(`${CART}|CpuUsage(m)`)!;
  assert.equal(cpu.times.length, 40, 'one sample per row, not two');
  assert.ok(Number.isNaN(cpu.values[2]), 'Number.isNaN(cpu.values[2])');
  assert.equal(cpu.values[3], 13);
  assert.equal(cpu.times[0], T0 - 1_800_000);
  assert.ok(Number.isNaN(byKey.get(`${CART}|PodLatencyP90(s)`)!.values[3]), 'an empty cell is missing, not 0');
  assert.equal(byKey.get(`${CART}|CpuUsageRate(%)`)!.unit, '%');
  assert.equal(byKey.get(`${PAY}|MemoryUsage(Mi)`)!.unit, 'Mi');
  assert.equal(byKey.get('Storefront|LatencyP50(s)')!.times.length, 40);
  assert.ok(![...byKey.keys()].some((k) => k.endsWith('|Time') || k.endsWith('|TimeStamp') || k.endsWith('|PodName')), '![...byKey.keys()].some((k) => k.endsWith("|Time") || k.endsWith("|...');
  assert.equal(byKey.size, 2 * 4 + 2);
  // Blocks come in time order.
  let last = -Infinity;
  for await (const batch of ds.metrics()) {
    const first = Math.min(...batch.map((s) => s.times[0]));
    assert.ok(first >= last, 'metric blocks in time order');
    last = Math.max(...batch.map((s) => s.times[s.times.length - 1]));
  }
  // A range cuts the series.
  const r: TimeRange = { start: T0 - 600_000, end: T0 };
  const cut = await all<MetricSeries>(ds.metrics(r));
  assert.ok(cut.every((s) => s.times.every((t) => t >= r.start && t < r.end)), 'cut.every((s) => s.times.every((t) => t >= r.start && t < r.end))');
  assert.equal(cut.find((s) => s.entity === CART && s.name === 'CpuUsage(m)')!.times.length, 10);
});

test('spans: own timestamps, not file names; µs → ms; root parent; sorted; ranges', async () => {
  const ds = await openNezha(root);
  const spans = await all<Span>(ds.spans());
  assert.equal(spans.length, 3 + 4 + 1 + 1, 'every span of every present file (10_03 is missing), construct included');
  assert.equal(spans.findIndex((s, i) => i > 0 && s.start < spans[i - 1].start), -1, 'time order across files');
  const b1 = spans.find((s) => s.spanId === 'b1')!;
  assert.equal(b1.parentId, 'a1');
  assert.equal(b1.entity, PAY);
  assert.equal(b1.service, 'pay-svc');
  assert.equal(b1.operation, 'charge');
  assert.equal(b1.duration, 120.5);
  assert.equal(b1.start, T0 + 5_100);
  assert.equal(b1.status, 'unset');
  assert.equal(spans.find((s) => s.spanId === 'a1')!.parentId, undefined);
  assert.equal(spans.find((s) => s.spanId === 'a3')!.operation, 'say "hi", op', 'a CSV-quoted field is unquoted');
  // 10:00:10 sits in file 10_02 but belongs to the minute 10:00–10:01, with 10_01's spans.
  const r: TimeRange = { start: T0, end: T0 + 60_000 };
  const inRange = await all<Span>(ds.spans(r));
  assert.deepEqual(inRange.map((s) => s.spanId), ['a1', 'b1', 'a9']);
  const late = await all<Span>(ds.spans({ start: T0 + 200_000, end: T0 + 300_000 }));
  assert.deepEqual(late.map((s) => s.spanId), ['a4']);
});

test('logs: Docker envelope unwrapped, severity, ids, zero-time fallback, malformed line reported', async () => {
  const problems = new ProblemLog();
  const ds = await openNezha(root, { problems });
  assert.equal(ds.problems, problems);
  const logs = await all<LogRecord>(ds.logs());
  assert.equal(logs.length, 3 + 1 + 1, 'the malformed line is skipped, the rest loads');
  assert.equal(logs.findIndex((l, i) => i > 0 && l.time < logs[i - 1].time), -1, 'time order');
  const cart = logs.find((l) => l.time === T0 + 5_000)!;
  assert.equal(cart.body, '10:00:05.000 INFO  c.CartController add item "book" <3 qty=2\tok');
  assert.equal(cart.severity, 'info');
  assert.equal(cart.traceId, 't1');
  assert.equal(cart.spanId, 'a1');
  assert.equal(cart.entity, CART);
  assert.equal(cart.service, 'cart-api');
  assert.equal(cart.attributes?.node, '10.0.0.1');
  const pay = logs.find((l) => l.time === T0 + 6_000)!;
  assert.equal(pay.body, '10:00:06.000 WARN  p.Pay retry 1 — 支付 \\n literal');
  assert.equal(pay.severity, 'warn');
  assert.equal(pay.traceId, undefined);
  const zero = logs.find((l) => l.body.includes('payment declined'))!;
  assert.equal(zero.time, T0 + 30_250, 'Timestamp (no zone = UTC) replaces the invalid TimeUnixNano');
  assert.equal(zero.severity, 'error');
  assert.equal(logs.find((l) => l.body === 'no level here')!.severity, 'unknown');
  const file = `rca_data/${DAY}/log/10_01_log.csv.gz`;
  assert.ok(problems.items.some((p) => p.file === file && p.line === 3 && /fields instead of 8/.test(p.reason)), JSON.stringify(problems.items));
  assert.ok(problems.items.some((p) => p.file === file && p.line === 4 && /TimeUnixNano/.test(p.reason)), 'problems.items.some((p) => p.file === file && p.line === 4 && /Time...');
});

test('entities, time range, reference minutes, notes, topology', async () => {
  const ds = await openNezha(root);
  const byId = new Map(ds.entities.map((e) => [e.id, e]));
  assert.deepEqual(byId.get(CART), { id: CART, kind: 'pod', service: 'cart-api', node: '10.0.0.1' });
  assert.deepEqual(byId.get(PAY), { id: PAY, kind: 'pod', service: 'pay-svc', node: '10.0.0.2' });
  for (const s of ['cart-api', 'pay-svc', 'Storefront']) assert.equal(byId.get(s)?.kind, 'service');
  for (const n of ['10.0.0.1', '10.0.0.2']) assert.equal(byId.get(n)?.kind, 'node');
  assert.equal(ds.entities.length, 2 + 3 + 2);

  assert.equal(ds.timeRange.start, T0 - 1_800_000 - 20_000, 'the construct span at 09:29:40 is the earliest record');
  assert.equal(ds.timeRange.end, T0 + 9 * 60_000 + 5_000 + 1, 'the last front_service row (10:09:05) is the latest record');
  assert.deepEqual(ds.referenceRanges, [{ start: T0 - 1_820_000, end: T0 - 1_815_000 + 1 }]);
  assert.ok(ds.disorderMs > 0, 'ds.disorderMs > 0');
  assert.ok(ds.notes.some((n) => /not a signal/i.test(n)), 'ds.notes.some((n) => /not a signal/i.test(n))');
  assert.deepEqual(ds.days, [DAY]);

  const topo = await ds.topology();
  assert.deepEqual(topo.edges, [{ caller: CART, callee: PAY, count: 2 }]);
  assert.equal(await ds.topology(), topo, 'cached');
});

test('rca_data alone and a single day folder open too', async () => {
  const rcaOnly = await openNezha(join(root, 'rca_data'));
  assert.equal(rcaOnly.labels.length, 2);
  assert.equal((await all<Span>(rcaOnly.spans())).length, 8, 'no construct minutes');
  const cons = await openNezha(join(root, 'construct_data', DAY));
  assert.equal(cons.labels.length, 0);
  assert.equal((await all<Span>(cons.spans())).length, 1);
  const m = await all<MetricSeries>(cons.metrics());
  assert.equal(m.filter((s) => s.entity === CART && s.name === 'CpuUsage(m)').reduce((n, s) => n + s.times.length, 0), 40);
});
