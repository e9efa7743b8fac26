export * from './lines.js';
export * from './csv.js';
