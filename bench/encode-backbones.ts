/**
 * Throughput of the `hash` and `use` backbones (texts/s) and of the embedding cache (rows/s
 * on hits, cold = a new cache object that first loads the pack's index, warm = index loaded),
 * each the median of several runs on one process.
 *
 *   node --import tsx bench/run.ts encode-backbones [--runs 5] [--hash-texts 20000]
 *     [--use-texts 256] [--use-runs 3] [--cache-texts 20000] [--dim 1024] [--skip-use]
 *
 * Texts are ~300-character synthetic system-state descriptions from a seeded generator.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { HashBackbone, UseBackbone, useAvailable } from '../src/encode/backbones/index.js';
import { cachedEmbed, EmbeddingCache } from '../src/encode/cache/index.js';
import { median } from './util.js';
import { SeededRng } from '../src/telemetry/index.js';

/** The project's seeded generator, as a plain function. */
function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

const SERVICES = ['frontend', 'checkoutservice', 'cartservice', 'paymentservice', 'redis-cart', 'adservice', 'currencyservice'];
const PHRASES = [
  'p99 latency',
  'error rate',
  'cpu usage',
  'memory working set',
  'requests per second',
  'GET /api/cart returned',
  'connection refused to',
  'timeout after',
  'pod restarted',
  'gc pause',
  'queue depth',
  'upstream 503 from',
];

/** ~`chars`-character texts mixing names, words and numbers, as views produce them. */
export function syntheticTexts(n: number, chars = 300, seed = 11): string[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let t = `window ${i}:`;
    while (t.length < chars) {
      const svc = pick(SERVICES);
      const pod = `${svc}-${Math.floor(rnd() * 0xfffff).toString(16)}`;
      t += ` ${pick([svc, pod])} ${pick(PHRASES)} ${(rnd() * 10 ** Math.floor(rnd() * 4)).toFixed(2)}${pick(['ms', '%', '', ' MiB'])};`;
    }
    out.push(t.slice(0, chars));
  }
  return out;
}


function flag(args: string[], name: string, dflt: number): number {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(args[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

interface Rates {
  /** per wall-clock second */
  wall: number[];
  /** per second of this process's CPU time (user + system): what one core does, whatever else the machine runs */
  cpu: number[];
}

async function timeRuns(runs: number, f: () => Promise<number>): Promise<Rates> {
  const out: Rates = { wall: [], cpu: [] };
  for (let r = 0; r < runs; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const n = await f();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    out.wall.push(n / wall);
    out.cpu.push(n / ((c.user + c.system) / 1e6));
  }
  return out;
}

function fmt(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1);
}

function report(name: string, unit: string, rates: Rates): void {
  console.log(
    `${name.padEnd(36)} ${fmt(median(rates.wall)).padStart(10)} ${unit} wall, ${fmt(median(rates.cpu)).padStart(10)} per CPU-s   (wall runs: ${rates.wall.map(fmt).join(', ')})`,
  );
}

export default async function main(args: string[]): Promise<void> {
  const runs = flag(args, 'runs', 5);
  const dim = flag(args, 'dim', 1024);
  const hashTexts = syntheticTexts(flag(args, 'hash-texts', 20_000));
  const avgChars = hashTexts.reduce((s, t) => s + t.length, 0) / hashTexts.length;
  console.log(`texts: ~${Math.round(avgChars)} chars each; median of ${runs} runs unless said; load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`);

  const hash = new HashBackbone({ dim });
  hash.embedOne(hashTexts[0]); // JIT warm-up
  report(`hash (dim ${dim}) embed`, 'texts/s', await timeRuns(runs, async () => (await hash.embed(hashTexts)).length));

  if (!args.includes('--skip-use')) {
    if (!useAvailable()) console.log('use: skipped (@energetic-ai packages not installed)');
    else {
      const use = new UseBackbone({ batchSize: 64 });
      const useTexts = syntheticTexts(flag(args, 'use-texts', 256), 300, 12);
      const t0 = performance.now();
      await use.embed(useTexts.slice(0, 8)); // loads tfjs + weights, warms the graph
      console.log(`use: load + first batch ${Math.round(performance.now() - t0)} ms`);
      const useRuns = flag(args, 'use-runs', 3);
      const rates = await timeRuns(useRuns, async () => (await use.embed(useTexts)).length);
      report('use (batch 64) embed', 'texts/s', rates);
      await use.dispose();
    }
  }

  const dir = mkdtempSync(join(tmpdir(), 'rs-bench-cache-'));
  try {
    const texts = syntheticTexts(flag(args, 'cache-texts', 20_000), 300, 13);
    const fill = new EmbeddingCache({ dir });
    const t0 = performance.now();
    // hash itself is not cacheable (cheaper to recompute): a plain wrapper measures the cache.
    await cachedEmbed({ id: hash.id, dim: hash.dim, embed: (xs: string[]) => hash.embed(xs) }, texts, fill);
    const fillRate = texts.length / ((performance.now() - t0) / 1000);
    console.log(`cache fill (hash embed + store)      ${fmt(fillRate).padStart(10)} rows/s wall (one run)`);
    fill.close();
    const st = new EmbeddingCache({ dir }).stats(hash.id);
    console.log(`cache pack: ${st.entries} rows of ${st.dim} floats, ${(st.bytes / 2 ** 20).toFixed(1)} MiB`);

    let embedded = 0;
    const counting = {
      id: hash.id,
      dim: hash.dim,
      embed: async (xs: string[]) => {
        embedded += xs.length;
        return hash.embed(xs);
      },
    };
    report(
      'cache hits, cold (new cache object)',
      'rows/s',
      await timeRuns(runs, async () => {
        const c = new EmbeddingCache({ dir });
        const rows = await cachedEmbed(counting, texts, c);
        c.close();
        return rows.length;
      }),
    );
    const warm = new EmbeddingCache({ dir });
    await cachedEmbed(counting, texts, warm);
    report('cache hits, warm (index loaded)', 'rows/s', await timeRuns(runs, async () => (await cachedEmbed(counting, texts, warm)).length));
    warm.close();
    if (embedded !== 0) throw new Error(`cache bench: ${embedded} texts re-embedded on hit runs`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
