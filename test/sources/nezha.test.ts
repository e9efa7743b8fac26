import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNezha } from '../../src/sources/nezha/index.js';
import type { NezhaDataset } from '../../src/sources/nezha/index.js';
import { lineBatches, splitCsvLine } from '../../src/sources/io/index.js';
import { ProblemLog, edgesFromSpans, nanosToMs } from '../../src/telemetry/index.js';
import type { LogRecord, MetricSeries, Span, TimeRange } from '../../src/telemetry/index.js';

// The real Nezha TrainTicket export; reference counts are those of shared/datasets/README.md.
const DATASETS = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const ROOT = join(DATASETS, 'nezha-trainticket');
const present = existsSync(join(ROOT, 'rca_data'));
const skip = !present && 'datasets absent (set RS_DATASETS or place shared/datasets beside the repo)';

const DAY30 = Date.UTC(2023, 0, 30);
const utc = (iso: string) => Date.parse(iso);

let rootPromise: Promise<NezhaDataset> | undefined;
const openRoot = () => (rootPromise ??= openNezha(ROOT));

interface FolderStats {
  spans: number;
  traceIds: Set<string>;
  logs: number;
  spanOrderBreaks: number;
  logOrderBreaks: number;
  problems: ProblemLog;
  inRange: { spans: number; logs: number };
  minLogTime: number;
  severities: Record<string, number>;
  /** one span, for unit checks */
  gatewayRoot?: Span;
}

const WINDOW: TimeRange = { start: utc('2023-01-29T08:40:00Z'), end: utc('2023-01-29T09:10:00Z') };

/** Spans and logs of one day folder, read through a dataset opened on that folder alone. */
async function readFolder(rel: string): Promise<FolderStats> {
  const problems = new ProblemLog();
  const ds = await openNezha(join(ROOT, rel), { problems });
  const st: FolderStats = {
    spans: 0,
    traceIds: new Set(),
    logs: 0,
    spanOrderBreaks: 0,
    logOrderBreaks: 0,
    problems,
    inRange: { spans: 0, logs: 0 },
    minLogTime: Infinity,
    severities: {},
  };
  let last = -Infinity;
  for await (const batch of ds.spans()) {
    for (const s of batch) {
      st.spans++;
      st.traceIds.add(s.traceId);
      if (s.start < last) st.spanOrderBreaks++;
      last = Math.max(last, s.start);
      if (s.start >= WINDOW.start && s.start < WINDOW.end) st.inRange.spans++;
      if (s.spanId === '520b067330e3ede5') st.gatewayRoot = s;
    }
  }
  last = -Infinity;
  for await (const batch of ds.logs()) {
    for (const l of batch) {
      st.logs++;
      if (l.time < last) st.logOrderBreaks++;
      last = Math.max(last, l.time);
      st.minLogTime = Math.min(st.minLogTime, l.time);
      st.severities[l.severity] = (st.severities[l.severity] ?? 0) + 1;
      if (l.time >= WINDOW.start && l.time < WINDOW.end) st.inRange.logs++;
    }
  }
  return st;
}

const folders = new Map<string, Promise<FolderStats>>();
const folder = (rel: string) => {
  let p = folders.get(rel);
  if (!p) folders.set(rel, (p = readFolder(rel)));
  return p;
};

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) for (const r of b) out.push(r);
  return out;
}

