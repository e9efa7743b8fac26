/**
 * The Nezha export's per-edge latency tables (`source_50.csv`, `destination_50.csv`: one column
 * per caller_callee pair, seconds; Online Boutique's export has them) are read as mesh series, so
 * the mesh-edge family localizes a network delay where the trace minutes are missing. The
 * simulator writes the same tables in its Nezha layout when it has mesh metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { openNezha } from '../../src/sources/nezha/index.js';
import { meshFirsts } from '../helpers/mesh-localize.js';
import { ProblemLog, parseMeshSeries, type MetricSeries } from '../../src/telemetry/index.js';

const scratch = mkdtempSync(join(tmpdir(), 'rs-nezha-edges-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function metricsOf(root: string, problems = new ProblemLog()): Promise<MetricSeries[]> {
  const ds = await openNezha(root, { problems });
  const out: MetricSeries[] = [];
  for await (const b of ds.metrics()) out.push(...b);
  return out;
}

const dayDir = (root: string, run: string) => {
  const days = readdirSync(join(root, run));
  const day = days.find((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))!;
  return join(root, run, day);
};

test('the simulator writes the tables: wide, one row a minute, seconds, rca_data and construct_data alike', async () => {
  const root = join(scratch, 'written');
  await simulate({ outDir: root, hours: 1, seed: 4, faults: 1, topology: 'chain', layout: 'nezha', meshMetrics: true });
  const metric = join(dayDir(root, 'rca_data'), 'metric');
  const names = readdirSync(metric).filter((f) => !f.endsWith('_metric.csv'));
  assert.deepEqual(names.sort(), ['destination_50.csv', 'destination_90.csv', 'front_service.csv', 'source_50.csv', 'source_90.csv']);
  const text = readFileSync(join(metric, 'source_50.csv'), 'utf8');
  assert.equal(text, readFileSync(join(dayDir(root, 'construct_data'), 'metric', 'source_50.csv'), 'utf8'));
  const [header, first] = text.split('\n');
  const cols = header.split(',');
  assert.deepEqual(cols.slice(0, 2), ['time', 'timestamp']);
  assert.ok(cols.length > 3 && cols.slice(2).every((c) => /^[^_]+_[^_]+$/.test(c)), header);
  const cells = first.split(',').slice(2).map(Number);
  // seconds: a few ms per call
  assert.ok(cells.every((v) => v > 0 && v < 1), first);
  assert.equal(text.trim().split('\n').length - 1, 60);
});

test('read back: mesh series on the measuring side\'s service, in ms, that the mesh-edge family recognises', async () => {
  const root = join(scratch, 'written');
  const problems = new ProblemLog();
  const series = (await metricsOf(root, problems)).filter((s) => parseMeshSeries(s.name));
  assert.ok(series.length > 0);
  for (const s of series) {
    const e = parseMeshSeries(s.name)!;
    // the caller's side lives on the caller's service, the callee's on the callee's
    assert.equal(s.entity, e.callerSide ? e.source : e.destination, s.name);
    assert.equal(s.unit, 'ms');
    assert.ok([50, 90].includes(e.percentile));
  }
  const some = series.find((s) => s.values.length > 0)!;
  const v = [...some.values].filter(Number.isFinite);
  assert.ok(v.length > 0 && v.every((x) => x > 0.05 && x < 1000), `${some.name}: ${v.slice(0, 5).join(', ')}`);
  // rca_data and construct_data hold the same tables: read once, each minute once
  const keys = series.map((s) => `${s.entity} ${s.name}`);
  const minutes = new Map<string, number>();
  for (const s of series) minutes.set(`${s.entity} ${s.name}`, (minutes.get(`${s.entity} ${s.name}`) ?? 0) + s.times.length);
  assert.ok([...minutes.values()].every((n) => n <= 60), JSON.stringify([...minutes]));
  assert.ok(keys.length > 0);
  assert.equal(problems.items.filter((p) => /source_|destination_/.test(p.file)).length, 0, JSON.stringify(problems.items.slice(0, 3)));
});

test('tables that are not edge tables stay skipped and reported, naming their file', async () => {
  const root = join(scratch, 'odd');
  await simulate({ outDir: root, hours: 1, seed: 4, faults: 1, topology: 'chain', layout: 'nezha' });
  const metric = join(dayDir(root, 'rca_data'), 'metric');
  // a wide table whose name says no side, and an edge-named one whose column is no pair
  writeFileSync(join(metric, 'latency_50.csv'), 'time,timestamp,a_b\n2026-01-05 08:00:19 +0000 UTC,1767600019,0.003\n');
  writeFileSync(join(metric, 'source_50.csv'), 'time,timestamp,frontend\n2026-01-05 08:00:19 +0000 UTC,1767600019,0.003\n');
  const problems = new ProblemLog();
  const series = await metricsOf(root, problems);
  assert.equal(series.filter((s) => parseMeshSeries(s.name)).length, 0);
  const files = problems.items.map((p) => p.file);
  assert.ok(files.some((f) => f.endsWith('latency_50.csv')) && files.some((f) => f.endsWith('source_50.csv')), files.join());
});

test('Nezha layout without its trace minutes, with edge tables: network delays are localized from the tables', async () => {
  const root = join(scratch, 'delays');
  await simulate({ outDir: root, hours: 2, seed: 3, faults: 4, topology: 'chain', faultTypes: ['network-delay'], layout: 'nezha', meshMetrics: true });
  for (const run of ['rca_data', 'construct_data']) {
    for (const sub of ['trace', 'traceid']) rmSync(join(dayDir(root, run), sub), { recursive: true, force: true });
  }
  const ds = await openNezha(root);
  // the tables name services, not pods: the service's pods share its score
  const first = await meshFirsts(ds, (r, l) => assert.ok(r.pods.some((x) => x.pod === l.rootCause), `${l.rootCause} among the pods`));
  assert.ok(first >= ds.labels.length - 1, `${first} of ${ds.labels.length} first`);
});
