// The Nezha reader on damaged and foreign exports: the generated Online-Boutique fixture
// (scripts/make-nezha-fixture.ts) and variants of it with broken gzip, shifted clocks and
// malformed fault lists. Nothing may throw; every damage is reported naming its file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { makeNezhaFixture } from '../../scripts/make-nezha-fixture.js';
import type { NezhaFixture } from '../../scripts/make-nezha-fixture.js';
import { openNezha } from '../../src/sources/nezha/index.js';
import { textTimeMs } from '../../src/sources/nezha/clocks.js';
import { ReadError, lineBatches } from '../../src/sources/io/index.js';
import { ProblemLog, serviceOfPod } from '../../src/telemetry/index.js';
import type { Dataset, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'rs-nezha-damaged-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let serial = 0;
const fresh = (opts: { clean?: boolean } = {}): NezhaFixture => makeNezhaFixture(join(scratch, `fx${serial++}`), opts);

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) for (const x of b) out.push(x);
  return out;
}

async function readAll(ds: Dataset): Promise<{ metrics: MetricSeries[]; spans: Span[]; logs: LogRecord[] }> {
  return { metrics: await all(ds.metrics()), spans: await all(ds.spans()), logs: await all(ds.logs()) };
}

const fx = fresh();
const DAY_START = Date.UTC(2022, 7, 24);

