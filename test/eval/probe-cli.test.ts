import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { simulate } from '../../src/simulate/index.js';
import { createBackbone } from '../../src/encode/index.js';
import { StateModel, currentFeatureLayouts, saveCheckpoint, windowInputDims } from '../../src/model/index.js';
import type { ProbeReport } from '../../src/eval/index.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const main = join(repo, 'src/cli/main.ts');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repo, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** An untrained model checkpoint for `spec`: the probe only needs a loadable model. */
async function checkpoint(path: string, spec: string): Promise<void> {
  const backbone = await createBackbone(spec);
  const model = new StateModel({ inputDims: windowInputDims(backbone.dim), hidden: 32, modalityDim: 16, stateDim: 8, fusionHidden: 32, seed: 3 });
  const f = currentFeatureLayouts();
  await saveCheckpoint(path, {
    model,
    backbone: { id: backbone.id, spec, dim: backbone.dim },
    window: { lengthMs: 5 * 60_000, strideMs: 60_000 },
    features: { viewsVersion: f.viewsVersion, layouts: f.layouts },
    loss: { options: {}, terms: { modal: true, temporal: true, anomaly: false } },
    training: { epochs: 0, bestEpoch: 0, steps: 0, stopReason: 'epochs', trainWindows: 0, valWindows: 0, sources: [], seed: 3 },
  });
}

test('probe CLI: one JSON object with the model beside the baselines; mismatches and usage refused', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-probe-cli-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 2, seed: 21, faults: 3 });
    const model = join(tmp, 'tiny.rsmodel');
    await checkpoint(model, 'hash:dim=64');

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
