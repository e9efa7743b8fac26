import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchSampler, temporalOverlaps } from '../../src/model/sampler.js';
import { Exclusions, selectTrainingWindows, trainingWindowFilter, validationSplit } from '../../src/windows/index.js';
import type { EncodedWindow } from '../../src/model/data.js';
import { UserError } from '../../src/telemetry/index.js';
import { fakeWindow } from './data-fixture.js';

/** Two grid sources over the same clock times plus a case source. */
function mixed(): EncodedWindow[] {
  const ws: EncodedWindow[] = [];
  for (let i = 0; i < 120; i++) ws.push(fakeWindow('/data/a', i, ['metrics'], 4, { abnormal: i % 17 === 0 }));
  for (let i = 0; i < 60; i++) ws.push(fakeWindow('/data/b', i, ['metrics', 'logs']));
  for (let i = 0; i < 30; i++) ws.push(fakeWindow('/data/cases', 1000 + i * 10, ['metrics'], 4, { caseId: `cb1_${Math.floor(i / 3)}_${(i % 3) + 1}`, split: i % 5 === 0 ? 'test' : 'train', lengthMin: 1 }));
  return ws;
}

test('sampler: same seed, same batches; every window once per epoch; fixed batch size', () => {
  const ws = mixed();
  const a = new BatchSampler(ws, { batchSize: 32, seed: 7 });
  const b = new BatchSampler(ws, { batchSize: 32, seed: 7 });
  const e0 = a.epoch(0);
  assert.deepEqual(e0.map((x) => x.rows), b.epoch(0).map((x) => x.rows));
  assert.notDeepEqual(e0.map((x) => x.rows), a.epoch(1).map((x) => x.rows));
  assert.notDeepEqual(e0.map((x) => x.rows), new BatchSampler(ws, { batchSize: 32, seed: 8 }).epoch(0).map((x) => x.rows));
  const all = e0.flatMap((x) => x.rows).sort((p, q) => p - q);
  assert.deepEqual(all, ws.map((_, i) => i));
  assert.equal(e0.length, a.batchesPerEpoch);
  for (const x of e0.slice(0, -1)) assert.equal(x.rows.length, 32);
});

test('sampler: batches mix temporal runs with windows of other sources; overlaps stay within a source', () => {
  const ws = mixed();
  const s = new BatchSampler(ws, { batchSize: 32, seed: 1, runLength: 6, temporalShare: 0.5 });
  let pairs = 0;
  for (const b of s.epoch(0)) {
    const sources = new Set(b.rows.map((i) => ws[i].source));
    assert.ok(sources.size >= 2, 'a batch draws from several sources');
    for (let p = 0; p < b.overlaps.rho.length; p++) {
      const wi = ws[b.rows[b.overlaps.i[p]]];
      const wj = ws[b.rows[b.overlaps.j[p]]];
      assert.equal(wi.source, wj.source, 'no temporal pair across sources, even at equal clock times');
      assert.ok(b.overlaps.rho[p] > 0 && b.overlaps.rho[p] < 1 + 1e-9);
      assert.ok(Math.abs(b.overlaps.rho[p] - (5 - Math.abs(wi.window.start - wj.window.start) / 60_000) / 5) < 1e-6);
    }
    pairs += b.overlaps.rho.length;
  }
  // runs of 6 windows with a 1-min stride and 5-min length give up to 15 overlapping pairs each
  assert.ok(pairs > 100, `expected many temporal pairs, got ${pairs}`);
  // two windows from different sources at the same time are not neighbours
  const same = temporalOverlaps([fakeWindow('/x', 3, ['metrics']), fakeWindow('/y', 3, ['metrics']), fakeWindow('/x', 4, ['metrics'])]);
  assert.deepEqual(Array.from(same.i), [0]);
  assert.deepEqual(Array.from(same.j), [2]);
  // cases of one source never pair up, even when their times overlap
  const cases = temporalOverlaps([fakeWindow('/c', 0, ['metrics'], 4, { caseId: 'a' }), fakeWindow('/c', 1, ['metrics'], 4, { caseId: 'b' })]);
  assert.equal(cases.rho.length, 0);
});

