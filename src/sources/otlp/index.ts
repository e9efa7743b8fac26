export { detectOtlp, openOtlp, OtlpDataset, DEFAULT_MAX_REORDER_MS } from './reader.js';
export type { OtlpLoadOptions, OtlpCounts } from './reader.js';
export { OtlpWriter, writeFaults, writeOtlpDataset, otlpId, splitSeriesName, OTLP_FILES } from './writer.js';
export type { EntityLookup, OtlpWriterOptions } from './writer.js';
export { readFaults, parseFaults, faultsDocument, FAULTS_VERSION } from './faults.js';
export type { FaultsFile, FaultEntry } from './faults.js';
export { entityOfResource, seriesName, UNKNOWN_SERVICE } from './decode.js';
