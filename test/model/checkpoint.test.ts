import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateModel } from '../../src/model/index.js';
import { CHECKPOINT_VERSION, checkCompatible, loadCheckpoint, readContainer, saveCheckpoint, writeContainer, type CheckpointContent } from '../../src/model/checkpoint.js';
import { currentFeatureLayouts, embedWindows, toStateBatch } from '../../src/model/data.js';
import { UserError } from '../../src/telemetry/index.js';
import { fakeWindow } from './data-fixture.js';

function content(): CheckpointContent {
  const model = new StateModel({ inputDims: { metrics: 4, traces: 4, logs: 4 }, hidden: 8, modalityDim: 6, stateDim: 5, seed: 9 });
  model.fitNormalizers(toStateBatch([0, 1, 2, 3].map((i) => fakeWindow('a', i * 3, ['metrics', 'traces', 'logs']))));
  const { viewsVersion, layouts } = currentFeatureLayouts();
  return {
    model,
    backbone: { id: 'hash-v1:dim=4', spec: 'hash:dim=4', dim: 4 },
    window: { lengthMs: 300_000, strideMs: 60_000 },
    features: { viewsVersion, layouts },
    loss: { options: { temperature: 0.1 }, terms: { modal: true, temporal: true, anomaly: false } },
    training: { epochs: 3, bestEpoch: 2, steps: 12, bestValLoss: 1.5, stopReason: 'epochs', trainWindows: 40, valWindows: 4, sources: ['a'], seed: 9 },
  };
}

function tmp(t: { after: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'rs-ckpt-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A one-line UserError whose message matches `re`. */
function oneLine(re: RegExp) {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `multi-line message: ${e.message}`);
    assert.match(e.message, re);
    return true;
  };
}

test('checkpoint round trip: same weights, normalisers, header; the same embeddings', async (t) => {
  const dir = tmp(t);
  const c = content();
  const path = join(dir, 'm.rsm');
  await saveCheckpoint(path, c);
  assert.deepEqual(readdirSync(dir), ['m.rsm'], 'no temporary file left behind');
  assert.equal(readFileSync(path).toString('latin1', 0, 8), 'RSMODEL\0');
  const { header, model } = await loadCheckpoint(path);
  assert.deepEqual(Array.from(model.getFlat()), Array.from(c.model.getFlat()));
  assert.deepEqual(model.toJSON(), JSON.parse(JSON.stringify(c.model.toJSON())));
  assert.equal(header.backbone.id, 'hash-v1:dim=4');
  assert.deepEqual(header.window, c.window);
  assert.deepEqual(header.features.layouts, JSON.parse(JSON.stringify(c.features.layouts)));
  assert.equal(header.training.bestEpoch, 2);
  assert.equal(header.arrays[0].length, c.model.parameterCount());
  const ws = [fakeWindow('a', 1, ['metrics', 'logs']), fakeWindow('a', 7, ['traces'])];
  assert.deepEqual(embedWindows(model, ws).state.map((r) => Array.from(r)), embedWindows(c.model, ws).state.map((r) => Array.from(r)));
  // overwriting is atomic too: the old file is replaced whole
  await saveCheckpoint(path, { ...c, training: { ...c.training, epochs: 4 } });
  assert.equal((await loadCheckpoint(path)).header.training.epochs, 4);
  assert.deepEqual(readdirSync(dir), ['m.rsm']);
});

test('corrupt, truncated, foreign and mismatched files are refused with one line', async (t) => {
  const dir = tmp(t);
  const path = join(dir, 'm.rsm');
  const c = content();
  await saveCheckpoint(path, c);
  const good = readFileSync(path);
  const variant = (name: string, bytes: Buffer) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  await assert.rejects(loadCheckpoint(join(dir, 'none.rsm')), oneLine(/no such file/));
  await assert.rejects(loadCheckpoint(variant('magic', Buffer.concat([Buffer.from('PK\x03\x04'), good.subarray(4)]))), oneLine(/not a RuntimeSlicer model checkpoint \(bad magic\)/));
  const v2 = Buffer.from(good);
  v2.writeUInt32LE(CHECKPOINT_VERSION + 1, 8);
  await assert.rejects(loadCheckpoint(variant('version', v2)), oneLine(/format version 2, this RuntimeSlicer reads version 1/));
  await assert.rejects(loadCheckpoint(variant('trunc', good.subarray(0, good.length - 10))), oneLine(/truncated model checkpoint/));
  await assert.rejects(loadCheckpoint(variant('trunc-header', good.subarray(0, 60))), oneLine(/truncated model checkpoint \(header cut off\)/));
  await assert.rejects(loadCheckpoint(variant('long', Buffer.concat([good, Buffer.alloc(4)]))), oneLine(/corrupt model checkpoint .*trailing/));
  const flipW = Buffer.from(good);
  flipW[flipW.length - 3] ^= 0x40;
  await assert.rejects(loadCheckpoint(variant('flip-w', flipW)), oneLine(/corrupt model checkpoint \(weights checksum mismatch\)/));
  const flipH = Buffer.from(good);
  flipH[60] ^= 0x01;
  await assert.rejects(loadCheckpoint(variant('flip-h', flipH)), oneLine(/corrupt model checkpoint \(header checksum mismatch\)/));
  const resume = join(dir, 'x.resume');
  await writeContainer(resume, 'resume', { state: {} }, [['weights', new Float32Array(3)]]);
  await assert.rejects(loadCheckpoint(resume), oneLine(/is a trainer resume file, expected a model checkpoint/));
  await assert.rejects(readContainer(path, 'resume'), oneLine(/is a model checkpoint, expected a resume file/));

  const { header } = await loadCheckpoint(path);
  assert.throws(() => checkCompatible(header, { backboneId: 'use-v1' }, 'views.arrow'), oneLine(/views.arrow was embedded with backbone use-v1, the model with hash-v1:dim=4: re-encode with --backbone hash:dim=4/));
  assert.throws(() => checkCompatible(header, { dim: 8 }, 'views.arrow'), oneLine(/8-d backbone vectors, the model expects 4/));
  assert.throws(() => checkCompatible(header, { viewsVersion: 99 }, 'views.arrow'), oneLine(/views format version 99/));
  const layouts = { ...header.features.layouts, traces: [...header.features.layouts.traces, 'extra'] };
  assert.throws(() => checkCompatible(header, { layouts }, 'views.arrow'), oneLine(/traces feature layout .* differs/));
  checkCompatible(header, { backboneId: 'hash-v1:dim=4', dim: 4, viewsVersion: header.features.viewsVersion, layouts: header.features.layouts }, 'views.arrow');
  await assert.rejects(saveCheckpoint(join(dir, 'no', 'such', 'm.rsm'), c), oneLine(/cannot write .*m\.rsm/));
});
