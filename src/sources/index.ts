export * from './io/index.js';
export * from './detect.js';
export * from './memory/index.js';
export * from './nezha/index.js';
export * from './aiops22/index.js';
export * from './otlp/index.js';
export * from './threadlogs.js';
