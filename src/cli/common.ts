import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, Option } from 'commander';
import { UserError, formatDuration, parseDuration, type Dataset, type LoadOptions } from '../telemetry/index.js';
import { loadDataset, systemErrorCause } from '../sources/index.js';

/** Commander argument parser for durations like 5m, 30s, 1h. */
export function durationArg(value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** The window options every windowing command shares; help shows the defaults as durations. */
export function windowOption(): Option {
  return new Option('--window <duration>', 'window length').argParser(durationArg).default(5 * 60_000, '5m');
}
export function strideOption(): Option {
  return new Option('--stride <duration>', 'window stride').argParser(durationArg).default(60_000, '1m');
}
export function faultDurationOption(): Option {
  return new Option('--fault-duration <duration>', 'active period of faults whose source gives none (Nezha)').argParser(durationArg).default(3 * 60_000, '3m');
}

/**
 * Commander parser for an integer option of at least `min`. Every integer option goes through
 * this one parser, so `--epochs 0` and `--epochs -1` get the same kind of message (exit 2).
 */
export function intArg(min: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer ≥ ${min}, got "${value}"`);
    return n;
  };
}

/** Counts that must be at least one (epochs, widths, batch sizes, neighbours). */
export const positiveIntArg = intArg(1);
/** Seeds, patience and other counts where 0 means something. */
export const nonNegativeIntArg = intArg(0);

export function positiveNumberArg(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
}

/** Commander parser for a case split name. */
export function splitArg(value: string): 'train' | 'test' {
  if (value !== 'train' && value !== 'test') throw new InvalidArgumentError(`expected train or test, got "${value}"`);
  return value;
}

/**
 * Windows stepped further than they are long leave gaps no window covers: say so once, on
 * stderr (a warning, not an error: sparse sampling can be intended).
 */
export function warnStrideGap(spec: { lengthMs: number; strideMs: number }): void {
  if (spec.strideMs <= spec.lengthMs) return;
  process.stderr.write(
    `runtimeslicer: warning: --stride ${formatDuration(spec.strideMs)} is longer than --window ${formatDuration(spec.lengthMs)}: ${formatDuration(spec.strideMs - spec.lengthMs)} of every ${formatDuration(spec.strideMs)} falls in no window and is skipped\n`,
  );
}

/**
 * A progress bar on stderr, shown only when stderr is a terminal (and not with --json piping
 * into another program), so logs and CI output stay clean.
 */
export class Progress {
  private bar?: SingleBar;
  constructor(label: string, total: number, enabled = process.stderr.isTTY === true) {
    if (!enabled) return;
    this.bar = new SingleBar(
      { format: `${label} [{bar}] {percentage}% | {value}/{total} {unit} | {eta_formatted} left`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      Presets.shades_classic,
    );
    this.bar.start(total, 0, { unit: '' });
  }
  update(value: number, payload?: Record<string, unknown>): void {
    this.bar?.update(value, payload);
  }
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

/** What a system call was doing, in words, for `cannot <op> <path>`. */
const OPERATIONS: Readonly<Record<string, string>> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rmdir: 'remove the folder',
  scandir: 'read the folder',
  opendir: 'read the folder',
  rename: 'rename',
  unlink: 'remove',
  rm: 'remove',
  stat: 'access',
  lstat: 'access',
  access: 'access',
  copyfile: 'copy',
  fsync: 'write',
  close: 'write',
};

/**
 * The one line (and exit code) an error becomes: a UserError as it is; a file-system error as
 * `cannot <op> <path>: <cause>`; anything else as an internal error whose stack trace is shown
 * only when RUNTIMESLICER_DEBUG is set.
 */
export function describeError(e: unknown): { line: string; exitCode: number; stack?: string } {
  if (e instanceof UserError) return { line: `runtimeslicer: ${e.message}`, exitCode: e.exitCode };
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const cause = typeof err?.code === 'string' ? systemErrorCause(err.code) : undefined;
  if (cause) {
    const op = (err.syscall && OPERATIONS[err.syscall]) ?? err.syscall ?? 'use';
    const path = err.syscall === 'rename' && err.dest ? err.dest : err.path;
    return { line: `runtimeslicer: cannot ${op}${path ? ' ' + path : ''}: ${cause}`, exitCode: 1, stack: err.stack };
  }
  const message = (e instanceof Error ? e.message : String(e)).split('\n')[0];
  return { line: `runtimeslicer: internal error: ${message} (set RUNTIMESLICER_DEBUG=1 for the stack trace)`, exitCode: 1, stack: e instanceof Error ? e.stack : undefined };
}

/** Writes an error's line on stderr (the stack too under RUNTIMESLICER_DEBUG); its exit code. */
export function reportError(e: unknown): number {
  const d = describeError(e);
  process.stderr.write(d.line + '\n');
  if (process.env.RUNTIMESLICER_DEBUG && d.stack) process.stderr.write(d.stack + '\n');
  return d.exitCode;
}

/** Runs a command body: every error becomes one line on stderr and a non-zero exit code. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

/**
 * Opens a dataset the way every command should: an unreadable labels file (fault list,
 * faults.json) is a warning on stderr, or an error for commands whose result depends on the
 * labels (`needsLabels`), because a silent failure there would call every window normal.
 */
export async function openDataset(path: string, opts: LoadOptions & { needsLabels?: string }): Promise<Dataset> {
  const ds = await loadDataset(path, opts);
  const issues = ds.labelIssues ?? [];
  if (issues.length) {
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more; \`runtimeslicer inspect ${path}\` lists them)` : '';
    if (opts.needsLabels) throw new UserError(`the labels of ${path} could not be read, and ${opts.needsLabels} needs them: ${issues[0]}${more}`);
    process.stderr.write(`runtimeslicer: warning: the labels of ${path} could not be read in full, so some windows may be labelled normal wrongly: ${issues[0]}${more}\n`);
  }
  return ds;
}

/**
 * After a command has read a dataset: one line on stderr counting the data problems met (with
 * the first as an example), so a damaged file never passes unnoticed; `inspect` lists them all.
 */
export function noteDataProblems(ds: Dataset, path: string): void {
  const n = ds.problems.total;
  if (n === 0) return;
  const p = ds.problems.items[0];
  const example = p ? ` (first: ${p.file || path}${p.line ? ':' + p.line : ''}: ${p.reason})` : '';
  process.stderr.write(`runtimeslicer: ${n} data problem${n === 1 ? '' : 's'} in ${path}${example}; \`runtimeslicer inspect ${path}\` lists them by kind\n`);
}
