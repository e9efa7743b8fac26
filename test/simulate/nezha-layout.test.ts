// `simulate --layout nezha` read back by the Nezha reader: the faults (Nezha's type names, the
// injected pods, the injection times), pods → services, spans and logs joined to them, and the
// gaps (traces and logs only in the three minute files from each injection and a few fault-free
// construct minutes; metrics whole). Then `evaluate` runs on it. A small run: one simulated hour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import type { SimulateSummary } from '../../src/simulate/index.js';
import { MINUTE_FILE_AFTER_MS, MINUTE_FILE_BEFORE_MS, NEZHA_FAULT_TYPE, NEZHA_METRIC_COLUMNS } from '../../src/simulate/nezha-layout.js';
import { createSimulation, scaleIntensity } from '../../src/simulate/index.js';
import { openNezha } from '../../src/sources/nezha/index.js';
import { ProblemLog, serviceOfPod } from '../../src/telemetry/index.js';
import type { FaultLabel, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';
import { runCli } from '../helpers/cli.js';

const scratch = mkdtempSync(join(tmpdir(), 'rs-nezha-layout-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) for (const x of b) out.push(x);
  return out;
}

const OPTS = { hours: 1, seed: 5, faults: 4, topology: 'mesh', faultMinutes: [3, 3] as [number, number] };
const out = join(scratch, 'run');
let summary: SimulateSummary;
let truth: FaultLabel[];

test.before(async () => {
  summary = await simulate({ ...OPTS, outDir: out, layout: 'nezha' });
  truth = JSON.parse(readFileSync(join(out, 'simulated-faults.json'), 'utf8')) as FaultLabel[];
});

test('the layout: day folders, fault list in the real shape, the real metric columns, minute files named HH_MM', () => {
  const day = '2026-01-05';
  const rca = join(out, 'rca_data', day);
  assert.deepEqual(readdirSync(rca).sort(), [`${day}-fault_list.json`, 'log', 'metric', 'trace', 'traceid']);
  const list = JSON.parse(readFileSync(join(rca, `${day}-fault_list.json`), 'utf8')) as Record<string, { inject_time: string; inject_timestamp: string; inject_pod: string; inject_type: string }[]>;
  const entries = Object.entries(list).flatMap(([hour, fs]) => fs.map((f) => ({ hour, ...f })));
  assert.equal(entries.length, 4);
  for (const e of entries) {
    assert.match(e.inject_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(e.inject_time.slice(11, 13), e.hour);
    assert.match(e.inject_pod, /^[a-z][a-z0-9-]*-[a-z0-9]{5,10}-[a-z0-9]{5}$/);
    assert.ok(Object.values(NEZHA_FAULT_TYPE).includes(e.inject_type), e.inject_type);
  }
  const metricFiles = readdirSync(join(rca, 'metric'));
  assert.ok(metricFiles.includes('front_service.csv'));
  const podFile = metricFiles.find((f) => f.endsWith('_metric.csv'))!;
  const [header, first] = readFileSync(join(rca, 'metric', podFile), 'utf8').split('\n');
  assert.equal(header, NEZHA_METRIC_COLUMNS.join(','));
  assert.equal(first.split(',').length, NEZHA_METRIC_COLUMNS.length);
  assert.match(first, /^2026-01-05 08:00:\d\d\.\d{9} \+0000 UTC m=\+\d+\.\d{9},\d{10},/);
  for (const f of readdirSync(join(rca, 'trace'))) assert.match(f, /^\d\d_\d\d_trace\.csv$/);
  // construct_data: the metric files again, and a few fault-free minute files
  const cons = join(out, 'construct_data', day);
  assert.deepEqual(readdirSync(join(cons, 'metric')).sort(), metricFiles.sort());
  assert.ok(readdirSync(join(cons, 'trace')).length >= 1);
});

test('read back: faults with Nezha names at the injected pods, pods → services, every pod with whole-run metrics', async () => {
  const ds = await openNezha(out, { problems: new ProblemLog() });
  assert.equal(ds.problems.total, 0, JSON.stringify(ds.problems.items.slice(0, 3)));
  const labels = [...ds.labels].sort((a, b) => a.start - b.start);
  assert.equal(labels.length, truth.length);
  truth.forEach((t, i) => {
    assert.equal(labels[i].start, t.start);
    assert.equal(labels[i].end, t.end, 'a 3-minute fault ends where the reader assumes');
    assert.equal(labels[i].rootCause, t.rootCause);
    assert.equal(labels[i].rootCauseService, t.rootCauseService);
    assert.equal(labels[i].type, NEZHA_FAULT_TYPE[t.type as keyof typeof NEZHA_FAULT_TYPE]);
  });
  const sim = createSimulation(OPTS);
  const simPods = sim.entities.filter((e) => e.kind === 'pod');
  const pods = ds.entities.filter((e) => e.kind === 'pod');
  assert.deepEqual(pods.map((p) => p.id).sort(), simPods.map((p) => p.id).sort());
  for (const p of pods) assert.equal(p.service, simPods.find((q) => q.id === p.id)!.service);
  for (const p of pods) assert.equal(serviceOfPod(p.id), p.service);
  const metrics: MetricSeries[] = await all(ds.metrics());
  const cpu = metrics.filter((m) => m.name === 'CpuUsage(m)');
  assert.equal(cpu.length, pods.length);
  for (const s of cpu) assert.equal(s.times.length, 60, `${s.entity}: one row a minute for the hour`);
});

test('spans and logs: only in the kept minute files, joined to their spans, as many as written', async () => {
  const ds = await openNezha(out, { problems: new ProblemLog() });
  const spans: Span[] = await all(ds.spans());
  const logs: LogRecord[] = await all(ds.logs());
  assert.equal(spans.length, summary.nezha!.spansWritten);
  assert.equal(logs.length, summary.nezha!.logsWritten);
  assert.ok(spans.length > 100 && logs.length > 100);
  // the gaps: every record lies in the minute files of some injection (3 from it) or a construct minute
  const rcaMinutes = truth.flatMap((f) => [0, 1, 2].map((k) => Math.floor(f.start / 60_000) * 60_000 + k * 60_000));
  const consNames = readdirSync(join(out, 'construct_data', '2026-01-05', 'trace')).map((n) => Date.UTC(2026, 0, 5, Number(n.slice(0, 2)), Number(n.slice(3, 5))));
  const kept = [...rcaMinutes, ...consNames];
  const inKept = (t: number) => kept.some((m) => t >= m - MINUTE_FILE_BEFORE_MS && t < m + MINUTE_FILE_AFTER_MS);
  assert.ok(spans.every((s) => inKept(s.start)));
  assert.ok(logs.every((l) => inKept(l.time)));
  const covered = new Set(spans.map((s) => Math.floor(s.start / 60_000)));
  assert.ok(covered.size < 30, `traces in ${covered.size} of 60 minutes: most minutes missing`);
  // construct minutes are fault-free
  for (const m of consNames) for (const f of truth) assert.ok(m + MINUTE_FILE_AFTER_MS <= f.start || m - MINUTE_FILE_BEFORE_MS >= f.end);
  // span tree: a root per trace, parents found within the trace (or cut off at a file's edge)
  const ids = new Set(spans.map((s) => s.spanId));
  const withParent = spans.filter((s) => s.parentId !== undefined);
  assert.ok(withParent.filter((s) => ids.has(s.parentId!)).length / withParent.length > 0.95);
  // logs with a span id join a span of the same trace
  const bySpan = new Map(spans.map((s) => [s.spanId, s]));
  const traced = logs.filter((l) => l.spanId);
  assert.ok(traced.length > 50);
  const joined = traced.filter((l) => bySpan.get(l.spanId!)?.traceId === l.traceId);
  assert.ok(joined.length / traced.length > 0.95, `${joined.length} of ${traced.length}`);
  assert.ok(logs.some((l) => l.severity === 'info') && logs.every((l) => l.severity !== 'unknown'));
});

test('effect scale: the same faults at the same pods and times, with smaller effects', () => {
  const full = createSimulation({ ...OPTS, hours: 3, faults: 14 });
  const small = createSimulation({ ...OPTS, hours: 3, faults: 14, effectScale: 0.3 });
  assert.deepEqual(small.labels, full.labels);
  const near = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  near(scaleIntensity('network-delay', 500, 0.3, 0.4), 150);
  near(scaleIntensity('cpu-contention', 0.3, 0.5, 0.4), 0.65);
  near(scaleIntensity('memory-leak', 1, 0.5, 0.4), 0.7);
  assert.equal(scaleIntensity('pod-kill', 1, 0.3, 0.4), 1);
});

test('evaluate runs on the Nezha-layout run', { timeout: 300_000 }, () => {
  const json = join(scratch, 'eval.json');
  const r = runCli(['evaluate', '--data', out, '--folds', '2', '--no-cache', '--json', json], { timeout: 280_000 });
  assert.equal(r.code, 0, r.err);
  assert.ok(existsSync(json));
  const rep = JSON.parse(readFileSync(json, 'utf8')) as Record<string, unknown>;
  assert.ok(Object.keys(rep).length > 0);
});
