/**
 * Logs whose spans the data does not hold (docs/localize.md, "Logs without their traces"):
 * where traces are sampled or not collected, records still carry their trace context, and the
 * log-rate family counts every record no span of the window holds — not only those without a
 * span id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { logRates, prepareLocalizer } from '../../src/tasks/index.js';
import { MIN, T0, fixture } from './fixture.js';

const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

test('logs-only data: records that name spans the data lacks are counted per window, and localize', async () => {
  // b stops logging "step two" in the query; every span is gone (a logs-only collection)
  const data = fixture(64, { silenceB: QUERY });
  const ds = memoryDataset({ ...data, spans: [] });
  const r = (await prepareLocalizer(ds, [QUERY], { families: ['log-template', 'log-rate'] })).rank(QUERY);
  const b = r.services.find((s) => s.service === 'b');
  assert.ok(b, 'b is ranked');
  const rate = b.evidence.find((e) => e.family === 'log-rate');
  assert.ok(rate && rate.z > 3, `b's log-rate z ${rate?.z}`);
  assert.equal(r.services[0].service, 'b');
});

test('sampled traces: the records whose spans were dropped still localize; joined ones stay with log-template', async () => {
  // about four requests in five lose their spans for the whole run, their logs are kept
  const all: TimeRange = { start: T0, end: T0 + 64 * MIN };
  const thin = fixture(64, { silenceB: QUERY, thin: all });
  const full = fixture(64, { silenceB: QUERY });
  const kept = new Set(thin.spans.map((s) => s.traceId));
  assert.ok(kept.size > 0 && thin.logs.length < full.logs.length);
  const logs = full.logs; // every record, sampled or not
  const ds = memoryDataset({ ...full, spans: full.spans.filter((s) => kept.has(s.traceId)), logs });
  const r = (await prepareLocalizer(ds, [QUERY], { families: ['log-template', 'log-rate'] })).rank(QUERY);
  assert.equal(r.services[0].service, 'b');
  assert.ok(r.services[0].evidence.some((e) => e.family === 'log-rate' && e.z > 3));
});

test('log-rate summary: a record joined to a span of the window is not counted; one whose span is absent is', () => {
  const range: TimeRange = { start: T0, end: T0 + MIN };
  const span = { traceId: 't1', spanId: 's1', entity: 'b-1', service: 'b', operation: '/b', start: T0 + 10, duration: 5, status: 'unset' as const };
  const rec = (spanId: string | undefined, time: number) => ({ record: { time, entity: 'b-1', service: 'b', severity: 'info' as const, body: `x ${spanId} ${time}`, traceId: spanId ? 't1' : undefined, spanId }, template: 1 });
  const s = logRates.summarize({ range, spans: [span], logs: [rec('s1', T0 + 11), rec('s2', T0 + 12), rec(undefined, T0 + 13)] });
  assert.equal(s?.counts.get('b')?.get(1), 2);
  // every record joined: nothing for this family
  assert.equal(logRates.summarize({ range, spans: [span], logs: [rec('s1', T0 + 11)] }), undefined);
});

test('log-rate per pod: each pod against its own counts, each template a part; a pod the reference never saw takes the service\'s parts', () => {
  const range: TimeRange = { start: T0, end: T0 + MIN };
  const rec = (pod: string, template: number, i: number) => ({ record: { time: T0 + i, entity: pod, service: 'b', severity: 'info' as const, body: `${pod} ${template} ${i}` }, template });
  const window = (perPod: Record<string, Record<number, number>>) => {
    const logs = [];
    let i = 0;
    for (const [pod, counts] of Object.entries(perPod)) for (const [t, n] of Object.entries(counts)) for (let k = 0; k < n; k++) logs.push(rec(pod, Number(t), i++));
    return logRates.summarize({ range, spans: [], logs })!;
  };
  // normal: both pods log template 1 about ten times a window
  const normal = Array.from({ length: 20 }, (_, w) => window({ 'b-1': { 1: 9 + (w % 3) }, 'b-2': { 1: 10 + (w % 2) } }));
  const ref = logRates.fit(normal);
  // b-2 stops logging template 1 and logs a new template 2; b-1 as usual; b-3 is new
  const raw = logRates.score(window({ 'b-1': { 1: 10 }, 'b-2': { 2: 12 }, 'b-3': { 1: 10 } }), ref).get('b')!;
  const partsOf = (pod: string) => raw.podParts!.get(pod)!;
  assert.ok(partsOf('b-2').get('1')! > 3 && partsOf('b-2').get('2')! > 5, `b-2 ${[...partsOf('b-2')]}`);
  assert.ok(Math.max(...partsOf('b-1').values()) < 2, `b-1 ${[...partsOf('b-1')]}`);
  assert.equal(partsOf('b-3'), raw.parts);
  assert.ok(raw.parts!.get('2')! > 5);
});
