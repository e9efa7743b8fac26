/**
 * Pre-training time on a real folder: encode every window (views + hash vectors, in memory),
 * then train the default StateModel for 10 epochs. Prints per run and the median: encode and
 * training time, windows and steps. Target (issue 7): 10 epochs over all nezha-trainticket
 * windows (5 min / 1 min) with the hash backbone in ≤ 3 min.
 *
 *   npm run bench -- train [--data PATH] [--runs 3] [--epochs 10] [--batch 256] [--backbone hash]
 *     [--window 5m] [--stride 1m]
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createBackbone } from '../src/encode/index.js';
import { encodeWindows, windowInputDims } from '../src/model/data.js';
import { engineInfo } from '../src/model/index.js';
import { trainStateModel } from '../src/model/trainer.js';
import { loadDataset } from '../src/sources/index.js';
import { parseDuration } from '../src/telemetry/index.js';
import { arg, median } from './util.js';



export default async function (args: string[]): Promise<void> {
  const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../shared/datasets', import.meta.url));
  const data = arg(args, 'data', `${datasets}/nezha-trainticket`);
  if (!existsSync(data)) {
    console.log(`train bench: ${data} absent; skipped`);
    return;
  }
  const runs = Number(arg(args, 'runs', '3'));
  const epochs = Number(arg(args, 'epochs', '10'));
  const batchSize = Number(arg(args, 'batch', '256'));
  const spec = { lengthMs: parseDuration(arg(args, 'window', '5m')), strideMs: parseDuration(arg(args, 'stride', '1m')) };
  const backboneSpec = arg(args, 'backbone', 'hash');
  const rows: { encode: number; train: number; val: number; total: number; windows: number; steps: number; final?: number }[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const ds = await loadDataset(data);
    const backbone = await createBackbone(backboneSpec);
    const windows = await encodeWindows(ds, { spec, backbone });
    const t1 = performance.now();
    const res = await trainStateModel(windows, { inputDims: windowInputDims(backbone.dim), epochs, batchSize, seed: r, patience: 0 });
    const t2 = performance.now();
    await backbone.dispose?.();
    const row = {
      encode: (t1 - t0) / 1000,
      train: res.timings.trainMs / 1000,
      val: res.timings.valMs / 1000,
      total: (t2 - t0) / 1000,
      windows: windows.length,
      steps: res.steps,
      final: res.history[res.history.length - 1]?.train.total,
    };
    rows.push(row);
    console.log(
      `run ${r + 1}/${runs}: ${row.windows} windows, ${row.steps} steps; encode ${row.encode.toFixed(1)} s, train ${row.train.toFixed(1)} s, validation ${row.val.toFixed(1)} s, total ${row.total.toFixed(1)} s; last train loss ${row.final?.toFixed(3)}`,
    );
  }
  const m = (k: 'encode' | 'train' | 'val' | 'total') => median(rows.map((x) => x[k]));
  console.log(`engine ${engineInfo().name}; ${epochs} epochs, batch ${batchSize}, backbone ${backboneSpec}, ${spec.lengthMs / 60000} min / ${spec.strideMs / 60000} min windows`);
  console.log(`median of ${runs}: encode ${m('encode').toFixed(1)} s, train ${m('train').toFixed(1)} s (${((rows[0].steps / m('train')) || 0).toFixed(1)} steps/s, ${((rows[0].windows * epochs) / m('train')).toFixed(0)} windows/s), validation ${m('val').toFixed(1)} s, total ${m('total').toFixed(1)} s (target ≤ 180 s)`);
}
