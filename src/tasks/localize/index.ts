export { EvidenceLocalizer, LOCALIZER_DEFAULTS, EDGE_FAMILIES, INHERITED_FAMILIES, FELT_FAMILIES, SPAN_FAMILIES, clippedNullScale, feltZ, eitherZ } from './localizer.js';
export { POOLED_FAMILIES, poolOutcomes } from './pool.js';
export type { LocalizerOptions, FamilyEvidence, Suspect, PodSuspect, Ranking } from './localizer.js';
export { prepareLocalizer, normalWindows, blockedRanges, fullHistory, DATASET_DEFAULTS } from './dataset.js';
export type { DatasetLocalizerOptions, PreparedLocalizer } from './dataset.js';
export { rankCaseEvents, EVENT_FAMILIES } from './events.js';
export type { EventRanking, CaseEventOptions, EventFamily, EventItem, ServiceCalls, EventProfile, CaseCalls } from './events.js';
export { LinearRanker, rankFeatures, RANKER_VERSION, RANKER_VERSIONS, RANKER_LOSS, RANKER_LAMBDAS, RANKER_STATE_N0, RANKER_CANDIDATES, PRIOR_FEATURE } from './ranker.js';
export type { RankCandidate, RankerCase, RankerJSON, RankerLoss, RankerOptions } from './ranker.js';
