export * from './grid.js';
export * from './stream.js';
export * from './entities.js';
export * from './inspect.js';
