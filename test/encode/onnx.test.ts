import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { createOnnxBackbone, qwen3Prefix, QWEN3_DEFAULT_TASK } from '../../src/encode/backbones/onnx.js';
import { UserError } from '../../src/telemetry/index.js';

// Built by scripts/make-tiny-qwen3.py: random weights, real Qwen3 architecture and I/O names.
const FIXTURE = fileURLToPath(new URL('../fixtures/tiny-qwen3', import.meta.url));
interface Expected {
  texts: string[];
  ids: number[][];
  last: number[][];
  lastRaw: number[][];
  mean: number[][];
}
const expected = JSON.parse(readFileSync(join(FIXTURE, 'expected.json'), 'utf8')) as Expected;
const TOL = 1e-5;

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function norm(a: Float32Array): number {
  return Math.sqrt(a.reduce((s, x) => s + x * x, 0));
}

async function rejectsUser(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof UserError, `expected a UserError, got ${String(e)}`);
    assert.match(e.message, re);
    return true;
  });
}

test('the fixture tokenizer in transformers.js gives the ids the torch reference used', async () => {
  const tok = await AutoTokenizer.from_pretrained(FIXTURE, { local_files_only: true });
  expected.texts.forEach((t, i) => assert.deepEqual(tok.encode(t), expected.ids[i]));
});

test('tiny Qwen3 from a local folder: dim, id, and last-token embeddings equal torch', async () => {
  const bb = await createOnnxBackbone(FIXTURE, { prefix: 'none' }, {});
  try {
    assert.equal(bb.dim, 64);
    assert.match(bb.id, /^onnx:tiny-qwen3@[0-9a-f]{12}:fp32:last:norm:len512:prefix-none$/);
    const rows = await bb.embed(expected.texts);
    assert.equal(rows.length, 3);
    rows.forEach((r, i) => {
      assert.ok(r instanceof Float32Array);
      assert.equal(r.length, 64);
      assert.ok(maxDiff(r, expected.last[i]) < TOL, `text ${i}: ${maxDiff(r, expected.last[i])}`);
      assert.ok(Math.abs(norm(r) - 1) < 1e-5);
    });
    // the three states really differ (a pooling bug that returns one position would not)
    assert.ok(maxDiff(rows[0], rows[2]) > 0.1);
  } finally {
    await bb.dispose?.();
  }
});

test('normalize=false and pooling=mean match the torch reference too', async () => {
  const raw = await createOnnxBackbone(FIXTURE, { prefix: 'none', normalize: 'false' }, {});
  const mean = await createOnnxBackbone(FIXTURE, { prefix: 'none', pooling: 'mean' }, {});
  try {
    assert.notEqual(raw.id, mean.id);
    const r = await raw.embed(expected.texts);
    const m = await mean.embed(expected.texts);
    expected.texts.forEach((_, i) => {
      assert.ok(maxDiff(r[i], expected.lastRaw[i]) < TOL);
      assert.ok(maxDiff(m[i], expected.mean[i]) < TOL);
    });
    assert.ok(Math.abs(norm(r[0]) - 1) > 0.01, 'raw rows are not unit length');
  } finally {
    await raw.dispose?.();
    await mean.dispose?.();
  }
});

test('deterministic: same vectors from repeated calls and from a second instance', async () => {
  const a = await createOnnxBackbone(FIXTURE, {}, {});
  const b = await createOnnxBackbone(FIXTURE, {}, {});
  try {
    assert.equal(a.id, b.id);
    const x = await a.embed(expected.texts);
    const y = await a.embed(expected.texts);
    const z = await b.embed(expected.texts);
    assert.deepEqual(x, y);
    assert.deepEqual(x, z);
  } finally {
    await a.dispose?.();
    await b.dispose?.();
  }
});

