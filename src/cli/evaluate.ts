import { InvalidArgumentError, type Command } from 'commander';
import { basename } from 'node:path';
import { EmbeddingCache, createBackbone } from '../encode/index.js';
import { checkOutput } from '../sources/index.js';
import { UserError } from '../telemetry/index.js';
import { DEFAULT_BURST_GAP_MS } from '../windows/index.js';
import { checkCompatible, currentFeatureLayouts, loadCheckpoint, requireReadout, type StateModel } from '../model/index.js';
import { evaluateDataset, formatEvaluateMarkdown, parseFoldSeeds, writeEvaluateJson } from '../eval/index.js';
import { checkTasksColumn, tasksColumnNames, type TasksColumnInput } from '../eval/evaluate/tasks-column.js';
import { TasksFile } from '../tasks/index.js';
import { PhaseProgress, Progress, allowRemoteOption, cacheDirOption, durationArg, noCacheOption, intArg, nonNegativeIntArg, resolveWindowSpec, run, savedWindowHelp, showProgress, warnStrideGap, faultDurationOption, openDataset, noteDataProblems } from './common.js';

function foldSeedsArg(v: string): number[] {
  try {
    return parseFoldSeeds(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message.replace(/^--fold-seeds: /, ''));
  }
}

interface EvaluateCliOptions {
  data?: string;
  model?: string[];
  json?: string;
  folds: number;
  seed: number;
  burstGap: number;
  backbone?: string;
  window?: number;
  stride?: number;
  faultDuration: number;
  evidence: boolean;
  cache: boolean;
  cacheDir?: string;
  allowRemote?: boolean;
  tasks?: string[];
  foldSeeds?: number[];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Column names for the models: `model` for one, file names (made unique) for several. */
function modelNames(paths: readonly string[]): string[] {
  if (paths.length === 1) return ['model'];
  const base = paths.map((p) => basename(p));
  return base.map((b, i) => (base.indexOf(b) === i && base.lastIndexOf(b) === i ? b : paths[i]));
}

/** `runtimeslicer evaluate`: the harness of docs/evaluate.md. */
export function registerEvaluate(program: Command): void {
  program
    .command('evaluate')
    .description(
      'detection, localization and classification under grouped folds (docs/evaluate.md): leak sentinels (time-only, nearest-fault, prior), raw view features, raw backbone vectors, the evidence localizer and each --model in one run; a Table-1-shaped Markdown table on stdout',
    )
    .option('--data <path>', 'telemetry folder (Nezha export, AIOps 2022 events, OTLP / simulator output)')
    .option('--model <file>', 'trained model (repeatable): a column each, named "model" (one) or by file', collect)
    .option('--json <file>', 'also write the report as one JSON object to this file (atomically)')
    .option('--folds <n>', 'folds', intArg(2), 5)
    .option('--seed <n>', 'seed of the fold assignment', nonNegativeIntArg, 0)
    .option('--fold-seeds <list>', 'also run every detection column under each of these fold seeds (e.g. 0-4 or 0,2,7) and print each seed\'s event-F1 with the mean: one seed\'s figure can be a lucky draw where there are few fault groups (docs/evaluate.md)', foldSeedsArg)
    .option('--burst-gap <duration>', 'Nezha layout: a fault this close to the previous one joins its injection burst (a fold group)', durationArg, DEFAULT_BURST_GAP_MS)
    .option('--backbone <spec>', "backbone when no model is given (default hash); with a model it must match the model's")
    .option('--window <duration>', savedWindowHelp('length'), durationArg)
    .option('--stride <duration>', savedWindowHelp('stride'), durationArg)
    .addOption(faultDurationOption())
    .option('--no-evidence', 'leave out the evidence localizer column (the slowest)')
    .addOption(noCacheOption())
    .addOption(cacheDirOption())
    .addOption(allowRemoteOption())
    .option('--tasks <file>', 'tasks file fitted by `runtimeslicer tune` on OTHER data (repeatable): a column each ("tasks", or "tasks:<file>" with several) applying it to every labelled fault and window of --data as `detect --tasks` and `localize --at <fault start> --tasks` do (held out by run, no folds; docs/evaluate.md)', collect)
    .action((o: EvaluateCliOptions) =>
      run(async () => {
        if (!o.data) throw new UserError('--data <path> is required', 2);
        const modelPaths = o.model ?? [];
        const tasksPaths = o.tasks ?? [];
        const jsonOut = o.json !== undefined ? checkOutput(o.json, [o.data, ...modelPaths, ...tasksPaths], { label: '--json' }) : undefined;
        const tasksNames = tasksColumnNames(tasksPaths);
        const tasks: TasksColumnInput[] = [];
        for (const [i, path] of tasksPaths.entries()) tasks.push({ name: tasksNames[i], path, tasks: await TasksFile.load(path) });
        const loaded: { name: string; model: StateModel; spec: string; window?: { lengthMs: number; strideMs: number }; check: (id: string, dim: number) => void }[] = [];
        const names = modelNames(modelPaths);
        const views = currentFeatureLayouts();
        for (const [i, path] of modelPaths.entries()) {
          const { header, model } = await loadCheckpoint(path);
          requireReadout(model, path);
          loaded.push({
            name: names[i],
            model,
            spec: header.backbone.spec,
            window: header.window,
            check: (id, dim) => checkCompatible(header, { backboneId: id, dim, viewsVersion: views.viewsVersion, layouts: views.layouts }, `data for ${path}`),
          });
        }
        const specs = new Set(loaded.map((m) => m.spec));
        if (specs.size > 1) throw new UserError(`the models were trained on different backbones (${[...specs].join(', ')}); evaluate them one backbone at a time`);
        const backboneSpec = loaded[0]?.spec ?? o.backbone ?? 'hash';
        if (o.backbone !== undefined && loaded.length > 0 && o.backbone !== backboneSpec) throw new UserError(`--backbone ${o.backbone} does not match the model's backbone ${backboneSpec}`);
        // the window of the model, else of the (first) tasks file, else the default
        const spec = resolveWindowSpec(o, loaded[0]?.window, tasks[0]?.tasks.doc.window);
        warnStrideGap(spec);
        const ds = await openDataset(o.data, { faultDurationMs: o.faultDuration, needsLabels: 'evaluate' });
        for (const t of tasks) checkTasksColumn(ds, t, spec, backboneSpec);
        const backbone = await createBackbone(backboneSpec, { allowRemote: o.allowRemote });
        const cache = o.cache ? new EmbeddingCache({ dir: o.cacheDir }) : undefined;
        const show = showProgress();
        let bar: Progress | undefined;
        let phase = '';
        try {
          for (const m of loaded) m.check(backbone.id, backbone.dim);
          const result = await evaluateDataset(ds, {
            backbone,
            cache,
            spec,
            folds: o.folds,
            seed: o.seed,
            burstGapMs: o.burstGap,
            ...(o.foldSeeds ? { foldSeeds: o.foldSeeds } : {}),
            models: loaded.map((m) => ({ name: m.name, model: m.model })),
            evidence: o.evidence,
            tasks,
            tasksProgress: new PhaseProgress(show, (ph) => `${basename(o.data as string)}: tasks ${ph}`),
            name: basename(o.data.replace(/\/+$/, '')),
            onProgress: (p) => {
              if (p.phase !== phase) {
                phase = p.phase;
                bar?.stop();
                bar = new Progress(`${basename(o.data as string)}: ${p.phase === 'fit' ? 'fitting baselines' : 'encoding'}`, p.total, show);
              }
              bar?.update(p.windows);
            },
            onPhase: (ph) => {
              if (ph !== 'encoding') {
                bar?.stop();
                bar = undefined;
                if (show) process.stderr.write(`${ph}…\n`);
              }
            },
          });
          bar?.stop();
          noteDataProblems(ds, o.data);
          process.stdout.write(formatEvaluateMarkdown(result.report));
          if (jsonOut) await writeEvaluateJson(jsonOut, result.report);
        } finally {
          bar?.stop();
          cache?.close();
          await backbone.dispose?.();
        }
      }),
    );
}
