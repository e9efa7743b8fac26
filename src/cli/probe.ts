import type { Command } from 'commander';
import type { Backbone } from '../encode/index.js';
import { basename } from 'node:path';
import { UserError } from '../telemetry/index.js';
import { createBackbone } from '../encode/index.js';
import { checkCompatible, currentFeatureLayouts, encodeWindows, loadCheckpoint, type StateModel } from '../model/index.js';
import {
  DEFAULT_MIN_GAP_MS,
  DEFAULT_PROBE_K,
  formatProbeReport,
  modelEmbedder,
  probeDataset,
  probeSourceOf,
  rawBackboneEmbedder,
  timeEmbedder,
  type NamedEmbedder,
  type ProbeReport,
} from '../eval/index.js';
import { allowRemoteOption, cacheDirOption, durationArg, faultDurationOption, modelWindowSpec, noCacheOption, noteDataProblems, openCache, openDataset, positiveIntArg, run, savedWindowHelp, showProgress, withEncodeProgress, type CacheCliOptions } from './common.js';

interface ProbeModel {
  model: StateModel;
  backboneSpec: string;
  window?: { lengthMs: number; strideMs: number };
  /** refuses data from another backbone or feature layout, with a one-line message */
  check(backbone: Backbone): void;
}

async function loadProbeModel(path: string): Promise<ProbeModel> {
  const { header, model } = await loadCheckpoint(path);
  const views = currentFeatureLayouts();
  return {
    model,
    backboneSpec: header.backbone.spec,
    window: header.window,
    check: (backbone) => checkCompatible(header, { backboneId: backbone.id, dim: backbone.dim, viewsVersion: views.viewsVersion, layouts: views.layouts }, `data for ${path}`),
  };
}

interface ProbeCliOptions extends CacheCliOptions {
  model?: string[];
  data?: string[];
  backbone?: string;
  window?: number;
  stride?: number;
  faultDuration: number;
  k: number;
  minGap: number;
  json?: boolean;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Column names for the models: file names, made unique when two share one. */
function modelNames(paths: readonly string[]): string[] {
  const base = paths.map((p) => basename(p));
  return base.map((b, i) => (base.indexOf(b) === i && base.lastIndexOf(b) === i ? b : paths[i]));
}

export function register(program: Command): void {
  program
    .command('probe')
    .description(
      'score state embeddings against what each dataset can honestly tell (docs/probe.md): Nezha — fault type and root cause among fault windows, fault vs normal on metrics only; simulator folders — fault vs normal and workload regime; AIOps 2022 — type and root cause over cases grouped by failure. The raw backbone and time alone are scored beside each model',
    )
    .option('--model <file>', 'trained model (repeatable; columns named by file); without one, only the baselines are scored', collect)
    .option('--data <path>', 'telemetry folder (repeatable)', collect)
    .option('--backbone <spec>', "backbone when no model is given (default hash); with a model it must match the model's")
    .option('--window <duration>', savedWindowHelp('length'), durationArg)
    .option('--stride <duration>', savedWindowHelp('stride'), durationArg)
    .addOption(faultDurationOption())
    .option('--k <n>', 'neighbours', positiveIntArg, DEFAULT_PROBE_K)
    .option('--min-gap <duration>', '(a) is also scored with neighbours at least this far apart in time', durationArg, DEFAULT_MIN_GAP_MS)
    .addOption(noCacheOption())
    .addOption(cacheDirOption())
    .addOption(allowRemoteOption())
    .option('--json', 'print one JSON object')
    .action((o: ProbeCliOptions) =>
      run(async () => {
        const modelPaths = o.model ?? [];
        const dataPaths = o.data ?? [];
        if (dataPaths.length === 0) throw new UserError('--data <path> is required (repeatable)', 2);
        const models: ProbeModel[] = [];
        for (const path of modelPaths) models.push(await loadProbeModel(path));
        const specs = new Set(models.map((m) => m.backboneSpec));
        if (specs.size > 1) throw new UserError(`the models were trained on different backbones (${[...specs].join(', ')}); probe them one backbone at a time`);
        const backboneSpec = models[0]?.backboneSpec ?? o.backbone ?? 'hash';
        if (o.backbone !== undefined && models.length > 0 && o.backbone !== backboneSpec) {
          throw new UserError(`--backbone ${o.backbone} does not match the model's backbone ${backboneSpec}`);
        }
        const spec = modelWindowSpec(o, models[0]?.window);
        const backbone = await createBackbone(backboneSpec, { allowRemote: o.allowRemote });
        const cache = openCache(o);
        const show = showProgress(o.json);
        const reports: ProbeReport[] = [];
        try {
          for (const m of models) m.check(backbone);
          const names = modelNames(modelPaths);
          const embedders: NamedEmbedder[] = [
            { name: 'raw backbone', embed: rawBackboneEmbedder(backbone.dim) },
            { name: 'time only', embed: timeEmbedder },
            ...models.map((m, i) => ({ name: names[i], embed: modelEmbedder(m.model) })),
          ];
          for (const path of dataPaths) {
            const ds = await openDataset(path, { faultDurationMs: o.faultDuration, needsLabels: 'probe' });
            const windows = await withEncodeProgress(show, basename(path), (onProgress) => encodeWindows(ds, { spec, backbone, cache, onProgress }));
            noteDataProblems(ds, path);
            const src = await probeSourceOf(ds, windows, path);
            reports.push(probeDataset(src, embedders, { k: o.k, minGapMs: o.minGap }));
          }
        } finally {
          cache?.close();
          await backbone.dispose?.();
        }
        if (o.json) {
          process.stdout.write(JSON.stringify({ backbone: backbone.id, window: spec, models: modelPaths, reports }) + '\n');
        } else {
          process.stdout.write(`backbone ${backbone.id}, windows ${spec.lengthMs / 60_000} min / ${spec.strideMs / 60_000} min\n\n` + reports.map(formatProbeReport).join('\n'));
        }
      }),
    );
}
