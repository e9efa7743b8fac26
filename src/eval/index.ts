export * from './embedding-metrics.js';
