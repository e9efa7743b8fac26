import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer } from '@huggingface/transformers';
import { createOnnxBackbone } from '../../src/encode/backbones/onnx.js';
import { UserError } from '../../src/telemetry/index.js';

// Built by scripts/make-tiny-bert.py: random-weight BERT, sentence-transformers layout (mean pooling).
const FIXTURE = fileURLToPath(new URL('../fixtures/tiny-bert', import.meta.url));
interface Expected {
  texts: string[];
  ids: number[][];
  mean: number[][];
  cls: number[][];
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
const TOL = 1e-5;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('tiny BERT: WordPiece ids equal the reference tokenizer', async () => {
  const tok = await AutoTokenizer.from_pretrained(FIXTURE, { local_files_only: true });
  expected.texts.forEach((t, i) => assert.deepEqual(tok.encode(t), expected.ids[i]));
});

test('tiny BERT defaults to mean pooling, no prefix, the tokenizer limit; matches torch in a padded batch', async () => {
  const bb = await createOnnxBackbone(FIXTURE, { batch: '3' }, {});
  try {
    assert.equal(bb.dim, 32);
    assert.match(bb.id, /^onnx:tiny-bert@[0-9a-f]{12}:fp32:mean:norm:len128:prefix-none$/);
    const rows = await bb.embed(expected.texts);
    rows.forEach((r, i) => assert.ok(maxDiff(r, expected.mean[i]) < TOL, `text ${i}: ${maxDiff(r, expected.mean[i])}`));
    const [alone] = await bb.embed([expected.texts[2]]);
    assert.ok(maxDiff(alone, rows[2]) < TOL);
  } finally {
    await bb.dispose?.();
  }
});

test('pooling=cls picks [CLS]; a 1_Pooling/config.json saying cls changes the default', async () => {
  const cls = await createOnnxBackbone(FIXTURE, { pooling: 'cls' }, {});
  const dir = mkdtempSync(join(tmpdir(), 'rs-onnx-bert-'));
  try {
    const rows = await cls.embed(expected.texts);
    rows.forEach((r, i) => assert.ok(maxDiff(r, expected.cls[i]) < TOL));
    cpSync(FIXTURE, dir, { recursive: true });
    const file = join(dir, '1_Pooling', 'config.json');
    const cfg = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...cfg, pooling_mode_mean_tokens: false, pooling_mode_cls_token: true }));
    const hinted = await createOnnxBackbone(dir, {}, {});
    try {
      assert.match(hinted.id, /:cls:/);
      const [r] = await hinted.embed([expected.texts[0]]);
      assert.ok(maxDiff(r, expected.cls[0]) < TOL);
    } finally {
      await hinted.dispose?.();
    }
  } finally {
    await cls.dispose?.();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('maxLength beyond the tokenizer limit is a UserError', async () => {
  await assert.rejects(createOnnxBackbone(FIXTURE, { maxLength: '4096' }, {}), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /exceeds the model's limit of 128/);
    return true;
  });
});
