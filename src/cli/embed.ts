import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EmbeddingsWriter, SYSTEM_ENTITY } from '../encode/index.js';
import { checkOutput } from '../sources/index.js';
import { loadCheckpoint, type Modality, embedWindows, embeddingRows, entityNames } from '../model/index.js';
import { addModelDataOptions, loadModelWindows, maskArg, modelWindowSpec, positiveIntArg, run, showProgress, type CacheCliOptions } from './common.js';

interface EmbedCliOptions extends CacheCliOptions {
  model: string;
  data: string;
  out: string;
  entities?: boolean;
  mask: Modality[];
  batch: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  json?: boolean;
}

export function register(program: Command): void {
  const embed = program
    .command('embed')
    .description('state and modality embeddings per window (and per service with --entities) from a trained model; writes an Arrow IPC file')
    .requiredOption('--model <file>', 'model checkpoint written by `train`')
    .requiredOption('--data <path>', 'telemetry folder, or an encode output (.arrow) made with the model\'s backbone')
    .requiredOption('--out <file>', 'Arrow IPC file to write (.arrow)')
    .option('--entities', 'also embed each service\'s views (rows with entity = service)')
    .option('--mask <modalities>', 'modalities treated as absent in every window, e.g. traces,logs (Nezha: they exist only near faults)', maskArg, [])
    .option('--batch <n>', 'windows per forward pass', positiveIntArg, 1024);
  addModelDataOptions(embed)
    .option('--json', 'print the result summary as one JSON object')
    .addHelpText('after', '\nColumns: window_index, window_start, window_end, case_id, entity (__system__ or a service), kind (state|metrics|traces|logs), vector, abnormal, root_cause, root_cause_service, fault_type.\n\nExample:\n  runtimeslicer embed --model model.rsm --data ../shared/datasets/nezha-trainticket --mask traces,logs --out states.arrow')
    .action((o: EmbedCliOptions) => run(() => embedCommand(o)));
}

async function embedCommand(o: EmbedCliOptions): Promise<void> {
  const t0 = performance.now();
  // before any work: never replace the model or the data, and fail now if it cannot be written
  const out = checkOutput(o.out, [o.model, o.data]);
  const ckpt = await loadCheckpoint(o.model);
  const { header, model } = ckpt;
  const spec = modelWindowSpec(o, header.window);
  const te = performance.now();
  const windows = await loadModelWindows(o.data, { ...o, ckpt, spec, show: showProgress(o.json) });
  const encodeMs = performance.now() - te;
  const tm = performance.now();
  const writer = await EmbeddingsWriter.open(out, {
    model: resolve(o.model),
    backbone: header.backbone.id,
    state_dim: model.config.stateDim,
    modality_dim: model.config.modalityDim,
    window: spec,
    mask: o.mask,
    system_entity: SYSTEM_ENTITY,
    entities: !!o.entities,
    data: resolve(o.data),
  });
  let embedded = 0;
  try {
    // System rows in slices, so memory stays one slice of embeddings whatever the data's size.
    const slice = Math.max(o.batch, 4096);
    for (let b = 0; b < windows.length; b += slice) {
      const part = windows.slice(b, b + slice);
      await writer.write(embeddingRows(part, embedWindows(model, part, { mask: o.mask, batchSize: o.batch })));
      embedded += part.length;
    }
    if (o.entities) {
      for (const entity of entityNames(windows)) {
        const part = windows.filter((w) => w.entities?.has(entity));
        await writer.write(embeddingRows(part, embedWindows(model, part, { mask: o.mask, batchSize: o.batch, entity }), entity));
      }
    }
    await writer.close();
  } catch (e) {
    await writer.abort();
    throw e;
  }
  const modelMs = performance.now() - tm;
  const summary = {
    out,
    windows: embedded,
    rows: writer.rows,
    stateDim: model.config.stateDim,
    modalityDim: model.config.modalityDim,
    mask: o.mask,
    timings: { encodeMs, embedMs: modelMs, totalMs: performance.now() - t0 },
  };
  process.stdout.write(o.json ? JSON.stringify(summary) + '\n' : `wrote ${summary.out}: ${summary.rows} rows (${summary.windows} windows, state ${summary.stateDim}-d) in ${(summary.timings.totalMs / 1000).toFixed(1)} s\n`);
}
