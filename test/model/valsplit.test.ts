import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_VAL_BLOCK_MS, VAL_SHARE_TOLERANCE, validationSplit } from '../../src/windows/index.js';
import type { EncodedWindow } from '../../src/model/data.js';
import { fakeWindow } from './data-fixture.js';

/** `n` 5-min windows at a 1-min stride starting at minute `from` (what encode makes by default). */
function grid(source: string, n: number, from = 0): EncodedWindow[] {
  return Array.from({ length: n }, (_, i) => fakeWindow(source, from + i, ['metrics']));
}

function checkSplit(ws: readonly EncodedWindow[], v: ReturnType<typeof validationSplit>): void {
  assert.equal(v.train.length + v.val.length + v.purged, ws.length, 'train, validation and purged add up');
  for (const t of v.train) {
    for (const x of v.val) {
      if (t.source !== x.source || t.caseId !== x.caseId) continue;
      assert.ok(t.window.end <= x.window.start || x.window.end <= t.window.start, 'a training window overlaps a validation window');
    }
  }
  assert.ok(v.blockMs <= DEFAULT_VAL_BLOCK_MS);
  // Whole blocks: every window of a validation block is in validation.
  const val = new Set(v.val);
  for (const x of v.val) {
    if (x.caseId !== undefined) continue;
    const b = Math.floor(x.window.start / v.blockMs);
    for (const w of ws) if (w.source === x.source && w.caseId === undefined && Math.floor(w.window.start / v.blockMs) === b) assert.ok(val.has(w), 'a block split across train and validation');
  }
  assert.equal(v.share.realised, v.val.length / ws.length);
}

test('validation share honours --val-share on small and large data (issue 10: was ≈50% on small data)', () => {
  for (const n of [30, 50, 100, 333, 2000]) {
    for (const from of [0, 17]) {
      for (const seed of [0, 1, 2, 3]) {
        const ws = grid('/d/a', n, from);
        const v = validationSplit(ws, { share: 0.1, seed });
        checkSplit(ws, v);
        const at = `n=${n} from=${from} seed=${seed}: val ${v.val.length}, block ${v.blockMs / 60_000} min, warnings ${JSON.stringify(v.warnings)}`;
        assert.ok(Math.abs(v.share.realised - 0.1) <= VAL_SHARE_TOLERANCE + 1e-12, at);
        assert.deepEqual(v.warnings, [], at);
        assert.ok(v.train.length >= 2, at);
      }
    }
  }
});

test('blocks stay 30 min long when that already meets the share; shorter only when needed', () => {
  const big = grid('/d/a', 2000);
  assert.equal(validationSplit(big, { share: 0.1 }).blockMs, DEFAULT_VAL_BLOCK_MS);
  const small = validationSplit(grid('/d/a', 30), { share: 0.1 });
  assert.ok(small.blockMs < DEFAULT_VAL_BLOCK_MS);
  // Purged windows are counted apart from validation: the share is of all windows.
  assert.equal(small.val.length, 3);
  assert.ok(small.purged > 0);
});

test('other shares and several sources', () => {
  for (const share of [0.05, 0.2, 0.3]) {
    const ws = [...grid('/d/a', 100), ...grid('/d/b', 60, 500)];
    const v = validationSplit(ws, { share, seed: 5 });
    checkSplit(ws, v);
    assert.ok(Math.abs(v.share.realised - share) <= VAL_SHARE_TOLERANCE + 1e-12, `share ${share}: ${v.share.realised}`);
    assert.equal(v.share.requested, share);
  }
  assert.deepEqual(validationSplit(grid('/d/a', 40), { share: 0.1, seed: 9 }), validationSplit(grid('/d/a', 40), { share: 0.1, seed: 9 }), 'seeded');
});

test('when whole blocks cannot honour the share, a warning says why', () => {
  // Too few windows: 10% of 4 rounds to 0.
  const tiny = validationSplit(grid('/d/a', 4), { share: 0.1 });
  assert.equal(tiny.val.length, 0);
  assert.equal(tiny.warnings.length, 1);
  assert.match(tiny.warnings[0], /validation share 0\.0% \(0 of 4 windows\) instead of the requested 10\.0%: 4 window\(s\) are too few/);

  // Case data: three failures of ten cases each; a failure is never split, so 10% is out of reach.
  const cases: EncodedWindow[] = [];
  for (let i = 0; i < 30; i++) cases.push(fakeWindow('/d/cases', 1000 + i * 10, ['metrics'], 4, { caseId: `cb1_${Math.floor(i / 10)}_${i % 10}`, lengthMin: 1 }));
  const v = validationSplit(cases, { share: 0.1 });
  checkSplit(cases, v);
  assert.equal(v.warnings.length, 1, JSON.stringify(v));
  assert.match(v.warnings[0], /instead of the requested 10\.0%: the 3 whole blocks \(time blocks or failure groups, which are never split\) cannot make 3 of 30 windows/);
  // Not one of the three taken: 0 of 30 is nearer 3 than 10 of 30.
  assert.equal(v.val.length, 0);

  // A share met exactly gives no warning.
  assert.deepEqual(validationSplit(grid('/d/a', 100), { share: 0.1 }).warnings, []);
  assert.deepEqual(validationSplit(grid('/d/a', 100), { share: 0 }).warnings, []);
});

test('a warning when purging overlapping neighbours leaves little to train on', () => {
  // 60-min windows at a 1-min stride: each validation block purges 59 neighbours on each side.
  const ws = Array.from({ length: 100 }, (_, i) => fakeWindow('/d/a', i, ['metrics'], 4, { lengthMin: 60 }));
  const v = validationSplit(ws, { share: 0.1 });
  checkSplit(ws, v);
  assert.ok(v.purged > (ws.length - v.val.length) / 2);
  assert.ok(v.warnings.some((w) => /^purging the \d+ training window\(s\) that overlap validation windows leaves \d+ of 90 for training/.test(w)), JSON.stringify(v.warnings));
});