test('exclusion file: case ids, window starts, ranges, per source; bad entries are one-line errors', () => {
  const ex = Exclusions.parse([
    'cb1_2_1',
    5 * 60_000,
    { start: '1970-01-01T00:20:00Z', end: 22 * 60_000, source: 'data/b' },
    { case: 'cb1_4_2', source: '/data/cases' },
    { window: 100 * 60_000, source: '/data/b' },
  ]);
  assert.equal(ex.size, 5);
  const ws = mixed();
  const sel = selectTrainingWindows(ws, { exclude: ex });
  const gone = ws.filter((w) => !sel.kept.includes(w));
  const key = (w: EncodedWindow) => `${w.source}@${w.window.start / 60_000}${w.caseId ? '#' + w.caseId : ''}`;
  assert.deepEqual(gone.map(key).sort(), [
    '/data/a@5',
    '/data/b@16', // [16, 21) overlaps [20, 22)
    '/data/b@17',
    '/data/b@18',
    '/data/b@19',
    '/data/b@20',
    '/data/b@21',
    '/data/b@5',
    '/data/cases@1060#cb1_2_1',
    '/data/cases@1130#cb1_4_2',
  ]);
  assert.equal(sel.excluded, gone.length);
  const split = selectTrainingWindows(ws, { exclude: ex, trainSplit: 'train' });
  assert.ok(split.kept.every((w) => w.split !== 'test'));
  assert.equal(split.otherSplit, 6); // cases i % 5 = 0, none of them excluded
  // the encode stage's fit filter follows the same rule
  const f = trainingWindowFilter('/data/cases', { exclude: ex, trainSplit: 'train' }, (id) => ws.find((w) => w.caseId === id)?.split);
  assert.equal(f({ index: 0, start: 0, end: 60_000, caseId: 'cb1_2_1' }), false);
  assert.equal(f({ index: 0, start: 0, end: 60_000, caseId: 'cb1_0_1' }), false); // a test case
  assert.equal(f({ index: 0, start: 0, end: 60_000, caseId: 'cb1_0_2' }), true);
  for (const bad of [{}, [{ start: 5 }], [true], [{ start: 10, end: 5 }], [{ window: 'yesterday' }]]) {
    assert.throws(() => Exclusions.parse(bad, 'held.json'), (e: unknown) => e instanceof UserError && !e.message.includes('\n') && e.message.startsWith('held.json'));
  }
  assert.deepEqual(Exclusions.parse({ exclude: ['x'] }).rules, [{ kind: 'case', caseId: 'x' }]);
});

test('validation split: whole blocks, no overlap with training, failure groups kept together, seeded', () => {
  const ws = mixed();
  const v = validationSplit(ws, { share: 0.2, seed: 3, blockMs: 30 * 60_000 });
  assert.deepEqual(v, validationSplit(ws, { share: 0.2, seed: 3, blockMs: 30 * 60_000 }));
  assert.ok(v.val.length >= 0.15 * ws.length && v.val.length <= 0.4 * ws.length, `val ${v.val.length} of ${ws.length}`);
  assert.equal(v.train.length + v.val.length + v.purged, ws.length);
  for (const t of v.train) {
    for (const x of v.val) {
      if (t.source !== x.source || t.caseId !== x.caseId) continue;
      assert.ok(t.window.end <= x.window.start || x.window.end <= t.window.start, 'a training window overlaps a validation window');
    }
  }
  // grid blocks: validation windows of a source come in whole blocks (30 min here, never longer)
  assert.equal(v.blockMs, 30 * 60_000);
  for (const x of v.val.filter((w) => w.caseId === undefined)) {
    const block = Math.floor(x.window.start / (30 * 60_000));
    const mates = ws.filter((w) => w.source === x.source && w.caseId === undefined && Math.floor(w.window.start / (30 * 60_000)) === block);
    assert.ok(mates.every((m) => v.val.includes(m)));
  }
  // cases of one failure (cb1_<n>_k) are on one side
  const side = new Map<string, boolean>();
  for (const w of ws.filter((x) => x.caseId)) {
    const g = w.caseId!.replace(/_\d+$/, '');
    const inVal = v.val.includes(w);
    if (side.has(g)) assert.equal(side.get(g), inVal, `failure ${g} split across train and validation`);
    side.set(g, inVal);
  }
  const none = validationSplit(ws, { share: 0 });
  assert.equal(none.val.length, 0);
  assert.equal(none.train.length, ws.length);
});

test('weak labels come with the batch rows and only from the windows given', () => {
  const ws = mixed().slice(0, 120);
  const s = new BatchSampler(ws, { batchSize: 40, seed: 2, weakLabels: true });
  for (const b of s.epoch(0)) {
    assert.equal(b.labels!.length, b.rows.length);
    b.rows.forEach((r, k) => assert.equal(b.labels![k], ws[r].label.abnormal ? 1 : 0));
  }
  assert.equal(new BatchSampler(ws, { batchSize: 40, seed: 2 }).epoch(0)[0].labels, undefined);
});

test('weak labels from some sources only: the other rows are unknown (−1), left out of the anomaly term', () => {
  const ws = mixed();
  const sources = [...new Set(ws.map((w) => w.source))];
  assert.ok(sources.length >= 2);
  const from = (w: (typeof ws)[number]) => w.source === sources[0];
  const s = new BatchSampler(ws, { batchSize: 40, seed: 2, weakLabels: from });
  let unknown = 0;
  let known = 0;
  for (const b of s.epoch(0)) {
    b.rows.forEach((r, k) => {
      const expected = ws[r].source === sources[0] ? (ws[r].label.abnormal ? 1 : 0) : -1;
      assert.equal(b.labels![k], expected);
      if (expected === -1) unknown++;
      else known++;
    });
  }
  assert.ok(unknown > 0 && known > 0);
});
