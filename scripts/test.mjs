#!/usr/bin/env node
// Runs every test/**/*.test.ts through node's own test runner (Node 20 has no glob for --test).
// Extra arguments filter files by substring: `node scripts/test.mjs nezha otlp`.
// Output: one line per file, details of failures and skip reasons, then the line
// `N passed, N failed, N skipped` (scripts/test-reporter.mjs). TEST_REPORTER=spec (or any
// reporter node accepts) gives node's own full output instead.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

function find(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = find('test').filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)));
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
// Source maps: without them a test's location (file:line) is tsx's output, not the .ts line.
const reporter = process.env.TEST_REPORTER || fileURLToPath(new URL('./test-reporter.mjs', import.meta.url));
const r = spawnSync(
  process.execPath,
  ['--enable-source-maps', '--import', 'tsx', '--test', '--test-concurrency=2', `--test-reporter=${reporter}`, '--test-reporter-destination=stdout', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
