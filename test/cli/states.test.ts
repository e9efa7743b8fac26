import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_START_MS, simulate } from '../../src/simulate/index.js';
import { StatePartition } from '../../src/states/index.js';
import { TINY_MODEL, cliWith } from '../helpers/cli.js';

const cli = cliWith({ timeout: 180_000 });

let tmp = '';
let sim = '';
let model = '';

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'rs-cli-states-'));
  sim = join(tmp, 'sim');
  // two workload regimes of 20 minutes each: the states should find the switch
  const t0 = DEFAULT_START_MS;
  const mid = t0 + 20 * 60_000;
  await simulate({ hours: 40 / 60, seed: 3, faults: 0, outDir: sim, regimes: [{ start: t0, end: mid, regime: 'low' }, { start: mid, end: t0 + 40 * 60_000, regime: 'peak' }] });
  model = join(tmp, 'model.rsm');
  const t = cli('train', '--data', sim, '--out', model, ...TINY_MODEL);
  assert.equal(t.code, 0, t.err);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('states on a simulator run: summary, ARI against regimes.json, and a partition that loads', () => {
  const out = join(tmp, 'states.json');
  const r = cli('states', '--model', model, '--data', sim, '--k', '2', '--json', '--out', out, '--no-cache', '--clock-split', '08:20');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.k, 2);
  assert.equal(j.chosenBy, 'given');
  assert.equal(j.features, 'state-embedding');
  assert.equal(j.states.length, 2);
  assert.equal(j.states[0].windows + j.states[1].windows, j.windows);
  assert.ok(j.windows >= 30);
  assert.ok(j.states.every((s: { intervals: unknown[] }) => s.intervals.length >= 1));
  assert.ok(Number.isFinite(j.regimes.ari), 'ARI against regimes.json reported');
  assert.equal(j.regimes.windows, j.windows);
  assert.ok(Number.isFinite(j.clockSplit.ari));
  assert.equal(j.clockSplit.at, '08:20');
  assert.ok(existsSync(out));
  const saved = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(saved.format, 'runtimeslicer-states');
  assert.equal(saved.meta.features, 'state-embedding');
  const both = cli('states', '--model', model, '--data', sim, '--with-raw', '--k', '2', '--json', '--no-cache');
  assert.equal(both.code, 0, both.err);
  assert.equal(JSON.parse(both.out).features, 'state-embedding+raw-metrics');
});

test('states --raw separates two workload regimes without a model', async () => {
  const out = join(tmp, 'raw.json');
  const r = cli('states', '--raw', '--data', sim, '--k', '2', '--json', '--out', out, '--entities');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.features, 'raw-metrics');
  assert.ok(j.regimes.ari >= 0.5, `ARI ${j.regimes.ari}`);
  assert.ok(j.regimes.purity > j.regimes.chance);
  assert.ok(j.states[0].features.length > 0, 'features that set the state apart');
  assert.ok(j.states[0].services.length > 0, 'services that set the state apart (--entities)');
  const p = await StatePartition.load(out);
  assert.equal(p.k, 2);
  // the text form: one block per state and the ARI line
  const t = cli('states', '--raw', '--data', sim, '--method', 'gmm', '--k-max', '3');
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /states \(gmm, k by bic: 2→/);
  assert.match(t.out, /^state 0: \d+ windows/m);
  assert.match(t.out, /regimes\.json: adjusted Rand index -?\d\.\d{3}, purity [\d.]+% \(one state: [\d.]+%\) over \d+ windows/);
});

test('states: usage and user errors are one line', () => {
  const noModel = cli('states', '--data', sim);
  assert.equal(noModel.code, 1);
  assert.match(noModel.err, /^runtimeslicer: .*--model \(or --raw/);
  assert.equal(noModel.err.trimEnd().split('\n').length, 1);
  const badMethod = cli('states', '--raw', '--data', sim, '--method', 'dbscan');
  assert.equal(badMethod.code, 2);
  const badClock = cli('states', '--raw', '--data', sim, '--clock-split', '25:00');
  assert.equal(badClock.code, 2);
  const both = cli('states', '--raw', '--with-raw', '--model', model, '--data', sim);
  assert.equal(both.code, 1);
  assert.match(both.err, /exclude each other/);
  const into = cli('states', '--raw', '--data', sim, '--out', join(sim, 'states.json'));
  assert.equal(into.code, 1);
  assert.match(into.err, /inside the input folder/);
});
