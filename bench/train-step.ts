/**
 * One InfoNCE training step at batch 256 for the reference configuration: three 1024→512→256
 * projection heads, a (3·256 + 3)→512→256 gated fusion, AdamW with global-norm clipping.
 * Prints the median ms/step over the measured steps (after warm-up) per engine, split into
 * forward (model + loss), backward and optimiser.
 *
 *   npm run bench -- train-step [--steps 15] [--warmup 3] [--engine both|ort|js] [--batch 256]
 *     [--activation relu|gelu] [--threads <cores>] [--spinning] [--overhead]
 *
 * --spinning leaves ORT's intra-op thread spinning on (the engine turns it off);
 * --overhead also times one small product per call through the synchronous binding, the public
 * async `InferenceSession.run` and the JS kernel (the threshold in kernels.ts comes from it).
 */
import { availableParallelism, cpus, loadavg } from 'node:os';
import { AdamW, ModelRng, setEngine, StateModel, totalLoss, type StateBatch } from '../src/model/index.js';
import * as ort from 'onnxruntime-node';
import { createOrtKernel, gemmModel, jsKernel } from '../src/model/engine/index.js';
import { arg, median } from './util.js';



/** Inputs where the three modalities share a latent per window, so the loss has signal. */
function syntheticBatch(size: number, dim: number, rng: ModelRng): StateBatch {
  const latent = new Float32Array(size * 32);
  for (let i = 0; i < latent.length; i++) latent[i] = rng.normal();
  const make = () => {
    const proj = new Float32Array(32 * dim);
    for (let i = 0; i < proj.length; i++) proj[i] = rng.normal() / Math.sqrt(32);
    const x = new Float32Array(size * dim);
    for (let i = 0; i < size; i++) {
      for (let j = 0; j < dim; j++) {
        let v = 0.3 * rng.normal();
        for (let k = 0; k < 32; k++) v += latent[i * 32 + k] * proj[k * dim + j];
        x[i * dim + j] = v;
      }
    }
    return { x };
  };
  return { size, metrics: make(), traces: make(), logs: make() };
}

async function runEngine(engine: 'ort' | 'js', args: string[]): Promise<void> {
  const steps = Number(arg(args, 'steps', '15'));
  const warmup = Number(arg(args, 'warmup', '3'));
  const batchSize = Number(arg(args, 'batch', '256'));
  const activation = arg(args, 'activation', 'relu') as 'relu' | 'gelu';
  const threads = Number(arg(args, 'threads', String(availableParallelism())));
  if (engine === 'ort') {
    const k = createOrtKernel({ intraOpThreads: threads, spinning: args.includes('--spinning') });
    if (!k) {
      console.log('ort: onnxruntime-node could not load; skipped');
      return;
    }
    setEngine(k);
  } else setEngine('js');

  const model = new StateModel({
    inputDims: { metrics: 1024, traces: 1024, logs: 1024 },
    hidden: 512,
    modalityDim: 256,
    stateDim: 256,
    fusionHidden: 512,
    gate: true,
    activation,
    seed: 1,
  });
  const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01, maxGradNorm: 1 });
  const batch = syntheticBatch(batchSize, 1024, new ModelRng(7, 'bench'));
  const fwd: number[] = [];
  const bwd: number[] = [];
  const upd: number[] = [];
  const tot: number[] = [];
  const losses: number[] = [];
  for (let s = 0; s < warmup + steps; s++) {
    const t0 = performance.now();
    const f = model.forward(batch, { training: true });
    const loss = totalLoss(f, {}, { temperature: 0.1 });
    const t1 = performance.now();
    opt.zeroGrad();
    loss.total.backward();
    const t2 = performance.now();
    opt.step();
    const t3 = performance.now();
    losses.push(loss.parts.total);
    if (s < warmup) continue;
    fwd.push(t1 - t0);
    bwd.push(t2 - t1);
    upd.push(t3 - t2);
    tot.push(t3 - t0);
  }
  console.log(
    `${engine.padEnd(3)}  step ${median(tot).toFixed(1)} ms (median of ${steps}; min ${Math.min(...tot).toFixed(1)}, max ${Math.max(...tot).toFixed(1)})` +
      `  forward ${median(fwd).toFixed(1)}  backward ${median(bwd).toFixed(1)}  optimiser ${median(upd).toFixed(1)}` +
      `  loss ${losses[0].toFixed(3)} → ${losses[losses.length - 1].toFixed(3)}`,
  );
}

/** µs per call for m×k×n products: sync binding (the engine's path), public async API, JS. */
async function overhead(): Promise<void> {
  const k = createOrtKernel({ minWork: 0 });
  if (!k) return;
  const session = await ort.InferenceSession.create(gemmModel(false, false), {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    extra: { session: { intra_op: { allow_spinning: '0' } } },
  });
  const rng = new ModelRng(3, 'overhead');
  for (const [m, kk, n] of [
    [8, 8, 8],
    [16, 16, 32],
    [32, 32, 32],
    [64, 64, 64],
    [256, 1024, 512],
  ]) {
    const a = Float32Array.from({ length: m * kk }, () => rng.normal());
    const b = Float32Array.from({ length: kk * n }, () => rng.normal());
    const reps = m * kk * n > 1e6 ? 30 : 2000;
    const time = async (f: () => unknown) => {
      for (let i = 0; i < 5; i++) await f();
      const t0 = performance.now();
      for (let i = 0; i < reps; i++) await f();
      return ((performance.now() - t0) / reps) * 1000;
    };
    const sync = await time(() => k.gemm(a, b, m, kk, n, false, false));
    const asyncApi = await time(() => session.run({ A: new ort.Tensor('float32', a, [m, kk]), B: new ort.Tensor('float32', b, [kk, n]) }));
    const js = await time(() => jsKernel.gemm(a, b, m, kk, n, false, false));
    console.log(`  ${m}×${kk}×${n}: ort sync ${sync.toFixed(1)} µs, ort async API ${asyncApi.toFixed(1)} µs, js ${js.toFixed(1)} µs`);
  }
  await session.release();
  k.dispose();
}

export default async function main(args: string[]): Promise<void> {
  const which = arg(args, 'engine', 'both');
  console.log(
    `train-step: batch ${arg(args, 'batch', '256')}, heads 3×(1024→512→256), fusion 771→512→256, AdamW; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}`,
  );
  if (which === 'both' || which === 'ort') await runEngine('ort', args);
  if (which === 'both' || which === 'js') await runEngine('js', args);
  if (args.includes('--overhead')) {
    console.log('per-call cost of one product:');
    await overhead();
  }
}
