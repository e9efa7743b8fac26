export * from './grid.js';
export * from './stream.js';
export * from './entities.js';
