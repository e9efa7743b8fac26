/**
 * Leaf numeric helpers several stages share (DESIGN.md, Layout): robust statistics, kNN with
 * admissible neighbours, chance levels, embedding-space measures, and the ranking,
 * classification and detection metrics of the evaluation. No I/O, no label policy.
 */
export { mean, median, quantile, robustScale, columnRobustScales } from './robust.js';
export { classSizes, majorityShare, randomPurity } from './chance.js';
export { knnWithExclusion, referenceChance, knnAccuracy, knnBalancedAccuracy, type Admissible, type KnnResult } from './knn.js';
export { cosineDistances, knnLooAccuracy, knnPurity, silhouette } from './space.js';
export { rankOf, acAtK, avgAtK, meanReciprocalRank } from './ranking.js';
export { classificationScores, type ClassScores, type ClassificationScores } from './classification.js';
export { lowerBound, KSmallest } from './search.js';
export { windowPRF, eventPRF, DEFAULT_EVENT_TOLERANCE_MS, type AlarmWindow, type Injection, type PRF, type EventScores } from './detection.js';
export { pickByFolds, pickByRule, standardError, type RuleScore, type SelectionRule } from './one-se.js';
