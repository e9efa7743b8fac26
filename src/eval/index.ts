export * from './embedding-metrics.js';
export * from './probe.js';
