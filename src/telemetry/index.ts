export * from './types.js';
export * from './problems.js';
export * from './time.js';
export * from './entities.js';
export * from './dataset.js';
export * from './random.js';
export * from './structured-log.js';
export * from './mesh-series.js';
