import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackbone, DIMENSION_PROBE_TEXT, OpenAIBackbone } from '../../src/encode/backbones/index.js';
import { encodeDataset, readColumnar } from '../../src/encode/index.js';
import { UserError } from '../../src/telemetry/index.js';
import { SPEC, fixture } from './views-fixture.js';

/** What the fake server saw of one request. */
interface Seen {
  model: unknown;
  input: string[];
  auth: string | undefined;
  dimensions: unknown;
}

/** Returns true when it answered; false lets the default (a correct answer) run. */
type Script = (n: number, req: Seen, res: ServerResponse) => boolean | Promise<boolean>;

/** Deterministic 8-d embedding of a text, unnormalised (the client normalises). */
function fakeEmbedding(text: string, dim = 8): number[] {
  const v = new Array<number>(dim).fill(0.5);
  for (let i = 0; i < text.length; i++) v[(text.charCodeAt(i) + i) % dim] += 1;
  return v;
}

function unit(v: number[]): number[] {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

async function withServer(script: Script, body: (base: string, log: Seen[], state: { inFlight: number; maxInFlight: number }) => Promise<void>): Promise<void> {
  const log: Seen[] = [];
  const state = { inFlight: 0, maxInFlight: 0 };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      state.inFlight++;
      state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
      res.on('close', () => state.inFlight--);
      if (req.method !== 'POST' || req.url !== '/v1/embeddings') {
        res.writeHead(404).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      const json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: unknown; input: string[]; dimensions?: unknown };
      const seen: Seen = { model: json.model, input: json.input, auth: req.headers.authorization, dimensions: json.dimensions };
      log.push(seen);
      if (await script(log.length, seen, res)) return;
      // Answer out of order: the client must sort by index.
      const data = json.input.map((t, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(t) })).reverse();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: json.model }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    await body(`http://127.0.0.1:${port}/v1`, log, state);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

const texts = Array.from({ length: 150 }, (_, i) => `log line ${i}: checkout ${i % 7 === 0 ? 'error' : 'ok'}`);

function assertRows(rows: Float32Array[], input: string[]): void {
  assert.equal(rows.length, input.length);
  for (let i = 0; i < input.length; i++) {
    const want = unit(fakeEmbedding(input[i]));
    assert.equal(rows[i].length, want.length);
    for (let k = 0; k < want.length; k++) assert.ok(Math.abs(rows[i][k] - want[k]) < 1e-6, `row ${i}`);
  }
}

test('openai: batches, order by index, model, bearer key from env, dim asked at creation, normalised', async () => {
  const saved = process.env.RUNTIMESLICER_OPENAI_API_KEY;
  process.env.RUNTIMESLICER_OPENAI_API_KEY = 'sk-test-123';
  try {
    await withServer(
      () => false,
      async (base, log) => {
        const progress: number[] = [];
        const b = await createBackbone(`openai:${base}?model=Qwen/Qwen3-Embedding-0.6B`, { onProgress: (d) => progress.push(d) });
        assert.ok(b instanceof OpenAIBackbone);
        // No dim= in the spec: one probe request at creation tells the row length.
        assert.equal(b.dim, 8);
        assert.deepEqual(log.map((s) => s.input), [[DIMENSION_PROBE_TEXT]]);
        assert.deepEqual(progress, []); // the probe is not progress
        const rows = await b.embed(texts);
        assertRows(rows, texts);
        assert.equal(log.length, 4); // probe + 64 + 64 + 22
        assert.deepEqual(log.slice(1).map((s) => s.input.length).sort((x, y) => x - y), [22, 64, 64]);
        assert.ok(log.every((s) => s.model === 'Qwen/Qwen3-Embedding-0.6B' && s.auth === 'Bearer sk-test-123' && s.dimensions === undefined));
        assert.equal(progress.at(-1), 150);
        assert.match(b.id, /^openai:http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings\?model=Qwen\/Qwen3-Embedding-0\.6B$/);
        assert.ok(!b.id.includes('sk-test'));
        assert.deepEqual(await b.embed([]), []);
      },
    );
  } finally {
    if (saved === undefined) delete process.env.RUNTIMESLICER_OPENAI_API_KEY;
    else process.env.RUNTIMESLICER_OPENAI_API_KEY = saved;
  }
});

