import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaseData, Dataset, MetricSeries } from '../../src/telemetry/index.js';
import { ProblemLog } from '../../src/telemetry/index.js';
import { rankCaseEvents } from '../../src/tasks/index.js';
import { parseTimeArg } from '../../src/cli/localize.js';

const ev = (pod: string, kpi: string, n = 1): MetricSeries => ({
  entity: pod,
  name: kpi,
  times: Float64Array.from({ length: n }, (_, i) => i * 1000),
  values: Float64Array.from({ length: n }, () => 3),
});

function caseDataset(cases: Record<string, MetricSeries[]>): Dataset {
  const pods = ['noisy-0', 'quiet-0', 'other-0'];
  return {
    format: 'aiops22',
    root: '(memory)',
    entities: pods.map((p) => ({ id: p, kind: 'pod' as const, service: p.replace(/-0$/, '') })),
    timeRange: { start: 0, end: 1 },
    labels: [],
    problems: new ProblemLog(),
    disorderMs: 0,
    notes: [],
    caseData: (id: string): CaseData | undefined => (cases[id] ? { metrics: cases[id], spans: [], logs: [] } : undefined),
    topology: async () => ({ entities: [], edges: [] }),
    metrics: async function* () {},
    spans: async function* () {},
    logs: async function* () {},
  };
}

test('metric events are weighted by how rarely their (pod, KPI) pair fires across cases', () => {
  // noisy-0's cpu fires in every case; quiet-0's memory only in case c3
  const cases: Record<string, MetricSeries[]> = {
    c1: [ev('noisy-0', 'cpu', 2), ev('other-0', 'io')],
    c2: [ev('noisy-0', 'cpu', 2)],
    c3: [ev('noisy-0', 'cpu', 2), ev('quiet-0', 'memory')],
    c4: [ev('noisy-0', 'cpu', 2)],
  };
  const r = rankCaseEvents(caseDataset(cases), Object.keys(cases));
  assert.equal(r.get('c3')!.services[0].service, 'quiet');
  assert.equal(r.get('c3')!.pods[0].pod, 'quiet-0');
  assert.equal(r.get('c1')!.services[0].service, 'other');
  // a pair present in every case carries (almost) no weight
  assert.ok(r.get('c2')!.services[0].score < 0.5);
});

test("each pod's event score is calibrated against its own scores over all cases", () => {
  // noisy-0 has ten KPIs and five of them fire (3 events each) in every case: a large sum
  // everywhere; quiet-0 fires one rare KPI once, in c3 only
  const cases: Record<string, MetricSeries[]> = {};
  for (let i = 0; i < 10; i++) {
    cases[`c${i}`] = Array.from({ length: 5 }, (_, j) => ev('noisy-0', `k${(i + j) % 10}`, 3));
  }
  cases.c3.push(ev('quiet-0', 'memory'));
  const ids = Object.keys(cases);
  assert.equal(rankCaseEvents(caseDataset(cases), ids, { calibrate: 'none' }).get('c3')!.services[0].service, 'noisy');
  assert.equal(rankCaseEvents(caseDataset(cases), ids).get('c3')!.services[0].service, 'quiet');
});

test('localize --at accepts the Nezha time format (UTC), ISO times and epoch seconds', () => {
  assert.equal(parseTimeArg('2023-01-29 08:43:04'), Date.UTC(2023, 0, 29, 8, 43, 4));
  assert.equal(parseTimeArg('2023-01-29T09:43:04+01:00'), Date.UTC(2023, 0, 29, 8, 43, 4));
  assert.equal(parseTimeArg('1674981784'), 1674981784000);
  assert.throws(() => parseTimeArg('yesterday'), /not a time/);
});

test('log events are a second family: IDF over (pod, template), calibrated per pod, max over families', () => {
  const log = (pod: string, template: string, time = 0) => ({ time, entity: pod, service: pod.replace(/-0$/, ''), severity: 'unknown', body: template, attributes: { templateId: template } });
  // every case: noisy-0's cpu fires; other-0 logs template t1 (routine). c2: quiet-0 logs a rare template
  const ids = ['c0', 'c1', 'c2', 'c3', 'c4'];
  const data = new Map(ids.map((id) => [id, { metrics: [ev('noisy-0', 'cpu', 2)], spans: [], logs: [log('other-0', 't1'), ...(id === 'c2' ? [log('quiet-0', 't9'), log('quiet-0', 't9', 5)] : [])] }]));
  const ds = { ...caseDataset({}), caseData: (id: string) => data.get(id) as CaseData | undefined };
  const r = rankCaseEvents(ds, ids);
  assert.equal(r.get('c2')!.services[0].service, 'quiet');
  const item = r.get('c2')!.services[0].items[0];
  assert.equal(item.family, 'log');
  assert.equal(item.kpi, 't9');
  assert.equal(item.events, 2);
  // metrics only (H8–H18's ranking): quiet-0 has no event at all
  const m = rankCaseEvents(ds, ids, { families: ['metric'] });
  assert.ok(!m.get('c2')!.services.some((s) => s.service === 'quiet'));
});

test("a case is ranked on its incident so far: earlier windows of the same failure count, later ones and other failures' do not", () => {
  // failure A (windows a1, a2, a3): quiet-0's rare KPI fires in a1 only, then other-0 has a
  // routine blip in a2; failure B (b1) is other-0's rare KPI. noisy-0 fires everywhere.
  const cases: Record<string, MetricSeries[]> = {
    a1: [ev('noisy-0', 'cpu'), ev('quiet-0', 'memory', 3)],
    a2: [ev('noisy-0', 'cpu'), ev('other-0', 'net')],
    a3: [ev('noisy-0', 'cpu')],
    b1: [ev('noisy-0', 'cpu'), ev('other-0', 'io', 3)],
    c1: [ev('noisy-0', 'cpu')],
    c2: [ev('noisy-0', 'cpu')],
  };
  const meta = [
    ['a1', 'A', 0],
    ['a2', 'A', 60],
    ['a3', 'A', 120],
    ['b1', 'B', 30],
    ['c1', 'C', 500],
    ['c2', 'D', 600],
  ] as const;
  const ds = {
    ...caseDataset(cases),
    cases: meta.map(([id, group, s]) => ({ id, group, start: s * 1000, end: s * 1000 + 60_000, label: { id, start: 0, end: 1, rootCause: '?', rootCauseService: '?', type: '?' } })),
  } as Dataset;
  const ids = Object.keys(cases);
  const inc = rankCaseEvents(ds, ids);
  // a2 and a3 keep a1's evidence: quiet-0 first, its items from window a1
  assert.equal(inc.get('a2')!.pods[0].pod, 'quiet-0');
  assert.equal(inc.get('a3')!.pods[0].pod, 'quiet-0');
  assert.equal(inc.get('a3')!.services[0].items[0].case, 'a1');
  // a1 does not see a2 (later), b1 (another failure, earlier in time) does not see a1
  assert.ok(!inc.get('a1')!.pods.some((p) => p.pod === 'other-0'));
  assert.ok(!inc.get('b1')!.pods.some((p) => p.pod === 'quiet-0'));
  assert.equal(inc.get('b1')!.pods[0].pod, 'other-0');
  // window by window, a3 has nothing but the routine KPI
  const win = rankCaseEvents(ds, ids, { history: 'window' });
  assert.ok(!win.get('a3')!.pods.some((p) => p.pod === 'quiet-0'));
  assert.equal(win.get('a2')!.pods[0].pod, 'other-0');
});
