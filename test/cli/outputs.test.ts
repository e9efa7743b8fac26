import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { TINY, TINY_MODEL, assertOneLine, cli } from '../helpers/cli.js';

let tmp = '';
let sim = '';
let views = '';
let model = '';

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'rs-cli-outputs-'));
  sim = join(tmp, 'sim');
  await simulate({ hours: 0.3, seed: 3, faults: 1, outDir: sim });
  views = join(tmp, 'views.arrow');
  const e = cli('encode', sim, '--out', views, ...TINY);
  assert.equal(e.code, 0, e.err);
  model = join(tmp, 'model.rsm');
  const t = cli('train', '--data', sim, '--out', model, ...TINY_MODEL);
  assert.equal(t.code, 0, t.err);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('encode DIR --out DIR/traces.jsonl is refused and the traces stay byte-identical', () => {
  const traces = join(sim, 'traces.jsonl');
  const before = readFileSync(traces);
  const r = cli('encode', sim, '--out', traces, ...TINY);
  assertOneLine(r, 1, /--out .*traces\.jsonl lies inside the input folder .*sim/);
  assert.ok(readFileSync(traces).equals(before));
  // a new file inside the folder would be read back as well
  assertOneLine(cli('encode', sim, '--out', join(sim, 'views.arrow'), ...TINY), 1, /inside the input folder/);
  assert.equal(existsSync(join(sim, 'views.arrow')), false);
});

test('a symbolic link into the input folder is refused', () => {
  const link = join(tmp, 'link-to-traces.arrow');
  symlinkSync(join(sim, 'traces.jsonl'), link);
  const before = readFileSync(join(sim, 'traces.jsonl'));
  assertOneLine(cli('encode', sim, '--out', link, ...TINY), 1, /inside the input folder/);
  assert.ok(readFileSync(join(sim, 'traces.jsonl')).equals(before));
});

test('train --data v.arrow --out v.arrow is refused, also through a hard link and a symbolic link', () => {
  const before = readFileSync(views);
  assertOneLine(cli('train', '--data', views, '--out', views, ...TINY_MODEL), 1, /--out .*views\.arrow is the input .*views\.arrow: refusing to overwrite an input/);
  const hard = join(tmp, 'hard.arrow');
  linkSync(views, hard);
  assertOneLine(cli('train', '--data', views, '--out', hard, ...TINY_MODEL), 1, /hard\.arrow is the input/);
  const soft = join(tmp, 'soft.arrow');
  symlinkSync(views, soft);
  assertOneLine(cli('train', '--data', views, '--out', soft, ...TINY_MODEL), 1, /soft\.arrow is the input/);
  assert.ok(readFileSync(views).equals(before));
});

test('train refuses its --exclude file and a dataset folder as outputs', () => {
  const ex = join(tmp, 'exclude.json');
  writeFileSync(ex, '[]');
  assertOneLine(cli('train', '--data', sim, '--exclude', ex, '--out', ex, ...TINY_MODEL), 1, /exclude\.json is the input/);
  assert.equal(readFileSync(ex, 'utf8'), '[]');
  assertOneLine(cli('train', '--data', sim, '--out', join(sim, 'm.rsm'), ...TINY_MODEL), 1, /inside the input folder/);
});

test('embed --model m --out m is refused and the model is unchanged', () => {
  const before = readFileSync(model);
  assertOneLine(cli('embed', '--model', model, '--data', sim, '--out', model, '--no-cache'), 1, /model\.rsm is the input .*model\.rsm/);
  assert.ok(readFileSync(model).equals(before));
  assertOneLine(cli('embed', '--model', model, '--data', views, '--out', views), 1, /views\.arrow is the input/);
});

test('unwritable outputs: one line naming the path and the cause, before any work', () => {
  // root ignores permission bits, so pseudo file systems stand in for read-only folders
  assertOneLine(cli('encode', sim, '--out', '/proc/rs-x.arrow', ...TINY), 1, /cannot write --out \/proc\/rs-x\.arrow: files cannot be created/);
  assertOneLine(cli('encode', sim, '--out', '/sys/rs-x.arrow', ...TINY), 1, /cannot write --out \/sys\/rs-x\.arrow: (permission denied|read-only file system|operation not permitted)/);
  assertOneLine(cli('encode', sim, '--out', tmp, ...TINY), 1, /cannot write --out .*: it is an existing folder/);
  assertOneLine(cli('encode', sim, '--out', join(tmp, 'no-such-dir', 'x.arrow'), ...TINY), 1, /the folder .*no-such-dir does not exist/);
  assertOneLine(cli('embed', '--model', model, '--data', sim, '--out', tmp), 1, /it is an existing folder/);
  // train learns it before epoch 1, not after it
  const t = cli('train', '--data', sim, '--out', '/proc/rs-model.rsm', ...TINY_MODEL);
  assertOneLine(t, 1, /cannot write --out \/proc\/rs-model\.rsm/);
  assert.doesNotMatch(t.err, /epoch/);
  assertOneLine(cli('train', '--data', sim, '--out', tmp, ...TINY_MODEL), 1, /it is an existing folder/);
});