test('45 faults from inject_time, by type and day', { skip }, async () => {
  const ds = await openRoot();
  assert.equal(ds.labels.length, 45);
  const byType: Record<string, number> = {};
  for (const l of ds.labels) byType[l.type] = (byType[l.type] ?? 0) + 1;
  assert.deepEqual(byType, { return: 11, exception: 13, cpu_contention: 7, network_delay: 14 });
  assert.equal(ds.labels.filter((l) => l.id.startsWith('2023-01-29#')).length, 28);
  assert.equal(ds.labels.filter((l) => l.id.startsWith('2023-01-30#')).length, 17);
  const first = ds.labels[0];
  assert.equal(first.id, '2023-01-29#1');
  assert.equal(new Date(first.start).toISOString(), '2023-01-29T08:43:04.000Z');
  assert.equal(first.end - first.start, 3 * 60_000);
  assert.equal(first.rootCause, 'ts-contacts-service-866bd68c97-xcqfx');
  assert.equal(first.rootCauseService, 'ts-contacts-service');
  const services = new Set(ds.labels.map((l) => l.rootCauseService));
  assert.deepEqual(
    [...services].sort(),
    ['basic', 'contacts', 'food', 'preserve', 'price', 'route', 'security', 'travel', 'travel2', 'verification-code'].map((s) => `ts-${s}-service`).sort(),
  );
  // Faults fall in 08:43–15:42 (01-29) and 11:51–14:08 (01-30), per inject_time.
  const d29 = ds.labels.filter((l) => l.start < DAY30);
  assert.ok(d29.every((l) => l.start >= utc('2023-01-29T08:43:00Z') && l.start < utc('2023-01-29T15:43:00Z')), 'd29.every((l) => l.start >= utc("2023-01-29T08:43:00Z") && l.start ...');
  const d30 = ds.labels.filter((l) => l.start >= DAY30);
  assert.ok(d30.every((l) => l.start >= utc('2023-01-30T11:51:00Z') && l.start < utc('2023-01-30T14:09:00Z')), 'd30.every((l) => l.start >= utc("2023-01-30T11:51:00Z") && l.start ...');
});

test('time range, entities, notes', { skip }, async () => {
  const ds = await openRoot();
  assert.equal(ds.timeRange.start, utc('2023-01-29T08:41:09Z'), 'first front_service row');
  assert.ok(ds.timeRange.end > utc('2023-01-30T23:59:00Z') && ds.timeRange.end <= utc('2023-01-31T00:00:00Z'), 'ds.timeRange.end > utc("2023-01-30T23:59:00Z") && ds.timeRange.end ...');
  assert.deepEqual(ds.days, ['2023-01-29', '2023-01-30']);
  const pods = ds.entities.filter((e) => e.kind === 'pod');
  assert.equal(pods.length, 92, '46 pods a day; pod names change between days');
  assert.ok(pods.every((p) => p.service && p.id.startsWith(p.service + '-')), 'pods.every((p) => p.service && p.id.startsWith(p.service + "-"))');
  const travel = ds.entities.find((e) => e.id === 'ts-travel-service-64469b5b48-25zj6');
  assert.deepEqual(travel, { id: 'ts-travel-service-64469b5b48-25zj6', kind: 'pod', service: 'ts-travel-service', node: '33.33.33.116' });
  const services = ds.entities.filter((e) => e.kind === 'service').map((e) => e.id);
  assert.equal(services.length, 47);
  assert.ok(services.includes('Frontend') && services.includes('ts-travel-service'), 'services.includes("Frontend") && services.includes("ts-travel-servi...');
  const nodes = ds.entities.filter((e) => e.kind === 'node');
  assert.ok(nodes.length > 0, 'nodes.length > 0');
  assert.ok(pods.filter((p) => p.node).every((p) => nodes.some((n) => n.id === p.node)), 'pods.filter((p) => p.node).every((p) => nodes.some((n) => n.id === ...');
  // Every pod that logs has its node (28 a day log here).
  assert.ok(pods.filter((p) => p.node).length >= 50, 'pods.filter((p) => p.node).length >= 50');
  assert.ok(ds.notes.some((n) => /only in \d+ minute file/.test(n) && /not a signal/i.test(n)), 'ds.notes.some((n) => /only in d+ minute file/.test(n) && /not a sig...');
  assert.equal(ds.referenceRanges.length, 2, 'one construct_data minute a day');
  assert.ok(ds.disorderMs > 0 && ds.disorderMs <= 5 * 60_000, 'ds.disorderMs > 0 && ds.disorderMs <= 5 * 60_000');
});

