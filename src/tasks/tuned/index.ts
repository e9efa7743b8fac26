export { SHRINKAGE_N0, STATES_K_MAX, STATES_MIN_ROWS, shrinkWeight, singleState, fitFoldStates, type FoldStates } from './adapter.js';
export { TUNED_DETECTION_K, TUNED_DETECTION_QUANTILE, fitTunedDetector, type DetectorRow, type TunedDetector, type TunedDetectorOptions } from './detect.js';
export { TUNED_MIN_PER_STATE, TUNED_PROTOTYPE_N0, fitTunedClassifier, type TunedClassifier, type TunedClassifierOptions } from './classify.js';