test('simulate --out: an existing file, a folder with foreign files are refused; a previous run is replaced', () => {
  const file = join(tmp, 'a-file');
  writeFileSync(file, 'keep me');
  assertOneLine(cli('simulate', '--out', file, '--hours', '0.1', '--faults', '1'), 1, /a-file: it exists and is not a folder/);
  assert.equal(readFileSync(file, 'utf8'), 'keep me');
  assertOneLine(cli('simulate', '--out', join(file, 'sub'), '--hours', '0.1', '--faults', '1'), 1, /a-file is not a folder/);
  const mixed = join(tmp, 'mixed');
  mkdirSync(mixed);
  writeFileSync(join(mixed, 'notes.txt'), 'mine');
  assertOneLine(cli('simulate', '--out', mixed, '--hours', '0.1', '--faults', '1'), 1, /holds notes\.txt, which the simulator does not write/);
  assert.deepEqual(readdirSync(mixed), ['notes.txt']);
  const again = join(tmp, 'again');
  assert.equal(cli('simulate', '--out', again, '--hours', '0.1', '--faults', '1').code, 0);
  const r = cli('simulate', '--out', again, '--hours', '0.1', '--faults', '1', '--seed', '0');
  assert.equal(r.code, 0, r.err);
});

test('stale temp files of our naming are swept on the next write; live and foreign ones are kept', () => {
  const out = join(tmp, 'swept.arrow');
  const dead = spawnSync(process.execPath, ['-e', '0']).pid!; // exited: its pid is not alive
  const names = {
    deadPid: `.swept.arrow.tmp-${dead}-0a1b2c3d`,
    old: `.swept.arrow.tmp-${process.pid}-00ff00ff`, // a live process, but untouched for 2 h
    live: `.swept.arrow.tmp-${process.pid}-11ee11ee`,
    otherTarget: `.other.arrow.tmp-${dead}-22dd22dd`,
    notOurs: '.swept.arrow.tmp-notes',
  };
  for (const n of Object.values(names)) writeFileSync(join(tmp, n), 'partial');
  const twoHoursAgo = (Date.now() - 2 * 3_600_000) / 1000;
  utimesSync(join(tmp, names.old), twoHoursAgo, twoHoursAgo);
  const r = cli('encode', sim, '--out', out, ...TINY);
  assert.equal(r.code, 0, r.err);
  const left = readdirSync(tmp).filter((f) => f.includes('.tmp'));
  assert.deepEqual(left.sort(), [names.live, names.notOurs, names.otherTarget].sort());
  // the same for a checkpoint written by train
  const stale = join(tmp, `.m2.rsm.tmp-${dead}-33cc33cc`);
  writeFileSync(stale, 'partial');
  const t = cli('train', '--data', views, '--out', join(tmp, 'm2.rsm'), ...TINY_MODEL);
  assert.equal(t.code, 0, t.err);
  assert.equal(existsSync(stale), false);
});

test('--epochs 0 and --epochs -1 get the same usage error (exit 2), as every count option does', () => {
  const zero = cli('train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--epochs', '0');
  const neg = cli('train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--epochs', '-1');
  assert.equal(zero.code, 2);
  assert.equal(neg.code, 2);
  assert.match(zero.err, /--epochs <n>' argument '0' is invalid\. expected an integer ≥ 1, got "0"/);
  assert.match(neg.err, /--epochs <n>' argument '-1' is invalid\. expected an integer ≥ 1, got "-1"/);
  for (const args of [
    ['train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--batch', '1'],
    ['train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--state-dim', '0'],
    ['train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--seed', '-1'],
    ['train', '--data', sim, '--out', join(tmp, 'x.rsm'), '--epochs', '1.5'],
    ['embed', '--model', model, '--data', sim, '--out', join(tmp, 'x.arrow'), '--batch', '0'],
    ['probe', '--data', sim, '--k', '0'],
    ['encode', sim, '--show-text', '0'],
    ['simulate', '--out', join(tmp, 'x'), '--faults', '-1'],
    ['simulate', '--out', join(tmp, 'x'), '--hours', 'Infinity'],
  ]) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, /argument '.*' is invalid\. expected (an integer ≥ \d|a positive number)/, args.join(' '));
  }
});

test('encode --show-text with --out is refused (exit 2) and writes nothing', () => {
  const out = join(tmp, 'shown.arrow');
  assertOneLine(cli('encode', sim, '--show-text', '1', '--out', out), 2, /--show-text .* drop --out/);
  assert.equal(existsSync(out), false);
  assert.match(cli('encode', '--help').out, /not with --out/);
});

test('--stride longer than --window: one warning line on stderr, the command still runs', () => {
  const ins = cli('inspect', sim, '--window', '1m', '--stride', '3m');
  assert.equal(ins.code, 0, ins.err);
  assert.match(ins.err, /^runtimeslicer: warning: --stride 3m is longer than --window 1m: 2m of every 3m falls in no window/m);
  const enc = cli('encode', sim, '--window', '2m', '--stride', '5m', '--out', join(tmp, 'sparse.arrow'), ...TINY);
  assert.equal(enc.code, 0, enc.err);
  assert.equal(enc.err.match(/warning: --stride/g)?.length, 1);
  const fine = cli('inspect', sim, '--window', '5m', '--stride', '5m');
  assert.doesNotMatch(fine.err, /warning/);
});
