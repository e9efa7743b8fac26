/**
 * Issue 13: the training sources as library logic (`loadTrainingSources`, moved out of the
 * CLI) and simulator runs with Nezha-like gaps (traces and logs only near faults) mixed in.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashBackbone } from '../../src/encode/index.js';
import { isEncodedPath, loadTrainingSources } from '../../src/model/index.js';
import { nearFaults, simulate } from '../../src/simulate/index.js';
import { UserError } from '../../src/telemetry/index.js';
import { SPEC } from './data-fixture.js';

test('nearFaults: keeps [start − margin, end + margin) of each fault', () => {
  const keep = nearFaults([{ start: 1000, end: 2000 }, { start: 10_000, end: 11_000 }], 100);
  assert.deepEqual([899, 900, 1999, 2099, 2100, 5000, 9900, 11_050].map(keep), [false, true, true, true, false, false, true, true]);
  assert.throws(() => nearFaults([], -1), RangeError);
});

test('loadTrainingSources: several folders, one backbone; a gapped simulator run has traces and logs only near its faults', async () => {
  const root = mkdtempSync(join(tmpdir(), 'rs-sources-'));
  try {
    const whole = join(root, 'whole');
    const gapped = join(root, 'gapped');
    await simulate({ outDir: whole, hours: 1, seed: 5, faults: 1 });
    const s = await simulate({ outDir: gapped, hours: 2, seed: 6, faults: 1, gapsMarginMs: 60_000 });
    assert.equal(s.faults, 1);
    const backbone = new HashBackbone({ dim: 16 });
    const seen: string[] = [];
    const progress: string[] = [];
    const { windows, sources } = await loadTrainingSources([whole, gapped], {
      backbone,
      spec: SPEC,
      faultDuration: 180_000,
      onDataset: (_ds, path) => seen.push(path),
      progress: (path) => ({ onProgress: () => progress.push(path), stop: () => undefined }),
    });
    assert.deepEqual(seen, [whole, gapped]);
    assert.ok(progress.includes(whole) && progress.includes(gapped), 'progress per folder');
    assert.equal(sources.length, 2);
    assert.equal(sources[0].windows + sources[1].windows, windows.length);
    const of = (p: string) => windows.filter((w) => w.source === sources[p === whole ? 0 : 1].path);
    assert.ok(of(whole).every((w) => w.inputs.traces !== undefined), 'every window of a whole run has traces');
    const g = of(gapped);
    const withTraces = g.filter((w) => w.inputs.traces !== undefined);
    assert.ok(g.every((w) => w.inputs.metrics !== undefined), 'metrics stay whole');
    assert.ok(withTraces.length > 0 && withTraces.length < g.length / 2, `traces only near the fault: ${withTraces.length} of ${g.length} windows`);
    assert.ok(withTraces.every((w) => w.label.abnormal || g.some((x) => x.label.abnormal && Math.abs(x.window.start - w.window.start) <= 10 * 60_000)), 'the traced windows are near the fault');
    assert.equal(isEncodedPath(whole), false);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('loadTrainingSources: an unreadable folder is a user error from the opener', async () => {
  await assert.rejects(
    loadTrainingSources([join(tmpdir(), 'rs-no-such-folder-13')], { backbone: new HashBackbone({ dim: 8 }), spec: SPEC, faultDuration: 180_000 }),
    (e: unknown) => e instanceof UserError,
  );
});
