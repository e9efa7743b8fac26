export { OtlpWriter, writeFaults, writeOtlpDataset } from './writer.js';
