import { test } from 'node:test';
import assert from 'node:assert/strict';
import { edgeDirection, MEMORY_LEADS_Z, resourceKind, suspectFeatures, suspectLayout, suspectRow, type EventRanking } from '../../src/tasks/index.js';
import { correlationRatios, weightedDistance, tunedClassify, type Representation, type EvalCase } from '../../src/eval/evaluate/index.js';
import { SeededRng } from '../../src/telemetry/index.js';
import { fakeItem, fakeRanking } from '../helpers/ranking.js';

test('suspect features: the top suspect calibrated z per family where it fires, compressed; zero where a family is silent or quieter than its null', () => {
  const r = fakeRanking([
    { service: 'a', score: 50, evidence: [{ family: 'edge-gap', z: 50, items: [] }, { family: 'resource', z: 2, items: [] }, { family: 'span-structure', z: -2, items: [] }, { family: 'self-time', z: NaN, items: [] }] },
    { service: 'b', score: 3, evidence: [{ family: 'log-template', z: 3, items: [] }] },
  ]);
  const f = suspectFeatures(r)!;
  // a z below 0 (a leaf service's span structure never changes) is no evidence, as a silent family
  assert.deepEqual(Object.keys(f).sort(), ['z:edge-gap', 'z:resource']);
  assert.ok(Math.abs(f['z:edge-gap'] - Math.log1p(50)) < 1e-12);
  assert.ok(Math.abs(f['z:resource'] - Math.log1p(2)) < 1e-12);
  const layout = suspectLayout([f, { 'z:log-template': 1 }, undefined]);
  assert.deepEqual(layout, ['z:edge-gap', 'z:log-template', 'z:resource']);
  assert.deepEqual([...suspectRow(f, layout)!], [f['z:edge-gap'], 0, f['z:resource']]);
  assert.equal(suspectRow(undefined, layout), undefined);
  assert.equal(suspectFeatures(undefined), undefined);
});

test('suspect features of case events: IDF-weighted events summed per family and KPI over the suspect pods', () => {
  const r: EventRanking = {
    services: [
      {
        service: 'cart',
        score: 1,
        items: [
          { pod: 'cart-0', family: 'metric', kpi: 'cpu', events: 2, idf: 1.5, case: 'c' },
          { pod: 'cart-1', family: 'metric', kpi: 'cpu', events: 1, idf: 1.5, case: 'c' },
          { pod: 'cart-0', family: 'log', kpi: '7', events: 4, idf: 0.5, case: 'c' },
        ],
      },
    ],
    pods: [],
  };
  const f = suspectFeatures(r)!;
  assert.ok(Math.abs(f['metric:cpu'] - Math.log1p(4.5)) < 1e-12);
  assert.ok(Math.abs(f['log:7'] - Math.log1p(2)) < 1e-12);
  // and per resource kind of the KPI
  assert.ok(Math.abs(f['kind:metric:cpu'] - Math.log1p(4.5)) < 1e-12);
  assert.equal(f['kind:log:other'], undefined);
});

test('suspect features: the direction of each family\'s items, resource kinds, and bad calls by kind', () => {
  const item = fakeItem;
  const r = fakeRanking([
    {
      service: 'a',
      score: 9,
      evidence: [
        // an exception: the lines after the throw vanish, an error line appears a little
        { family: 'log-template', z: 9, items: [item('log-template', 'op | vanishes: fetched row', -9), item('log-template', 'op | appears: failed', 2)] },
        { family: 'resource', z: 4, items: [item('resource', 'container.cpu.usage', 4), item('resource', 'container_memory_rss', -3)] },
        { family: 'call-outcome', z: 5, items: [item('call-outcome', 'b → a', 6, { failed: 0.1, complained: 0.5, slow: 0 })] },
      ],
    },
  ]);
  const f = suspectFeatures(r)!;
  const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);
  near(f['fall:log-template'], Math.log1p(9));
  near(f['rise:log-template'], Math.log1p(2));
  near(f['rise:resource:cpu'], Math.log1p(4));
  near(f['fall:resource:memory'], Math.log1p(3));
  assert.equal(f['rise:resource:memory'], undefined);
  // the call deviation split by the shares of its bad calls: 1/6 failed, 5/6 complained about
  near(f['rise:call-outcome:failed'], Math.log1p(1));
  near(f['rise:call-outcome:complained'], Math.log1p(5));
  assert.equal(f['rise:call-outcome:slow'], undefined);
  assert.deepEqual(['cpu_usage_seconds', 'kpi_container_memory_failures', 'container_threads', 'container_network_receive_MB', 'kpi_container_fs_writes', 'kpi_latency_p99'].map(resourceKind), ['cpu', 'memory', 'process', 'network', 'disk', 'other']);
});

