/**
 * One InfoNCE training step at batch 256 for the reference configuration: three 1024→512→256
 * projection heads, a (3·256 + 3)→512→256 gated fusion, AdamW with global-norm clipping.
 * Prints the median ms/step over the measured steps (after warm-up) per engine, split into
 * forward (model + loss), backward and optimiser.
 *
 *   npm run bench -- train-step [--steps 15] [--warmup 3] [--engine both|ort|js] [--batch 256]
 *     [--activation relu|gelu] [--threads 2]
 */
import { cpus, loadavg } from 'node:os';
import { AdamW, ModelRng, setEngine, StateModel, totalLoss, type StateBatch } from '../src/model/index.js';
import { createOrtKernel } from '../src/model/engine/index.js';

function arg(args: string[], name: string, fallback: string): string {
  const k = args.indexOf(`--${name}`);
  return k >= 0 && k + 1 < args.length ? args[k + 1] : fallback;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

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
  const threads = Number(arg(args, 'threads', '2'));
  if (engine === 'ort') {
    const k = createOrtKernel({ intraOpThreads: threads });
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

export default async function main(args: string[]): Promise<void> {
  const which = arg(args, 'engine', 'both');
  console.log(
    `train-step: batch ${arg(args, 'batch', '256')}, heads 3×(1024→512→256), fusion 771→512→256, AdamW; ` +
      `${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load ${loadavg()[0].toFixed(2)}`,
  );
  if (which === 'both' || which === 'ort') await runEngine('ort', args);
  if (which === 'both' || which === 'js') await runEngine('js', args);
}