test('padding: a mixed-length batch equals one-by-one, with right and with left padding', async () => {
  const texts = [...expected.texts, 'cpu', expected.texts[1] + ' again and again'];
  for (const padding of ['right', 'left']) {
    for (const pooling of ['last', 'mean', 'cls']) {
      const bb = await createOnnxBackbone(FIXTURE, { prefix: 'none', pooling, padding, batch: '5' }, {});
      try {
        const batched = await bb.embed(texts);
        for (let i = 0; i < texts.length; i++) {
          const [alone] = await bb.embed([texts[i]]);
          assert.ok(maxDiff(batched[i], alone) < TOL, `${padding} ${pooling} text ${i}: ${maxDiff(batched[i], alone)}`);
        }
        if (pooling === 'last') expected.texts.forEach((_, i) => assert.ok(maxDiff(batched[i], expected.last[i]) < TOL));
      } finally {
        await bb.dispose?.();
      }
    }
  }
});

test('Qwen3 default prefix is the instruction format; prefix and task change the id', async () => {
  const def = await createOnnxBackbone(FIXTURE, {}, {});
  const none = await createOnnxBackbone(FIXTURE, { prefix: 'none' }, {});
  const task = await createOnnxBackbone(FIXTURE, { task: 'Classify the failure' }, {});
  try {
    assert.notEqual(def.id, none.id);
    assert.notEqual(def.id, task.id);
    const text = expected.texts[0];
    const [a] = await def.embed([text]);
    const [b] = await none.embed([qwen3Prefix(QWEN3_DEFAULT_TASK) + text]);
    assert.ok(maxDiff(a, b) < TOL);
    const [c] = await task.embed([text]);
    const [d] = await none.embed([`Instruct: Classify the failure\nQuery:${text}`]);
    assert.ok(maxDiff(c, d) < TOL);
    assert.ok(maxDiff(a, c) > 1e-3);
  } finally {
    await def.dispose?.();
    await none.dispose?.();
    await task.dispose?.();
  }
});

test('maxLength cuts the text but keeps the closing <|endoftext|> that last-token pooling reads', async () => {
  const tok = await AutoTokenizer.from_pretrained(FIXTURE, { local_files_only: true });
  const text = expected.texts[1];
  const ids = tok.encode(text);
  const L = 10;
  assert.ok(ids.length > L);
  // a prefix of the text whose own tokens are exactly the first L-1 tokens of the whole
  let cut = '';
  for (let k = 1; k < text.length && !cut; k++) {
    const p = tok.encode(text.slice(0, k));
    if (p.length === L && p.slice(0, L - 1).every((x, i) => x === ids[i])) cut = text.slice(0, k);
  }
  assert.ok(cut, 'no prefix with the right tokens');
  const short = await createOnnxBackbone(FIXTURE, { prefix: 'none', maxLength: String(L) }, {});
  const full = await createOnnxBackbone(FIXTURE, { prefix: 'none' }, {});
  try {
    assert.match(short.id, /:len10:/);
    const [a] = await short.embed([text]);
    const [b] = await full.embed([cut]);
    const [c] = await full.embed([text]);
    assert.ok(maxDiff(a, b) < TOL);
    assert.ok(maxDiff(a, c) > 1e-3);
    // texts within the limit are untouched
    const [d] = await short.embed([expected.texts[2]]);
    assert.ok(maxDiff(d, expected.last[2]) < TOL);
  } finally {
    await short.dispose?.();
    await full.dispose?.();
  }
});

test('batches, progress, empty input, dispose', async () => {
  const seen: Array<[number, number]> = [];
  const bb = await createOnnxBackbone(FIXTURE, { prefix: 'none', batch: '2' }, { onProgress: (d, t) => seen.push([d, t]) });
  const rows = await bb.embed(expected.texts);
  expected.texts.forEach((_, i) => assert.ok(maxDiff(rows[i], expected.last[i]) < TOL));
  assert.deepEqual(seen, [
    [2, 3],
    [3, 3],
  ]);
  assert.deepEqual(await bb.embed([]), []);
  const [empty] = await bb.embed(['']);
  assert.equal(empty.length, 64);
  await bb.dispose?.();
  await bb.dispose?.();
  await assert.rejects(bb.embed(['x']), /dispose/);
});

