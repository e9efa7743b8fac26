import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import type { ProbeReport } from '../../src/eval/index.js';
import { cliWith, writeUntrainedCheckpoint } from '../helpers/cli.js';

const cli = cliWith({ timeout: 180_000 });

test('probe CLI: one JSON object with the model beside the baselines; mismatches and usage refused', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-probe-cli-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 2, seed: 21, faults: 3 });
    const model = join(tmp, 'tiny.rsmodel');
    await writeUntrainedCheckpoint(model, 'hash:dim=64');

    const r = cli('probe', '--model', model, '--data', sim, '--json', '--no-cache');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n');
    assert.equal(lines.length, 1, 'exactly one line of output');
    const out = JSON.parse(lines[0]) as { backbone: string; window: { lengthMs: number }; reports: ProbeReport[] };
    assert.match(out.backbone, /dim=64/); // the model's backbone, not the default
    assert.equal(out.window.lengthMs, 5 * 60_000);
    assert.equal(out.reports.length, 1);
    const rep = out.reports[0];
    assert.equal(rep.kind, 'simulator');
    assert.deepEqual(rep.embedders, ['raw backbone', 'time only', 'tiny.rsmodel']);
    const ids = rep.measures.map((m) => m.id);
    assert.ok(ids.includes('c.fault.purity') && ids.includes('c.regime.purity'), ids.join(', '));
    for (const m of rep.measures) {
      assert.ok(Number.isFinite(m.chance) || m.metric === 'silhouette');
      for (const e of rep.embedders) assert.equal(typeof m.values[e], 'number');
    }

    // Text mode prints the table.
    const text = cli('probe', '--model', model, '--data', sim, '--no-cache');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /workload regime/);
    assert.match(text.out, /chance/);

    // Another backbone than the model's: one line, exit 1.
    const bad = cli('probe', '--model', model, '--data', sim, '--backbone', 'hash:dim=32', '--no-cache');
    assert.equal(bad.code, 1);
    assert.equal(bad.err.trim().split('\n').length, 1);
    assert.match(bad.err, /backbone/);

    // No --data: usage error.
    assert.equal(cli('probe', '--model', model).code, 2);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
