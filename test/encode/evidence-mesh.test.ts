/**
 * Edge gaps from service-mesh metrics (src/encode/evidence/mesh-edges.ts): how per-edge
 * latency series are recognised, the gap attributed to the callee, a lossy caller keeping its
 * outgoing edges, and end to end: a simulator run without traces (`traces: false`,
 * `meshMetrics: true`) still puts a network delay's pod first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricStore, meshEdges, parseMeshSeries } from '../../src/encode/index.js';
import { msPerUnit } from '../../src/telemetry/index.js';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { meshFirsts } from '../helpers/mesh-localize.js';
import type { MetricSeries, TimeRange } from '../../src/telemetry/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 10);

test('per-edge latency series are recognised from Istio- and Linkerd-style attributes', () => {
  assert.deepEqual(parseMeshSeries('mesh.request.duration.p50{destination_workload=b,reporter=source,source_workload=a}'), { source: 'a', destination: 'b', callerSide: true, percentile: 50 });
  assert.deepEqual(parseMeshSeries('istio_request_duration_milliseconds{destination_canonical_service=b,quantile=0.9,reporter=destination,source_canonical_service=a}'), { source: 'a', destination: 'b', callerSide: false, percentile: 90 });
  assert.deepEqual(parseMeshSeries('response_latency_ms_p99{direction=outbound,dst_deployment=b,src_deployment=a}'), { source: 'a', destination: 'b', callerSide: true, percentile: 99 });
  // not an edge: no side, one end, unknown end, no latency, no attributes
  for (const name of [
    'request.latency.p50',
    'mesh.request.duration.p50{destination_workload=b,source_workload=a}',
    'mesh.request.duration.p50{reporter=source,source_workload=a}',
    'mesh.request.duration.p50{destination_workload=unknown,reporter=source,source_workload=a}',
    'requests_total{destination_workload=b,reporter=source,source_workload=a}',
  ])
    assert.equal(parseMeshSeries(name), null, name);
});

test("the OpenTelemetry Collector's service graph: client and server span durations per pair, the mean compared", () => {
  assert.deepEqual(parseMeshSeries('traces_service_graph_request_client.mean{client=a,connection_type=,server=b}'), { source: 'a', destination: 'b', callerSide: true, percentile: 50 });
  assert.deepEqual(parseMeshSeries('traces_service_graph_request_server_seconds.mean{client=a,server=b}'), { source: 'a', destination: 'b', callerSide: false, percentile: 50 });
  // counts, sums and the totals are not latencies; a pair needs both ends
  for (const n of ['traces_service_graph_request_client.count{client=a,server=b}', 'traces_service_graph_request_client.sum{client=a,server=b}', 'traces_service_graph_request_total{client=a,server=b}', 'traces_service_graph_request_client.mean{client=a}']) {
    assert.equal(parseMeshSeries(n), null, n);
  }
  assert.equal(msPerUnit('s'), 1000);
  assert.equal(msPerUnit('ms'), 1);
  assert.equal(msPerUnit(undefined), 1);
  // no unit: a Prometheus-style name says it
  assert.equal(msPerUnit(undefined, 'traces_service_graph_request_client_seconds.mean{client=a,server=b}'), 1000);
  assert.equal(msPerUnit('', 'istio_request_duration_milliseconds{reporter=source}'), 1);
  assert.equal(msPerUnit('ms', 'x_seconds.mean'), 1);
});

test('service graph series in seconds on the collector: the gap in ms, no pod named', () => {
  const times = Float64Array.from({ length: 40 }, (_, i) => T0 + i * MIN);
  let s = 7;
  const noise = () => {
    s = (s * 16807) % 2147483647;
    return 1 + 0.05 * ((s / 2147483647) * 2 - 1);
  };
  const out: MetricSeries[] = [];
  for (const [src, dst, ms] of [['a', 'b', 6], ['a', 'c', 5]] as const) {
    const server = Float64Array.from(times, () => (ms * noise()) / 1000);
    const client = Float64Array.from(times, (t, i) => server[i] + (2 * noise() + (dst === 'c' && t >= T0 + 30 * MIN ? 200 : 0)) / 1000);
    out.push({ entity: 'otelcol', name: `traces_service_graph_request_client.mean{client=${src},server=${dst}}`, unit: 's', times, values: client });
    out.push({ entity: 'otelcol', name: `traces_service_graph_request_server.mean{client=${src},server=${dst}}`, unit: 's', times, values: server });
  }
  const m = new MetricStore();
  m.add(out);
  m.seal();
  const serviceOf = (e: string) => (e === 'otelcol' ? 'otelcol' : e.replace(/-\d+$/, ''));
  const win = (i: number): TimeRange => ({ start: T0 + i * MIN, end: T0 + (i + 1) * MIN });
  const normal = Array.from({ length: 25 }, (_, i) => meshEdges.summarize({ range: win(i), spans: [], logs: [], metrics: m, serviceOf })!);
  const scores = meshEdges.score(meshEdges.summarize({ range: win(32), spans: [], logs: [], metrics: m, serviceOf })!, meshEdges.fit(normal));
  const c = scores.get('c')!;
  assert.ok(c.score > 10, `c ${c.score}`);
  assert.ok(c.items[0].value > 195 && c.items[0].value < 210 && c.items[0].reference > 1 && c.items[0].reference < 3, `${c.items[0].value} vs ${c.items[0].reference} ms`);
  assert.equal(c.pods, undefined, 'the collector is no pod of c');
  assert.ok(!scores.has('b') || Math.abs(scores.get('b')!.score) < 3);
});

const name = (p: string, src: string, dst: string, reporter: string) => `mesh.request.duration.${p}{destination_workload=${dst},reporter=${reporter},source_workload=${src}}`;

/**
 * gateway → a → {b, c}: per minute, each edge's caller-side and callee-side p50. `delayC` adds
 * ms on the edges into c (after minute 30); `lossA` adds ms on every edge into and out of a.
 */
