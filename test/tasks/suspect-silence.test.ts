import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTasks, logTemplateKinds, rankCaseEvents, suspectFeatures, TasksFile, withSilence, type TuneInput } from '../../src/tasks/index.js';
import { SeededRng, type Dataset } from '../../src/telemetry/index.js';
import { FEATURE_LAYOUTS } from '../../src/encode/index.js';
import { fakeItem, fakeRanking } from '../helpers/ranking.js';

const near = (a: number | undefined, b: number) => assert.ok(a !== undefined && Math.abs(a - b) < 1e-12, `${a} ≠ ${b}`);

/** A suspect's view row as `rawFeatures` lays it out (metrics ⊕ traces ⊕ logs), all 0 but the named features. */
function view(set: Record<string, number>): Float64Array {
  const layout = [...FEATURE_LAYOUTS.metrics.map((f) => `metrics:${f}`), ...FEATURE_LAYOUTS.traces.map((f) => `traces:${f}`), ...FEATURE_LAYOUTS.logs.map((f) => `logs:${f}`)];
  const out = new Float64Array(layout.length);
  for (const [k, v] of Object.entries(set)) {
    const i = layout.indexOf(k);
    assert.ok(i >= 0, k);
    out[i] = v;
  }
  return out;
}

test('silence: a killed pod\'s missing metric points become a name beside its evidence, in percent, compressed', () => {
  const ev = { 'rise:resource:cpu': 2.5 };
  const f = withSilence(ev, view({ 'metrics:missing_share': 0.2, 'traces:absent_edge_share': 0.5, 'metrics:series_log': 3 }))!;
  near(f['gone:metrics:missing_share'], Math.log1p(20));
  near(f['gone:traces:absent_edge_share'], Math.log1p(50));
  near(f['rise:resource:cpu'], 2.5);
  // nothing gone: no name (no silence is no evidence); other view features never enter
  assert.deepEqual(Object.keys(f).sort(), ['gone:metrics:missing_share', 'gone:traces:absent_edge_share', 'rise:resource:cpu']);
  assert.equal(ev['gone:metrics:missing_share' as keyof typeof ev], undefined, 'the evidence given is not changed');
  // a NaN (modality absent) is no evidence either
  assert.deepEqual(withSilence(undefined, view({ 'logs:absent_template_mass': NaN })), {});
  // without a view the evidence is returned as it is
  assert.equal(withSilence(ev, undefined), ev);
  assert.equal(withSilence(undefined, undefined), undefined);
});

test('log-template kinds: how the line moved, and the severity its text names', () => {
  assert.deepEqual(logTemplateKinds('BasicController.queryForTravels | changes: <*> ERROR f.m.s.BasicServiceImpl#<*> [getR'), ['changes', 'error']);
  assert.deepEqual(logTemplateKinds('FoodController.getAllFood | vanishes: <*> INFO f.s.FoodServiceImpl#<*>'), ['vanishes', 'info']);
  assert.deepEqual(logTemplateKinds('lookup | appears: retrying chain-store get after transient error (attempt <*>)'), ['appears'], 'a lower-case "error" in the message is not a severity');
  assert.deepEqual(logTemplateKinds('op | appears: WARNING disk nearly full'), ['appears', 'warn']);
  // a severity in the operation's name is not the line's
  assert.deepEqual(logTemplateKinds('INFO-endpoint | changes: done'), ['changes']);
  assert.deepEqual(logTemplateKinds('free text'), []);
});

test('suspect features: log-template items split by how they moved and by severity, each in its direction', () => {
  const item = (subject: string, deviation: number) => fakeItem('log-template', subject, deviation);
  const r = fakeRanking([
    {
      service: 'a',
      score: 9,
      evidence: [{ family: 'log-template', z: 9, items: [item('op | vanishes: <*> INFO fetched row', -9), item('op | appears: <*> ERROR failed', 4), item('op2 | changes: <*> INFO done', 2)] }],
    },
  ]);
  const f = suspectFeatures(r)!;
  near(f['fall:log-template:vanishes'], Math.log1p(9));
  near(f['fall:log-template:info'], Math.log1p(9));
  near(f['rise:log-template:appears'], Math.log1p(4));
  near(f['rise:log-template:error'], Math.log1p(4));
  near(f['rise:log-template:changes'], Math.log1p(2));
  near(f['rise:log-template:info'], Math.log1p(2));
  assert.equal(f['rise:log-template:vanishes'], undefined);
  assert.equal(f['fall:log-template:error'], undefined);
});

test('silence: a row that is not a view (another width) is not read', () => {
  const ev = { 'z:resource': 1 };
  assert.equal(withSilence(ev, Float64Array.from([0.5, 0.5])), ev);
});

