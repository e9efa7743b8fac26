import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { prepareLocalizer, DATASET_DEFAULTS } from '../../src/tasks/index.js';
import { MIN, T0, fixture } from './fixture.js';

// a CPU jump at b 10 min after the metrics begin: its rolling history is a third of the default
const EARLY: TimeRange = { start: T0 + 10 * MIN, end: T0 + 12 * MIN };
const LATE: TimeRange = { start: T0 + 40 * MIN, end: T0 + 42 * MIN };

test('shortHistory is off by default: an early query keeps no resource evidence', async () => {
  assert.equal(DATASET_DEFAULTS.shortHistory, false);
  const ds = memoryDataset(fixture(64, { cpuB: EARLY }));
  const r = (await prepareLocalizer(ds, [EARLY, LATE])).rank(EARLY);
  for (const s of r.services) assert.ok(!s.evidence.some((e) => e.family === 'resource'), s.service);
});

test('shortHistory: an early query is judged at the history it has, against normal windows cut to it', async () => {
  const ds = memoryDataset(fixture(64, { cpuB: EARLY }));
  const prep = await prepareLocalizer(ds, [EARLY, LATE], { shortHistory: true });
  const r = prep.rank(EARLY);
  assert.equal(r.services[0].service, 'b');
  assert.equal(r.services[0].evidence[0].family, 'resource');
  assert.ok(r.services[0].score > 3, `b's resource z ${r.services[0].score}`);
  // no other service's resource evidence comes near: the short null is calibrated, not loose
  for (const s of r.services.slice(1)) {
    const z = s.evidence.find((e) => e.family === 'resource')?.z ?? -Infinity;
    assert.ok(z < r.services[0].score / 2, `${s.service} resource z ${z}`);
  }
  // a query with the full history is ranked as without the option
  const plain = (await prepareLocalizer(ds, [EARLY, LATE])).rank(LATE);
  const withOpt = prep.rank(LATE);
  assert.deepEqual(withOpt.services.map((s) => [s.service, s.score]), plain.services.map((s) => [s.service, s.score]));
});

test('shortHistory: a query in the first slice of the metrics has no like and keeps no resource evidence', async () => {
  const first: TimeRange = { start: T0, end: T0 + MIN };
  const ds = memoryDataset(fixture(64, { cpuB: first }));
  const r = (await prepareLocalizer(ds, [first, LATE], { shortHistory: true })).rank(first);
  for (const s of r.services) assert.ok(!s.evidence.some((e) => e.family === 'resource'), s.service);
});
