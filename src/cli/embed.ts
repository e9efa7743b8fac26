import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EmbeddingCache, EmbeddingsWriter, SYSTEM_ENTITY, createBackbone } from '../encode/index.js';
import { checkOutput } from '../sources/index.js';
import { UserError } from '../telemetry/index.js';
import { checkCompatible, loadCheckpoint, type Modality, currentFeatureLayouts, embedWindows, embeddingRows, encodeWindows, entityNames, readEncodedWindows, type EncodedWindow } from '../model/index.js';
import { Progress, durationArg, positiveIntArg, run, warnStrideGap, faultDurationOption, openDataset, noteDataProblems } from './common.js';

interface EmbedCliOptions {
  model: string;
  data: string;
  out: string;
  entities?: boolean;
  mask: Modality[];
  batch: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  cache: boolean;
  cacheDir?: string;
  allowRemote?: boolean;
  json?: boolean;
}

function maskArg(value: string): Modality[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (p !== 'metrics' && p !== 'traces' && p !== 'logs') throw new InvalidArgumentError(`expected a comma-separated list of metrics, traces, logs; got "${p}"`);
  return parts as Modality[];
}

export function register(program: Command): void {
  program
    .command('embed')
    .description('state and modality embeddings per window (and per service with --entities) from a trained model; writes an Arrow IPC file')
    .requiredOption('--model <file>', 'model checkpoint written by `train`')
    .requiredOption('--data <path>', 'telemetry folder, or an encode output (.arrow) made with the model\'s backbone')
    .requiredOption('--out <file>', 'Arrow IPC file to write (.arrow)')
    .option('--entities', 'also embed each service\'s views (rows with entity = service)')
    .option('--mask <modalities>', 'modalities treated as absent in every window, e.g. traces,logs (Nezha: they exist only near faults)', maskArg, [])
    .option('--batch <n>', 'windows per forward pass', positiveIntArg, 1024)
    .option('--window <duration>', 'window length (default: the model\'s)', durationArg)
    .option('--stride <duration>', 'window stride (default: the model\'s)', durationArg)
    .addOption(faultDurationOption())
    .option('--no-cache', 'do not use the on-disk embedding cache')
    .option('--cache-dir <dir>', 'embedding cache folder (default $RUNTIMESLICER_CACHE/embeddings or ~/.cache/runtimeslicer/embeddings)')
    .option('--allow-remote', 'allow fetching an onnx: hub model (off by default)')
    .option('--json', 'print the result summary as one JSON object')
    .addHelpText('after', '\nColumns: window_index, window_start, window_end, case_id, entity (__system__ or a service), kind (state|metrics|traces|logs), vector, abnormal, root_cause, root_cause_service, fault_type.\n\nExample:\n  runtimeslicer embed --model model.rsm --data ../shared/datasets/nezha-trainticket --mask traces,logs --out states.arrow')
    .action((o: EmbedCliOptions) => run(() => embedCommand(o)));
}

async function embedCommand(o: EmbedCliOptions): Promise<void> {
  const t0 = performance.now();
  // before any work: never replace the model or the data, and fail now if it cannot be written
  const out = checkOutput(o.out, [o.model, o.data]);
  const { header, model } = await loadCheckpoint(o.model);
  const show = !o.json && process.stderr.isTTY === true;
  const spec = { lengthMs: o.window ?? header.window.lengthMs, strideMs: o.stride ?? header.window.strideMs };
  warnStrideGap(spec);
  let windows: EncodedWindow[];
  const te = performance.now();
  if (/\.(arrow|feather|ipc)$/i.test(o.data) && existsSync(o.data) && statSync(o.data).isFile()) {
    const r = await readEncodedWindows(o.data, { entities: o.entities });
    checkCompatible(header, { backboneId: r.info.backboneId, dim: r.info.dim, viewsVersion: r.info.viewsVersion, layouts: r.info.featureLayouts }, o.data);
    if (o.entities && !r.info.entities) throw new UserError(`${o.data} has no per-service rows (encoded with --no-entities); drop --entities or re-encode`);
    windows = r.windows;
  } else {
    const { viewsVersion, layouts } = currentFeatureLayouts();
    checkCompatible(header, { viewsVersion, layouts }, 'this RuntimeSlicer\'s views');
    const ds = await openDataset(o.data, { faultDurationMs: o.faultDuration });
    const backbone = await createBackbone(header.backbone.spec, { allowRemote: o.allowRemote });
    const cache = o.cache ? new EmbeddingCache({ dir: o.cacheDir }) : undefined;
    let bar: Progress | undefined;
    let phase = '';
    try {
      checkCompatible(header, { backboneId: backbone.id, dim: backbone.dim }, `backbone ${header.backbone.spec} here`);
      windows = await encodeWindows(ds, {
        spec,
        backbone,
        cache,
        entities: o.entities,
        onProgress: (p) => {
          if (p.phase !== phase) {
            phase = p.phase;
            bar?.stop();
            bar = new Progress(p.phase === 'fit' ? 'fitting baselines' : 'encoding', p.total, show);
          }
          bar?.update(p.windows);
        },
      });
      bar?.stop();
      noteDataProblems(ds, o.data);
    } finally {
      bar?.stop();
      cache?.close();
      await backbone.dispose?.();
    }
  }
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
