import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectAiops22, openAiops22, serviceOfAiops22Pod, workloadsOf } from '../../src/sources/aiops22/index.js';
import { ProblemLog, UserError, edgesFromSpans, type LogRecord, type Span } from '../../src/telemetry/index.js';

const T1 = 1_647_738_546; // injection of failure 1_0, epoch s
const T2 = 1_647_738_570; // failure 2_3 of another cloudbed, concurrent with 1_0
const ms = (s: number) => s * 1000;

/** A tiny events folder in the TVDiag layout, with a few deliberate faults. */
function makeFolder(opts: { gzipLogs?: boolean; withoutTrace?: boolean } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-aiops22-'));
  const csv = [
    'index,level,instance,anomaly_type,data_type,service',
    '1_0_1,pod,cartservice2-0,k8s容器cpu负载,train,cartservice',
    '1_0_2,pod,cartservice2-0,k8s容器cpu负载,test,cartservice',
    '2_3_1,pod,"frontend-0,k8s容器内存负载,train,frontend', // line 4: unbalanced quote
    '2_3_2,pod,frontend-0,k8s容器内存负载,train,frontend',
    '2_7_1,pod,frontend-0,k8s容器磁盘满,train,frontend', // unknown type (twice)
    '2_7_2,pod,frontend-0,k8s容器磁盘满,test,frontend',
    '3_1_1,pod,frontend-0,k8s容器网络延迟,train,frontend', // no raw label
    '',
  ].join('\n');
  writeFileSync(join(dir, 'cases.csv'), csv);
  writeFileSync(
    join(dir, 'raw_label.csv'),
    ['timestamp,level,cmdb_id,failure_type,index', `${T1},pod,cartservice2-0,k8s容器cpu负载,1_0`, `${T2},pod,frontend-0,k8s容器内存负载,2_3`, `${T2 + 600},pod,frontend-0,k8s容器磁盘满,2_7`, ''].join('\n'),
  );
  writeFileSync(join(dir, 'nodes.json'), JSON.stringify(['frontend-0', 'cartservice-0', 'cartservice2-0']));
  writeFileSync(join(dir, 'edges.json'), JSON.stringify({ src: [0, 0, 1, 0], dst: [1, 2, 1, 0] }));
  const w2 = ms(T2) + 60_000; // start of 2_3_2
  writeFileSync(
    join(dir, 'metric.json'),
    JSON.stringify({
      '1_0_1': [
        [ms(T1) + 54_000, 'node-6.cartservice2-0', 'kpi_container_cpu_usage_seconds', 4.9],
        [ms(T1) + 54_000, 'node-6.redis-cart-0', 'kpi_container_memory_usage_MB', 2.5],
        [ms(T1) + 60_000, 'node-6.redis-cart-0', 'kpi_container_memory_usage_MB', 2.6], // inclusive end
        [ms(T1) + 1000, 'node-6.cartservice2-0'], // malformed
      ],
      '1_0_2': [[ms(T1) + 114_000, 'node-6.cartservice2-0', 'kpi_container_cpu_usage_seconds', 5.1]],
      '1_0_3': [[ms(T1) + 174_000, 'node-6.cartservice2-0', 'kpi_container_cpu_usage_seconds', 5.1]], // dropped window
      '2_3_2': [[w2 + 30_000, 'node-3.redis-cart-0', 'kpi_container_memory_usage_MB', 3]],
      '2_7_1': [],
      '2_7_2': [],
      '3_1_1': [[ms(T2) + 5000, 'node-4.frontend-0', 'kpi_container_threads', 1.5]],
    }),
  );
  const logs = JSON.stringify({
    '1_0_1': [
      [ms(T1) + 30_000, 'frontend-0', 'ff4a8f61'],
      [ms(T1) + 2000, 'cartservice2-0', '60ee1320'],
    ],
    '1_0_2': [[ms(T1) + 61_000, 'frontend-0', 'ff4a8f61']],
    '2_3_2': [[w2 + 1000, 'frontend-0', '8c9f5e1d']],
    '2_7_1': [],
    '2_7_2': [],
    '3_1_1': [[ms(T2) + 9000, 'frontend-0', '8c9f5e1d']],
  });
  if (opts.gzipLogs) writeFileSync(join(dir, 'log.json.gz'), gzipSync(logs));
  else writeFileSync(join(dir, 'log.json'), logs);
  if (!opts.withoutTrace) {
    writeFileSync(
      join(dir, 'trace.json'),
      JSON.stringify({
        '1_0_1': [
          [ms(T1) + 40_500.5, 'frontend-0', 'cartservice-0', 1.5],
          [ms(T1) + 10_000, 'frontend-0', 'frontend-0', 3.2],
          [ms(T1) + 20_000, 'frontend-0', 'cartservice2-0', -0.4],
        ],
        '1_0_2': [[ms(T1) + 70_000, 'frontend-0', 'cartservice-0', 2]],
        '2_3_2': [[w2 + 2000, 'frontend-0', 'cartservice-0', 7]],
        '2_7_1': [],
        '2_7_2': [],
        '3_1_1': [[ms(T2) + 7000, 'frontend-0', 'cartservice-0', 1.1]],
      }),
    );
  }
  return dir;
}

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

