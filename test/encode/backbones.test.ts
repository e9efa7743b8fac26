import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBackbone, HashBackbone } from '../../src/encode/backbones/index.js';
import { UserError } from '../../src/telemetry/index.js';

function cos(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
function norm(a: Float32Array): number {
  return Math.sqrt(cos(a, a));
}

test('hash: deterministic across calls, instances and batch composition', async () => {
  const texts = ['checkout latency 0.18 s, error rate 3%', 'redis-cart-7d9f OOMKilled', '', 'GET /api/cart 500'];
  const a = new HashBackbone();
  const b = new HashBackbone();
  const batch = await a.embed(texts);
  const again = await a.embed(texts);
  for (let i = 0; i < texts.length; i++) {
    assert.deepEqual(batch[i], again[i]);
    assert.deepEqual(batch[i], (await b.embed([texts[i]]))[0]);
  }
  // A fixed point of the hashing: catches accidental changes that must bump the version.
  const v = a.embedOne('frontend latency high');
  const nz = [...v].map((x, i) => [i, x] as const).filter(([, x]) => x !== 0);
  nz.sort((p, q) => Math.abs(q[1]) - Math.abs(p[1]) || p[0] - q[0]);
  assert.equal(nz.length, 52);
  assert.deepEqual(
    nz.slice(0, 4).map(([i, x]) => [i, Number(x.toFixed(6))]),
    [[177, -0.377045], [194, -0.377045], [346, -0.377045], [17, 0.263932]],
  );
  assert.equal(a.id, 'hash-v1:dim=1024,chars=3-5,bigrams=1,seed=0');
});

test('hash: dim, unit norm, id encodes settings', async () => {
  const small = new HashBackbone({ dim: 64 });
  const rows = await small.embed(['a b c', '', '!!! ---', 'x'.repeat(5000), 'Ünïcödé 服务 超时']);
  for (const r of rows) {
    assert.equal(r.length, 64);
    assert.ok(Math.abs(norm(r) - 1) < 1e-5, `norm ${norm(r)}`);
    assert.ok(r.every(Number.isFinite));
  }
  assert.equal(new HashBackbone().dim, 1024);
  const ids = new Set([
    new HashBackbone().id,
    new HashBackbone({ dim: 512 }).id,
    new HashBackbone({ chars: [0, 0] }).id,
    new HashBackbone({ chars: [2, 4] }).id,
    new HashBackbone({ bigrams: false }).id,
    new HashBackbone({ seed: 3 }).id,
  ]);
  assert.equal(ids.size, 6);
  assert.throws(() => new HashBackbone({ dim: 0 }), RangeError);
  assert.throws(() => new HashBackbone({ chars: [4, 2] }), RangeError);
});

test('hash: similar texts are closer than dissimilar ones', async () => {
  const b = new HashBackbone();
  const [a1, a2, c] = await b.embed([
    'checkoutservice latency high, error rate rising, payment timeouts',
    'checkout service latency is high and the error rate rises; payment timeout',
    'redis memory usage normal; cart pods healthy; no restarts',
  ]);
  assert.ok(cos(a1, a2) > cos(a1, c) + 0.2, `${cos(a1, a2)} vs ${cos(a1, c)}`);
  // Character n-grams tie inflections together; without them the pair is further apart.
  const noChars = new HashBackbone({ chars: [0, 0] });
  const [w1, w2] = await noChars.embed(['timeouts restarted', 'timeout restarts']);
  const [n1, n2] = await b.embed(['timeouts restarted', 'timeout restarts']);
  assert.equal(cos(w1, w2), 0);
  assert.ok(cos(n1, n2) > 0.3, `${cos(n1, n2)}`);
});

test('hash: numbers are bucketed by sign and order of magnitude', async () => {
  const b = new HashBackbone();
  const e = (t: string) => b.embedOne(t);
  assert.ok(cos(e('latency 0.18'), e('latency 0.19')) > 0.9999);
  assert.ok(cos(e('latency 0.18'), e('latency 180')) < 0.9);
  assert.ok(cos(e('delta -5'), e('delta 5')) < 0.9);
  assert.ok(cos(e('n 1000'), e('n 1e3')) > 0.9999);
  assert.ok(cos(e('n 1000'), e('n 9999')) > 0.9999);
  assert.ok(cos(e('n 1000'), e('n 10000')) < 0.9);
  assert.ok(cos(e('v 0'), e('v 0.000')) > 0.9999);
  assert.ok(cos(e('v 0'), e('v 0.5')) < 0.9);
  assert.ok(cos(e('x 0.005'), e('x 0.009')) > 0.9999);
  assert.ok(cos(e('x 0.005'), e('x 0.05')) < 0.9);
  // A hyphen inside a name is no minus sign.
  assert.ok(cos(e('pod-5'), e('pod 5')) > 0.9999);
  // Units glued to numbers split off: 100ms ~ 120 ms, not ~ 100s.
  assert.ok(cos(e('p99 100ms'), e('p99 120 ms')) > cos(e('p99 100ms'), e('p99 100s')));
});

test('createBackbone: hash specs', async () => {
  const b = await createBackbone('hash:dim=64,chars=2-4,bigrams=0,seed=7');
  assert.equal(b.dim, 64);
  assert.equal(b.id, 'hash-v1:dim=64,chars=2-4,bigrams=0,seed=7');
  assert.equal((await createBackbone('hash')).id, new HashBackbone().id);
  assert.equal((await createBackbone(' HASH:chars=0 ')).id, new HashBackbone({ chars: [0, 0] }).id);
  const rows = await b.embed(['x y']);
  assert.equal(rows[0].length, 64);
});

test('createBackbone: bad specs are one-line UserErrors listing the valid forms', async () => {
  const bad = [
    'word2vec',
    '',
    'hash:dim=abc',
    'hash:dim=0',
    'hash:size=10',
    'hash:chars=5-3',
    'hash:dim',
    'hash:dim=8,dim=9',
    'use:fast',
    'onnx:',
    'onnx:?quantized=1',
    'openai:',
    'openai:http://127.0.0.1:1/v1',
    'openai:http://127.0.0.1:1/v1?model=m&batchsize=3',
    'openai:http://127.0.0.1:1/v1?model=m&batch=0',
    'openai:not a url?model=m',
    'openai:ftp://host/v1?model=m',
  ];
  for (const spec of bad) {
    await assert.rejects(createBackbone(spec), (e: unknown) => {
      assert.ok(e instanceof UserError, `${spec}: ${String(e)}`);
      assert.ok(!e.message.includes('\n'), spec);
      assert.match(e.message, /^(backbone '|openai: )/);
      return true;
    });
  }
  await assert.rejects(createBackbone('nope'), /expected one of: hash.*\| use \| onnx:.*\| openai:/);
});

const tinyQwen = new URL('../fixtures/tiny-qwen3', import.meta.url);
const haveTinyQwen = existsSync(tinyQwen);

test('createBackbone: onnx: specs reach the onnx backbone with their options', { skip: !haveTinyQwen && 'tiny-qwen3 fixture absent' }, async () => {
  const dir = fileURLToPath(tinyQwen);
  const b = await createBackbone(`onnx:${dir}?pooling=mean&maxLength=16`, { batchSize: 2 });
  try {
    assert.ok(b.dim > 0);
    const rows = await b.embed(['checkout latency high', 'redis ok', 'x']);
    assert.equal(rows.length, 3);
    assert.ok(rows.every((r) => r.length === b.dim));
  } finally {
    await b.dispose?.();
  }
  // Options are passed through: the onnx backbone rejects ones it does not know.
  await assert.rejects(createBackbone(`onnx:${dir}?colour=blue`), (e: unknown) => e instanceof UserError && /colour/.test(e.message));
});
