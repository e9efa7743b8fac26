import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { AIOPS22_TYPE_NAMES, detectAiops22, openAiops22, type Aiops22Dataset } from '../../src/sources/aiops22/index.js';
import { edgesFromSpans, type LogRecord, type Span } from '../../src/telemetry/index.js';

const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets/', import.meta.url));
const root = join(datasets, 'aiops22-pod');
const exists = existsSync(join(root, 'aiops22-pod.csv'));
const skip = !exists && 'datasets absent';

let opened: Promise<Aiops22Dataset> | undefined;
const open = () => (opened ??= openAiops22(root));

async function all<T>(it: AsyncIterable<T[]>): Promise<{ items: T[]; batches: T[][] }> {
  const items: T[] = [];
  const batches: T[][] = [];
  for await (const b of it) {
    batches.push(b);
    for (const x of b) items.push(x);
  }
  return { items, batches };
}

test('aiops22: detects the folder and its case CSV, not other layouts', { skip }, async () => {
  assert.equal(await detectAiops22(root), true);
  assert.equal(await detectAiops22(join(root, 'aiops22-pod.csv')), true);
  assert.equal(await detectAiops22(join(root, 'raw_label.csv')), false);
  assert.equal(await detectAiops22(join(datasets, 'otlp-examples')), false);
  assert.equal(await detectAiops22(join(datasets, 'nezha-trainticket')), false);
});

test('aiops22: 452 cases of 106 failures, authors split 364/88', { skip }, async () => {
  const ds = await open();
  assert.equal(ds.format, 'aiops22');
  assert.equal(ds.cases.length, 452);
  assert.equal(new Set(ds.cases.map((c) => c.id)).size, 452);
  assert.equal(ds.cases.filter((c) => c.split === 'train').length, 364);
  assert.equal(ds.cases.filter((c) => c.split === 'test').length, 88);
  const groups = new Map<string, Set<string>>();
  for (const c of ds.cases) {
    assert.match(c.id, /^[123]_\d+_[1-5]$/);
    assert.equal(c.group, c.id.replace(/_\d+$/, ''));
    assert.equal(c.label.split, c.split);
    const s = groups.get(c.group) ?? new Set<string>();
    s.add(c.split ?? '');
    groups.set(c.group, s);
  }
  assert.equal(groups.size, 106);
  assert.equal([...groups.values()].filter((s) => s.size === 2).length, 61, 'failures on both sides of the authors split');
  assert.ok(ds.notes.some((n) => n.includes('61 failures with windows on both sides')));
  // one label per case, the case's window as its active period
  assert.equal(ds.labels.length, 452);
  for (const c of ds.cases) assert.deepEqual([c.label.id, c.label.start, c.label.end], [c.id, c.start, c.end]);
  assert.equal(ds.rawFailures.length, 113);
});

test('aiops22: failure types in English with the README totals and split', { skip }, async () => {
  const ds = await open();
  const want: Record<string, [number, number, number]> = {
    'read-io': [83, 66, 17],
    'cpu-load': [70, 59, 11],
    'memory-load': [66, 49, 17],
    'packet-loss': [50, 44, 6],
    'network-delay': [45, 37, 8],
    'packet-corruption': [42, 34, 8],
    'packet-duplication': [37, 29, 8],
    'write-io': [33, 25, 8],
    'process-kill': [26, 21, 5],
  };
  const got: Record<string, [number, number, number]> = {};
  for (const c of ds.cases) {
    const g = (got[c.label.type] ??= [0, 0, 0]);
    g[0]++;
    g[c.split === 'train' ? 1 : 2]++;
    assert.equal(AIOPS22_TYPE_NAMES[c.label.typeOriginal ?? ''], c.label.type);
    assert.equal(c.label.level, 'pod');
  }
  assert.deepEqual(got, want);
  assert.equal(ds.cases.find((c) => c.id === '1_19_1')?.label.typeOriginal, 'k8s容器网络丢包');
});

test('aiops22: root causes, entities and services', { skip }, async () => {
  const ds = await open();
  const rc = new Set(ds.cases.map((c) => c.label.rootCause));
  assert.equal(rc.size, 34);
  assert.equal(new Set(ds.cases.map((c) => c.label.rootCauseService)).size, 10);
  // the CSV's service column folds the single-replica "…2-0" deployment into its service
  assert.equal(ds.cases.find((c) => c.id === '1_22_2')?.label.rootCauseService, 'shippingservice');
  const pods = ds.entities.filter((e) => e.kind === 'pod');
  assert.equal(pods.length, 42, '40 pods of nodes.json + redis-cart-0 and redis-cart2-0');
  const byId = new Map(ds.entities.map((e) => [e.id, e]));
  assert.equal(byId.get('frontend-2')?.service, 'frontend');
  assert.equal(byId.get('shippingservice2-0')?.service, 'shippingservice');
  assert.equal(byId.get('redis-cart2-0')?.service, 'redis-cart');
  assert.deepEqual(
    ds.entities.filter((e) => e.kind === 'node').map((e) => e.id),
    ['node-3', 'node-4', 'node-5', 'node-6'],
  );
  const services = ds.entities.filter((e) => e.kind === 'service').map((e) => e.id);
  assert.equal(services.length, 11);
  for (const p of pods) assert.ok(services.includes(p.service ?? ''), p.id);
  for (const r of rc) assert.equal(byId.get(r)?.kind, 'pod');
  // redis-cart pods are reported once each, not once per event; nothing else is wrong
  const redis = ds.problems.items.filter((p) => /redis-cart2?-0 is not among the 40 pods/.test(p.reason));
  assert.equal(redis.length, 2);
  assert.equal(ds.problems.total, 2, JSON.stringify(ds.problems.items));
});