test('aiops22 fixture: detection needs a case CSV and the three event files', async () => {
  const good = makeFolder({ gzipLogs: true });
  const bad = makeFolder({ withoutTrace: true });
  try {
    assert.equal(await detectAiops22(good), true, 'any CSV name, gzipped event files');
    assert.equal(await detectAiops22(join(good, 'cases.csv')), true);
    assert.equal(await detectAiops22(bad), false);
    assert.equal(await detectAiops22(join(good, 'missing')), false);
    await assert.rejects(openAiops22(bad), (e: unknown) => e instanceof UserError && /index,level,instance,anomaly_type,data_type/.test(e.message));
  } finally {
    rmSync(good, { recursive: true, force: true });
    rmSync(bad, { recursive: true, force: true });
  }
});

test('aiops22 fixture: bad lines are reported as file:line and skipped', async () => {
  const dir = makeFolder();
  try {
    const problems = new ProblemLog();
    const ds = await openAiops22(dir, { problems });
    assert.equal(ds.problems, problems);
    const at = (file: string, line: number) => problems.items.filter((p) => p.file === file && p.line === line);
    assert.equal(at('cases.csv', 4).length, 1);
    assert.match(at('cases.csv', 4)[0].reason, /malformed CSV line/);
    assert.deepEqual(
      ds.cases.map((c) => c.id),
      ['1_0_1', '1_0_2', '2_3_2', '2_7_1', '2_7_2', '3_1_1'],
    );
    // unknown type: kept verbatim, reported once (at its first line)
    const unknown = problems.items.filter((p) => p.reason.includes('unknown failure type'));
    assert.deepEqual(unknown.map((p) => [p.file, p.line]), [['cases.csv', 6]]);
    assert.equal(ds.cases.find((c) => c.id === '2_7_2')?.label.type, 'k8s容器磁盘满');
    assert.equal(ds.cases.find((c) => c.id === '1_0_1')?.label.type, 'cpu-load');
    // the extra pod: once, whatever its event count
    const extra = problems.items.filter((p) => p.reason.includes('redis-cart-0'));
    assert.equal(extra.length, 1);
    assert.match(extra[0].reason, /3 event\(s\)/);
    assert.equal(problems.items.filter((p) => p.file === 'metric.json' && /event #3/.test(p.reason)).length, 1, 'malformed event');
    assert.equal(problems.items.filter((p) => /no raw label for failure 3_1/.test(p.reason)).length, 1);
    assert.equal(problems.total, 5, JSON.stringify(problems.items));
    assert.ok(ds.notes.some((n) => n.startsWith('1 windows of the event files')), 'the dropped window is noted');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('aiops22 fixture: windows, labels, entities and topology', async () => {
  const dir = makeFolder();
  try {
    const ds = await openAiops22(dir);
    const c = new Map(ds.cases.map((x) => [x.id, x]));
    assert.deepEqual([c.get('1_0_1')?.start, c.get('1_0_1')?.end], [ms(T1), ms(T1) + 60_001]);
    assert.equal(c.get('1_0_2')?.start, ms(T1) + 60_000);
    assert.equal(c.get('1_0_2')?.split, 'test');
    assert.equal(c.get('2_3_2')?.group, '2_3');
    // without a raw label the window comes from the events: [first event, +60 s]
    assert.deepEqual([c.get('3_1_1')?.start, c.get('3_1_1')?.end], [ms(T2) + 5000, ms(T2) + 65_001]);
    const l = ds.labels.find((x) => x.id === '1_0_1');
    assert.deepEqual(l && [l.rootCause, l.rootCauseService, l.typeOriginal, l.level, l.split], ['cartservice2-0', 'cartservice', 'k8s容器cpu负载', 'pod', 'train']);
    assert.deepEqual(
      ds.rawFailures.map((f) => [f.id, f.start, f.end - f.start]),
      [
        ['1_0', ms(T1), 300_001],
        ['2_3', ms(T2), 300_001],
        ['2_7', ms(T2 + 600), 300_001],
      ],
    );

    const pods = ds.entities.filter((e) => e.kind === 'pod');
    assert.deepEqual(pods.map((p) => [p.id, p.service, p.node]), [
      ['cartservice-0', 'cartservice', undefined],
      ['cartservice2-0', 'cartservice', 'node-6'],
      ['frontend-0', 'frontend', 'node-4'],
      ['redis-cart-0', 'redis-cart', undefined], // on node-6 in one cloudbed, node-3 in another
    ]);
    assert.deepEqual(ds.entities.filter((e) => e.kind === 'node').map((e) => e.id), ['node-3', 'node-4', 'node-6']);

    const topo = await ds.topology();
    assert.deepEqual(topo.edges, [
      { caller: 'frontend-0', callee: 'cartservice-0', count: 4 },
      { caller: 'frontend-0', callee: 'cartservice2-0', count: 1 },
    ]);
    assert.deepEqual(ds.selfLoops.sort(), ['cartservice-0', 'frontend-0']);
    assert.deepEqual(ds.eventCounts, { metric: 6, log: 5, trace: 6, selfCalls: 1 });
    assert.ok(ds.timeRange.start <= ms(T1) && ds.timeRange.end >= ms(T2) + 65_001);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('aiops22 fixture: streams map events, are time-sorted across cloudbeds, and read by range', async () => {
  const dir = makeFolder({ gzipLogs: true });
  try {
    const ds = await openAiops22(dir);
    const spans = await all<Span>(ds.spans());
    const starts = spans.map((s) => s.start);
    assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
    // 6 calls, one a self-call: 6 event spans + 5 synthetic caller spans
    assert.equal(spans.length, 11);
    const call = spans.filter((s) => s.traceId === spans.find((x) => x.start === ms(T1) + 40_500.5)?.traceId);
    assert.equal(call.length, 2);
    const [caller, callee] = call[0].parentId === undefined ? call : [call[1], call[0]];
    assert.deepEqual([caller.entity, caller.attributes?.synthetic, callee.entity, callee.parentId, callee.operation], ['frontend-0', true, 'cartservice-0', caller.spanId, 'frontend-0->cartservice-0']);
    assert.deepEqual(callee.attributes, { caller: 'frontend-0', score: 1.5, case: '1_0_1' });
    assert.deepEqual([callee.duration, callee.status, callee.service], [0, 'unset', 'cartservice']);
    const self = spans.filter((s) => s.operation === 'frontend-0->frontend-0');
    assert.equal(self.length, 1);
    assert.equal(self[0].parentId, undefined);
    const edges = edgesFromSpans(spans);
    assert.deepEqual([...edges.values()].map((e) => [e.caller, e.callee, e.count]).sort(), [
      ['frontend-0', 'cartservice-0', 4],
      ['frontend-0', 'cartservice2-0', 1],
    ]);

    const logs = await all<LogRecord>(ds.logs());
    assert.deepEqual(
      logs.map((l) => [l.time - ms(T1), l.entity, l.body, l.attributes?.case]),
      [
        [2000, 'cartservice2-0', '60ee1320', '1_0_1'],
        [30_000, 'frontend-0', 'ff4a8f61', '1_0_1'],
        [33_000, 'frontend-0', '8c9f5e1d', '3_1_1'], // another cloudbed's case, interleaved in time
        [61_000, 'frontend-0', 'ff4a8f61', '1_0_2'],
        [85_000, 'frontend-0', '8c9f5e1d', '2_3_2'],
      ],
    );

    // metrics: one series per (pod, KPI); the inclusive-end point belongs to 1_0_1 only via caseData
    const series = (await all(ds.metrics())).filter((s) => s.entity === 'redis-cart-0');
    assert.deepEqual(series.flatMap((s) => [...s.times].map((t) => t - ms(T1))), [54_000, 60_000, 84_000 + 30_000]);
    const inRange = await all(ds.metrics({ start: ms(T1) + 60_000, end: ms(T1) + 120_001 }));
    assert.deepEqual(inRange.map((s) => [s.entity, s.times.length]).sort(), [
      ['cartservice2-0', 1],
      ['redis-cart-0', 2],
    ]);
    const d = ds.caseData('1_0_1');
    assert.ok(d);
    assert.deepEqual(d.metrics.map((s) => [s.entity, [...s.values]]), [
      ['cartservice2-0', [4.9]],
      ['redis-cart-0', [2.5, 2.6]],
    ]);
    assert.equal(d.spans.length, 5);
    assert.equal(d.logs.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('aiops22: the "2" deployment folds into its service only when the base exists', () => {
  const w = workloadsOf(['frontend-0', 'frontend2-0', 'shippingservice2-0', 'cartservice-abc12-xyz12']);
  assert.equal(serviceOfAiops22Pod('frontend2-0', w), 'frontend');
  assert.equal(serviceOfAiops22Pod('shippingservice2-0', w), 'shippingservice2');
  assert.equal(serviceOfAiops22Pod('cartservice-abc12-xyz12', w), 'cartservice');
});
