/**
 * Runtime states: a label-free partition of windows (their state embeddings, or raw view
 * features) by k-means or a diagonal Gaussian mixture, assignment of new windows, and a
 * per-state summary of what sets each state apart. docs/states.md.
 */
export { Standardizer, MIN_SCALE, type StandardizerJSON } from './scale.js';
export { fitKMeans, nearestCentroid, type KMeansFit, type KMeansOptions } from './kmeans.js';
export { fitGmm, gmmBic, gmmParameterCount, gmmResponsibilities, type GmmFit, type GmmOptions, type GmmParams } from './gmm.js';
export { chooseK, euclideanSilhouette, type ChooseKOptions, type ChosenK, type ClusterMethod, type KScore } from './choose-k.js';
export { StatePartition, STATES_FORMAT, STATES_FORMAT_VERSION, type FitStatesOptions, type StateAssignment, type StatePartitionJSON } from './assign.js';
export { summarizeStates, type FeatureContrast, type ServiceContrast, type StateInterval, type StateSummary, type SummaryOptions } from './summary.js';
export { adjustedRandIndex } from './ari.js';
export { stateRows, rawMetricRows, joinRows } from './rows.js';
