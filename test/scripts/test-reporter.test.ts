import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Runs scripts/test.mjs (and so the compact reporter) as `npm test` does, on tiny test files
// in a temp project that borrows this project's node_modules (for tsx).
const runner = fileURLToPath(new URL('../../scripts/test.mjs', import.meta.url));
const modules = fileURLToPath(new URL('../../node_modules', import.meta.url));

const OK = `import { test } from 'node:test';
import assert from 'node:assert/strict';
test('adds', () => { console.log('noise from a test'); assert.equal(1 + 1, 2); });
test('needs data', { skip: 'needs /work/shared/datasets' }, () => {});
test('parent', async (t) => { await t.test('child', () => {}); });
`;
const BAD = `import { test } from 'node:test';
import assert from 'node:assert/strict';
test('compares', () => {
  assert.equal('left', 'right', 'the values differ');
});
`;

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-reporter-'));
  mkdirSync(join(dir, 'test'));
  symlinkSync(modules, join(dir, 'node_modules'));
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'test', name), text);
  return dir;
}

function run(dir: string): { code: number | null; lines: string[]; out: string } {
  const env = { ...process.env };
  delete env.TEST_REPORTER;
  // The outer runner's variables would make the inner node think it is a test subprocess.
  delete env.NODE_TEST_CONTEXT;
  const r = spawnSync(process.execPath, [runner], { cwd: dir, encoding: 'utf8', env, timeout: 120_000 });
  const out = r.stdout + r.stderr;
  return { code: r.status, lines: r.stdout.trimEnd().split('\n'), out };
}

test('reporter: passing files give one line each, skip reasons, and the summary line; exit 0', { timeout: 150_000 }, (t) => {
  const dir = project({ 'ok.test.ts': OK });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(dir);
  assert.equal(r.code, 0, r.out);
  assert.match(r.lines[0], /^✓ test\/ok\.test\.ts \(4 tests, 1 skipped, \d+\.\d s\)$/);
  assert.ok(r.lines.includes('- test/ok.test.ts › needs data: needs /work/shared/datasets'), r.out);
  assert.ok(!r.out.includes('noise from a test'), 'output of passing tests is not shown');
  assert.equal(r.lines.at(-1), '3 passed, 0 failed, 1 skipped');
});

test('reporter: a failing test fails the run, with its name, location, message and stack', { timeout: 150_000 }, (t) => {
  const dir = project({ 'ok.test.ts': OK, 'bad.test.ts': BAD });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.ok(r.lines.some((l) => /^✗ test\/bad\.test\.ts \(1 test, 1 failed, \d+\.\d s\)$/.test(l)), r.out);
  assert.ok(r.lines.some((l) => /^✓ test\/ok\.test\.ts /.test(l)), r.out);
  const at = r.lines.indexOf('✗ compares');
  assert.ok(at > 0, r.out);
  assert.equal(r.lines[at + 1], '  at test/bad.test.ts:3:1');
  assert.equal(r.lines[at + 2], '  the values differ');
  assert.ok(r.lines.slice(at + 3).some((l) => /bad\.test\.ts:4:\d+\)?$/.test(l)), 'the stack names the failing line');
  assert.equal(r.lines.at(-1), '3 passed, 1 failed, 1 skipped');
  assert.equal(r.lines.filter((l) => /^\d+ passed, \d+ failed, \d+ skipped$/.test(l)).length, 1);
});

test('reporter: a file that cannot load counts as a failure and shows its stderr', { timeout: 150_000 }, (t) => {
  const dir = project({ 'broken.test.ts': "import './missing-module.js';\n" });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = run(dir);
  assert.equal(r.code, 1, r.out);
  assert.match(r.lines[0], /^✗ test\/broken\.test\.ts \(1 test, 1 failed/);
  assert.ok(r.out.includes('missing-module'), r.out);
  assert.equal(r.lines.at(-1), '0 passed, 1 failed, 0 skipped');
});