test("tasks file: the suspect's silence is read from its view as evaluate reads it, when fitting and when classifying", () => {
  // two types the evidence cannot tell apart (both raise CPU); one of them silences the suspect's metrics
  const rng = new SeededRng(9, 'silence');
  const MIN = 60_000;
  const detection: TuneInput['detection'] = Array.from({ length: 200 }, (_, i) => ({ start: i * MIN, end: (i + 5) * MIN, source: 's', row: Float64Array.from({ length: 4 }, () => rng.normal()), abnormal: false }));
  const types = ['cpu-contention', 'pod-kill'];
  const cases = Array.from({ length: 20 }, (_, i) => {
    const t = types[i % 2];
    return {
      row: Float64Array.from({ length: 4 }, () => rng.normal()),
      suspect: view({ 'metrics:missing_share': t === 'pod-kill' ? 0.1 + 0.1 * rng.next() : 0, 'metrics:series_log': 2 + rng.normal() }),
      evidence: { 'rise:resource:cpu': 2 + rng.next() },
      fold: Math.floor(i / 4),
      stateRow: detection[i * 5].row,
      type: t,
    };
  });
  const tasks = fitTasks({
    detection,
    faults: [],
    settleMs: 0,
    mask: ['traces', 'logs'],
    cases,
    fittedOn: { data: '/x', format: 'otlp', backbone: 'hash:dim=8', windows: 200, normalWindows: 200, faults: 20, cases: 20 },
    window: { lengthMs: 5 * MIN, strideMs: MIN },
    localization: { method: 'evidence', windowMs: 5 * MIN, sliceMs: MIN, note: 'test' },
  });
  const c = tasks.doc.classification;
  assert.ok(c);
  assert.deepEqual(c.evidence.layout, ['gone:metrics:missing_share', 'rise:resource:cpu']);
  const back = TasksFile.fromJSON(JSON.parse(JSON.stringify(tasks.doc)));
  const row = Float64Array.from({ length: 4 }, () => 0);
  const ev = { 'rise:resource:cpu': 2.5 };
  assert.equal(back.classify(row, view({ 'metrics:missing_share': 0.15, 'metrics:series_log': 2 }), ev, 0)[0], 'pod-kill');
  assert.equal(back.classify(row, view({ 'metrics:series_log': 2 }), ev, 0)[0], 'cpu-contention');
});

test('case events: the trace events around each service ride along the ranking (not in its score) and reach the suspect features', () => {
  const pods = ['a-0', 'a-1', 'b-0', 'c-0'];
  const span = (callee: string, caller: string, score: number, synthetic = false) => ({ entity: callee, service: callee.split('-')[0], attributes: synthetic ? { callee: caller, synthetic: true } : { caller, score } });
  const spans = [
    span('a-0', 'b-0', 3), // b → a
    span('a-1', 'c-0', 5), // c → a
    span('b-0', 'a-0', 2), // a → b
    span('a-0', 'a-0', 4), // a-0 calling itself
    span('a-1', 'a-0', 9), // within a: neither in nor out
    span('b-0', 'b-0', 1, true), // a synthetic caller span: not an event
  ];
  const metrics = (id: string) => (id === 'c1' ? [{ entity: 'a-0', name: 'kpi_container_cpu', values: [2, 3] }] : [{ entity: 'b-0', name: 'kpi_container_cpu', values: [2] }]);
  const ds = {
    entities: pods.map((id) => ({ id, kind: 'pod', service: id.split('-')[0] })),
    cases: ['c1', 'c2', 'c3'].map((id, i) => ({ id, start: i, end: i + 1, group: id, label: {} })),
    caseData: (id: string) => ({ metrics: metrics(id), spans: id === 'c1' ? spans : [], logs: [] }),
  } as unknown as Dataset;
  const withCalls = rankCaseEvents(ds, ['c1', 'c2', 'c3']).get('c1')!;
  const top = withCalls.services[0];
  assert.equal(top.service, 'a');
  assert.deepEqual(top.calls, { in: 2, out: 1, self: 1, inMax: 5, selfMax: 4 });
  // the ranking itself is what it is without spans
  const noSpans = { ...ds, caseData: (id: string) => ({ metrics: metrics(id), spans: [], logs: [] }) } as unknown as Dataset;
  const plain = rankCaseEvents(noSpans, ['c1', 'c2', 'c3']).get('c1')!;
  assert.deepEqual(plain.services.map((s) => [s.service, s.score]), withCalls.services.map((s) => [s.service, s.score]));
  assert.equal(plain.services[0].calls, undefined);
  const f = suspectFeatures(withCalls)!;
  near(f['trace:in'], Math.log1p(2));
  near(f['trace:out'], Math.log1p(1));
  near(f['trace:self'], Math.log1p(1));
  near(f['trace:in-max'], Math.log1p(5));
  near(f['trace:self-max'], Math.log1p(4));
});
