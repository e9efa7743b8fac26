import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HashBackbone, type Backbone } from '../../src/encode/backbones/index.js';
import { cachedEmbed, defaultCacheDir, EmbeddingCache } from '../../src/encode/cache/index.js';
import { encodeDataset } from '../../src/encode/index.js';
import { SPEC, fixture } from './views-fixture.js';

/** Wraps a backbone and counts what reaches it. */
class Counting implements Backbone {
  calls = 0;
  texts = 0;
  constructor(private readonly inner: Backbone) {}
  get id(): string {
    return this.inner.id;
  }
  get dim(): number {
    return this.inner.dim;
  }
  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls++;
    this.texts += texts.length;
    return this.inner.embed(texts);
  }
}

const textOf = (i: number): string => `window ${i}: frontend p99 ${(i * 0.37).toFixed(2)} ms, errors ${i % 5}`;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rs-cache-test-'));
}

function packPath(dir: string): string {
  const root = join(dir, 'v1');
  const [sub] = readdirSync(root);
  return join(root, sub, 'rows.pack');
}

// Child mode: `RS_CACHE_CHILD=dir,from,to node --import tsx cache.test.ts` fills the cache.
const child = process.env.RS_CACHE_CHILD;
if (child) {
  const [dir, from, to, barrier] = child.split(',');
  const cache = new EmbeddingCache({ dir });
  const hash = new HashBackbone({ dim: 64 });
  // A backbone that takes a moment per batch, so that both children's appends overlap in time.
  const slow: Backbone = {
    id: hash.id,
    dim: hash.dim,
    embed: async (texts) => {
      await new Promise((r) => setTimeout(r, 2));
      return hash.embed(texts);
    },
  };
  const texts: string[] = [];
  for (let i = Number(from); i < Number(to); i++) texts.push(textOf(i));
  // Start together: announce readiness, wait for the other child.
  writeFileSync(join(barrier, `${process.pid}.ready`), '');
  while (readdirSync(barrier).length < 2) await new Promise((r) => setTimeout(r, 5));
  await cachedEmbed(slow, texts, cache, { batchSize: 7 });
  cache.close();
} else {
  test('cachedEmbed: misses embedded once (deduplicated), hits never reach the backbone', async () => {
    const dir = tmp();
    try {
      const hash = new HashBackbone({ dim: 64 });
      const b = new Counting(hash);
      const texts = Array.from({ length: 120 }, (_, i) => textOf(i % 100)); // 20 repeats
      const cache = new EmbeddingCache({ dir });
      const first = await cachedEmbed(b, texts, cache, { batchSize: 16 });
      assert.equal(b.texts, 100);
      assert.equal(b.calls, 7); // ceil(100 / 16)
      for (let i = 0; i < texts.length; i++) assert.deepEqual(first[i], hash.embedOne(texts[i]));
      assert.notEqual(first[0], first[100]); // repeats are copies, not one shared array

      const second = await cachedEmbed(b, texts, cache);
      assert.equal(b.calls, 7);
      assert.deepEqual(second, first);

      // Another cache object (another run) on the same folder: still all hits.
      const fresh = new EmbeddingCache({ dir });
      const third = await cachedEmbed(b, [...texts].reverse(), fresh);
      assert.equal(b.calls, 7);
      assert.deepEqual(third, [...first].reverse());

      // Partly new texts: only those are embedded.
      const mixed = [textOf(5), textOf(500), textOf(501), textOf(500)];
      const rows = await cachedEmbed(b, mixed, fresh);
      assert.equal(b.texts, 102);
      rows.forEach((r, i) => assert.deepEqual(r, hash.embedOne(mixed[i])));

      // A different backbone id is a different key space.
      const other = new Counting(new HashBackbone({ dim: 64, seed: 1 }));
      await cachedEmbed(other, [textOf(5)], fresh);
      assert.equal(other.texts, 1);
      assert.deepEqual(fresh.size().entries, 103);
      assert.equal(fresh.backbones().length, 2);
      fresh.close();
      cache.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('get/put, size and clear', async () => {
    const dir = tmp();
    try {
      const cache = new EmbeddingCache({ dir });
      assert.deepEqual(cache.size(), { entries: 0, bytes: 0 });
      const rows = [new Float32Array([1, 0, 0]), new Float32Array([0, 1, 0])];
      cache.put('bb', ['a', 'b'], rows);
      cache.put('bb', ['a'], [new Float32Array([9, 9, 9])]); // present: not overwritten
      assert.deepEqual(cache.get('bb', ['b', 'zz', 'a']), [rows[1], undefined, rows[0]]);
      assert.deepEqual(cache.get('other', ['a']), [undefined]);
      const size = cache.size();
      assert.equal(size.entries, 2);
      const pack = statSync(packPath(dir)).size;
      assert.equal(pack, 2 * (8 + 32 + 4 + 3 * 4 + 4));
      assert.ok(size.bytes > pack); // plus id.txt
      assert.equal(readFileSync(join(packPath(dir), '..', 'id.txt'), 'utf8'), 'bb\n');
      assert.throws(() => cache.put('bb', ['c'], [new Float32Array(4)]), /4-d row, the cache holds 3-d/);
      cache.clear();
      assert.deepEqual(cache.size(), { entries: 0, bytes: 0 });
      assert.deepEqual(cache.get('bb', ['a']), [undefined]);
      cache.put('bb', ['a'], [rows[0]]);
      assert.equal(cache.size().entries, 1);
      // Clearing one backbone leaves the others.
      cache.put('cc', ['a'], [rows[1]]);
      cache.clear('bb');
      assert.deepEqual(cache.get('cc', ['a']), [rows[1]]);
      assert.equal(cache.size().entries, 1);
      cache.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a torn tail record and a corrupted record are ignored; appends after them are found', () => {
    const dir = tmp();
    try {
      const w = new EmbeddingCache({ dir });
      const texts = Array.from({ length: 50 }, (_, i) => textOf(i));
      const rows = texts.map((_, i) => new Float32Array([i, i + 1, i + 2, i + 3]));
      w.put('bb', texts, rows);
      w.close();
      const path = packPath(dir);
      const rec = 8 + 32 + 4 + 16 + 4;
      const whole = readFileSync(path);
      // A crash mid-write: the first 30 bytes of a record for a new text.
      const scratch = tmp();
      const s = new EmbeddingCache({ dir: scratch });
      s.put('bb', ['torn'], [new Float32Array([7, 7, 7, 7])]);
      const tornRecord = readFileSync(packPath(scratch)).subarray(0, 30);
      s.close();
      rmSync(scratch, { recursive: true, force: true });
      appendFileSync(path, tornRecord);
      // And a flipped byte in record 10's row.
      const bad = Buffer.from(readFileSync(path));
      bad[10 * rec + 50] ^= 0xff;
      writeFileSync(path, bad);
      assert.equal(bad.length, whole.length + 30);

      const r = new EmbeddingCache({ dir });
      const got = r.get('bb', [...texts, 'torn']);
      for (let i = 0; i < 50; i++) {
        if (i === 10) assert.equal(got[i], undefined);
        else assert.deepEqual(got[i], rows[i]);
      }
      assert.equal(got[50], undefined);
      let st = r.stats('bb');
      assert.equal(st.entries, 49);
      assert.equal(st.skippedBytes, rec); // the torn tail is not known to be torn yet

      // Appends land after the torn bytes; a reader skips those and finds the new records.
      r.put('bb', ['late', texts[10]], [new Float32Array([1, 1, 1, 1]), rows[10]]);
      const again = new EmbeddingCache({ dir });
      assert.deepEqual(again.get('bb', ['late', texts[10], texts[49]]), [new Float32Array([1, 1, 1, 1]), rows[10], rows[49]]);
      st = again.stats('bb');
      assert.equal(st.entries, 51);
      assert.equal(st.records, 51);
      assert.equal(st.skippedBytes, rec + 30);
      // The reader that was open all along sees the same through its incremental refresh.
      assert.deepEqual(r.get('bb', ['late']), [new Float32Array([1, 1, 1, 1])]);
      assert.equal(r.stats('bb').skippedBytes, rec + 30);
      r.close();
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('two processes writing the same cache at once leave it consistent, each key stored once', { timeout: 120_000 }, async () => {
    const dir = tmp();
    const barrier = tmp();
    try {
      const self = fileURLToPath(import.meta.url);
      const run = (from: number, to: number) =>
        new Promise<void>((resolve, reject) => {
          const p = spawn(process.execPath, ['--import', 'tsx', self], {
            env: { ...process.env, RS_CACHE_CHILD: `${dir},${from},${to},${barrier}` },
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.on('error', reject);
          p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
        });
      // Overlapping ranges: 0..1499 and 1000..2499, so both write some of the same texts.
      await Promise.all([run(0, 1500), run(1000, 2500)]);

      const cache = new EmbeddingCache({ dir });
      const id = new HashBackbone({ dim: 64 }).id;
      // The test means something only if the writes interleaved: in file order, records only
      // the first child writes (texts 0..999) and only the second writes (1500..2499) alternate.
      const owner = new Map<string, string>();
      cache.keys(id, Array.from({ length: 1000 }, (_, i) => textOf(i))).forEach((k) => owner.set(k, 'A'));
      cache.keys(id, Array.from({ length: 1000 }, (_, i) => textOf(1500 + i))).forEach((k) => owner.set(k, 'B'));
      const file = readFileSync(packPath(dir));
      const rec = 8 + 32 + 4 + 64 * 4 + 4;
      let switches = 0;
      let last = '';
      for (let o = 0; o < file.length; o += rec) {
        const who = owner.get(file.toString('hex', o + 8, o + 40));
        if (who && who !== last) {
          if (last) switches++;
          last = who;
        }
      }
      assert.ok(switches >= 2, `writes did not interleave (${switches} switches)`);
      const st = cache.stats(id);
      assert.equal(st.skippedBytes, 0);
      assert.equal(st.entries, 2500);
      // The 500 texts both children embed are stored once: the lock around re-read + append.
      assert.equal(st.records, 2500);
      assert.equal(readdirSync(join(packPath(dir), '..')).sort().join(','), 'id.txt,rows.pack', 'no lock file left');
      assert.equal(st.bytes, st.records * (8 + 32 + 4 + 64 * 4 + 4));
      const hash = new HashBackbone({ dim: 64 });
      const b = new Counting(hash);
      const texts = Array.from({ length: 2500 }, (_, i) => textOf(i));
      const rows = await cachedEmbed(b, texts, cache);
      assert.equal(b.calls, 0);
      rows.forEach((r, i) => assert.deepEqual(r, hash.embedOne(texts[i])));
      cache.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(barrier, { recursive: true, force: true });
    }
  });

  test('a folder that cannot be written: one warning, vectors still right, nothing thrown', async () => {
    // Root ignores permission bits, so use pseudo file systems: mkdir under /proc fails with
    // ENOENT (and Node's recursive mkdir loops forever there), under /sys with EPERM.
    for (const dir of ['/proc/rs-cache-test/embeddings', '/sys/rs-cache-test/embeddings']) {
      const warnings: string[] = [];
      const cache = new EmbeddingCache({ dir, onWarning: (m) => warnings.push(m) });
      const hash = new HashBackbone({ dim: 16 });
      const b = new Counting(hash); // a cacheable wrapper: it goes through the cache
      const texts = Array.from({ length: 40 }, (_, i) => textOf(i % 30));
      const rows = await cachedEmbed(b, texts, cache, { batchSize: 8 });
      rows.forEach((r, i) => assert.deepEqual(r, hash.embedOne(texts[i])));
      assert.equal(b.texts, 30);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], new RegExp(`^embedding cache folder ${dir} is not writable \\((folders cannot be created there|operation not permitted): mkdir /(proc|sys)/rs-cache-test\\); going on without storing vectors \\(use --cache-dir DIR or --no-cache\\)$`));
      assert.ok(cache.disabledReason);
      cache.put('bb', ['a'], [new Float32Array([1])]); // no throw, no second warning
      assert.equal(warnings.length, 1);
      assert.deepEqual(cache.size(), { entries: 0, bytes: 0 });
      cache.clear(); // nothing there: nothing to do
      cache.close();
    }
    // The default warning goes to stderr as one line.
    const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', `
      import { EmbeddingCache } from ${JSON.stringify(fileURLToPath(new URL('../../src/encode/cache/index.js', import.meta.url)))};
      const c = new EmbeddingCache({ dir: '/proc/rs-cache-test' });
      c.put('bb', ['a', 'b'], [new Float32Array([1]), new Float32Array([2])]);
      c.put('bb', ['c'], [new Float32Array([3])]);
      console.log('done');`], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'done\n');
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^warning: embedding cache folder \/proc\/rs-cache-test is not writable/);
    // clear() where there is nothing to remove is not an error, even on a pseudo file system.
    assert.doesNotThrow(() => new EmbeddingCache({ dir: '/proc/self' }).clear());
  });

  test('a lock left by a dead process is taken over; the append goes through and leaves no lock', () => {
    const dir = tmp();
    try {
      const cache = new EmbeddingCache({ dir });
      cache.put('bb', ['a'], [new Float32Array([1, 2])]);
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      const lock = `${packPath(dir)}.lock`;
      writeFileSync(lock, `${dead.stdout} ${hostname()}\n`);
      const t0 = Date.now();
      cache.put('bb', ['b'], [new Float32Array([3, 4])]);
      assert.ok(Date.now() - t0 < 5_000, 'no wait for a dead owner');
      assert.deepEqual(new EmbeddingCache({ dir }).get('bb', ['a', 'b']), [new Float32Array([1, 2]), new Float32Array([3, 4])]);
      assert.equal(existsSync(lock), false);
      cache.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('hash is not cached: cachedEmbed embeds (each distinct text once) and stores nothing', async () => {
    const dir = tmp();
    try {
      const hash = new HashBackbone({ dim: 32 });
      assert.equal(hash.cacheable, false);
      const cache = new EmbeddingCache({ dir });
      const texts = Array.from({ length: 50 }, (_, i) => textOf(i % 20));
      let calls = 0;
      const spy = Object.assign(Object.create(hash) as HashBackbone, {
        embed: async (t: string[]) => {
          calls += t.length;
          return hash.embed(t);
        },
      });
      const rows = await cachedEmbed(spy, texts, cache);
      assert.equal(calls, 20);
      rows.forEach((r, i) => assert.deepEqual(r, hash.embedOne(texts[i])));
      assert.notEqual(rows[0], rows[20]); // repeats are copies
      assert.deepEqual(cache.size(), { entries: 0, bytes: 0 });
      assert.deepEqual(readdirSync(dir), []);
      // encodeDataset with a cache and a hash spec stores nothing either.
      const r = await encodeDataset(fixture({ minutes: 20 }), { spec: SPEC, backboneSpec: 'hash:dim=16', cache });
      assert.ok(r.rows > 0);
      assert.deepEqual(readdirSync(dir), []);
      cache.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('default folder follows $RUNTIMESLICER_CACHE', () => {
    const saved = process.env.RUNTIMESLICER_CACHE;
    try {
      process.env.RUNTIMESLICER_CACHE = '/some/where';
      assert.equal(defaultCacheDir(), join('/some/where', 'embeddings'));
      assert.equal(new EmbeddingCache().dir, join('/some/where', 'embeddings'));
      delete process.env.RUNTIMESLICER_CACHE;
      assert.match(defaultCacheDir(), /runtimeslicer[/\\]embeddings$/);
    } finally {
      if (saved === undefined) delete process.env.RUNTIMESLICER_CACHE;
      else process.env.RUNTIMESLICER_CACHE = saved;
    }
  });
}
