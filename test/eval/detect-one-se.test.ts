import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crossValidateDetectors, DETECTOR_RULE, pickDetector, rawFeatures, tunedDetect, type DetectionSet, type InnerScore } from '../../src/eval/evaluate/index.js';
import { eventPRF, pickByFolds, pickByRule, standardError } from '../../src/stats/index.js';
import { faultTimeline, stepBump } from '../helpers/timeline.js';

test('one-standard-error rule: the first candidate within one SE of the best; the best when clearly ahead', () => {
  // measured worse than the plain maximum on Nezha and the simulator (docs/tasks.md): an option
  assert.equal(DETECTOR_RULE, 'best');
  // the best (index 1) has per-fold SE 0.04: index 0 at 0.60 is within it
  assert.equal(pickByRule([{ score: 0.6 }, { score: 0.64, perFold: [0.6, 0.68] }], 'one-se'), 0);
  assert.equal(pickByRule([{ score: 0.6 }, { score: 0.64, perFold: [0.6, 0.68] }], 'best'), 1);
  assert.equal(pickByRule([{ score: 0.5 }, { score: 0.64, perFold: [0.6, 0.68] }], 'one-se'), 1, 'outside one SE');
  assert.equal(pickByRule([{ score: Number.NaN }, { score: 0.3 }, { score: 0.3 }], 'one-se'), 1, 'NaN never chosen; ties to the first');
  assert.equal(pickByRule([{ score: Number.NaN }], 'one-se'), 0);
  assert.ok(Math.abs(standardError([0.6, 0.68]) - 0.04) < 1e-12);
  assert.equal(standardError([0.5, Number.NaN]), 0, 'one finite fold: no SE');
  // the mean of the folds, not the pooled figure, under 'one-se'; the pooled under 'best'
  const s = [
    { pooled: 0.7, perFold: [0.5, 0.5, 0.5] },
    { pooled: 0.6, perFold: [0.9, 0.9, 0.9] },
  ];
  assert.equal(pickByFolds(s, 'one-se'), 1);
  assert.equal(pickByFolds(s, 'best'), 0);
  // paired: a candidate uniformly 0.05 below the best on folds of shared difficulty is told apart
  const shared = [
    { pooled: 0.65, perFold: [0.85, 0.45, 0.65] },
    { pooled: 0.7, perFold: [0.9, 0.5, 0.7] },
  ];
  assert.equal(pickByFolds(shared, 'one-se'), 0, 'unpaired SE 0.115');
  assert.equal(pickByFolds(shared, 'one-se-paired'), 1, 'paired SE 0');
  assert.equal(pickByFolds([{ pooled: 0.65, perFold: [0.95, 0.45, 0.55] }, shared[1]], 'one-se-paired'), 0, 'a noisy difference stays within');
  // without per-fold figures: the best pooled, the first on ties (the rule before)
  assert.equal(pickByFolds([{ pooled: 0.5 }, { pooled: 0.8 }, { pooled: 0.8 }], 'one-se'), 1);
});

test('pickDetector: a selection that wins the inner folds by fold noise loses to the simpler candidate; a clear win is kept', () => {
  const c = (candidate: string, perFold: number[]): InnerScore => ({ candidate, f1: perFold.reduce((a, b) => a + b, 0) / perFold.length, perFold });
  // as mesh 8's inner loops: the selection ahead by ≈0.04, folds spread by ≈0.1
  const noisy = [c('robust-z', [0.6, 0.7, 0.5, 0.65]), c('knn', [0.5, 0.55, 0.45, 0.5]), c('robust-z@auc0.7', [0.75, 0.72, 0.5, 0.65])];
  assert.equal(pickDetector(noisy, 'one-se'), 0);
  assert.equal(pickDetector(noisy), 2, "'best' by default");
  const clear = [c('robust-z', [0.6, 0.7, 0.5, 0.65]), c('knn', [0.5, 0.55, 0.45, 0.5]), c('robust-z@auc0.7', [0.9, 0.92, 0.88, 0.91])];
  assert.equal(pickDetector(clear, 'one-se'), 2);
});

/** Ten hours of 5-min windows at a 1-min stride, two features, 16 three-minute faults of varying size in four folds. */
function timeline(): { set: DetectionSet; rows: Float64Array[] } {
  return faultTimeline({ seed: 11, minutes: 600, faultsAt: Array.from({ length: 16 }, (_, k) => 20 + k * 36), bump: stepBump(5), foldOf: (minute) => Math.min(3, Math.floor(minute / 150)) });
}

test('crossValidateDetectors: per-fold event-F1 is each fold\'s alarms against its own faults; the pooled figure is kept', () => {
  const { set, rows } = timeline();
  const rep = rawFeatures(2);
  const cands = [{ family: 'robust-z' as const, states: false }, { family: 'knn' as const, states: false }];
  const cv = crossValidateDetectors(rep, set, rows, [0, 1, 2, 3], cands, 0, 0, undefined, 'folds');
  assert.deepEqual(cv.map((x) => x.candidate), ['robust-z', 'knn']);
  cands.forEach((c, j) => {
    assert.equal(cv[j].perFold.length, 4);
    // an outer run with this one candidate fits each fold on the other three, as the inner loop does
    const d = tunedDetect(rep, set, rows, 4, true, 0, 0, [c]);
    const scored = (g: number | undefined) => set.windows.map((_, i) => i).filter((i) => d.alarms[i] !== undefined && (g === undefined || set.folds[i] === g));
    const f1 = (g: number | undefined) => eventPRF(scored(g).map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: d.alarms[i] as boolean })), set.injections.filter((x) => g === undefined || x.fold === g)).f1;
    for (let g = 0; g < 4; g++) assert.equal(cv[j].perFold[g], f1(g), `${c.family} fold ${g}`);
    assert.equal(cv[j].f1, f1(undefined), 'pooled');
  });
  assert.ok(cv[0].perFold.some((x) => x > 0), `robust-z catches something: ${cv[0].perFold}`);
});

test('tunedDetect records every candidate\'s per-fold figures and chooses by the rule', () => {
  const { set, rows } = timeline();
  const rep = rawFeatures(2);
  const cands = [{ family: 'robust-z' as const, states: false }, { family: 'knn' as const, states: false }, { family: 'robust-z' as const, states: false, rise: true }];
  for (const rule of ['one-se', 'best'] as const) {
    const d = tunedDetect(rep, set, rows, 4, true, 0, 0, cands, rule, 'folds');
    assert.equal(d.folds.length, 4);
    for (const f of d.folds) {
      const inner = f.inner ?? [];
      assert.equal(inner.length, 3);
      assert.ok(inner.every((x) => x.perFold.length === 3), 'three inner folds');
      assert.equal(f.chosen, inner[pickDetector(inner, rule)].candidate, `${rule} fold ${f.fold}`);
    }
  }
});
