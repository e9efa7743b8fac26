import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const main = join(repo, 'src/cli/main.ts');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('--help lists the commands, exit 0', () => {
  const r = cli('--help');
  assert.equal(r.code, 0);
  for (const c of ['demo', 'simulate', 'inspect', 'templates']) assert.match(r.out, new RegExp(`\\b${c}\\b`));
});

test('usage errors exit 2', () => {
  assert.equal(cli('no-such-command').code, 2);
  assert.equal(cli('inspect').code, 2); // missing path
  assert.equal(cli('inspect', '.', '--window', 'soon').code, 2);
});

test('user errors are one line, exit 1, no stack trace', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-cli-'));
  try {
    const missing = cli('inspect', join(tmp, 'nope'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /no such file or folder/);
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const e = cli('inspect', empty);
    assert.equal(e.code, 1);
    assert.match(e.err, /empty folder/);
    const odd = join(tmp, 'odd');
    mkdirSync(odd);
    writeFileSync(join(odd, 'notes.txt'), 'hello\n');
    const u = cli('inspect', odd);
    assert.equal(u.code, 1);
    assert.match(u.err, /unrecognised layout/);
    for (const r of [missing, e, u]) {
      assert.equal(r.err.trim().split('\n').length, 1, r.err);
      assert.doesNotMatch(r.err, /\bat .*\.(ts|js):\d+/);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('simulate + inspect --json: one JSON object with the documented keys', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-cli-'));
  try {
    const out = join(tmp, 'sim');
    const s = cli('simulate', '--out', out, '--hours', '1', '--seed', '3', '--faults', '2');
    assert.equal(s.code, 0, s.err);
    assert.ok(existsSync(join(out, 'faults.json')));
    const r = cli('inspect', out, '--window', '5m', '--stride', '1m', '--json');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1);
    const j = JSON.parse(lines[0]);
    for (const k of ['format', 'entities', 'services', 'timeRange', 'metrics', 'traces', 'logs', 'faults', 'windows', 'problems']) assert.ok(k in j, k);
    assert.equal(j.format, 'otlp');
    assert.equal(j.faults.total, 2);
    assert.ok(j.metrics.series > 0 && j.metrics.samples > 0);
    assert.ok(j.traces.spans > 0 && j.traces.traces > 0);
    assert.ok(j.logs.records > 0);
    assert.ok(Array.isArray(j.problems));
    assert.ok(typeof j.timeRange.start === 'string' && typeof j.timeRange.end === 'string');
    // 1 h of data with 5m/1m windows: 56 windows (+/- the alignment of the first one)
    assert.ok(j.windows >= 55 && j.windows <= 61, String(j.windows));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('demo runs end to end: simulate, encode, train, probe on a held-out run', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-demo-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'demo', '--out', tmp, '--datasets', join(tmp, 'none')], { cwd: repo, encoding: 'utf8', timeout: 600_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const step of ['1.', '2.', '3.', '4.', '5.', '6.']) assert.match(r.stdout, new RegExp(`^${step.replace('.', '\\.')} `, 'm'));
    assert.match(r.stdout, /20 faults/);
    assert.match(r.stdout, /state model/);
    assert.ok(existsSync(join(tmp, 'sim-train-views.arrow')));
    assert.match(r.stdout, /skipped: .*not found/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
