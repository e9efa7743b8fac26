// Public library API. The CLI uses only what is exported here (or from the modules' index files).
export * from './telemetry/index.js';
export * from './sources/index.js';
export * from './windows/index.js';
export * from './stats/index.js';
export * from './encode/index.js';
export * from './model/index.js';
export * from './eval/index.js';
export * from './simulate/index.js';
export * from './tasks/index.js';
export * from './states/index.js';
export * from './plot/index.js';
