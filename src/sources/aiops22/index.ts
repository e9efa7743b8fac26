export { detectAiops22, openAiops22, type Aiops22Dataset, type Aiops22CaseData } from './reader.js';
export {
  AIOPS22_TYPE_NAMES,
  AIOPS22_WINDOW_MS,
  AIOPS22_WINDOWS_PER_FAILURE,
  aiops22TypeName,
  parseCaseIndex,
  serviceOfAiops22Pod,
  workloadsOf,
  type CaseIndex,
} from './labels.js';
export { locateAiops22, type Aiops22Files } from './files.js';
