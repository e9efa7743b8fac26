export * from './grid.js';
export * from './stream.js';
export * from './entities.js';
export * from './inspect.js';
export { Exclusions, selectTrainingWindows, trainingWindowFilter, type ExclusionRule, type SelectionOptions, type Selection } from './exclusions.js';
export { validationSplit, DEFAULT_VAL_BLOCK_MS, VAL_SHARE_TOLERANCE, type ValidationOptions, type ValidationSplit } from './validation.js';
export {
  failureGroupOf,
  timelineKey,
  burstGroups,
  burstGroupsForFolds,
  timeBlockGroups,
  dealGroups,
  makeFolds,
  foldOf,
  foldOfWindow,
  DEFAULT_FOLDS,
  DEFAULT_BURST_GAP_MS,
  DEFAULT_FOLD_BLOCK_MS,
  type FoldWindow,
  type FoldItem,
  type Folds,
  type FoldOptions,
  type ProtocolName,
} from './folds.js';
export { windowsShareTime, faultsPerWindow, sharesFault, pickFaultWindows, faultSchedule, inSchedule } from './protocols.js';
export { periodsOf, recordingEdges, PERIOD_GAP_MS, WARMUP_MS, type RecordingEdgeOptions } from './periods.js';
