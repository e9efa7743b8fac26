// The encode stage: views (text + numeric features) per window and modality, log templates,
// backbones, the embedding cache, and the pipeline that writes vectors to an Arrow file.
export * from './views/index.js';
export * from './pipeline.js';
// worker threads: the sink is public; the plumbing and the other workers stay inside encode/
export { ColumnarSink, type SinkSettings } from './threads/index.js';
export * from './formats/index.js';
export * from './backbones/index.js';
export * from './cache/index.js';
export * from './templates/index.js';
// root-cause evidence against normal references: the families the views and the localizer share
export * from './evidence/index.js';
