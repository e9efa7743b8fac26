import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { clippedNullScale, prepareLocalizer } from '../../src/tasks/localize/index.js';
import { median } from '../../src/stats/index.js';
import { MIN, T0, fixture } from './fixture.js';

const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

test('clippedNullScale: a rise-only null (half zeros) is scaled by the spread of its rises', () => {
  // 50 windows where nothing rose, 50 rises spread over 0.5..12.75: the MAD is ≈ 0
  const values = [...Array.from({ length: 50 }, () => 0), ...Array.from({ length: 50 }, (_, i) => 0.5 + i * 0.25)].sort((a, b) => a - b);
  const c = median(values);
  const s = clippedNullScale(values, c);
  // q75 of the sample ≈ 6.6, the median ≈ 0.25: (6.6 − 0.25)/0.674 ≈ 9.4
  assert.ok(s > 8 && s < 11, `scale ${s}`);
  // a rise of 6 is then ordinary, not six sd
  assert.ok((6 - c) / Math.max(s, 1) < 1);
});

test('clippedNullScale: no widening for a null that is not clipped, or too small', () => {
  const symmetric = Array.from({ length: 101 }, (_, i) => (i - 50) / 10);
  assert.equal(clippedNullScale(symmetric, median(symmetric)), 0);
  assert.equal(clippedNullScale([0, 0, 5], 0), 0);
  // all values tied: clipped, but nothing above the median
  assert.equal(clippedNullScale([0, 0, 0, 0, 0, 0], 0), 0);
});

test("nullScale 'clipped' (default) keeps the ranking of a real fault and only lowers positive scores", async () => {
  const ds = memoryDataset(fixture(64, { silenceB: QUERY }));
  const clipped = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  const mad = (await prepareLocalizer(ds, [QUERY], { nullScale: 'mad' })).rank(QUERY);
  assert.equal(clipped.services[0].service, 'b');
  assert.equal(mad.services[0].service, 'b');
  const madScore = new Map(mad.services.map((s) => [s.service, s.score]));
  for (const s of clipped.services) {
    const m = madScore.get(s.service);
    if (m !== undefined && m > 0) assert.ok(s.score <= m + 1e-9, `${s.service}: ${s.score} > ${m}`);
  }
});
