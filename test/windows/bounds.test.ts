import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_WINDOWS, caseWindows, datasetWindows, gridWindowCount, gridWindows, windowStream, windowsHull } from '../../src/windows/index.js';
import { memoryDataset } from '../../src/sources/memory/index.js';
import { UserError, type Dataset, type TimeRange } from '../../src/telemetry/index.js';

const MIN = 60_000;
const DAY = 86_400_000;

/** A dataset spanning `range` whose streams fail the test if anything reads them. */
function untouchable(range: TimeRange): Dataset & { reads: string[] } {
  const reads: string[] = [];
  const never = (what: string) =>
    async function* (): AsyncGenerator<never[]> {
      reads.push(what);
    };
  return { ...memoryDataset({ entities: [] }), timeRange: range, metrics: never('metrics'), spans: never('spans'), logs: never('logs'), reads };
}

test('gridWindowCount is the length gridWindows makes, without making them', () => {
  const specs = [
    { lengthMs: 5 * MIN, strideMs: MIN },
    { lengthMs: MIN, strideMs: MIN },
    { lengthMs: MIN, strideMs: 5 * MIN },
    { lengthMs: 7000, strideMs: 3000 },
  ];
  const ranges = [
    { start: 0, end: 1 },
    { start: 10 * MIN + 5000, end: 20 * MIN },
    { start: 12_345, end: 12_345 + 3 * MIN },
    { start: 1_700_000_000_123, end: 1_700_000_000_123 + 2 * 3_600_000 + 17 },
    { start: 5, end: 5 },
  ];
  for (const spec of specs) for (const range of ranges) assert.equal(gridWindowCount(range, spec), gridWindows(range, spec).length, JSON.stringify({ spec, range }));
});

test('a plan above the bound is refused with one line naming the window count and the bound', () => {
  assert.equal(MAX_WINDOWS, 10_000_000);
  const range = { start: 0, end: DAY };
  let err: unknown;
  try {
    gridWindows(range, { lengthMs: 1, strideMs: 1 });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof UserError, 'a UserError, not a crash');
  assert.equal(err.exitCode, 1);
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, /86,400,000 windows/);
  assert.match(err.message, /10,000,000/);
  // The override: a smaller bound refuses a plan the default accepts, a larger one accepts more.
  assert.equal(gridWindows({ start: 0, end: 100 * MIN }, { lengthMs: MIN, strideMs: MIN }).length, 100);
  assert.throws(() => gridWindows({ start: 0, end: 100 * MIN }, { lengthMs: MIN, strideMs: MIN }, { maxWindows: 99 }), /100 windows .* bound of 99 windows/);
  assert.equal(gridWindows({ start: 0, end: 100 * MIN }, { lengthMs: MIN, strideMs: MIN }, { maxWindows: 100 }).length, 100);
  // An unbounded time range (a broken clock) is refused, not looped over forever.
  assert.throws(() => gridWindows({ start: 0, end: Infinity }, { lengthMs: MIN, strideMs: MIN }), UserError);
});

test('case plans obey the bound too', () => {
  const cases = Array.from({ length: 5 }, (_, i) => ({ id: `c${i}`, start: i * MIN, end: (i + 1) * MIN, group: 'g', label: { id: `f${i}`, start: i * MIN, end: (i + 1) * MIN, type: 't', rootCause: 'x', rootCauseService: 'x' } }));
  assert.equal(caseWindows(cases).length, 5);
  assert.throws(() => caseWindows(cases, { maxWindows: 4 }), /5 windows exceed the bound of 4/);
});

test('datasetWindows and windowStream refuse an oversized plan before reading any data', async () => {
  const ds = untouchable({ start: 0, end: DAY });
  assert.throws(() => datasetWindows(ds, { lengthMs: 1, strideMs: 1 }), UserError);
  await assert.rejects(async () => {
    for await (const _ of windowStream(ds, { lengthMs: 1, strideMs: 1 })) break;
  }, UserError);
  // The bound can be lowered through the streaming options as well.
  await assert.rejects(async () => {
    for await (const _ of windowStream(ds, { lengthMs: MIN, strideMs: MIN }, { maxWindows: 1000 })) break;
  }, /1,440 windows .* bound of 1,000/);
  assert.deepEqual(ds.reads, []);
});

test('a 3-million-window plan streams without a stack overflow (no spread of windows into arguments)', async () => {
  // 3 million 1-s windows over ~35 days: under the bound, and far above the ~120k arguments V8 takes.
  const n = 3_000_000;
  const asked: (TimeRange | undefined)[] = [];
  const ds: Dataset = {
    ...memoryDataset({ entities: [] }),
    timeRange: { start: 0, end: n * 1000 },
    async *metrics(range?: TimeRange) {
      asked.push(range);
    },
  };
  // The read range (the hull of all windows) is worked out before the first window is yielded.
  let first: number | undefined;
  for await (const s of windowStream(ds, { lengthMs: 1000, strideMs: 1000 }, { modalities: ['metrics'] })) {
    first = s.window.start;
    break;
  }
  assert.equal(first, 0);
  assert.deepEqual(asked, [{ start: 0, end: n * 1000 }]);
  const few = [{ index: 0, start: 50, end: 70 }, { index: 1, start: 10, end: 20 }, { index: 2, start: 30, end: 90 }];
  assert.deepEqual(windowsHull(few), { start: 10, end: 90 });
});