test('openai: spec options (escaped model, batch, dimensions) reach the server', async () => {
  await withServer(
    (_n, seen, res) => {
      // A server that shortens its output when asked to, as text-embedding-3-* do.
      const dim = typeof seen.dimensions === 'number' ? seen.dimensions : 8;
      const data = seen.input.map((t, index) => ({ index, embedding: fakeEmbedding(t, dim) }));
      res.writeHead(200).end(JSON.stringify({ data }));
      return true;
    },
    async (base, log) => {
      const b = await createBackbone(`openai:${base}/?model=org%2Fname&batch=4&dimensions=6&concurrency=1`);
      assert.equal(b.dim, 6);
      const rows = await b.embed(texts.slice(0, 10));
      assert.equal(rows.length, 10);
      assert.ok(rows.every((r) => r.length === 6));
      assert.deepEqual(
        log.map((s) => s.input.length),
        [4, 4, 2],
      );
      assert.ok(log.every((s) => s.model === 'org/name' && s.dimensions === 6));
      assert.match(b.id, /dimensions=6/);
    },
  );
});

test('openai: 429 is retried, honouring Retry-After over the backoff', { timeout: 20_000 }, async () => {
  await withServer(
    (n, _seen, res) => {
      if (n !== 1) return false;
      res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'slow down' } }));
      return true;
    },
    async (base, log) => {
      // A 60 s backoff would outlast the test's timeout: only Retry-After: 0 lets it pass.
      const b = await createBackbone(`openai:${base}?model=m&dim=8&backoff=60000`);
      const rows = await b.embed(texts.slice(0, 5));
      assertRows(rows, texts.slice(0, 5));
      assert.equal(log.length, 2);
    },
  );
});

test('openai: 500 is retried with backoff; persistent 503 gives up with a UserError', async () => {
  await withServer(
    (n, _seen, res) => {
      if (n !== 1) return false;
      res.writeHead(500).end('internal error');
      return true;
    },
    async (base, log) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&backoff=1`);
      assertRows(await b.embed(texts.slice(0, 3)), texts.slice(0, 3));
      assert.equal(log.length, 2);
    },
  );
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(503).end(JSON.stringify({ error: { message: 'model loading' } }));
      return true;
    },
    async (base, log) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&backoff=1&retries=2`);
      await assert.rejects(b.embed(['a']), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /answered 503: model loading \(gave up after 3 attempts/);
        return true;
      });
      assert.equal(log.length, 3);
    },
  );
});

test('openai: a request that outlasts the timeout is aborted and retried', { timeout: 20_000 }, async () => {
  await withServer(
    (n) => n === 1, // first request: never answered (the socket is closed at the end)
    async (base, log) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&timeout=300&backoff=1`);
      assertRows(await b.embed(texts.slice(0, 4)), texts.slice(0, 4));
      assert.equal(log.length, 2);
    },
  );
  await withServer(
    () => true, // never answers
    async (base, log) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&timeout=200&retries=1&backoff=1`);
      await assert.rejects(b.embed(['a']), /did not answer within 200 ms \(gave up after 2 attempts/);
      assert.equal(log.length, 2);
    },
  );
});

