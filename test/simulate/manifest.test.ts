/**
 * The simulator's faults show as they do in real data (issue 11): checked on what `simulate`
 * writes, read back through loadDataset like any other source.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSimulation, resolveTopology, simulate } from '../../src/simulate/index.js';
import type { TopologySpec } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/detect.js';
import { UserError } from '../../src/telemetry/index.js';
import type { Dataset, FaultLabel, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';

const MIN = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'rs-sim-manifest-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

interface ReadBack {
  ds: Dataset;
  spans: Span[];
  logs: LogRecord[];
  metrics: MetricSeries[];
}

async function readBack(dir: string): Promise<ReadBack> {
  const ds = await loadDataset(dir);
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  const metrics: MetricSeries[] = [];
  for await (const b of ds.spans()) spans.push(...b);
  for await (const b of ds.logs()) logs.push(...b);
  for await (const b of ds.metrics()) metrics.push(...b);
  return { ds, spans, logs, metrics };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)];
};
const mean = (xs: number[]) => (xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length);
/** A log line's template: ids and numbers masked. */
const template = (l: LogRecord) =>
  `${l.severity} ${l.body.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>').replace(/\b[0-9a-f]{8,}\b/g, '<hex>').replace(/\d+(\.\d+)?/g, '#')}`;

// One boutique hour with one fault of each type the tests look at.
const TYPES = ['network-delay', 'code-exception', 'wrong-return-value', 'cpu-contention'] as const;
const boutique = (async () => {
  const dir = join(tmp, 'boutique');
  await simulate({ outDir: dir, hours: 1, seed: 5, faults: TYPES.length, faultTypes: [...TYPES] });
  return readBack(dir);
})();

function labelOf(r: ReadBack, type: string): FaultLabel {
  const l = r.ds.labels.find((x) => x.type === type);
  assert.ok(l, `no ${type} fault`);
  return l;
}
/** Outside every fault (and the minutes after one, while queues drain). */
const normalTime = (r: ReadBack, t: number) => !r.ds.labels.some((l) => t >= l.start - MIN && t < l.end + 2 * MIN);
const during = (l: FaultLabel, t: number) => t >= l.start && t < l.end;

test('spans: one client span per call attempt, parent of the callee\'s server span', async () => {
  const r = await boutique;
  const byId = new Map(r.spans.map((s) => [s.traceId + s.spanId, s]));
  const kinds = new Map<string, number>();
  for (const s of r.spans) kinds.set(s.kind ?? 'none', (kinds.get(s.kind ?? 'none') ?? 0) + 1);
  assert.ok((kinds.get('client') ?? 0) > 0 && (kinds.get('server') ?? 0) > 0, JSON.stringify([...kinds]));
  let checked = 0;
  for (const s of r.spans) {
    if (s.kind !== 'server' || s.parentId === undefined) continue;
    const p = byId.get(s.traceId + s.parentId);
    assert.ok(p && p.kind === 'client', 'a server span\'s parent is a client span');
    assert.equal(p.operation, s.operation);
    checked++;
  }
  assert.ok(checked > 1000, `${checked} server spans with a parent`);
});

test('network-delay: the gap on edges into the faulty pod grows, its own server spans do not', async () => {
  const r = await boutique;
  const l = labelOf(r, 'network-delay');
  const byId = new Map(r.spans.map((s) => [s.traceId + s.spanId, s]));
  const gaps = { normal: [] as number[], fault: [] as number[] };
  const own = { normal: [] as number[], fault: [] as number[] };
  for (const s of r.spans) {
    if (s.entity !== l.rootCause || s.kind !== 'server') continue;
    const key = during(l, s.start) ? 'fault' : normalTime(r, s.start) ? 'normal' : undefined;
    if (key === undefined) continue;
    own[key].push(s.duration);
    const p = s.parentId === undefined ? undefined : byId.get(s.traceId + s.parentId);
    if (p?.kind === 'client' && p.service !== s.service) gaps[key].push(p.duration - s.duration);
  }
  const gn = median(gaps.normal);
  const gf = median(gaps.fault);
  assert.ok(gaps.fault.length >= 10, `${gaps.fault.length} edges during the fault`);
  assert.ok(gn < 5 && gf > 50 && gf > 20 * gn, `gap into ${l.rootCause}: ${gn} → ${gf} ms`);
  const on = median(own.normal);
  const of = median(own.fault);
  assert.ok(of < 1.5 * on + 1, `${l.rootCause} server spans ${on} → ${of} ms`);
  // its outgoing edges keep their gap
  const outGaps = r.spans.filter((s) => s.kind === 'server' && during(l, s.start) && s.parentId !== undefined).flatMap((s) => {
    const p = byId.get(s.traceId + s.parentId);
    return p?.kind === 'client' && p.entity === l.rootCause ? [p.duration - s.duration] : [];
  });
  if (outGaps.length > 0) assert.ok(median(outGaps) < 5, `outgoing gap of ${l.rootCause}: ${median(outGaps)} ms`);
});

