export * from './lines.js';
export * from './csv.js';
export { checkOutput, systemErrorCause, writeFileAtomic, tempPathFor, tempFileOwner, sweepStaleTemps, isTempFileName, STALE_TEMP_MS, type CheckOutputOptions } from './outputs.js';