test('metrics: files, rows and NaN share per day, front_service, no double count of construct_data', { skip }, async () => {
  const ds = await openRoot();
  const rows = { pod29: 0, pod30: 0, front29: 0, front30: 0 };
  const cells = { c29: 0, n29: 0, c30: 0, n30: 0 };
  const podsWithMetrics = { d29: new Set<string>(), d30: new Set<string>() };
  const names = new Set<string>();
  let last = -Infinity;
  for await (const batch of ds.metrics()) {
    let first = Infinity;
    for (const s of batch as MetricSeries[]) {
      first = Math.min(first, s.times[0]);
      assert.equal(s.times.findIndex((t, i) => i > 0 && t <= s.times[i - 1]), -1, 'ascending times');
      const front = s.entity === 'Frontend';
      if (!front) names.add(s.name);
      for (let i = 0; i < s.times.length; i++) {
        const d29 = s.times[i] < DAY30;
        if (front) {
          if (s.name === 'LatencyP50(s)') d29 ? rows.front29++ : rows.front30++;
          continue;
        }
        if (s.name === 'CpuUsage(m)') {
          d29 ? rows.pod29++ : rows.pod30++;
          (d29 ? podsWithMetrics.d29 : podsWithMetrics.d30).add(s.entity);
        }
        const nan = Number.isNaN(s.values[i]) ? 1 : 0;
        if (d29) {
          cells.c29++;
          cells.n29 += nan;
        } else {
          cells.c30++;
          cells.n30 += nan;
        }
      }
    }
    assert.ok(first >= last, 'blocks in time order');
    last = Math.max(...batch.map((s) => s.times[s.times.length - 1]));
  }
  assert.deepEqual(rows, { pod29: 42_274, pod30: 34_086, front29: 919, front30: 741 });
  assert.equal(podsWithMetrics.d29.size, 46);
  assert.equal(podsWithMetrics.d30.size, 46);
  assert.equal(names.size, 19);
  assert.ok(names.has('CpuUsageRate(%)') && names.has('PodServerLatencyP99(s)') && names.has('NodeNetworkReceiveBytes'), 'names.has("CpuUsageRate(%)") && names.has("PodServerLatencyP99(s)")...');
  assert.ok(Math.abs((100 * cells.n29) / cells.c29 - 5.01) < 0.01, `NaN share 01-29 ${(100 * cells.n29) / cells.c29}`);
  assert.ok(Math.abs((100 * cells.n30) / cells.c30 - 6.64) < 0.01, `NaN share 01-30 ${(100 * cells.n30) / cells.c30}`);
});

test('spans and logs per folder match the reference counts; streams are in time order', { skip }, async () => {
  const expected: Record<string, [spans: number, traces: number, logs: number]> = {
    'rca_data/2023-01-29': [328_848, 4_483, 172_721],
    'rca_data/2023-01-30': [179_170, 2_475, 94_703],
    'construct_data/2023-01-29': [4_890, 71, 2_489],
    'construct_data/2023-01-30': [4_595, 62, 2_485],
  };
  for (const [rel, [spans, traces, logs]] of Object.entries(expected)) {
    const st = await folder(rel);
    assert.deepEqual([st.spans, st.traceIds.size, st.logs], [spans, traces, logs], rel);
    assert.equal(st.spanOrderBreaks, 0, `${rel}: spans sorted by start`);
    assert.equal(st.logOrderBreaks, 0, `${rel}: logs sorted by time`);
    assert.ok(st.minLogTime > utc('2023-01-29T00:00:00Z'), `${rel}: no log keeps an invalid TimeUnixNano`);
    assert.ok(st.severities.info > 0, 'st.severities.info > 0');
  }
  const d29 = await folder('rca_data/2023-01-29');
  const skipped = d29.problems.items.filter((p) => /skipped/.test(p.reason));
  assert.deepEqual(
    skipped.map((p) => [p.file, p.line]),
    [['log/10_06_log.csv.gz', 631]],
    'exactly the one malformed record is skipped',
  );
  assert.match(skipped[0].reason, /10 fields instead of 8/);
  assert.ok(d29.severities.error > 0 && d29.severities.warn > 0, 'd29.severities.error > 0 && d29.severities.warn > 0');
  // Go's zero time in TimeUnixNano: the row's Timestamp is used instead, and it is reported.
  assert.ok(d29.problems.items.some((p) => p.file === 'log/09_21_log.csv.gz' && /time taken from Timestamp/.test(p.reason)), 'd29.problems.items.some((p) => p.file === "log/09_21_log.csv.gz" &&...');
});

test('span units: Duration µs → ms, StartTimeUnixNano → ms, root parent', { skip }, async () => {
  const s = (await folder('rca_data/2023-01-29')).gatewayRoot;
  assert.ok(s, 'span 520b067330e3ede5 of 08_43_trace');
  assert.equal(s.traceId, 'b0103bb0161ad7fa352fe1828eeb643a');
  assert.equal(s.parentId, undefined);
  assert.equal(s.entity, 'ts-gateway-service-6f6cfc45b-h5m2n');
  assert.equal(s.service, 'ts-gateway-service');
  assert.equal(s.operation, '/*');
  assert.equal(s.start, 1674981768697);
  assert.equal(s.duration, 318.316);
  assert.equal(s.status, 'unset');
});

