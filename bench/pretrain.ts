/**
 * Pre-training at scale (issue 13): nezha-trainticket + aiops22-pod + 12 simulator hours (three
 * 4-hour runs, one per topology, written to a temporary folder), hash backbone, the default
 * trainer (every default term, early stopping), then the embed throughput of the trained model
 * over all those windows. Targets: ≤ 5 min in all on 2 cores; embed ≥ 5,000 windows/s.
 *
 *   npm run bench -- pretrain [--epochs 10] [--sim-hours 12] [--view] [--keep DIR]
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackbone } from '../src/encode/index.js';
import { combinedEmbeddings, embedWindows, engineInfo, loadTrainingSources, trainStateModel, windowInputDims } from '../src/model/index.js';
import { simulate } from '../src/simulate/index.js';
import { arg, median } from './util.js';

const TOPOLOGIES = ['boutique', 'chain', 'mesh'] as const;

export default async function (args: string[]): Promise<void> {
  const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url));
  const real = ['nezha-trainticket', 'aiops22-pod'].map((d) => join(datasets, d)).filter((p) => existsSync(p));
  if (real.length < 2) console.log(`pretrain bench: ${datasets} lacks nezha-trainticket or aiops22-pod; training on what is there (${real.length} real folder(s))`);
  const epochs = Number(arg(args, 'epochs', '10'));
  const simHours = Number(arg(args, 'sim-hours', '12'));
  const keep = arg(args, 'keep', '');
  const dir = keep || mkdtempSync(join(tmpdir(), 'rs-bench-pretrain-'));
  try {
    const t0 = performance.now();
    const sims: string[] = [];
    const per = simHours / TOPOLOGIES.length;
    for (const [k, topology] of TOPOLOGIES.entries()) {
      const out = join(dir, `sim-${topology}`);
      await simulate({ outDir: out, hours: per, seed: 101 + k, faults: Math.max(1, Math.round(per * 3.5)), topology });
      sims.push(out);
    }
    const t1 = performance.now();
    const backbone = await createBackbone('hash');
    const spec = { lengthMs: 300_000, strideMs: 60_000 };
    const { windows, sources } = await loadTrainingSources([...real, ...sims], { backbone, spec, faultDuration: 180_000 });
    const t2 = performance.now();
    const res = await trainStateModel(windows, { inputDims: windowInputDims(backbone.dim), epochs, seed: 0, terms: { view: args.includes('--view') } });
    const t3 = performance.now();
    // Embed throughput: model forward over every window, batches of 1,024 (as `embed` does);
    // the first pass also creates the ORT sessions, so the median of three passes after it.
    embedWindows(res.model, windows.slice(0, 1024));
    const passes: number[] = [];
    for (let k = 0; k < 3; k++) {
      const e0 = performance.now();
      embedWindows(res.model, windows);
      passes.push(performance.now() - e0);
    }
    const embedMs = median(passes);
    // What the tasks read: the combined embedding [d ⊕ t̂] (forward + readout), same passes.
    const cpasses: number[] = [];
    for (let k = 0; k < 3; k++) {
      const e0 = performance.now();
      combinedEmbeddings(res.model, windows);
      cpasses.push(performance.now() - e0);
    }
    const combinedMs = median(cpasses);
    await backbone.dispose?.();
    const s = (a: number, b: number) => ((b - a) / 1000).toFixed(1);
    for (const src of sources) console.log(`source ${src.path}: ${src.windows} windows (${src.format})`);
    console.log(`engine ${engineInfo().name}; hash backbone; ${windows.length} windows; terms ${Object.entries(res.terms).filter(([, v]) => v).map(([k]) => k).join('+')}`);
    console.log(`simulate ${simHours} h: ${s(t0, t1)} s; encode all sources: ${s(t1, t2)} s; train: ${s(t2, t3)} s (${res.epochs} epochs, ${res.stopReason}, best ${res.bestEpoch + 1}, ${res.steps} steps, ${res.trainWindows} training + ${res.valWindows} validation windows)`);
    console.log(`total ${s(t0, t3)} s (target ≤ 300 s)`);
    console.log(`embed (median of 3 warm passes): ${windows.length} windows in ${(embedMs / 1000).toFixed(2)} s = ${Math.round(windows.length / (embedMs / 1000))} windows/s (target ≥ 5,000)`);
    console.log(`combined embedding [d ⊕ t̂] (median of 3): ${Math.round(windows.length / (combinedMs / 1000))} windows/s`);
    const last = res.history[res.history.length - 1];
    console.log(`last epoch: train ${JSON.stringify(last?.train)} val ${JSON.stringify(last?.val)}`);
  } finally {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}
