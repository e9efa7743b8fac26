export { TemplateMiner, mergeTokens } from './miner.js';
export type { TemplateMinerOptions, TemplateMatch, TemplateInfo, TemplateMinerState } from './miner.js';
export { maskToken, isWildcardLike, isVariable, WILDCARD, DEFAULT_MASK_RULES } from './mask.js';
export type { MaskRules } from './mask.js';
export {
  evaluateLoghub,
  loadLoghub,
  loadLoghubSystem,
  readLoghubFormats,
  compileLogFormat,
  groupingAccuracy,
  mineSystem,
} from './loghub.js';
export type { LoghubSystem, LoghubEvalOptions, LoghubEvalResult } from './loghub.js';