test('root: a range reads rca and construct minutes together, filtered by record time', { skip }, async () => {
  const ds = await openRoot();
  const spans = await all(ds.spans(WINDOW));
  const logs = await all(ds.logs(WINDOW));
  const a = await folder('rca_data/2023-01-29');
  const b = await folder('construct_data/2023-01-29');
  assert.equal(spans.length, a.inRange.spans + b.inRange.spans);
  assert.equal(logs.length, a.inRange.logs + b.inRange.logs);
  assert.ok(b.inRange.spans > 0, 'the 08:50 construct minute is inside');
  assert.equal(spans.findIndex((s, i) => i > 0 && s.start < spans[i - 1].start), -1, 'spans in time order');
  assert.ok(spans.every((s) => s.start >= WINDOW.start && s.start < WINDOW.end), 'spans inside the range');
  // The malformed record is reported with its path from the export root.
  const problems = new ProblemLog();
  const ds2 = await openNezha(ROOT, { problems });
  await all(ds2.logs({ start: utc('2023-01-29T10:05:00Z'), end: utc('2023-01-29T10:06:00Z') }));
  assert.ok(problems.items.some((p) => p.file === 'rca_data/2023-01-29/log/10_06_log.csv.gz' && p.line === 631), 'problems.items.some((p) => p.file === "rca_data/2023-01-29/log/10_0...');
});

test('log bodies equal the Docker envelope\'s "log" (JSON-parsed) without its newline', { skip }, async () => {
  // The first minute of 01-29: bodies with \u003c escapes, escaped quotes and non-ASCII text.
  const range: TimeRange = { start: utc('2023-01-29T08:41:00Z'), end: utc('2023-01-29T08:44:00Z') };
  const ds = await openRoot();
  const got = (await all<LogRecord>(ds.logs(range))).map((l) => `${l.time}|${l.entity}|${l.traceId ?? ''}|${l.body}`);
  const want: string[] = [];
  for (const f of ['08_43', '08_44', '08_45']) {
    let header: string[] | null = null;
    for await (const { lines } of lineBatches(join(ROOT, 'rca_data/2023-01-29/log', `${f}_log.csv.gz`))) {
      for (const line of lines) {
        const row = splitCsvLine(line);
        assert.ok(row, line.slice(0, 80));
        if (!header) {
          header = [...row];
          continue;
        }
        const time = nanosToMs(row[1]);
        if (time < range.start || time >= range.end) continue;
        const body = (JSON.parse(row[7]) as { log: string }).log.replace(/\n$/, '');
        want.push(`${time}|${row[3]}|${row[5]}|${body}`);
      }
    }
  }
  assert.ok(want.length > 1000, 'want.length > 1000');
  assert.ok(want.some((w) => w.includes('<')) && want.some((w) => /[^\x00-\x7f]/.test(w)) && want.some((w) => w.includes('"')), 'want.some((w) => w.includes("<")) && want.some((w) => /[^x00-x7f]/....');
  assert.deepEqual([...got].sort(), [...want].sort());
});

test('topology: call edges from spans, cached', { skip }, async () => {
  const ds = await openNezha(join(ROOT, 'construct_data', '2023-01-29'));
  const topo = await ds.topology();
  assert.equal(await ds.topology(), topo);
  const spans = await all<Span>(ds.spans());
  const direct = [...edgesFromSpans(spans).values()];
  const key = (e: { caller: string; callee: string; count: number }) => `${e.caller}>${e.callee}:${e.count}`;
  assert.deepEqual(topo.edges.map(key).sort(), direct.map(key).sort());
  assert.ok(topo.edges.length > 10, 'topo.edges.length > 10');
  assert.ok(topo.edges.some((e) => e.caller.startsWith('ts-gateway-service-')), 'topo.edges.some((e) => e.caller.startsWith("ts-gateway-service-"))');
  assert.ok(topo.entities.some((e) => e.kind === 'pod'), 'topo.entities.some((e) => e.kind === "pod")');
});
