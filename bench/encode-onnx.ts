/**
 * Throughput of the `onnx:` backbone: texts/s and tokens/s on CPU, median of several runs.
 *
 *   node --import tsx bench/run.ts encode-onnx [--model DIR] [--texts 64] [--words 60]
 *     [--batch 8] [--runs 5] [--threads 2] [--options 'pooling=last&maxLength=512']
 *
 * Default model: the tiny random Qwen3 test fixture (architecture check, not a speed claim for
 * the real model). Point --model at a folder built with `scripts/make-tiny-qwen3.py --hidden
 * 1024 --layers 28 …` (or the real Qwen3-Embedding-0.6B-ONNX) for representative figures.
 * Texts are synthetic system-state descriptions from a seeded generator.
 */
import { fileURLToPath } from 'node:url';
import { AutoTokenizer } from '@huggingface/transformers';
import { createOnnxBackbone } from '../src/encode/backbones/onnx.js';
import { median } from './util.js';
import { SeededRng } from '../src/telemetry/index.js';

const FIXTURE = fileURLToPath(new URL('../test/fixtures/tiny-qwen3', import.meta.url));

/** The project's seeded generator, as a plain function. */
function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

export function syntheticStateTexts(n: number, words: number, seed = 7): string[] {
  const rnd = seededRandom(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
  const services = ['frontend', 'cartservice', 'checkoutservice', 'ts-order-service', 'ts-auth-service', 'paymentservice', 'redis'];
  const metrics = ['cpu', 'memory', 'latency p50', 'latency p99', 'error rate', 'requests', 'network rx', 'gc pause'];
  const logs = ['ERROR connection refused', 'WARN slow query', 'INFO request completed', 'ERROR timeout calling', 'WARN retrying'];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    let count = 0;
    while (count < words) {
      const svc = pick(services);
      const r = rnd();
      const piece =
        r < 0.6
          ? `${svc} ${pick(metrics)} ${(rnd() * 1000).toFixed(1)}`
          : r < 0.85
            ? `${svc} log ${pick(logs)} ${pick(services)}`
            : `${svc} calls ${pick(services)} ${Math.floor(rnd() * 500)} times`;
      parts.push(piece);
      count += piece.split(' ').length;
    }
    out.push(parts.join('; '));
  }
  return out;
}

function arg(args: string[], name: string, def: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
}


export default async function encodeOnnx(args: string[]): Promise<void> {
  const model = arg(args, 'model', FIXTURE);
  const n = Number(arg(args, 'texts', '64'));
  const words = Number(arg(args, 'words', '60'));
  const runs = Number(arg(args, 'runs', '5'));
  const options: Record<string, string> = Object.fromEntries(new URLSearchParams(arg(args, 'options', 'prefix=none')));
  options.batch ??= arg(args, 'batch', '8');
  options.threads ??= arg(args, 'threads', '2');

  const texts = syntheticStateTexts(n, words);
  const t0 = performance.now();
  const bb = await createOnnxBackbone(model, options, {});
  const loadMs = performance.now() - t0;
  const tok = await AutoTokenizer.from_pretrained(model, { local_files_only: true });
  const maxLength = Number(options.maxLength ?? 512);
  const tokens = texts.reduce((s, t) => s + Math.min(maxLength, tok.encode(t).length), 0);

  await bb.embed(texts.slice(0, Math.min(4, n))); // warm-up: first run allocates arenas
  const secs: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    await bb.embed(texts);
    secs.push((performance.now() - t) / 1000);
  }
  await bb.dispose?.();
  const s = median(secs);
  console.log(`encode-onnx  ${bb.id}`);
  console.log(`  dim ${bb.dim}, load ${loadMs.toFixed(0)} ms, batch ${options.batch}, threads ${options.threads}`);
  console.log(`  ${n} texts, ${tokens} tokens (${(tokens / n).toFixed(1)}/text), ${runs} runs: ${secs.map((x) => x.toFixed(3)).join(' ')} s`);
  console.log(`  median ${s.toFixed(3)} s → ${(n / s).toFixed(1)} texts/s, ${(tokens / s).toFixed(0)} tokens/s`);
}