function store(f: { delayC?: number; lossA?: number } = {}): MetricStore {
  const edges: [string, string, number][] = [['gateway', 'a', 30], ['a', 'b', 6], ['a', 'c', 5]];
  let s = 3;
  const noise = () => {
    s = (s * 16807) % 2147483647;
    return 1 + 0.03 * ((s / 2147483647) * 2 - 1);
  };
  const out: MetricSeries[] = [];
  for (const [src, dst, ms] of edges) {
    const times = Float64Array.from({ length: 40 }, (_, i) => T0 + i * MIN);
    const callee = Float64Array.from(times, () => ms * noise());
    const caller = Float64Array.from(times, (t, i) => {
      const late = t >= T0 + 30 * MIN;
      const extra = (late && dst === 'c' ? f.delayC ?? 0 : 0) + (late && (src === 'a' || dst === 'a') ? f.lossA ?? 0 : 0);
      return callee[i] + 1 + extra + 0.2 * (noise() - 1) * 10;
    });
    out.push({ entity: `${src}-1`, name: name('p50', src, dst, 'source'), unit: 'ms', times, values: caller });
    out.push({ entity: `${dst}-1`, name: name('p50', src, dst, 'destination'), unit: 'ms', times, values: callee });
    // a p90 only on one side is not used: the percentile both sides export is
    out.push({ entity: `${src}-1`, name: name('p90', src, dst, 'source'), unit: 'ms', times, values: caller.map((x) => x * 3) });
  }
  const m = new MetricStore();
  m.add(out);
  return m.seal();
}

function scoresAt(m: MetricStore) {
  const win = (i: number): TimeRange => ({ start: T0 + i * MIN, end: T0 + (i + 1) * MIN });
  const normal = Array.from({ length: 25 }, (_, i) => meshEdges.summarize({ range: win(i), spans: [], logs: [], metrics: m })!);
  const ref = meshEdges.fit(normal);
  return meshEdges.score(meshEdges.summarize({ range: win(32), spans: [], logs: [], metrics: m })!, ref);
}

test('a delay on the edges into c: c is scored from the caller-minus-callee gap, its caller is not', () => {
  const s = scoresAt(store({ delayC: 200 }));
  assert.ok(s.get('c')!.score > 10, `c ${s.get('c')!.score}`);
  assert.ok(Math.abs(s.get('a')!.score) < 3 && Math.abs(s.get('b')!.score) < 3);
  const item = s.get('c')!.items[0];
  assert.match(item.subject, /^a → c \(p50 caller − callee\)/);
  assert.ok(item.value > 190 && item.reference < 2, `${item.value} vs ${item.reference}`);
  assert.ok(s.get('c')!.pods!.get('c-1')! > 10);
});

