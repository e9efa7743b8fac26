import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, main, repo } from '../helpers/cli.js';

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

test('demo --quick runs end to end: simulate, pre-train, states, evaluate, localize, report', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-demo-'));
  try {
    // the timeout guards against a hang, not a speed target (≈40 s quiet; a loaded machine took
    // over 120 s): timing belongs in `npm run bench`
    const r = spawnSync(process.execPath, ['--import', 'tsx', main, 'demo', '--quick', '--out', tmp, '--datasets', join(tmp, 'none')], { cwd: repo, encoding: 'utf8', timeout: 900_000 });
    assert.equal(r.status, 0, r.signal ? `killed by ${r.signal} (timeout)\n${r.stderr}` : r.stderr);
    for (const step of ['1.', '2.', '3.', '4.', '5.', '6.', '7.']) assert.match(r.stdout, new RegExp(`^${step.replace('.', '\\.')} `, 'm'));
    assert.ok(existsSync(join(tmp, 'sim-train-views.arrow')));
    assert.match(r.stdout, /adjusted Rand index against the simulated load regimes: -?\d\.\d{3}/);
    assert.match(r.stdout, /^ {3}\| model \|/m, 'the Table 1 has the model column');
    assert.match(r.stdout, /the truth is ranked (\d+|nowhere) of \d+/);
    assert.match(r.stdout, /skipped with --quick/);
    const report = join(tmp, 'report', 'index.html');
    assert.ok(existsSync(join(tmp, 'eval-sim.json')));
    assert.ok(existsSync(report));
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[lines.length - 1], `report: ${report}`);
    const html = readFileSync(report, 'utf8');
    assert.match(html, /Table 1/);
    assert.ok((html.match(/<svg/g) ?? []).length >= 2, 'the timeline and the embedding plot are inlined');
    assert.match(html, /z=\d/, 'the localized case carries its suspects\' evidence');
    assert.doesNotMatch(html, /No embedding plot/);
    assert.match(html, /lane: alarm: tuned/, 'the timeline has the tuned detector\'s alarms');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
