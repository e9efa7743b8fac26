import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { createBackbone } from '../encode/index.js';
import { checkOutput } from '../sources/index.js';
import { UserError } from '../telemetry/index.js';
import { currentFeatureLayouts, loadTrainingSources, windowInputDims, type EncodedWindow, saveCheckpoint, trainStateModel, type LossMeans, type TrainProgress, type EarlyStopCriterion } from '../model/index.js';
import { Exclusions, selectTrainingWindows } from '../windows/index.js';
import { PhaseProgress, allowRemoteOption, backboneOption, cacheDirOption, intArg, noCacheOption, nonNegativeIntArg, openCache, positiveIntArg, positiveNumberArg, run, showProgress, splitArg, warnStrideGap, openDataset, noteDataProblems, windowOption, strideOption, faultDurationOption, type CacheCliOptions } from './common.js';

interface TrainCliOptions extends CacheCliOptions {
  data: string[];
  backbone: string;
  out: string;
  epochs: number;
  batch: number;
  lr: number;
  seed: number;
  window: number;
  stride: number;
  faultDuration: number;
  stateDim: number;
  hidden: number;
  modalityDim: number;
  tau: number;
  lambdaT: number;
  lambdaA: number;
  lambdaD: number;
  deviation: boolean;
  view?: boolean;
  entities?: boolean;
  weakLabels?: boolean;
  weakLabelsFrom?: string[];
  temporal: boolean;
  modal: boolean;
  anomaly: boolean;
  exclude?: string;
  trainSplit?: 'train' | 'test';
  valShare: number;
  patience: number;
  earlyStop: EarlyStopCriterion;
  residual?: boolean;
  resume?: boolean;
  json?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function earlyStopArg(value: string): EarlyStopCriterion {
  if (value !== 'loss' && value !== 'reconstruction') throw new InvalidArgumentError(`expected "loss" or "reconstruction", got "${value}"`);
  return value;
}

function shareArg(value: string): number {
  const n = Number(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError(`expected a number in [0, 1), got "${value}"`);
  return n;
}

function nonNegativeArg(value: string): number {
  const n = Number(value);
  if (!(n >= 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number ≥ 0, got "${value}"`);
  return n;
}

function fmt(v: number | undefined): string {
  return v === undefined ? '–' : v.toFixed(3);
}

function lossText(l: LossMeans | undefined): string {
  if (!l) return '';
  return `total ${fmt(l.total)} (modal ${fmt(l.modal)}, temporal ${fmt(l.temporal)}, anomaly ${fmt(l.anomaly)}, deviation ${fmt(l.deviation)}${l.view !== undefined ? `, view ${fmt(l.view)}` : ''})${l.reconstruction !== undefined ? `, reconstruction ${fmt(l.reconstruction)}` : ''}`;
}

/**
 * Which training windows offer their labels to the weak anomaly term: all (--weak-labels), those
 * of some sources (--weak-labels-from), or none. `sources` lists, in --data order, how many
 * windows each source contributed to `windows`.
 */
function weakLabelPolicy(o: TrainCliOptions, windows: readonly EncodedWindow[], sources: readonly { windows: number }[]): boolean | ((w: EncodedWindow) => boolean) {
  if (!o.weakLabelsFrom?.length) return !!o.weakLabels;
  const wanted = new Set(o.weakLabelsFrom.map((p) => resolve(p)));
  const given = o.data.map((p) => resolve(p));
  for (const p of wanted) if (!given.includes(p)) throw new UserError(`--weak-labels-from ${p}: not one of the --data sources`);
  const chosen = new Set<EncodedWindow>();
  let offset = 0;
  given.forEach((p, i) => {
    const n = sources[i].windows;
    if (wanted.has(p)) for (let k = offset; k < offset + n; k++) chosen.add(windows[k]);
    offset += n;
  });
  return (w) => chosen.has(w);
}

export function register(program: Command): void {
  program
    .command('train')
    .description('pre-train the state model (contrastive, no task labels) on one or more telemetry folders; writes a model checkpoint')
    .requiredOption('--data <path>', 'telemetry folder or encode output (.arrow); repeat to mix sources', collect)
    .addOption(backboneOption())
    .requiredOption('--out <model>', 'checkpoint file to write (state goes to <model>.resume after each epoch)')
    .option('--epochs <n>', 'training epochs', positiveIntArg, 20)
    .option('--batch <n>', 'windows per batch (at least 2: the contrastive terms need a pair)', intArg(2), 256)
    .option('--lr <rate>', 'peak learning rate (linear warm-up over 5% of the steps, then cosine decay)', positiveNumberArg, 1e-3)
    .option('--seed <n>', 'seed of the weights, the validation split and the batches', nonNegativeIntArg, 0)
    .addOption(windowOption())
    .addOption(strideOption())
    .addOption(faultDurationOption())
    .option('--state-dim <n>', 'width of the state embedding', positiveIntArg, 128)
    .option('--modality-dim <n>', 'width of the modality embeddings', positiveIntArg, 256)
    .option('--hidden <n>', 'hidden width of the projection heads and the fusion', positiveIntArg, 512)
    .option('--tau <t>', 'InfoNCE temperature', positiveNumberArg, 0.1)
    .option('--lambda-t <w>', 'weight of the temporal term', nonNegativeArg, 0.5)
    .option('--lambda-a <w>', 'weight of the weak anomaly term (with --weak-labels)', nonNegativeArg, 0.1)
    .option('--lambda-d <w>', 'weight of the deviation term (the state embedding reconstructs the robust feature deviations)', nonNegativeArg, 1)
    .option('--weak-labels', 'use the anomaly labels of training windows (never of excluded ones) for the weak separation term')
    .option('--weak-labels-from <path>', 'like --weak-labels, but only the windows of this --data source (repeatable); the others count as unlabelled', collect)
    .option('--no-temporal', 'drop the temporal term (ablation)')
    .option('--no-modal', 'drop the cross-modal InfoNCE term (ablation)')
    .option('--no-anomaly', 'drop the weak anomaly term (ablation)')
    .option('--no-deviation', 'drop the deviation term (ablation)')
    .option('--entities', 'deviation term on per-service rows too (folders are encoded with per-service views; .arrow sources need them)')
    .option('--view', 'add the view term: each window against a perturbed copy (feature noise, modality dropout)')
    .option('--exclude <file>', 'JSON list of held-out case ids, window start times or {source?, start, end} ranges (docs/training.md)')
    .option('--train-split <split>', 'case-based data: train only on cases of this split (train)', splitArg)
    .option('--val-share <share>', 'share of windows held out in whole time blocks for early stopping (0 = none)', shareArg, 0.1)
    .option('--patience <n>', 'epochs without validation improvement before stopping (0 = never)', nonNegativeIntArg, 5)
    .option('--early-stop <criterion>', 'decide early stopping on the validation "loss" or on the held-out deviation "reconstruction" of the readout (task-free)', earlyStopArg, 'loss')
    .option('--residual', 'residual path: the state = a fixed random projection of the robust deviations + the learned part (docs/losses.md)')
    .option('--resume', 'continue from <model>.resume when it exists')
    .addOption(noCacheOption())
    .addOption(cacheDirOption())
    .addOption(allowRemoteOption())
    .option('--json', 'print the training summary as one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  runtimeslicer train --data ../shared/datasets/nezha-trainticket --data sim-run --out model.rsm\n  runtimeslicer train --data ../shared/datasets/aiops22-pod --train-split train --exclude heldout.json --out model.rsm --epochs 30',
    )
    .action((o: TrainCliOptions) => run(() => trainCommand(o)));
}

async function trainCommand(o: TrainCliOptions): Promise<void> {
  const t0 = performance.now();
  // before any work (not after epoch 1): the checkpoint and its resume file must be writable
  // and must not replace a --data source or the --exclude file
  const inputs = [...o.data, o.exclude];
  const out = checkOutput(o.out, inputs);
  checkOutput(`${out}.resume`, inputs, { label: 'the resume file' });
  const exclude = o.exclude ? await Exclusions.read(o.exclude) : undefined;
  const show = showProgress(o.json);
  const spec = { lengthMs: o.window, strideMs: o.stride };
  warnStrideGap(spec);
  const backbone = await createBackbone(o.backbone, { allowRemote: o.allowRemote });
  const cache = openCache(o);
  const controller = new AbortController();
  let interrupts = 0;
  let training = false;
  const onSigint = () => {
    interrupts++;
    // Before the first epoch there is nothing to keep: quit at once.
    if (interrupts > 1 || !training) process.exit(130);
    process.stderr.write('\nruntimeslicer: stopping after this epoch (state kept in the resume file); Ctrl-C again to quit now\n');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const te = performance.now();
    const needsLabels = o.weakLabels || o.weakLabelsFrom?.length ? 'train --weak-labels' : undefined;
    // the anomaly term only exists with weak labels: switching it off without them changes nothing
    if (!o.anomaly && !needsLabels) process.stderr.write('runtimeslicer: warning: --no-anomaly has no effect without --weak-labels or --weak-labels-from (the anomaly term is already off)\n');
    const { windows, sources } = await loadTrainingSources(o.data, {
      backbone,
      cache,
      spec,
      faultDuration: o.faultDuration,
      exclude,
      trainSplit: o.trainSplit,
      entities: !!o.entities,
      open: (path, faultDurationMs) => openDataset(path, { faultDurationMs, needsLabels }),
      onDataset: noteDataProblems,
      progress: (path) => {
        const p = new PhaseProgress(show, (phase) => `${phase} ${path}`);
        return { onProgress: p.onProgress, stop: () => p.stop() };
      },
    });
    const encodeMs = performance.now() - te;
    const sel = selectTrainingWindows(windows, { exclude, trainSplit: o.trainSplit });
    if (sel.kept.length < 2) throw new UserError(`only ${sel.kept.length} training window(s) left (of ${windows.length}; ${sel.excluded} excluded, ${sel.otherSplit} in another split)`);
    const resumeFile = `${out}.resume`;
    if (o.resume && !existsSync(resumeFile) && !o.json) process.stderr.write(`runtimeslicer: no ${resumeFile}; starting from scratch\n`);
    let bar: SingleBar | undefined;
    let barEpoch = -1;
    training = true;
    const lines: string[] = [];
    const result = await trainStateModel(sel.kept, {
      inputDims: windowInputDims(backbone.dim),
      model: { hidden: o.hidden, modalityDim: o.modalityDim, stateDim: o.stateDim, residual: !!o.residual },
      epochs: o.epochs,
      batchSize: o.batch,
      entityDeviation: !!o.entities,
      lr: o.lr,
      seed: o.seed,
      valShare: o.valShare,
      patience: o.patience,
      earlyStop: o.earlyStop,
      loss: { temperature: o.tau, temporalWeight: o.lambdaT, anomalyWeight: o.lambdaA, deviationWeight: o.lambdaD },
      terms: { modal: o.modal, temporal: o.temporal, anomaly: o.anomaly, deviation: o.deviation, view: !!o.view },
      weakLabels: weakLabelPolicy(o, windows, sources),
      resumeFile,
      resume: o.resume,
      fingerprint: { sources: sources.map((s) => [s.path, s.windows]), backbone: backbone.id, window: spec, exclude: exclude?.rules ?? [], trainSplit: o.trainSplit ?? null },
      signal: controller.signal,
      onProgress: (p: TrainProgress) => {
        if (!show) return;
        if (p.epoch !== barEpoch) {
          bar?.stop();
          barEpoch = p.epoch;
          bar = new SingleBar(
            { format: `epoch ${p.epoch + 1}/${p.epochs} [{bar}] {value}/{total} | loss {loss} (modal {modal}, temporal {temporal}, anomaly {anomaly}, deviation {deviation}) | lr {lr}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
            Presets.shades_classic,
          );
          bar.start(p.batches, 0, {});
        }
        bar?.update(p.batch, { loss: fmt(p.loss.total), modal: fmt(p.loss.modal), temporal: fmt(p.loss.temporal), anomaly: fmt(p.loss.anomaly), deviation: fmt(p.loss.deviation), lr: p.lr.toExponential(2) });
      },
      onSplitWarnings: (ws) => {
        for (const w of ws) process.stderr.write(`runtimeslicer: warning: validation split: ${w}\n`);
      },
      onTermWarnings: (ws) => {
        for (const w of ws) process.stderr.write(`runtimeslicer: warning: ${w}\n`);
      },
      onEpoch: (m) => {
        bar?.stop();
        bar = undefined;
        barEpoch = -1;
        const line = `epoch ${m.epoch + 1}: train ${lossText(m.train)}${m.val ? ` | val ${lossText(m.val)}` : ''}${m.improved && m.val ? ' *' : ''} (${(m.ms / 1000).toFixed(1)} s)`;
        lines.push(line);
        if (!o.json) process.stderr.write(line + '\n');
      },
    });
    bar?.stop();
    const summary = {
      out,
      stopReason: result.stopReason,
      epochs: result.epochs,
      bestEpoch: result.bestEpoch + 1,
      bestValLoss: result.bestValLoss,
      steps: result.steps,
      windows: windows.length,
      excluded: sel.excluded,
      otherSplit: sel.otherSplit,
      trainWindows: result.trainWindows,
      valWindows: result.valWindows,
      purged: result.purged,
      backbone: backbone.id,
      terms: result.terms,
      valTerms: result.valTerms,
      earlyStop: result.earlyStop,
      termWarnings: result.termWarnings,
      parameters: result.model.parameterCount(),
      sources,
      last: result.history[result.history.length - 1],
      timings: { encodeMs, trainMs: result.timings.trainMs, valMs: result.timings.valMs, totalMs: performance.now() - t0 },
    };
    if (result.stopReason === 'interrupted') {
      process.stdout.write(o.json ? JSON.stringify({ ...summary, out: undefined, resumeFile }) + '\n' : `interrupted after epoch ${result.epochs}; continue with --resume (state in ${resumeFile})\n`);
      process.exitCode = 130;
      return;
    }
    const { viewsVersion, layouts } = currentFeatureLayouts();
    await saveCheckpoint(out, {
      model: result.model,
      backbone: { id: backbone.id, spec: o.backbone, dim: backbone.dim },
      window: spec,
      features: { viewsVersion, layouts },
      loss: { options: { temperature: o.tau, temporalWeight: o.lambdaT, anomalyWeight: o.lambdaA, deviationWeight: o.lambdaD, viewWeight: 0.5 }, terms: result.terms },
      training: {
        epochs: result.epochs,
        bestEpoch: result.bestEpoch + 1,
        steps: result.steps,
        bestValLoss: result.bestValLoss,
        stopReason: result.stopReason,
        trainWindows: result.trainWindows,
        valWindows: result.valWindows,
        sources: sources.map((s) => s.path),
        seed: o.seed,
        excluded: sel.excluded,
        trainSplit: o.trainSplit ?? null,
        weakLabels: o.weakLabelsFrom?.length ? o.weakLabelsFrom.map((p) => resolve(p)) : !!o.weakLabels,
        history: result.history.map((h) => ({ epoch: h.epoch + 1, train: h.train, val: h.val })),
      },
    });
    await rm(resumeFile, { force: true });
    process.stdout.write(
      o.json
        ? JSON.stringify(summary) + '\n'
        : `wrote ${out}: ${result.epochs} epochs (${result.stopReason}, best ${result.bestEpoch + 1}), ${result.trainWindows} training + ${result.valWindows} validation windows from ${sources.length} source(s), ${(summary.timings.totalMs / 1000).toFixed(1)} s\n`,
    );
  } finally {
    process.off('SIGINT', onSigint);
    cache?.close();
    await backbone.dispose?.();
  }
}
