export { evaluateDataset, DEFAULT_EVALUATE_SPEC, type EvaluateOptions } from './evaluate.js';
export { buildSetup, podExtents, evalKindOf, type EvalSetup, type EvalCase, type DetectionSet, type EvalKind, type SetupOptions } from './setup.js';
export { runEvaluation, REFERENCE_POOL, DETECTION_REFERENCES, type RunOptions, type RunResult, type CaseRanking } from './run.js';
export { rawFeatures, rawBackbone, modelRepresentation, type Representation } from './represent.js';
export { DETECTION_K, DETECTION_QUANTILE, Z_CLIP, TOP_FEATURES } from './scoring.js';
export { TIME_ONLY_K, TIME_ONLY_DETECTION_K, priorOrder } from './sentinels.js';
export { evidenceRankings } from './evidence.js';
export { formatEvaluateMarkdown, writeEvaluateJson } from './format.js';
export { EVALUATE_SCHEMA_VERSION, FIXED_METHODS, type EvalReport, type EvalRow, type EvalCaseResult, type TaskName, type LevelName, type MetricName } from './types.js';