test('a lossy caller slows its outgoing edges as much as its incoming one: they are a\'s, not b\'s or c\'s', () => {
  const s = scoresAt(store({ lossA: 100 }));
  assert.ok(s.get('a')!.score > 10);
  assert.equal(s.has('b'), false);
  assert.equal(s.has('c'), false);
  // a's calls into b and c count among a's own edges, and say so
  const own = s.get('a')!.items.filter((i) => /put down to a's own network/.test(i.subject));
  assert.ok(own.length >= 1 && own.every((i) => i.service === 'a' && i.value > 90), JSON.stringify(s.get('a')!.items));
  // a delay at c leaves a's edges to others as they were: nothing is put down to a
  const d = scoresAt(store({ delayC: 200 }));
  assert.ok(!(d.get('a')?.items ?? []).some((i) => /own network/.test(i.subject)));
});

test('no metrics or no edge series: no summary', () => {
  assert.equal(meshEdges.summarize({ range: { start: T0, end: T0 + MIN }, spans: [], logs: [] }), undefined);
  const m = new MetricStore();
  m.add([{ entity: 'a-1', name: 'request.latency.p50', times: Float64Array.of(T0), values: Float64Array.of(3) }]);
  assert.equal(meshEdges.summarize({ range: { start: T0, end: T0 + MIN }, spans: [], logs: [], metrics: m.seal() }), undefined);
});

test('simulator without traces, with mesh metrics: network delays are localized from the metrics alone', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-mesh-'));
  try {
    await simulate({ outDir: dir, hours: 2, seed: 3, faults: 4, topology: 'chain', faultTypes: ['network-delay'], meshMetrics: true, traces: false });
    const ds = await loadDataset(dir);
    const first = await meshFirsts(ds);
    assert.ok(first >= ds.labels.length - 1, `${first} of ${ds.labels.length} first`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('edge blame: a caller whose calls into every callee gain alike is the lossy one, even with a noisy incoming edge', async () => {
  const { explainedByCaller } = await import('../../src/encode/evidence/edge-blame.js');
  const blame = (xs: [string, string, number][]) => {
    const m = new Map(xs.map(([a, b, x]) => [`${a}>${b}`, x]));
    const ends = new Map(xs.map(([a, b]) => [`${a}>${b}`, { caller: a, callee: b }]));
    return [...explainedByCaller(m, (k) => ends.get(k)!).keys()].sort();
  };
  // an entry service losing packets: its only incoming edge, from a load driver of ≈ 90 ms
  // calls, reads +4.5 ms through the noise; its calls into three callees +11 ms each
  assert.deepEqual(blame([['lg', 'fe', 4.5], ['fe', 'cur', 11.7], ['fe', 'pc', 11.0], ['fe', 'ad', 11.0]]), ['fe>ad', 'fe>cur', 'fe>pc']);
  // a delay at one callee moves only the calls into it: that edge stays the callee's (the
  // others' noise, next to it, may be put down to the caller: it is noise either way)
  assert.ok(!blame([['lg', 'fe', 0.2], ['fe', 'b', 200], ['fe', 'c', 0.3], ['fe', 'd', -0.1]]).includes('fe>b'));
  assert.ok(!blame([['lg', 'fe', 0.2], ['fe', 'b', 200], ['fe', 'c', 0.3], ['fe', 'd', -0.1], ['fe', 'e', 0.1]]).includes('fe>b'));
  // the caller's incoming edges as bad: the callee's edge is the caller's (the first rule)
  assert.deepEqual(blame([['a', 'b', 200], ['b', 'r', 190]]), ['b>r']);
  // one other callee, moved a fifth as much: the larger edge stays its callee's
  assert.ok(!blame([['a', 'b', 50], ['a', 'c', 10]]).includes('a>b'));
  // nothing gained, nothing moved
  assert.deepEqual(blame([['lg', 'fe', 0], ['fe', 'b', -1], ['fe', 'c', 0]]), []);
});
