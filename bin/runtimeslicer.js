#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci`/`npm install` via "prepare").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('runtimeslicer: not built yet; run `npm run build` (npm ci does it for you)');
  process.exit(1);
}
await import(main.href);
