import { test } from 'node:test';
import assert from 'node:assert/strict';
import { acAtK, avgAtK, classificationScores, eventPRF, meanReciprocalRank, quantile, rankOf, robustScale, windowPRF } from '../../src/stats/index.js';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} ≠ ${b}`);

test('ranking metrics by hand: AC@k, Avg@k, MRR', () => {
  assert.equal(rankOf(['a', 'b', 'c'], 'b'), 2);
  assert.equal(rankOf(['a', 'b'], 'z'), Infinity);
  const ranks = [1, 2, 4, Infinity];
  close(acAtK(ranks, 1), 0.25, 'ac@1');
  close(acAtK(ranks, 3), 0.5, 'ac@3');
  close(acAtK(ranks, 5), 0.75, 'ac@5');
  // Avg@5 = (0.25 + 0.5 + 0.5 + 0.75 + 0.75) / 5
  close(avgAtK(ranks, 5), 2.75 / 5, 'avg@5');
  // MRR = (1 + 1/2 + 1/4 + 0) / 4
  close(meanReciprocalRank(ranks), 1.75 / 4, 'mrr');
  assert.ok(Number.isNaN(meanReciprocalRank([])));
});

test('classification scores by hand: macro and weighted P/R/F1', () => {
  // truth a a a b b c; predicted a a b b c c
  const s = classificationScores(['a', 'a', 'a', 'b', 'b', 'c'], ['a', 'a', 'b', 'b', 'c', 'c']);
  // a: P 2/2 R 2/3 F1 0.8 · b: P 1/2 R 1/2 F1 0.5 · c: P 1/2 R 1/1 F1 2/3
  const a = s.perClass.get('a')!;
  close(a.precision, 1, 'P_a');
  close(a.recall, 2 / 3, 'R_a');
  close(a.f1, 0.8, 'F1_a');
  close(s.macro.precision, (1 + 0.5 + 0.5) / 3, 'macro P');
  close(s.macro.recall, (2 / 3 + 0.5 + 1) / 3, 'macro R');
  close(s.macro.f1, (0.8 + 0.5 + 2 / 3) / 3, 'macro F1');
  close(s.weighted.f1, (3 * 0.8 + 2 * 0.5 + 1 * (2 / 3)) / 6, 'weighted F1');
  close(s.weighted.precision, (3 * 1 + 2 * 0.5 + 0.5) / 6, 'weighted P');
  close(s.accuracy, 4 / 6, 'accuracy');
  // a prediction of a class absent from the truth is a false positive but no class of its own
  const t = classificationScores(['a', 'a'], ['a', 'z']);
  assert.deepEqual([...t.perClass.keys()], ['a']);
  close(t.macro.f1, 2 / 3, 'macro F1 with a stray class');
});

test('window P/R/F1 by hand', () => {
  const r = windowPRF([true, true, false, false, true], [true, false, true, false, true]);
  assert.deepEqual([r.tp, r.fp, r.fn], [2, 1, 1]);
  close(r.f1, 2 / 3, 'f1');
});

test('event F1: a fault is caught by an alarm within [inject, inject + 5 min]; merged alarms touching no fault are false positives', () => {
  const m = 60_000;
  const w = (start: number, alarm: boolean) => ({ start: start * m, end: (start + 5) * m, alarm });
  const windows = [
    // alarm run 10..12 (merged: overlapping windows) catches the fault at 9 (10 ≤ 9 + 5)
    w(10, true),
    w(11, true),
    w(12, true),
    // one alarm at 40: nothing near it — a false positive
    w(40, true),
    // run 60, 61 merged; fault at 50: too late (60 > 55), so a second false positive
    w(60, true),
    w(61, true),
    w(100, false),
  ];
  const r = eventPRF(windows, [9 * m, 50 * m, 99 * m]);
  assert.equal(r.alarms, 3);
  assert.equal(r.falseAlarms, 2);
  assert.equal(r.caught, 1);
  close(r.precision, 1 / 3, 'event P');
  close(r.recall, 1 / 3, 'event R');
  close(r.f1, 1 / 3, 'event F1');
  // an alarm starting before the injection does not catch it
  assert.equal(eventPRF([w(8, true)], [9 * m]).caught, 0);
  // false alarms count by the time they cover: two touching one-minute windows are two events,
  // five overlapping 5-minute windows (starts 4 min apart) one
  assert.equal(eventPRF([{ start: 0, end: m, alarm: true }, { start: m, end: 2 * m, alarm: true }], []).alarms, 2);
  assert.equal(eventPRF([0, 1, 2, 3, 4].map((t) => w(t, true)), []).falseAlarms, 1);
  // alarm always: a normal minute before each injection is a false alarm of its own, even when
  // it touches the run that catches the fault
  const always = [0, 1, 2, 3, 10, 11, 12, 13].map((t) => ({ start: t * m, end: (t + 1) * m, alarm: true }));
  const a = eventPRF(always, [{ start: 1 * m, end: 4 * m }, { start: 11 * m, end: 14 * m }], 0);
  assert.deepEqual([a.caught, a.falseAlarms, a.alarms], [2, 2, 4]);
  close(a.precision, 0.5, 'alarm-always event P');
});

test('robust helpers: quantile interpolates; the scale never collapses on quantised data', () => {
  close(quantile([1, 2, 3, 4], 0.5), 2.5, 'median');
  close(quantile([0, 10], 0.99), 9.9, 'q99');
  const s = robustScale([0.005, 0.005, 0.005, 0.005, 16]);
  assert.equal(s.location, 0.005);
  assert.ok(s.scale > 1, `mean absolute deviation keeps the scale: ${s.scale}`);
});