test('fixture: small, deterministic, and the damage it promises is there', () => {
  const again = makeNezhaFixture(join(scratch, 'again'));
  assert.deepEqual({ ...again, root: '' }, { ...fx, root: '' });
  const bytes = readdirSync(fx.root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .reduce((n, d) => n + statSync(join(d.parentPath ?? d.path, d.name)).size, 0);
  assert.ok(bytes > 50_000 && bytes < 1_000_000, `${bytes} bytes`);
  assert.ok(fx.shiftedFile && fx.damagedFile && fx.missingFiles.length === 2, JSON.stringify(fx));
  assert.deepEqual(fx.services, ['cartservice', 'checkoutservice', 'currencyservice', 'frontend', 'paymentservice', 'productcatalogservice', 'redis-cart']);
  assert.ok(fx.pods.includes('redis-cart-0'));
  for (const p of fx.pods) assert.ok(fx.services.includes(serviceOfPod(p)), `${p} → ${serviceOfPod(p)}`);
});

test('services come from the rows: exactly the services that emit telemetry, none from derived tables or file names', async () => {
  const ds = await openNezha(fx.root, { problems: new ProblemLog() });
  const services = ds.entities.filter((e) => e.kind === 'service').map((e) => e.id);
  assert.deepEqual(services, fx.services);
  const pods = ds.entities.filter((e) => e.kind === 'pod').map((e) => e.id);
  assert.deepEqual(pods, fx.pods);
  assert.ok(ds.entities.filter((e) => e.kind === 'pod').every((e) => e.service === serviceOfPod(e.id)));
  // The derived tables and the second front-end table are named in one note, not read as entities.
  const note = ds.notes.find((n) => /Derived tables/.test(n)) ?? '';
  for (const f of fx.derivedFiles) assert.ok(note.includes(f), `${f} in ${note}`);
  assert.ok(fx.frontendFiles.some((f) => note.includes(f)), note);
  const { metrics } = await readAll(ds);
  const entities = new Set(metrics.map((m) => m.entity));
  assert.ok(entities.has('frontend'), 'the front-end table is the frontend service');
  for (const e of entities) assert.ok(fx.pods.includes(e) || fx.services.includes(e), `metric entity ${e}`);
  // One front-end table: each of its minutes once.
  const p50 = metrics.filter((m) => m.entity === 'frontend' && m.name === 'LatencyP50(s)');
  assert.equal(p50.reduce((n, m) => n + m.times.length, 0), fx.metricRows);
});

test('the shifted TimeStamp column is repaired from Time, reported once, and the time range stays in the day', async () => {
  const problems = new ProblemLog();
  const ds = await openNezha(fx.root, { problems });
  const clock = problems.items.filter((p) => p.kind === 'clock');
  assert.equal(clock.length, 1, JSON.stringify(clock));
  assert.equal(clock[0].file, fx.shiftedFile);
  assert.equal(clock[0].line, 0);
  assert.match(clock[0].reason, /TimeStamp is 200000000 s ahead of Time on 120 row\(s\).*repaired from Time/);
  assert.equal(ds.timeRange.start, fx.range.start);
  assert.ok(ds.timeRange.end <= fx.range.end && ds.timeRange.end > fx.range.end - 120_000, new Date(ds.timeRange.end).toISOString());
  const shiftedPod = fx.pods.find((p) => fx.shiftedFile!.includes(p))!;
  const { metrics } = await readAll(ds);
  const cpu = metrics.filter((m) => m.entity === shiftedPod && m.name === 'CpuUsage(m)');
  const times = cpu.flatMap((m) => [...m.times]);
  assert.equal(times.length, fx.metricRows);
  assert.ok(times.every((t) => t >= fx.range.start && t < fx.range.end));
});

test('a truncated .csv.gz is reported with how far it got; its readable rows are kept; the rest is read', async () => {
  const problems = new ProblemLog();
  const ds = await openNezha(fx.root, { problems });
  const damage = problems.items.filter((p) => p.kind === 'damaged-file');
  assert.equal(damage.length, 1, JSON.stringify(damage));
  assert.equal(damage[0].file, fx.damagedFile);
  assert.match(damage[0].reason, /truncated gzip .* after \d+ line\(s\) \(\d+ bytes\)/);
  const pod = fx.pods.find((p) => fx.damagedFile!.includes(p))!;
  const { metrics, spans, logs } = await readAll(ds);
  const rows = metrics.filter((m) => m.entity === pod && m.name === 'CpuUsage(m)').reduce((n, m) => n + m.times.length, 0);
  assert.ok(rows > 10 && rows < fx.damagedRows, `kept ${rows} of ${fx.damagedRows}`);
  assert.equal(damage[0].line, rows + 1, 'the header and the kept rows');
  // Missing minute files are simply absent; everything written is read.
  assert.equal(spans.length, fx.spans);
  assert.equal(logs.length, fx.logs);
  assert.equal(ds.problems, problems);
});

test('faults are labelled from the fault list, and a clean fixture reports nothing', async () => {
  const ds = await openNezha(fx.root);
  assert.deepEqual(
    ds.labels.map((l) => [l.rootCause, l.rootCauseService, l.type, l.start]),
    fx.faults.map((f) => [f.pod, f.service, f.type, f.start]),
  );
  assert.deepEqual(ds.labelIssues, []);
  const clean = fresh({ clean: true });
  const problems = new ProblemLog();
  const cds = await openNezha(clean.root, { problems });
  const { spans, logs } = await readAll(cds);
  assert.equal(spans.length, clean.spans);
  assert.equal(logs.length, clean.logs);
  assert.deepEqual(problems.items, []);
  assert.deepEqual(cds.entities.filter((e) => e.kind === 'service').map((e) => e.id), clean.services);
});

test('malformed fault lists fill labelIssues naming the file, never silently label everything normal', async () => {
  const list = (f: NezhaFixture) => join(f.root, 'rca_data', f.day, `${f.day}-fault_list.json`);
  const rel = `rca_data/${fx.day}/${fx.day}-fault_list.json`;
  const cases: [string, string, RegExp, number][] = [
    ['invalid JSON', '{"03": [{"inject_time": "2022-08-24 03:20:07",', /not valid JSON/, 0],
    ['wrong shape', '"03:20 cartservice"', /expected an object of hour groups/, 0],
    ['group not a list', '{"03": "cartservice"}', /group "03" is not a list/, 0],
    [
      'entries missing fields',
      JSON.stringify({ '03': [{ inject_time: '2022-08-24 03:20:07', inject_pod: 'cartservice-1-2', inject_type: 'return' }, { inject_pod: 'x' }, { inject_time: 'soon', inject_pod: 'y', inject_type: 'z' }] }),
      /2 of 3 fault\(s\) unreadable/,
      1,
    ],
  ];
  for (const [what, text, expect, kept] of cases) {
    const f = fresh({ clean: true });
    writeFileSync(list(f), text);
    const problems = new ProblemLog();
    const ds = await openNezha(f.root, { problems });
    assert.equal(ds.labels.length, kept, what);
    assert.ok(ds.labelIssues && ds.labelIssues.length > 0, what);
    assert.ok(ds.labelIssues.some((m) => m.startsWith(rel + ': ') && expect.test(m)), `${what}: ${JSON.stringify(ds.labelIssues)}`);
    assert.ok(problems.items.some((p) => p.kind === 'labels' && p.file === rel), what);
  }
});

test('every kind of damaged .csv.gz (0 bytes, not gzip, CRC error, cut) is one problem; the other files are read', async () => {
  const f = fresh({ clean: true });
  const trace = f.traceFiles.find((t) => t.endsWith('.gz') && t.startsWith('rca_data'))!;
  const log = f.logFiles.find((t) => t.endsWith('.gz') && t.startsWith('rca_data') && !t.includes(trace.slice(-20, -15)))!;
  const metric = `rca_data/${f.day}/metric/${f.pods.find((p) => p.startsWith('frontend'))}_metric.csv.gz`;
  writeFileSync(join(f.root, trace), Buffer.alloc(0));
  writeFileSync(join(f.root, log), 'Timestamp,TimeUnixNano\nthis is not gzip\n');
  const crc = Buffer.from(readFileSync(join(f.root, metric)));
  crc[crc.length - 6] ^= 0xff; // CRC-32 of the member
  writeFileSync(join(f.root, metric), crc);
  const problems = new ProblemLog();
  const ds = await openNezha(f.root, { problems });
  const { metrics, spans, logs } = await readAll(ds);
  const damage = new Map(problems.items.filter((p) => p.kind === 'damaged-file').map((p) => [p.file, p.reason]));
  assert.match(damage.get(trace) ?? '', /empty file \(0 bytes/);
  assert.match(damage.get(log) ?? '', /not gzip data/);
  assert.match(damage.get(metric) ?? '', /checksum \(CRC\)/);
  assert.equal(damage.size, 3, JSON.stringify([...damage]));
  assert.ok(spans.length > 0 && spans.length < f.spans);
  assert.ok(logs.length > 0 && logs.length < f.logs);
  assert.ok(metrics.some((m) => m.entity.startsWith('frontend-')), 'rows before the CRC check are kept');
});

test('trace and log clocks: a shifted start or TimeUnixNano is repaired from the other clock; rows outside the day are dropped', async () => {
  const f = fresh({ clean: true });
  const SHIFT_NS = 200_000_000n * 1_000_000_000n;
  const shiftField = (line: string, col: number) => {
    const cells = line.split(',');
    cells[col] = String(BigInt(cells[col]) + SHIFT_NS);
    return cells.join(',');
  };
  const rewrite = (rel: string, edit: (lines: string[]) => string[]) => {
    const path = join(f.root, rel);
    const raw = readFileSync(path);
    const text = (rel.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
    const out = edit(text.split('\n')).join('\n');
    writeFileSync(path, rel.endsWith('.gz') ? gzipSync(out) : out);
  };
  const trace = f.traceFiles.find((t) => t.startsWith('rca_data'))!;
  const log = f.logFiles.find((t) => t.startsWith('rca_data'))!;
  let traceRows = 0;
  // Trace: every StartTimeUnixNano shifted; End and Duration intact → repaired.
  rewrite(trace, (lines) => lines.map((l, i) => (i === 0 || l === '' ? l : (traceRows++, shiftField(l, 5)))));
  // Log: TimeUnixNano shifted on every row → repaired from Timestamp; the last row has both
  // clocks far outside the day → dropped.
  let lastLog = '';
  rewrite(log, (lines) => {
    const out = lines.map((l, i) => (i === 0 || l === '' ? l : shiftField(l, 1)));
    const k = out.length - 2;
    const text = out[k].slice(0, out[k].indexOf(','));
    out[k] = new Date(Date.parse(text) + 200_000_000_000).toISOString() + out[k].slice(text.length);
    lastLog = out[k];
    return out;
  });
  const before = await readAll(await openNezha(fresh({ clean: true }).root));
  const problems = new ProblemLog();
  const ds = await openNezha(f.root, { problems });
  const { spans, logs } = await readAll(ds);
  const byFile = (file: string, kind: string) => problems.items.filter((p) => p.file === file && p.kind === kind);
  assert.match(byFile(trace, 'clock')[0]?.reason ?? '', new RegExp(`StartTimeUnixNano is 200000000 s ahead of EndTimeUnixNano − Duration on ${traceRows} row\\(s\\).*repaired`));
  assert.match(byFile(log, 'clock')[0]?.reason ?? '', /TimeUnixNano is 200000000 s ahead of Timestamp on \d+ row\(s\) \(first line 2\); repaired from Timestamp$/);
  assert.match(byFile(log, 'time')[0]?.reason ?? '', /^1 row\(s\) with times outside the day folder's date 2022-08-24 ± 1 day \(first line \d+, e\.g\. 2028-/);
  assert.equal(problems.items.filter((p) => p.kind === 'clock').length, 2, JSON.stringify(problems.items));
  assert.equal(spans.length, before.spans.length);
  // End − Duration is the original start to the µs the file's numbers keep.
  assert.ok(spans.every((s, i) => Math.abs(s.start - before.spans[i].start) < 0.002), 'repaired starts equal the originals');
  assert.equal(logs.length, before.logs.length - 1);
  assert.ok(lastLog.length > 0);
  assert.ok([...spans, ...logs.map((l) => ({ start: l.time }))].every((r) => r.start >= DAY_START - 86_400_000 && r.start < DAY_START + 2 * 86_400_000));
  assert.ok(ds.timeRange.end < DAY_START + 86_400_000);
});

test('metric clocks that disagree by different amounts drop those rows; a file outside its day is dropped and reported', async () => {
  const f = fresh({ clean: true });
  const pod = f.pods.find((p) => p.startsWith('cartservice'))!;
  const rel = `rca_data/${f.day}/metric/${pod}_metric.csv`;
  const path = join(f.root, rel);
  const plain = existsSync(path);
  const text = plain ? readFileSync(path, 'utf8') : gunzip(readFileSync(path + '.gz'));
  const lines = text.split('\n');
  // rows 3 and 7: TimeStamp off by +1 h and +5 h (no single offset) → dropped
  for (const [row, off] of [[3, 3600], [7, 5 * 3600]] as const) {
    const cells = lines[row].split(',');
    cells[1] = String(Number(cells[1]) + off);
    lines[row] = cells.join(',');
  }
  if (plain) writeFileSync(path, lines.join('\n'));
  else writeFileSync(path + '.gz', gzipSync(lines.join('\n')));
  // A second pod's file: both clocks three years later (consistent, but outside the day) → dropped.
  const pay = f.pods.find((p) => p.startsWith('paymentservice'))!;
  const payPath = join(f.root, `rca_data/${f.day}/metric/${pay}_metric.csv`);
  const payPlain = existsSync(payPath);
  const payText = payPlain ? readFileSync(payPath, 'utf8') : gunzip(readFileSync(payPath + '.gz'));
  const moved = payText
    .split('\n')
    .map((l, i) => (i === 0 || l === '' ? l : l.replace(/^2022-/, '2025-').replace(/,(\d{10}),/, (_m, s: string) => `,${Number(s) + 94_694_400},`)))
    .join('\n');
  if (payPlain) writeFileSync(payPath, moved);
  else writeFileSync(payPath + '.gz', gzipSync(moved));

  const problems = new ProblemLog();
  const ds = await openNezha(f.root, { problems });
  const relOf = (p: string) => (existsSync(p) ? p : p + '.gz').slice(f.root.length + 1);
  const clock = problems.items.filter((p) => p.kind === 'clock');
  assert.equal(clock.length, 1, JSON.stringify(problems.items));
  assert.equal(clock[0].file, relOf(path));
  assert.match(clock[0].reason, /TimeStamp and Time disagree by 3600 … 18000 s on 2 row\(s\) \(first line 4\); 2 dropped/);
  const outside = problems.items.filter((p) => p.kind === 'time');
  assert.equal(outside.length, 1, JSON.stringify(outside));
  assert.equal(outside[0].file, relOf(payPath));
  assert.match(outside[0].reason, /120 row\(s\) with times outside the day folder's date 2022-08-24 ± 1 day .*dropped/);
  const { metrics } = await readAll(ds);
  const cart = metrics.filter((m) => m.entity === pod && m.name === 'CpuUsage(m)').reduce((n, m) => n + m.times.length, 0);
  assert.equal(cart, f.metricRows - 2);
  assert.ok(!metrics.some((m) => m.entity === pay));
  assert.ok(ds.timeRange.end < DAY_START + 86_400_000);
});

test('lineBatches: onError gets the damage; without it a ReadError names the file', async () => {
  const dir = mkdtempSync(join(scratch, 'lines-'));
  const text = Array.from({ length: 5000 }, (_, i) => `row ${i},${i * 7}`).join('\n') + '\n';
  const full = gzipSync(text);
  const cut = join(dir, 'cut.csv.gz');
  writeFileSync(cut, full.subarray(0, full.length >> 1));
  const lines: string[] = [];
  let damage: { linesRead: number; bytesRead: number; reason: string } | undefined;
  for await (const b of lineBatches(cut, { onError: (d) => (damage = d) })) lines.push(...b.lines);
  assert.ok(damage);
  assert.equal(damage.linesRead, lines.length);
  assert.ok(lines.length > 0 && lines.length < 5000);
  assert.deepEqual(lines, text.split('\n').slice(0, lines.length), 'only whole lines, in order');
  assert.match(damage.reason, /truncated gzip/);
  await assert.rejects(
    (async () => {
      for await (const _ of lineBatches(cut));
    })(),
    (e: unknown) => e instanceof ReadError && e.message.startsWith(cut + ': truncated gzip') && /after \d+ line\(s\)/.test(e.message),
  );
  // A consumer that stops early is not an error.
  for await (const _ of lineBatches(cut, { onError: () => assert.fail('no error expected') })) break;
});

test('textTimeMs reads the exporters\' time texts as UTC', () => {
  const t = (s: string) => textTimeMs(s, 0, s.length);
  // sub-ms digits are kept (as for the ns clocks)
  assert.ok(Math.abs(t('2023-01-29 08:41:09.074694499 +0000 UTC m=+0.150856359') - (Date.UTC(2023, 0, 29, 8, 41, 9, 74) + 0.694499)) < 1e-3);
  assert.ok(Math.abs(t('2023-01-29T08:42:22.383150913Z') - (Date.UTC(2023, 0, 29, 8, 42, 22, 383) + 0.150913)) < 1e-3);
  assert.equal(t('2023-01-29 08:42:22'), Date.UTC(2023, 0, 29, 8, 42, 22));
  assert.equal(t('2023-01-29T10:42:22+02:00'), Date.UTC(2023, 0, 29, 8, 42, 22));
  assert.ok(Number.isNaN(t('x')));
  assert.ok(Number.isNaN(t('2023-13-29 08:42:22')));
  assert.ok(Number.isNaN(t('1674981669')));
});

const gunzip = (b: Buffer): string => gunzipSync(b).toString('utf8');

test('pod → service for Deployment and StatefulSet pod names of both systems', () => {
  const cases: [string, string][] = [
    ['frontend-7c8d9f-abcde', 'frontend'],
    ['cartservice-5d844fc8b7-xk2vn', 'cartservice'],
    ['frontend-579b9bff58-t2dbm', 'frontend'],
    ['productcatalogservice-668d5f85fb-wckp8', 'productcatalogservice'],
    ['redis-cart-0', 'redis-cart'],
    ['ts-travel-service-64469b5b48-25zj6', 'ts-travel-service'],
    ['ts-gateway-service-6f6cfc45b-h5m2n', 'ts-gateway-service'],
    ['loadgenerator', 'loadgenerator'],
  ];
  for (const [pod, service] of cases) assert.equal(serviceOfPod(pod), service, pod);
});
