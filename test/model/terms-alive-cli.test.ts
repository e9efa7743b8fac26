/**
 * `train` refuses a run whose every loss term would be 0 (issue 13): one line on stderr,
 * exit 1, no model written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { cliWith } from '../helpers/cli.js';

const SMALL = ['--backbone', 'hash:dim=32', '--hidden', '16', '--modality-dim', '8', '--state-dim', '4', '--batch', '24', '--epochs', '2'];

const cli = cliWith({ timeout: 180_000 });

test('train: metric-only data with --no-temporal --no-deviation is refused before training; the temporal and deviation terms train it', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-terms-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const dir = join(tmp, 'sim');
  await simulate({ hours: 1, seed: 4, faults: 1, outDir: dir });
  rmSync(join(dir, 'traces.jsonl'));
  rmSync(join(dir, 'logs.jsonl'));
  const cache = ['--cache-dir', join(tmp, 'cache')];
  const out = join(tmp, 'm.rsm');
  const r = cli('train', '--data', dir, '--out', out, '--no-temporal', '--no-deviation', ...SMALL, ...cache);
  assert.equal(r.code, 1, r.err);
  const lines = r.err.trim().split('\n').filter((l) => /nothing to train/.test(l));
  assert.equal(lines.length, 1, r.err);
  assert.match(lines[0], /every active loss term would be 0 \(active: modal; modal: no window has two modalities \(metrics only\)/);
  assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
  assert.ok(!existsSync(out), 'no model written');

  const ok = cli('train', '--data', dir, '--out', out, '--json', ...SMALL, ...cache);
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.err, /warning: training: the modal term stays 0/);
  const s = JSON.parse(ok.out) as { valTerms: string[]; last: { train: { temporal?: number; modal?: number } } };
  assert.deepEqual(s.valTerms, ['temporal', 'deviation']);
  assert.ok(s.last.train.temporal! > 0 && s.last.train.modal === undefined);
  // The deviation term alone trains metric-only data (issue 13: keep the evidence).
  // (--no-anomaly without weak labels changes nothing, and says so)
  const dev = cli('train', '--data', dir, '--out', out, '--json', '--no-temporal', '--no-anomaly', ...SMALL, ...cache);
  assert.equal(dev.code, 0, dev.err);
  assert.match(dev.err, /warning: --no-anomaly has no effect without --weak-labels/);
  const d = JSON.parse(dev.out) as { valTerms: string[]; last: { train: { deviation?: number } } };
  assert.deepEqual(d.valTerms, ['deviation']);
  assert.ok(d.last.train.deviation! > 0);
});