test('openai: wrong or inconsistent dims are UserErrors', async () => {
  await withServer(
    () => false,
    async (base) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=16`);
      await assert.rejects(b.embed(['a']), (e: unknown) => e instanceof UserError && /returned a 8-d embedding, expected 16-d/.test(e.message));
    },
  );
  await withServer(
    (n, seen, res) => {
      if (n === 1) return false;
      res.writeHead(200).end(JSON.stringify({ data: seen.input.map((t, index) => ({ index, embedding: fakeEmbedding(t, 9) })) }));
      return true;
    },
    async (base) => {
      const b = await createBackbone(`openai:${base}?model=m&batch=2&concurrency=1`);
      await assert.rejects(b.embed(['a', 'b', 'c']), /returned a 9-d embedding, expected 8-d/);
    },
  );
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(200).end(JSON.stringify({ data: [{ index: 0, embedding: [1, 2] }] }));
      return true;
    },
    async (base) => {
      const b = await createBackbone(`openai:${base}?model=m`);
      await assert.rejects(b.embed(['a', 'b']), /returned 1 embeddings for 2 inputs/);
    },
  );
});

test('openai: 4xx fails at once with the server message; 401 names the key variable', async () => {
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: "model 'm' not found\nsecond line" } }));
      return true;
    },
    async (base, log) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&backoff=1&batch=10`);
      await assert.rejects(b.embed(texts), (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.match(e.message, /answered 400: model 'm' not found second line$/);
        return true;
      });
      // 15 batches, but the first failure cancels those not yet sent: at most `concurrency` went.
      assert.ok(log.length >= 1 && log.length <= 4, `${log.length}`);
    },
  );
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(401).end('{"error":"bad key"}');
      return true;
    },
    async (base) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8`);
      await assert.rejects(b.embed(['a']), /answered 401: bad key; set RUNTIMESLICER_OPENAI_API_KEY/);
    },
  );
});

test('openai: connection refused is retried, then a UserError', async () => {
  // Bind and close a port to get one nobody listens on.
  let dead = '';
  await withServer(
    () => false,
    async (base) => {
      dead = base;
    },
  );
  const b = await createBackbone(`openai:${dead}?model=m&dim=8&retries=1&backoff=1`);
  await assert.rejects(b.embed(['a']), (e: unknown) => e instanceof UserError && /cannot reach .* ECONNREFUSED .*gave up after 2 attempts/.test(e.message));
  // Without dim= the server is asked at creation: one line naming it, before any work.
  await assert.rejects(createBackbone(`openai:${dead}?model=m&retries=1&backoff=1`), (e: unknown) => {
    assert.ok(e instanceof UserError);
    assert.match(e.message, /^cannot reach embeddings server at http:\/\/127\.0\.0\.1:\d+\/v1\/embeddings: ECONNREFUSED \(gave up after 2 attempts/);
    assert.ok(!e.message.includes('\n'));
    return true;
  });
});

test('openai: at most `concurrency` requests in flight', async () => {
  await withServer(
    async () => {
      await new Promise((r) => setTimeout(r, 100));
      return false;
    },
    async (base, log, state) => {
      const b = await createBackbone(`openai:${base}?model=m&dim=8&batch=5&concurrency=2`);
      assertRows(await b.embed(texts.slice(0, 40)), texts.slice(0, 40));
      assert.equal(log.length, 8);
      assert.equal(state.maxInFlight, 2);
    },
  );
});

test('openai: the documented form without dim encodes a dataset end to end', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-openai-encode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await withServer(
    () => false,
    async (base, log) => {
      const out = join(dir, 'views.arrow');
      const r = await encodeDataset(fixture({ minutes: 20 }), { spec: SPEC, backboneSpec: `openai:${base}?model=Qwen/Qwen3-Embedding-0.6B`, out, includeText: true });
      assert.equal(r.dim, 8);
      assert.ok(r.rows > 0);
      assert.deepEqual(log[0].input, [DIMENSION_PROBE_TEXT]);
      const table = await readColumnar(out);
      assert.equal(table.numRows, r.rows);
      const vectors = table.getChild('vector')!;
      const textsCol = table.getChild('text')!;
      for (let i = 0; i < table.numRows; i += 17) {
        const v = (vectors.get(i) as { toArray(): Float32Array }).toArray();
        assert.equal(v.length, 8);
        const want = unit(fakeEmbedding(textsCol.get(i) as string));
        for (let k = 0; k < 8; k++) assert.ok(Math.abs(v[k] - want[k]) < 1e-6);
      }
    },
  );
});

test('openai: a failing probe gives the server\'s one-line error; dims that change between responses are an error', async () => {
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(404).end(JSON.stringify({ error: { message: "model 'x' not found" } }));
      return true;
    },
    async (base) => {
      await assert.rejects(createBackbone(`openai:${base}?model=x`), (e: unknown) => e instanceof UserError && /answered 404: model 'x' not found$/.test(e.message));
    },
  );
  await withServer(
    (n, seen, res) => {
      // 8-d for the probe, then 12-d: a server that was swapped behind the URL.
      if (n === 1) return false;
      res.writeHead(200).end(JSON.stringify({ data: seen.input.map((t, index) => ({ index, embedding: fakeEmbedding(t, 12) })) }));
      return true;
    },
    async (base) => {
      const b = await createBackbone(`openai:${base}?model=m`);
      assert.equal(b.dim, 8);
      await assert.rejects(b.embed(['a']), (e: unknown) => e instanceof UserError && /returned a 12-d embedding, expected 8-d/.test(e.message));
    },
  );
  await withServer(
    (_n, _seen, res) => {
      res.writeHead(200).end(JSON.stringify({ data: [{ index: 0, embedding: [] }] }));
      return true;
    },
    async (base) => {
      await assert.rejects(createBackbone(`openai:${base}?model=m`), /returned an empty embedding/);
    },
  );
});