test('code-exception: spans succeed, but some template vanishes from the faulty pod\'s spans', async () => {
  const r = await boutique;
  const l = labelOf(r, 'code-exception');
  const spans = r.spans.filter((s) => s.entity === l.rootCause && s.kind === 'server');
  const faulty = spans.filter((s) => during(l, s.start));
  assert.ok(faulty.length >= 5, `${faulty.length} spans during the fault`);
  assert.ok(faulty.every((s) => s.status !== 'error'), 'the exception is caught');
  // per (operation, template): records per span, normal vs during the fault
  const opOf = new Map(spans.map((s) => [s.spanId, s]));
  const nSpans = { normal: new Map<string, number>(), fault: new Map<string, number>() };
  for (const s of spans) {
    const k = during(l, s.start) ? 'fault' : normalTime(r, s.start) ? 'normal' : undefined;
    if (k) nSpans[k].set(s.operation, (nSpans[k].get(s.operation) ?? 0) + 1);
  }
  const count = { normal: new Map<string, number>(), fault: new Map<string, number>() };
  for (const x of r.logs) {
    const s = x.spanId === undefined ? undefined : opOf.get(x.spanId);
    if (!s) continue;
    const k = during(l, s.start) ? 'fault' : normalTime(r, s.start) ? 'normal' : undefined;
    if (!k) continue;
    const key = `${s.operation}\t${template(x)}`;
    count[k].set(key, (count[k].get(key) ?? 0) + 1);
  }
  let biggestDrop = 0;
  let which = '';
  for (const [key, c] of count.normal) {
    const op = key.split('\t')[0];
    const nn = nSpans.normal.get(op) ?? 0;
    const nf = nSpans.fault.get(op) ?? 0;
    if (nn < 20 || nf < 5) continue;
    const before = c / nn;
    if (before < 0.5) continue;
    const drop = 1 - (count.fault.get(key) ?? 0) / nf / before;
    if (drop > biggestDrop) [biggestDrop, which] = [drop, key];
  }
  assert.ok(biggestDrop > 0.25, `largest per-span drop ${biggestDrop.toFixed(2)} (${which})`);
  // normal operation: several templates per span, some repeated a variable number of times
  const perSpan = new Map<string, Map<string, number>>();
  for (const x of r.logs) {
    if (x.spanId === undefined || !normalTime(r, x.time)) continue;
    let m = perSpan.get(x.spanId);
    if (!m) perSpan.set(x.spanId, (m = new Map()));
    m.set(template(x), (m.get(template(x)) ?? 0) + 1);
  }
  const sizes = [...perSpan.values()].map((m) => m.size);
  assert.ok(mean(sizes) >= 3, `${mean(sizes)} templates per span`);
  assert.ok([...perSpan.values()].some((m) => [...m.values()].some((n) => n >= 3)), 'some template repeats within a span');
  // and fault-free time has ERROR lines too
  assert.ok(r.logs.some((x) => x.severity === 'error' && normalTime(r, x.time)), 'ERROR lines in fault-free time');
});

test('wrong-return-value: a new ERROR/WARN template at the faulty pod (or its callers), spans unchanged', async () => {
  const r = await boutique;
  const l = labelOf(r, 'wrong-return-value');
  assert.ok(r.spans.filter((s) => s.entity === l.rootCause && during(l, s.start)).every((s) => s.status !== 'error'), 'nothing fails');
  const byId = new Map(r.spans.map((s) => [s.spanId, s]));
  const callers = new Set<string>();
  for (const s of r.spans) {
    if (s.entity !== l.rootCause || s.parentId === undefined) continue;
    const c = byId.get(s.parentId);
    if (c) callers.add(c.entity);
  }
  const seen = new Set(r.logs.filter((x) => normalTime(r, x.time)).map((x) => `${x.entity}\t${template(x)}`));
  const fresh = r.logs.filter((x) => during(l, x.time) && (x.severity === 'error' || x.severity === 'warn') && !seen.has(`${x.entity}\t${template(x)}`));
  const atRoot = fresh.filter((x) => x.entity === l.rootCause);
  assert.ok(atRoot.length > 0 || fresh.some((x) => callers.has(x.entity)), `no new template at ${l.rootCause} or its callers`);
  // this seed: the faulty pod logs it itself
  assert.ok(atRoot.length > 0, `no new template at ${l.rootCause}`);
});

