export { SHRINKAGE_N0, STATES_K_MAX, STATES_MIN_ROWS, shrinkWeight, singleState, fitFoldStates, type FoldStates } from './adapter.js';
export { TUNED_DETECTION_K, TUNED_DETECTION_QUANTILE, fitTunedDetector, type DetectorRow, type TunedDetector, type TunedDetectorOptions } from './detect.js';
export { TUNED_MIN_PER_STATE, TUNED_PROTOTYPE_N0, fitTunedClassifier, correlationRatios, weightedDistance, type TunedClassifier, type TunedClassifierOptions } from './classify.js';
export { ZDetector, ZDETECT_TAIL, ZDETECT_QUANTILE, ZDETECT_MIN_REFERENCE, type ZDetectorJSON, type ZDetectorOptions, type ZStateModel } from './zdetect.js';
export { LogitDetector, LDETECT_CLIP, LDETECT_LAMBDA, LDETECT_QUANTILE, LDETECT_TAIL, fitLogistic, type LogitDetectorJSON } from './ldetect.js';
export { STATE_CONTEXT_MS, contextStates, type TimedState } from './context.js';
export { TASKS_FORMAT, TASKS_SCHEMA_VERSION, TASKS_SCHEMA_READABLE, TASKS_REFERENCES, TasksFile, fitTasks, detectorCandidateName, alignEvidence, EVIDENCE_ALIGN_MIN, type EvidenceDetectorJSON, type EvidenceLayout, type KnnJSON, type TasksFileJSON, type TuneInput, type WindowAlarm, type TimedRow as TasksTimedRow, type RowStatsJSON } from './file.js';
export { previousWindows, riseHeld, type GateWindow } from './rise.js';
export { suspectFeatures, suspectLayout, suspectRow, withSilence, logTemplateKinds, resourceKind, SUSPECT_RUNNERS_UP, type SuspectFeatures } from './suspect.js';