test('aiops22: topology is nodes.json + edges.json: 142 edges and 16 self-loops', { skip }, async () => {
  const ds = await open();
  const topo = await ds.topology();
  assert.equal(topo.edges.length, 142);
  assert.equal(ds.selfLoops.length, 16);
  assert.equal(topo.edges.length + ds.selfLoops.length, 158);
  assert.ok(topo.edges.every((e) => e.caller !== e.callee));
  assert.ok(ds.selfLoops.includes('frontend-2'));
  assert.equal(topo.edges.filter((e) => e.count === 0).length, 5, 'stated edges with no trace event');
  const fe = topo.edges.find((e) => e.caller === 'frontend-1' && e.callee === 'productcatalogservice-1');
  assert.ok(fe && fe.count > 0);
});

test('aiops22: event counts over the 452 cases and stream order', { skip }, async () => {
  const ds = await open();
  assert.equal(ds.disorderMs, 0);
  assert.deepEqual(ds.eventCounts, { metric: 11_023, log: 21_568, trace: 36_584, selfCalls: 15_610 });

  let points = 0;
  let last = -Infinity;
  for await (const batch of ds.metrics()) {
    let batchMax = -Infinity;
    for (const s of batch) {
      assert.ok(s.times[0] >= last, 'no point earlier than an earlier batch');
      for (let i = 0; i < s.times.length; i++) {
        if (i) assert.ok(s.times[i] >= s.times[i - 1]);
        assert.ok(s.values[i] >= 1, 'metric scores are >= 1');
        batchMax = Math.max(batchMax, s.times[i]);
      }
      assert.match(s.name, /^kpi_container_/);
      points += s.times.length;
    }
    last = batchMax;
  }
  assert.equal(points, 11_023);

  const spans = await all<Span>(ds.spans());
  const real = spans.items.filter((s) => s.attributes?.synthetic !== true);
  assert.equal(real.length, 36_584);
  assert.equal(real.filter((s) => s.parentId === undefined).length, 15_610, 'self-calls are single spans');
  assert.equal(spans.items.length - real.length, 36_584 - 15_610, 'one synthetic caller span per other call');
  for (let i = 1; i < spans.items.length; i++) assert.ok(spans.items[i].start >= spans.items[i - 1].start);

  const logs = await all<LogRecord>(ds.logs());
  assert.equal(logs.items.length, 21_568);
  for (let i = 1; i < logs.items.length; i++) assert.ok(logs.items[i].time >= logs.items[i - 1].time);
  assert.equal(new Set(logs.items.map((l) => l.body)).size, 76);
  assert.ok(logs.items.every((l) => l.severity === 'unknown' && l.attributes?.templateId === l.body));

  // the span pairs give back exactly the observed caller -> callee edges of the graph
  const derived = edgesFromSpans(spans.items);
  const topo = await ds.topology();
  const observed = topo.edges.filter((e) => e.count > 0);
  assert.equal(derived.size, observed.length);
  for (const e of observed) assert.equal(derived.get(e.caller + '\u0000' + e.callee)?.count, e.count);

  const first = ds.timeRange.start;
  assert.ok(spans.items[0].start >= first && logs.items[logs.items.length - 1].time < ds.timeRange.end);
});

test('aiops22: case windows follow raw_label.csv and hold their events', { skip }, async () => {
  const ds = await open();
  const byFailure = new Map(ds.rawFailures.map((f) => [f.id, f]));
  const byId = new Map(ds.cases.map((c) => [c.id, c]));
  for (const c of ds.cases) {
    const w = Number(c.id.split('_')[2]);
    const f = byFailure.get(c.group);
    assert.ok(f, c.group);
    assert.equal(c.start, f.start + (w - 1) * 60_000);
    assert.equal(c.end - c.start, 60_001);
    assert.equal(c.label.rootCause, f.rootCause);
    const next = byId.get(`${c.group}_${w + 1}`);
    if (next) assert.equal(next.start, c.end - 1, 'windows of a failure follow each other');
  }
  // every event lies in its own case's window (else the reader would have reported it)
  let n = { metric: 0, spans: 0, logs: 0 };
  for (const c of ds.cases) {
    const d = ds.caseData(c.id);
    assert.ok(d);
    for (const s of d.metrics) for (const t of s.times) (assert.ok(t >= c.start && t < c.end), n.metric++);
    for (const s of d.spans) (assert.ok(s.start >= c.start && s.start < c.end && s.attributes?.case === c.id), n.spans++);
    for (const l of d.logs) (assert.ok(l.time >= c.start && l.time < c.end && l.attributes?.case === c.id), n.logs++);
  }
  assert.deepEqual(n, { metric: 11_023, spans: 36_584 * 2 - 15_610, logs: 21_568 });
  assert.equal(ds.caseData('nope'), undefined);
  assert.equal(ds.caseData('1_0_5'), undefined, 'a dropped window is not a case');

  // a time-range read covers a case's own events (plus any concurrent case's)
  const c = byId.get('1_0_1');
  assert.ok(c);
  let inRange = 0;
  for await (const b of ds.logs({ start: c.start, end: c.end })) for (const l of b) if (l.attributes?.case === c.id) inRange++;
  assert.equal(inRange, ds.caseData(c.id)?.logs.length);
});
