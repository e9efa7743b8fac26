import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { FaultLabel, TimeRange } from '../../src/telemetry/index.js';
import { normalWindows, prepareLocalizer, welchT } from '../../src/tasks/index.js';
import { MIN, PODS, T0, fixture, type FixtureFaults } from './fixture.js';

// 60 minutes of normal operation, then the query window [60 min, 62 min).
const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

async function rankWith(faults: FixtureFaults) {
  const ds = memoryDataset(fixture(64, faults));
  const prep = await prepareLocalizer(ds, [QUERY]);
  return prep.rank(QUERY);
}

test('a delay on the edges into c ranks c first, not its callers', async () => {
  const r = await rankWith({ delayIntoC: QUERY });
  assert.equal(r.services[0].service, 'c');
  const top = r.services[0].evidence[0];
  assert.equal(top.family, 'edge-gap');
  assert.match(top.items[0].subject, /a → c/);
  assert.ok(top.items[0].value > 900, `gap ${top.items[0].value}`);
  // the callers inherit the delay in their own durations, yet rank below c
  const rankOf = (s: string) => r.services.findIndex((x) => x.service === s);
  assert.ok(rankOf('a') === -1 || rankOf('a') > 0);
  assert.ok(rankOf('gateway') === -1 || rankOf('gateway') > 0);
  assert.equal(r.pods[0].pod, PODS.c);
});

test('a template that vanishes at b ranks b first, with the template as evidence', async () => {
  const r = await rankWith({ silenceB: QUERY });
  assert.equal(r.services[0].service, 'b');
  const ev = r.services[0].evidence.find((e) => e.family === 'log-template');
  assert.ok(ev, 'log-template evidence');
  assert.match(ev.items[0].subject, /vanishes: .*step two finished/);
  assert.equal(ev.items[0].value, 0);
  assert.ok(ev.items[0].reference > 0.9);
});

test("a CPU jump at b's pod ranks b first (pod and service)", async () => {
  const r = await rankWith({ cpuB: QUERY });
  assert.equal(r.services[0].service, 'b');
  assert.equal(r.services[0].evidence[0].family, 'resource');
  assert.equal(r.pods[0].pod, PODS.b);
  assert.ok(r.services[0].score > 5);
});

test('a quiet window ranks nobody high', async () => {
  const r = await rankWith({});
  assert.ok(r.services.length > 0);
  assert.ok(r.services[0].score < 6, `top score ${r.services[0].score}`);
});

test('references never see labelled fault windows: changing data inside them changes nothing', async () => {
  const fault: TimeRange = { start: T0 + 20 * MIN, end: T0 + 23 * MIN };
  const labels: FaultLabel[] = [{ id: 'f1', start: fault.start, end: fault.end, rootCause: PODS.a, rootCauseService: 'a', type: 'x' }];
  // the recovery margin after a fault (1 min by default) is excluded too
  const inside: TimeRange = { start: fault.start, end: fault.end + MIN };
  const clean = memoryDataset(fixture(64, { delayIntoC: QUERY }, labels));
  const wild = memoryDataset(fixture(64, { delayIntoC: QUERY, scramble: [inside] }, labels));
  const windows = normalWindows(clean, { sliceMs: MIN, marginMs: MIN });
  assert.ok(windows.length > 40);
  assert.ok(windows.every((w) => w.end <= fault.start || w.start >= inside.end));
  const a = await prepareLocalizer(clean, [QUERY]);
  const b = await prepareLocalizer(wild, [QUERY]);
  assert.deepEqual(b.rank(QUERY), a.rank(QUERY));
  // and the scrambled data would have changed them, were it used
  const leakyNoLabels = await prepareLocalizer(memoryDataset({ ...fixture(64, { delayIntoC: QUERY, scramble: [inside] }), labels: [] }), [QUERY]);
  assert.notDeepEqual(leakyNoLabels.rank(QUERY), a.rank(QUERY));
});

test('welchT: pooled variance, vanished and new templates are finite', () => {
  const ref = { n: 100, sum: 100, sumSq: 100 };
  assert.ok(welchT({ n: 20, sum: 0, sumSq: 0 }, ref) < -4);
  assert.ok(welchT({ n: 20, sum: 20, sumSq: 20 }, { n: 100, sum: 0, sumSq: 0 }) > 5);
  assert.equal(welchT({ n: 20, sum: 20, sumSq: 20 }, ref), 0);
  // a template repeated a variable number of times per span is not extreme for a small shift
  const variable = { n: 100, sum: 300, sumSq: 300 * 3 + 100 * 25 };
  assert.ok(Math.abs(welchT({ n: 20, sum: 70, sumSq: 70 * 3.5 + 20 * 25 }, variable)) < 2);
});
