import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rawFeatures, referenceCandidates, tunedDetect, type DetectionSet } from '../../src/eval/evaluate/index.js';
import { recordingEdges, WARMUP_MS } from '../../src/windows/index.js';
import { eventPRF } from '../../src/stats/index.js';
import { faultTimeline, stepBump } from '../helpers/timeline.js';

const MIN = 60_000;
const win = (startMin: number, lengthMin = 5, source = 's') => ({ start: startMin * MIN, end: (startMin + lengthMin) * MIN, source });

test('recording edges: the warm-up of each period and the windows that run past its data', () => {
  // two recordings of 5-min windows at a 1-min stride, 0–300 min and 1000–1300 min (a 700-min gap)
  const timeline = [...Array.from({ length: 300 }, (_, i) => win(i)), ...Array.from({ length: 300 }, (_, i) => win(1000 + i))];
  const atEdge = recordingEdges(timeline);
  const warm = WARMUP_MS / MIN;
  assert.equal(warm, 30);
  assert.ok(atEdge(win(0)) && atEdge(win(warm - 1)), 'the first 30 min of the first period');
  assert.ok(!atEdge(win(warm)) && !atEdge(win(200)));
  assert.ok(atEdge(win(1000)) && atEdge(win(1000 + warm - 1)) && !atEdge(win(1000 + warm)), 'each period has its own warm-up');
  // the data of the first period ends at 300 min (its last window starts at 299): windows ending later are incomplete
  assert.ok(!atEdge(win(295)), 'ends at 300: complete');
  assert.ok(atEdge(win(296)) && atEdge(win(299)));
  // windows of another grid are judged against the same periods; another source has none
  assert.ok(atEdge(win(1010, 1)) && !atEdge(win(1100, 1)));
  assert.ok(!atEdge(win(10, 5, 'other')), 'no period of that source');
  assert.ok(!atEdge(win(600)), 'in the gap, in no period');
  // one continuous recording: only its start and its end
  const one = recordingEdges(Array.from({ length: 100 }, (_, i) => win(i, 1)));
  assert.deepEqual(Array.from({ length: 100 }, (_, i) => one(win(i, 1))).filter(Boolean).length, 30, 'one-minute windows: none runs past the data');
});

/** Ten hours (two folds by time), faults of size 3 in both halves, and a warm-up of 25 min at the start far above everything else. */
function warmTimeline(withEdges: boolean): { set: DetectionSet; rows: Float64Array[] } {
  const t = faultTimeline({ seed: 5, minutes: 600, faultsAt: [60, 120, 180, 240, 360, 420, 480, 540], bump: stepBump(1), foldOf: (m) => (m < 300 ? 0 : 1) });
  for (let i = 0; i < 25; i++) t.rows[i][0] += 8;
  if (withEdges) {
    const atEdge = recordingEdges(t.set.windows.map((w) => ({ start: w.window.start, end: w.window.end, source: w.source })));
    t.set.edges = t.set.windows.map((w) => atEdge({ start: w.window.start, end: w.window.end, source: w.source }));
  }
  return t;
}

test('normal references leave out the warm-up, so its tail does not set the threshold', () => {
  const rep = rawFeatures(2);
  const caught = (withEdges: boolean) => {
    const { set, rows } = warmTimeline(withEdges);
    const d = tunedDetect(rep, set, rows, 2, true, 0, 0, [{ family: 'robust-z', states: false }]);
    const idx = d.alarms.map((a, i) => (a === undefined || set.folds[i] !== 1 ? -1 : i)).filter((i) => i >= 0);
    return eventPRF(idx.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: d.alarms[i] as boolean })), set.injections.filter((f) => f.fold === 1)).caught;
  };
  // fold 1's detector is fitted on fold 0, whose first 25 windows are the warm-up
  // (one window may cross the threshold through the noise feature, which the warm-up leaves alone)
  assert.ok(caught(false) <= 1, `the warm-up is the references’ 0.99 tail: fold 1's faults stay under it (${caught(false)} caught)`);
  assert.equal(caught(true), 4, 'without it every fault of fold 1 is caught');
});

test('reference candidates: clean windows, or every normal one where fewer than 10 are clean', () => {
  const { set, rows } = warmTimeline(true);
  const train = (i: number) => set.folds[i] === 0;
  const refs = referenceCandidates(set, rows, train, [], 0);
  assert.ok(refs.length > 200 && refs.every((i: number) => !set.edges?.[i] && !set.windows[i].label.abnormal && train(i)));
  assert.ok(!refs.includes(0) && refs.includes(30));
  // the aftermath of a training fault is left out too (settleMs)
  const settled = referenceCandidates(set, rows, train, [{ start: 60 * MIN, end: 63 * MIN }], 10 * MIN);
  assert.ok(!settled.includes(64) && settled.includes(74) && settled.length < refs.length);
  // a set with almost nothing clean keeps all of its normal windows, edges included
  const small = referenceCandidates(set, rows, (i) => i < 35, [], 0);
  assert.equal(small.length, 35 - 0 - 0, 'the first 35 windows are normal; 5 are clean, so all 35');
  assert.ok(small.includes(0));
});
