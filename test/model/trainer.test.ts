import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashBackbone } from '../../src/encode/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { encodeWindows, windowInputDims, type EncodedWindow } from '../../src/model/data.js';
import { Exclusions, selectTrainingWindows } from '../../src/windows/index.js';
import { learningRate, trainStateModel, type TrainerOptions } from '../../src/model/trainer.js';
import { UserError } from '../../src/telemetry/index.js';
import { SPEC, simulatedFolder } from './data-fixture.js';

const DIM = 32;
const SMALL: Omit<TrainerOptions, 'epochs'> = {
  inputDims: windowInputDims(DIM),
  model: { hidden: 32, modalityDim: 16, stateDim: 8 },
  batchSize: 24,
  lr: 3e-3,
  seed: 4,
  patience: 0,
};

// One simulated folder (2 h, 3 faults) encoded once for the whole file.
let cached: Promise<{ windows: EncodedWindow[]; cleanup: () => void }> | undefined;
function simWindows(): Promise<{ windows: EncodedWindow[]; cleanup: () => void }> {
  cached ??= (async () => {
    const f = await simulatedFolder(2, 3, 3);
    const ds = await loadDataset(f.dir);
    const windows = await encodeWindows(ds, { spec: SPEC, backbone: new HashBackbone({ dim: DIM }) });
    return { windows, cleanup: f.cleanup };
  })();
  return cached;
}
test.after(async () => (await cached)?.cleanup());

test('learning rate: linear warm-up, peak, cosine down to the floor', () => {
  const lr = (s: number) => learningRate(s, 100, 1e-3, 0.1, 0.01);
  assert.ok(Math.abs(lr(0) - 1e-4) < 1e-12);
  assert.ok(Math.abs(lr(4) - 5e-4) < 1e-12);
  assert.ok(Math.abs(lr(10) - 1e-3) < 1e-12);
  for (let s = 11; s < 100; s++) assert.ok(lr(s) <= lr(s - 1) + 1e-15, `not decreasing at ${s}`);
  assert.ok(Math.abs(lr(55) - (1e-5 + (1e-3 - 1e-5) * 0.5)) < 1e-9, 'half-way through the decay is the mid-point');
  assert.ok(Math.abs(learningRate(100, 100, 1e-3, 0.1, 0.01) - 1e-5) < 1e-12);
  assert.equal(learningRate(0, 10, 1e-3, 0, 0), 1e-3);
});

test('loss falls on a small simulated folder; each part reported per epoch', async () => {
  const { windows } = await simWindows();
  const progress: number[] = [];
  const r = await trainStateModel(windows, { ...SMALL, epochs: 8, valShare: 0.2, onProgress: (p) => progress.push(p.step) });
  assert.equal(r.history.length, 8);
  assert.equal(r.stopReason, 'epochs');
  assert.ok(r.valWindows > 0 && r.trainWindows > 50);
  const first = r.history[0].train;
  const last = r.history[r.history.length - 1].train;
  assert.ok(first.modal !== undefined && last.modal !== undefined);
  assert.ok(last.total! < 0.8 * first.total!, `train loss ${first.total} → ${last.total}`);
  assert.ok(r.history.every((h) => h.val?.total !== undefined && h.train.temporal !== undefined));
  assert.equal(progress.length, r.steps);
  assert.deepEqual(progress, progress.map((_, i) => i + 1));
  // the returned weights are those of the best validation epoch
  assert.equal(r.bestValLoss, Math.min(...r.history.map((h) => h.val!.total!)));
});

test('resume after an interruption ends with the same weights as an uninterrupted run', async (t) => {
  const { windows } = await simWindows();
  const dir = mkdtempSync(join(tmpdir(), 'rs-resume-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const opts = { ...SMALL, epochs: 4, valShare: 0.2, patience: 10 };
  const full = await trainStateModel(windows, opts);
  const resumeFile = join(dir, 'm.rsm.resume');
  const controller = new AbortController();
  const part = await trainStateModel(windows, { ...opts, resumeFile, signal: controller.signal, onEpoch: (m) => m.epoch === 1 && controller.abort() });
  assert.equal(part.stopReason, 'interrupted');
  assert.equal(part.epochs, 2);
  assert.ok(existsSync(resumeFile));
  const resumed = await trainStateModel(windows, { ...opts, resumeFile, resume: true });
  assert.equal(resumed.resumedAt, 2);
  assert.equal(resumed.epochs, 4);
  assert.equal(resumed.steps, full.steps);
  assert.deepEqual(Array.from(resumed.model.getFlat()), Array.from(full.model.getFlat()));
  assert.deepEqual(resumed.history.map((h) => h.val), full.history.map((h) => h.val));
  // a resume file of another run is refused, in one line
  await assert.rejects(trainStateModel(windows, { ...opts, seed: 5, resumeFile, resume: true }), (e: unknown) => e instanceof UserError && /written for a different run \(differs in .*trainer/.test(e.message) && !e.message.includes('\n'));
});

test('early stopping ends the run when validation stops improving', async () => {
  const { windows } = await simWindows();
  // a learning rate this small cannot improve the validation loss by minDelta
  const r = await trainStateModel(windows, { ...SMALL, lr: 1e-12, epochs: 10, valShare: 0.2, patience: 2, minDelta: 1e-3 });
  assert.equal(r.stopReason, 'early-stop');
  assert.equal(r.history.length, 3);
  assert.equal(r.bestEpoch, 0);
});

test('a held-out case or range never reaches a batch, the normaliser or the weak labels', async () => {
  const { windows } = await simWindows();
  const abnormal = windows.filter((w) => w.label.abnormal);
  assert.ok(abnormal.length > 5);
  const held = abnormal[0].window;
  const ex = Exclusions.parse([{ start: held.start, end: held.end + 20 * 60_000 }]);
  const sel = selectTrainingWindows(windows, { exclude: ex });
  assert.ok(sel.excluded > 20);
  const seen = new Set<EncodedWindow>();
  let labelled = 0;
  const r = await trainStateModel(sel.kept, {
    ...SMALL,
    epochs: 2,
    valShare: 0.1,
    weakLabels: true,
    onBatch: (ws) => ws.forEach((w) => seen.add(w)),
    onProgress: () => labelled++,
  });
  assert.ok(labelled > 0);
  for (const w of seen) assert.ok(!ex.matches(w.source, w.window), `held-out window at ${w.window.start} reached training`);
  assert.equal(seen.size, sel.kept.length - r.purged, 'every other window is used, bar those purged around validation blocks');
  // case data: the held-out case id and the test split never appear
  const cases = windows.slice(0, 60).map((w, k) => ({ ...w, caseId: `c_${k}_1`, split: (k % 4 === 0 ? 'test' : 'train') as 'train' | 'test' }));
  const sel2 = selectTrainingWindows(cases, { exclude: Exclusions.parse(['c_1_1']), trainSplit: 'train' });
  const seen2 = new Set<string>();
  await trainStateModel(sel2.kept, { ...SMALL, epochs: 1, valShare: 0.2, onBatch: (ws) => ws.forEach((w) => seen2.add(w.caseId!)) });
  assert.ok(!seen2.has('c_1_1'));
  assert.ok([...seen2].every((id) => Number(id.split('_')[1]) % 4 !== 0));
  assert.equal(seen2.size, sel2.kept.length);
});

test('switching every loss term off is a one-line user error', async () => {
  const { windows } = await simWindows();
  await assert.rejects(trainStateModel(windows, { ...SMALL, epochs: 1, terms: { modal: false, temporal: false, deviation: false } }), (e: unknown) => e instanceof UserError && /every loss term is switched off/.test(e.message));
});
