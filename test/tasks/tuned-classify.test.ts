import { test } from 'node:test';
import assert from 'node:assert/strict';
import { suspectFeatures, suspectLayout, suspectRow, type EventRanking, type Ranking } from '../../src/tasks/index.js';
import { blockDistance, tunedClassify, type Representation, type EvalCase } from '../../src/eval/evaluate/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

test('suspect features: the top suspect calibrated z per family, compressed; zero where a family is silent', () => {
  const r = {
    range: { start: 0, end: 1 },
    families: [],
    pods: [],
    services: [
      { service: 'a', score: 50, evidence: [{ family: 'edge-gap', z: 50 }, { family: 'resource', z: -2 }, { family: 'self-time', z: NaN }] },
      { service: 'b', score: 3, evidence: [{ family: 'log-template', z: 3 }] },
    ],
  } as unknown as Ranking;
  const f = suspectFeatures(r)!;
  assert.deepEqual(Object.keys(f).sort(), ['z:edge-gap', 'z:resource']);
  assert.ok(Math.abs(f['z:edge-gap'] - Math.log1p(50)) < 1e-12);
  assert.ok(Math.abs(f['z:resource'] + Math.log1p(2)) < 1e-12);
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
});

test('block distance: each block weighs the same whatever its width', () => {
  const d = blockDistance([4, 1]);
  const a = Float64Array.from([0, 0, 0, 0, 0]);
  // a difference of 1 in every dimension of the wide block counts as much as 1 in the narrow one
  assert.ok(Math.abs(d(a, Float64Array.from([1, 1, 1, 1, 0])) - d(a, Float64Array.from([0, 0, 0, 0, 1]))) < 1e-12);
  assert.ok(Math.abs(d(a, Float64Array.from([1, 1, 1, 1, 1])) - Math.SQRT2) < 1e-12);
});

test('tuned classification: the block weighting is chosen on the training folds; the evidence block can decide', () => {
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
  assert.equal(chosen.chosen, 'balanced');
  assert.equal(chosen.inner?.length, 2);
  assert.equal(acc(chosen), 1);
  // without the evidence the rows are noise
  assert.ok(acc(tunedClassify({ ...base, balanced: false })) < 0.8);
});
