import { fitTasks, type TasksFile, type TuneInput } from '../../src/tasks/index.js';

const MIN = 60_000;

/**
 * A tasks file fitted on detection rows alone (no faults to settle after, no cases, the evidence
 * localizer's defaults), its cross-validation as given: what the detection tests of the tasks
 * file need, without a dataset.
 */
export function detectionTasks(detection: readonly TuneInput['detection'][number][], candidates: NonNullable<TuneInput['crossValidation']>['candidates'], opts: { folds?: number; windowMs?: number } = {}): TasksFile {
  return fitTasks({
    detection: detection.map((w) => ({ ...w })),
    faults: [],
    settleMs: 0,
    mask: [],
    cases: [],
    crossValidation: { folds: opts.folds ?? 5, candidates },
    fittedOn: { data: '/x', format: 'simulator', backbone: 'hash:dim=8', windows: detection.length, normalWindows: detection.length, faults: 0, cases: 0 },
    window: { lengthMs: opts.windowMs ?? MIN, strideMs: MIN },
    localization: { method: 'evidence', windowMs: 5 * MIN, sliceMs: MIN, note: 'test' },
  });
}
