/**
 * The project's Arrow file formats in one place: the `encode` output (views.ts), the `embed`
 * output (embeddings.ts), and the atomic file both are written through (arrow-file.ts).
 */
export { AtomicArrowFile } from './arrow-file.js';
export {
  COLUMNAR_FORMAT_VERSION,
  MODALITY_VALUES,
  columnarSchema,
  rowBlock,
  rowsToBatch,
  blockToBatch,
  ColumnarWriter,
  readColumnar,
  VIEWS_FORMAT,
  VIEWS_META,
  viewsMetadata,
  viewsFileInfo,
  readViews,
  EVIDENCE_FILE_FORMAT_VERSION,
  evidencePath,
  evidenceSchema,
  EvidenceWriter,
  readEvidence,
  type EvidenceRecord,
  type EncodedRow,
  type ColumnarOptions,
  type RowBlock,
  type ViewsIdentity,
  type ViewsFileInfo,
  type ViewsBatch,
  type ViewsFile,
} from './views.js';
export {
  EMBEDDINGS_FORMAT_VERSION,
  EMBEDDING_KINDS,
  embeddingsSchema,
  EmbeddingsWriter,
  type EmbeddingKind,
  type EmbeddingRow,
  type EmbeddedWindow,
} from './embeddings.js';
