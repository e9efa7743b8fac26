// withEncodeProgress (src/cli/common.ts): the one "progress bar per phase around an encode"
// of the CLI; the bar is stopped when the encode ends, also when it throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PhaseProgress, withEncodeProgress } from '../../src/cli/common.js';

function countStops(t: { after: (f: () => void) => void }): { stops: number } {
  const seen = { stops: 0 };
  const stop = PhaseProgress.prototype.stop;
  PhaseProgress.prototype.stop = function (this: PhaseProgress) {
    seen.stops++;
    stop.call(this);
  };
  t.after(() => {
    PhaseProgress.prototype.stop = stop;
  });
  return seen;
}

test('the encode\'s result comes back and the bar is stopped once', async (t) => {
  const seen = countStops(t);
  const r = await withEncodeProgress(false, 'data', async (onProgress) => {
    onProgress({ phase: 'fit', windows: 1, total: 2 });
    onProgress({ phase: 'encode', windows: 2, total: 2 });
    return 42;
  });
  assert.equal(r, 42);
  assert.equal(seen.stops, 1);
});

test('an encode that throws: the error comes through and the bar is stopped', async (t) => {
  const seen = countStops(t);
  await assert.rejects(
    withEncodeProgress(false, undefined, async (onProgress) => {
      onProgress({ phase: 'fit', windows: 1, total: 2 });
      throw new Error('unreadable file');
    }),
    /unreadable file/,
  );
  assert.equal(seen.stops, 1);
});