test('a hub id without allowRemote is a UserError and touches no network', async () => {
  const calls: string[] = [];
  const realFetch = globalThis.fetch;
  const realEnvFetch = env.fetch;
  const record = (input: string | URL | Request): Promise<Response> => {
    calls.push(String(input));
    return Promise.reject(new Error('network disabled in this test'));
  };
  globalThis.fetch = record as typeof fetch;
  env.fetch = record;
  try {
    await rejectsUser(createOnnxBackbone('onnx-community/Qwen3-Embedding-0.6B-ONNX', {}, {}), /hub model id.*remote.*folder/);
    await rejectsUser(createOnnxBackbone('onnx-community/Qwen3-Embedding-0.6B-ONNX', {}, { allowRemote: false }), /allow/);
  } finally {
    globalThis.fetch = realFetch;
    env.fetch = realEnvFetch;
  }
  assert.deepEqual(calls, []);
});

test('user errors: missing folder, incomplete folder, bad options', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'rs-onnx-empty-'));
  try {
    await rejectsUser(createOnnxBackbone(join(empty, 'nope'), {}, {}), /model folder not found/);
    await rejectsUser(createOnnxBackbone('./no/such/model-folder', {}, {}), /model folder not found/);
    await rejectsUser(createOnnxBackbone(empty, {}, {}), /lacks config\.json/);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) cpSync(join(FIXTURE, f), join(empty, f));
    await rejectsUser(createOnnxBackbone(empty, {}, {}), /no onnx\/model\*\.onnx/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { dtype: 'q8' }, {}), /no onnx\/model_quantized\.onnx.*present dtypes: fp32/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { dtype: 'fp64' }, {}), /dtype must be one of/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { pooling: 'max' }, {}), /pooling must be/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { padding: 'both' }, {}), /padding must be/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { colour: 'red' }, {}), /unknown option 'colour'/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { prefix: 'a', task: 'b' }, {}), /either prefix= or task=/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { maxLength: '1' }, {}), /maxLength/);
    await rejectsUser(createOnnxBackbone(FIXTURE, { revision: 'abc' }, {}), /hub ids only/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

test('a hub id with allowRemote downloads through transformers.js (hub served on loopback)', async () => {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    // {remoteHost}/{model}/resolve/{revision}/{file}; transformers.js 4.3 probes
    // tokenizer_config.json at `main` whatever the revision, so both are served.
    const m = /^\/test-org\/tiny-qwen3\/resolve\/(v1|main)\/(.+)$/.exec(req.url ?? '');
    try {
      if (!m || m[2].includes('..')) throw new Error('not found');
      const body = readFileSync(join(FIXTURE, decodeURIComponent(m[2])));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const host = env.remoteHost;
  const cache = mkdtempSync(join(tmpdir(), 'rs-onnx-cache-'));
  env.remoteHost = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  try {
    const bb = await createOnnxBackbone('test-org/tiny-qwen3', { prefix: 'none', revision: 'v1', cacheDir: cache }, { allowRemote: true });
    try {
      assert.equal(bb.id, 'onnx:test-org/tiny-qwen3@v1:fp32:last:norm:len512:prefix-none');
      const rows = await bb.embed(expected.texts);
      expected.texts.forEach((_, i) => assert.ok(maxDiff(rows[i], expected.last[i]) < TOL));
    } finally {
      await bb.dispose?.();
    }
    assert.ok(requests.includes('/test-org/tiny-qwen3/resolve/v1/onnx/model.onnx'), requests.join(' '));
    // the backbone sets transformers.js' global switch only while loading, then restores it
    assert.equal(env.allowRemoteModels, true);
  } finally {
    env.remoteHost = host;
    server.close();
    rmSync(cache, { recursive: true, force: true });
  }
});