test('cpu-contention: the pod\'s CPU jumps against its own recent history', async () => {
  const r = await boutique;
  const l = labelOf(r, 'cpu-contention');
  const xs = (from: number, to: number) =>
    r.metrics.filter((m) => m.entity === l.rootCause && m.name === 'container.cpu.usage').flatMap((m) => Array.from(m.times).flatMap((t, i) => (t >= from && t < to && !Number.isNaN(m.values[i]) ? [m.values[i]] : [])));
  const before = mean(xs(l.start - 15 * MIN, l.start - MIN));
  const at = mean(xs(l.start, l.end));
  assert.ok(at > 1.5 * before, `${l.rootCause} CPU ${before} → ${at}`);
});

test('topology: chain and mesh have other services; a JSON file works; bad files are one-line errors', async () => {
  const dir = join(tmp, 'chain');
  const sum = await simulate({ outDir: dir, hours: 0.4, seed: 2, faults: 2, topology: 'chain', faultTypes: ['network-delay', 'code-exception'] });
  assert.equal(sum.topology, 'chain');
  const r = await readBack(dir);
  const services = new Set(r.ds.entities.filter((e) => e.kind === 'service').map((e) => e.id));
  const boutiqueServices = new Set((await boutique).ds.entities.filter((e) => e.kind === 'service').map((e) => e.id));
  assert.ok(services.has('trip-planner') && services.has('edge-gateway'), [...services].join());
  assert.equal([...services].filter((s) => boutiqueServices.has(s)).length, 0, 'no service name shared with boutique');
  assert.ok(r.spans.length > 1000 && r.logs.length > 1000);
  assert.equal(r.ds.labels.length, 2);
  for (const l of r.ds.labels) assert.ok(services.has(l.rootCauseService!) && l.rootCauseService !== 'k6-runner', l.rootCauseService);

  const mesh = createSimulation({ hours: 0.1, seed: 1, faults: 0, topology: 'mesh' });
  assert.ok(mesh.entities.some((e) => e.id === 'audit-log'));

  const spec: TopologySpec = {
    name: 'tiny',
    services: [
      { name: 'driver', lang: 'locust', replicas: 1, client: true, operations: [{ name: 'go', calls: [{ to: 'web GET /x' }] }] },
      { name: 'web', operations: [{ name: 'GET /x', calls: [{ to: 'db get', min: 1, max: 2 }] }] },
      { name: 'db', lang: 'redis', replicas: 1, operations: [{ name: 'get', ownMs: 0.3 }] },
    ],
    entries: [{ op: 'driver go', weight: 1, tracesPerMin: 10 }],
  };
  const file = join(tmp, 'tiny.json');
  writeFileSync(file, JSON.stringify(spec));
  const tiny = createSimulation({ hours: 0.1, seed: 1, faults: 1, topology: file });
  assert.equal(tiny.topology, 'tiny');
  assert.deepEqual(tiny.entities.filter((e) => e.kind === 'service').map((e) => e.id).sort(), ['db', 'driver', 'web']);
  assert.ok(tiny.labels.every((l) => l.rootCauseService !== 'driver'));

  const isUser = (re: RegExp) => (e: unknown) => e instanceof UserError && re.test(e.message) && !e.message.includes('\n');
  assert.throws(() => resolveTopology('nope'), isUser(/neither a built-in topology/));
  writeFileSync(file, '{"name": ');
  assert.throws(() => resolveTopology(file), isUser(/not readable JSON/));
  writeFileSync(file, JSON.stringify({ ...spec, services: [...spec.services, { name: 'web', operations: [{ name: 'y' }] }] }));
  assert.throws(() => resolveTopology(file), isUser(/duplicate service web/));
  writeFileSync(file, JSON.stringify({ ...spec, entries: [{ op: 'web nothing', weight: 1, tracesPerMin: 1 }] }));
  assert.throws(() => resolveTopology(file), isUser(/unknown operation/));
  const cyc: TopologySpec = { name: 'cyc', services: [{ name: 'a', operations: [{ name: 'x', calls: [{ to: 'b y' }] }] }, { name: 'b', operations: [{ name: 'y', calls: [{ to: 'a x' }] }] }], entries: [{ op: 'a x', weight: 1, tracesPerMin: 1 }] };
  assert.throws(() => createSimulation({ hours: 0.1, seed: 1, faults: 0, topology: cyc }), isUser(/cycle/));
});
