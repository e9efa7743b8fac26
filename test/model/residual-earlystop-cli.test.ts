/** `train --early-stop reconstruction --residual`: the criterion is reported per epoch and the model reloads with its residual path. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadCheckpoint } from '../../src/model/index.js';
import { cliWith } from '../helpers/cli.js';

const SMALL = ['--backbone', 'hash:dim=32', '--hidden', '16', '--modality-dim', '8', '--state-dim', '4', '--batch', '24', '--epochs', '2'];
const cli = cliWith({ timeout: 180_000 });

test('train --early-stop reconstruction --residual: the held-out reconstruction decides the kept epoch; a bad criterion is a usage error', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-es-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const dir = join(tmp, 'sim');
  await simulate({ hours: 2, seed: 5, faults: 2, outDir: dir });
  const out = join(tmp, 'm.rsm');
  const r = cli('train', '--data', dir, '--out', out, '--early-stop', 'reconstruction', '--residual', '--json', ...SMALL, '--cache-dir', join(tmp, 'cache'));
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out) as { earlyStop: string; last: { val?: { reconstruction?: number } } };
  assert.equal(s.earlyStop, 'reconstruction');
  assert.ok(s.last.val?.reconstruction !== undefined && s.last.val.reconstruction >= 0, JSON.stringify(s.last));
  const { model } = await loadCheckpoint(out);
  assert.equal(model.config.residual, true);
  const bad = cli('train', '--data', dir, '--out', join(tmp, 'x.rsm'), '--early-stop', 'accuracy', ...SMALL);
  assert.equal(bad.code, 2, bad.err);
  assert.match(bad.err, /expected "loss" or "reconstruction", got "accuracy"/);
});