test('suspect features: a pod\'s memory rise beyond MEMORY_LEADS_Z leads its CPU rise (a leak\'s garbage collection), per pod', () => {
  const item = (pod: string, subject: string, deviation: number) => ({ ...fakeItem('resource', subject, deviation), pod });
  const near = (a: number | undefined, b: number, why?: string) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}${why ? `: ${why}` : ''}`);
  const features = (items: ReturnType<typeof item>[]) => suspectFeatures(fakeRanking([{ service: 'a', score: 9, evidence: [{ family: 'resource', z: 9, items }] }]))!;
  // a leaking pod burns CPU on GC; its sibling pod's CPU rose by itself
  const leak = features([item('a-1', 'container.memory.usage', 8), item('a-1', 'container.cpu.usage', 6), item('a-2', 'container.cpu.usage', 5), item('a-2', 'container.memory.usage', 1)]);
  near(leak['lead:resource:memory'], Math.log1p(8));
  near(leak['rise:resource:memory'], Math.log1p(8));
  near(leak['rise:resource:cpu'], Math.log1p(5), 'only the sibling\'s CPU rise: the leaking pod\'s is its memory\'s');
  near(leak['rise:resource'], Math.log1p(8), 'the family\'s largest rise is every kind\'s');
  // a CPU hog: memory flat, its CPU rise as it always was, and no name says memory
  const hog = features([item('a-1', 'container.cpu.usage', 6), item('a-1', 'container.memory.usage', 0.5)]);
  near(hog['rise:resource:cpu'], Math.log1p(6));
  assert.deepEqual(Object.keys(hog).filter((k) => k.startsWith('lead:')), []);
  // the cut is strict: a memory rise of exactly MEMORY_LEADS_Z does not lead
  const edge = features([item('a-1', 'container.memory.usage', MEMORY_LEADS_Z), item('a-1', 'container.cpu.usage', 6)]);
  assert.equal(edge['lead:resource:memory'], undefined);
  near(edge['rise:resource:cpu'], Math.log1p(6));
  // a memory rise alone leads without a CPU name; a pod whose memory fell (a restart) leads nothing
  const alone = features([item('a-1', 'container.memory.usage', 7)]);
  assert.deepEqual(Object.keys(alone).filter((k) => k.includes('resource:')).sort(), ['lead:resource:memory', 'rise:resource:memory']);
  const restart = features([item('a-1', 'container.memory.usage', -6), item('a-1', 'container.cpu.usage', 9)]);
  near(restart['rise:resource:cpu'], Math.log1p(9));
  assert.equal(restart['lead:resource:memory'], undefined);
  near(restart['fall:resource:memory'], Math.log1p(6));
});

test('suspect features: edge items by where they sit on the suspect\'s call path, with their bad calls by kind', () => {
  const item = fakeItem;
  // packet loss at `a`: the calls into it and its own calls out go slow, a few fail
  const r = fakeRanking([
    {
      service: 'a',
      score: 9,
      evidence: [
        { family: 'call-outcome', z: 5, items: [item('call-outcome', 'b → a (1 of 40 calls failed, 0 complained about, 9 slower than 1.1 ms)', 4, { failed: 1, complained: 0, slow: 3 }), item('call-outcome', 'a → c (0 of 30 calls failed, 0 complained about, 6 slower than 1.1 ms)', 6, { failed: 0, complained: 0, slow: 6 })] },
        { family: 'edge-gap', z: 2, items: [item('edge-gap', 'b → a (p90 200.7 ms)', 1.5), item('edge-gap', 'x → y (p90 3.0 ms)', -1)] },
        // not an edge family: its arrow is an operation calling a child, never a direction
        { family: 'span-structure', z: 1, items: [item('span-structure', 'op → c get changes', 2)] },
      ],
    },
  ]);
  const f = suspectFeatures(r)!;
  const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);
  near(f['rise:call-outcome:in'], Math.log1p(4));
  near(f['rise:call-outcome:out'], Math.log1p(6));
  near(f['rise:call-outcome:in:failed'], Math.log1p(1));
  near(f['rise:call-outcome:in:slow'], Math.log1p(3));
  near(f['rise:call-outcome:out:slow'], Math.log1p(6));
  assert.equal(f['rise:call-outcome:out:failed'], undefined, 'a kind with no bad calls is no evidence');
  near(f['rise:edge-gap:in'], Math.log1p(1.5));
  assert.equal(f['rise:edge-gap:other'], undefined, 'an edge that fell is no rise');
  assert.equal(Object.keys(f).some((k) => k.startsWith('rise:span-structure:')), false);
  assert.deepEqual(
    [['b → a (p90 1 ms)', 'a'], ['a → c', 'a'], ['b → c (…; a\'s incoming calls go as bad: its own network)', 'a'], ['GET /x', 'a']].map(([s, svc]) => edgeDirection(s, svc)),
    ['in', 'out', 'other', undefined],
  );
});

test('correlation ratios: a dimension the types explain weighs 1, a dimension they do not weighs 0', () => {
  const rows = [
    [0, 5],
    [0, 7],
    [1, 5],
    [1, 7],
  ].map((r) => Float64Array.from(r));
  const w = correlationRatios(rows, ['a', 'a', 'b', 'b']);
  assert.deepEqual([...w], [1, 0]);
  const d = weightedDistance(w);
  // only the telling dimension counts
  assert.equal(d(rows[0], rows[1]), 0);
  assert.equal(d(rows[0], rows[2]), 1);
});

test('tuned classification: the blocks are chosen on the training folds; the evidence can decide alone', () => {
  // the window and suspect views are noise; only the suspect evidence tells the types apart
  const rng = new SeededRng(9, 'tunedClassify');
  const width = 20;
  const cases: EvalCase[] = [];
  const rowOf = new Map<string, Float64Array>();
  const evOf = new Map<string, Record<string, number>>();
  for (let i = 0; i < 60; i++) {
    const type = i % 2 === 0 ? 'delay' : 'cpu';
    const id = `c${i}`;
    cases.push({ id, start: i, end: i + 1, type, service: 's', pod: 'p', group: `g${i % 5}`, fold: i % 5, w: {} as EvalCase['w'] });
    rowOf.set(id, Float64Array.from({ length: width }, () => rng.normal()));
    evOf.set(id, type === 'delay' ? { 'z:edge-gap': 3 + rng.normal() * 0.3 } : { 'z:resource': 3 + rng.normal() * 0.3 });
  }
  const rep = { name: 'raw-features', kind: 'features' } as Representation;
  const train = cases.filter((c) => c.fold !== 0);
  const test = cases.filter((c) => c.fold === 0);
  const base = { rep, train, test, caseRow: (c: EvalCase) => rowOf.get(c.id), suspectRow: (c: EvalCase) => rowOf.get(c.id)?.map((v) => -v), statePool: [], stateRow: () => undefined, global: true };
  const acc = (r: Map<string, string[]>) => test.filter((c) => r.get(c.id)?.[0] === c.type).length / test.length;
  const chosen = tunedClassify({ ...base, suspectEvidence: (c) => evOf.get(c.id) });
  assert.deepEqual(chosen.inner?.map((x) => x.candidate), ['plain', 'evidence']);
  assert.equal(acc(chosen), 1);
  assert.equal(acc(tunedClassify({ ...base, suspectEvidence: (c) => evOf.get(c.id), blocks: 'evidence' })), 1);
  // every type is ranked for every test case
  for (const c of test) assert.deepEqual([...(chosen.get(c.id) ?? [])].sort(), ['cpu', 'delay']);
  // without the evidence the rows are noise
  assert.ok(acc(tunedClassify({ ...base, blocks: 'plain' })) < 0.8);
  // with states allowed, the same inner cross-validation decides whether to use them: global
  // prototypes first, states only when strictly better (here there is no state to split by)
  const withStates = tunedClassify({ ...base, global: false, suspectEvidence: (c) => evOf.get(c.id) });
  assert.deepEqual(withStates.inner?.map((x) => `${x.candidate}${x.states ? '+states' : ''}`), ['plain', 'evidence', 'plain+states', 'evidence+states']);
  assert.equal(withStates.states, false);
  assert.equal(acc(withStates), 1);
  assert.equal(chosen.states, false);
});
