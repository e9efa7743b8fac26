export { EvidenceLocalizer, LOCALIZER_DEFAULTS } from './localizer.js';
export type { LocalizerOptions, FamilyEvidence, Suspect, PodSuspect, Ranking } from './localizer.js';
export { prepareLocalizer, normalWindows, blockedRanges, DATASET_DEFAULTS } from './dataset.js';
export type { DatasetLocalizerOptions, PreparedLocalizer } from './dataset.js';
export { rankCaseEvents } from './events.js';
export type { EventRanking, CaseEventOptions } from './events.js';
