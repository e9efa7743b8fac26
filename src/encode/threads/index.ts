// The encode stage's worker threads in one place: the generic plumbing (worker.ts, which the
// CLI demo uses too) and the three workers — log summaries of the fitting pass (logs.ts), the
// span and log evidence (evidence.ts), the embedding and Arrow-writing sink (sink.ts). Each
// worker starts its own file by `import.meta.url`, so a worker's entry is its module, not this
// index. Only the sink is public API (re-exported by encode/index.ts).
export { startModuleWorker, failureOf, WorkerChannel, type WorkerFailure } from './worker.js';
export { LogSummaryThread } from './logs.js';
export { EvidenceThread } from './evidence.js';
export { ColumnarSink, type SinkSettings } from './sink.js';
