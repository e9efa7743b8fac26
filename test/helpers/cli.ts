/**
 * Running the CLI in tests: `node --import tsx src/cli/main.ts …` in the repository, with the
 * exit code, stdout and stderr back; the one-line error contract; an untrained checkpoint.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackbone } from '../../src/encode/index.js';
import { DeviationReadout, StateModel, currentFeatureLayouts, saveCheckpoint, windowInputDims } from '../../src/model/index.js';

export const repo = fileURLToPath(new URL('../..', import.meta.url));
export const main = join(repo, 'src/cli/main.ts');

/** `encode`/`train` flags for a fast run: a small hash backbone and no on-disk cache. */
export const TINY = ['--backbone', 'hash:dim=32', '--no-cache'];
/** `train` flags for a tiny one-epoch model on top of TINY. */
export const TINY_MODEL = [...TINY, '--hidden', '16', '--modality-dim', '8', '--state-dim', '4', '--batch', '4', '--val-share', '0', '--epochs', '1'];

export interface CliResult {
  code: number | null;
  out: string;
  err: string;
}

export interface CliOptions {
  /** ms before the child is killed (default 120 s) */
  timeout?: number;
  /** variables added to this process's environment */
  env?: Record<string, string>;
  /** the script run instead of src/cli/main.ts (e.g. a harness registering some commands) */
  entry?: string;
}

export function runCli(args: readonly string[], o: CliOptions = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', o.entry ?? main, ...args], {
    cwd: repo,
    encoding: 'utf8',
    timeout: o.timeout ?? 120_000,
    ...(o.env ? { env: { ...process.env, ...o.env } } : {}),
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** `runtimeslicer ...args` with the default options. */
export function cli(...args: string[]): CliResult {
  return runCli(args);
}

/** A `cli` with other options, e.g. `const cli = cliWith({ timeout: 180_000 })`. */
export function cliWith(o: CliOptions): (...args: string[]) => CliResult {
  return (...args) => runCli(args, o);
}

/** An error the contract allows: the given exit code, exactly one line on stderr, no stack trace. */
export function assertOneLine(r: { code: number | null; err: string }, code: number, pattern: RegExp): void {
  assert.equal(r.code, code, r.err);
  assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  assert.equal(r.err.trimEnd().split('\n').length, 1, `one line, got:\n${r.err}`);
  assert.match(r.err, pattern);
}

/** An untrained model checkpoint for backbone `spec`: for commands that need a loadable model, not a good one. */
export async function writeUntrainedCheckpoint(path: string, spec: string): Promise<void> {
  const backbone = await createBackbone(spec);
  const model = new StateModel({ inputDims: windowInputDims(backbone.dim), hidden: 32, modalityDim: 16, stateDim: 8, fusionHidden: 32, seed: 3 });
  model.readout = new DeviationReadout(8, {}, {}); // untrained: an empty readout (its half of the combined embedding is NaN)
  const f = currentFeatureLayouts();
  await saveCheckpoint(path, {
    model,
    backbone: { id: backbone.id, spec, dim: backbone.dim },
    window: { lengthMs: 5 * 60_000, strideMs: 60_000 },
    features: { viewsVersion: f.viewsVersion, layouts: f.layouts },
    loss: { options: {}, terms: { modal: true, temporal: true, anomaly: false } },
    training: { epochs: 0, bestEpoch: 0, steps: 0, stopReason: 'epochs', trainWindows: 0, valWindows: 0, sources: [], seed: 3 },
  });
}
