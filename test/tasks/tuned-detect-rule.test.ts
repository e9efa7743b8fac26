import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitTasks, type TuneInput } from '../../src/tasks/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

const MIN = 60_000;

/** Two regimes of normal rows (states are fittable), no cases: only the detector choice matters. */
function tuneInput(candidates: NonNullable<TuneInput['crossValidation']>['candidates'], rule?: 'best' | 'one-se'): TuneInput {
  const rng = new SeededRng(5, 'tune-rule');
  const detection: TuneInput['detection'] = Array.from({ length: 400 }, (_, i) => ({
    start: i * MIN,
    end: (i + 5) * MIN,
    source: 's',
    row: Float64Array.from({ length: 6 }, () => (i >= 200 ? 5 : 0) + rng.normal()),
    abnormal: false,
  }));
  return {
    detection,
    faults: [],
    settleMs: 0,
    mask: ['traces', 'logs'],
    cases: [],
    crossValidation: { folds: 4, ...(rule ? { rule } : {}), candidates },
    fittedOn: { data: '/x', format: 'otlp', backbone: 'hash:dim=6', windows: 400, normalWindows: 400, faults: 0, cases: 0 },
    window: { lengthMs: 5 * MIN, strideMs: MIN },
    localization: { method: 'evidence', windowMs: 5 * MIN, sliceMs: MIN, note: 'test' },
  };
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

test('tune\'s detector choice: the best pooled by default; one standard error over the per-fold F1s as an option', () => {
  // robust-z+states ahead by 0.04 on a fold spread of ≈0.06 SE: the folds cannot tell it from plain robust-z
  const z = [0.6, 0.7, 0.5, 0.65];
  const zs = [0.75, 0.72, 0.5, 0.65];
  const noisy = [
    { family: 'robust-z' as const, states: false, f1: mean(z), perFold: z },
    { family: 'knn' as const, states: false, f1: 0.4, perFold: [0.4, 0.4, 0.4, 0.4] },
    { family: 'robust-z' as const, states: true, f1: mean(zs), perFold: zs },
  ];
  assert.equal(fitTasks(tuneInput(noisy, 'one-se')).doc.detection.useStates, false);
  assert.equal(fitTasks(tuneInput(noisy, 'best')).doc.detection.useStates, true, "'best': the pooled maximum");
  assert.equal(fitTasks(tuneInput(noisy)).doc.detection.useStates, true, "'best' is the default");
  // the same pooled figures without per-fold ones (an input from before): the best pooled
  const pooledOnly = noisy.map(({ perFold: _, ...c }) => c);
  assert.equal(fitTasks(tuneInput(pooledOnly)).doc.detection.useStates, true);
  // a clear win is kept under one-se
  const clear = [noisy[0], noisy[1], { ...noisy[2], f1: 0.9, perFold: [0.9, 0.92, 0.88, 0.91] }];
  assert.equal(fitTasks(tuneInput(clear, 'one-se')).doc.detection.useStates, true);
  // the saved cross-validation keeps its shape (names, pooled F1s) and adds the per-fold F1s and the rule
  const saved = fitTasks(tuneInput(noisy, 'one-se')).doc.detection.crossValidation;
  assert.deepEqual(saved?.candidates.map((c) => c.f1), noisy.map((c) => c.f1));
  assert.deepEqual(saved?.candidates.map((c) => c.perFold), noisy.map((c) => c.perFold));
  assert.equal(saved?.rule, 'one-se');
  assert.ok(fitTasks(tuneInput(pooledOnly)).doc.detection.crossValidation?.candidates.every((c) => !('perFold' in c)));
});
