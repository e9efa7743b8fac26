import { existsSync, statSync } from 'node:fs';
import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { UserError, formatDuration, parseDuration, type Dataset, type LoadOptions, type Modality } from '../telemetry/index.js';
import { loadDataset, systemErrorCause } from '../sources/index.js';
import { EmbeddingCache, createBackbone, type EncodeProgress } from '../encode/index.js';
import { checkCompatible, currentFeatureLayouts, encodeWindows, readEncodedWindows, type EncodedWindow, type LoadedCheckpoint } from '../model/index.js';
import { DEFAULT_WINDOW, type WindowSpec } from '../windows/index.js';

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
  return new Option('--window <duration>', 'window length').argParser(durationArg).default(DEFAULT_WINDOW.lengthMs, formatDuration(DEFAULT_WINDOW.lengthMs));
}
export function strideOption(): Option {
  return new Option('--stride <duration>', 'window stride').argParser(durationArg).default(DEFAULT_WINDOW.strideMs, formatDuration(DEFAULT_WINDOW.strideMs));
}
export function faultDurationOption(): Option {
  return new Option('--fault-duration <duration>', 'active period of faults whose source gives none (Nezha)').argParser(durationArg).default(3 * 60_000, '3m');
}

/** Help of a --window / --stride whose default is a saved file's window (`whose`), else DEFAULT_WINDOW. */
export function savedWindowHelp(what: 'length' | 'stride', whose = "the model's"): string {
  return `window ${what} (default: ${whose}, else ${formatDuration(what === 'length' ? DEFAULT_WINDOW.lengthMs : DEFAULT_WINDOW.strideMs)})`;
}

/** `--backbone <spec>` of the commands that encode from scratch (encode, train). */
export function backboneOption(): Option {
  return new Option('--backbone <spec>', 'hash[:dim=1024] | use | onnx:<folder|hub id>[?opts] | openai:<base url>[?model=…]').default('hash');
}

/** The embedding-cache and remote-model options every encoding command shares. */
export function noCacheOption(): Option {
  return new Option('--no-cache', 'do not use the on-disk embedding cache');
}
/** `--cache-dir <dir>`, or (`cache --dir`) the same folder under other flags: one text of the default. */
export function cacheDirOption(flags = '--cache-dir <dir>', what = 'embedding cache folder'): Option {
  return new Option(flags, `${what} (default $RUNTIMESLICER_CACHE/embeddings or ~/.cache/runtimeslicer/embeddings)`);
}
export function allowRemoteOption(): Option {
  return new Option('--allow-remote', 'allow fetching an onnx: hub model (off by default: nothing is downloaded unless asked)');
}

/**
 * The options of commands that read data for a trained model (embed, states, plot, report):
 * --window and --stride defaulting to the model's, --fault-duration, and the cache options.
 * `prefix` starts the window help (e.g. "embedding plot "); `fallback`: the command also runs
 * without a model, on DEFAULT_WINDOW.
 */
export function addModelDataOptions(cmd: Command, o: { prefix?: string; fallback?: boolean } = {}): Command {
  const prefix = o.prefix ?? '';
  return cmd
    .option('--window <duration>', `${prefix}window length (default: the model's${o.fallback ? `, else ${formatDuration(DEFAULT_WINDOW.lengthMs)}` : ''})`, durationArg)
    .option('--stride <duration>', `${prefix}window stride (default: the model's${o.fallback ? `, else ${formatDuration(DEFAULT_WINDOW.strideMs)}` : ''})`, durationArg)
    .addOption(faultDurationOption())
    .addOption(noCacheOption())
    .addOption(cacheDirOption())
    .addOption(allowRemoteOption());
}

/** What --no-cache, --cache-dir and --allow-remote parse to. */
export interface CacheCliOptions {
  cache: boolean;
  cacheDir?: string;
  allowRemote?: boolean;
}

/** The embedding cache the options ask for (close it when done), or none with --no-cache. */
export function openCache(o: CacheCliOptions): EmbeddingCache | undefined {
  return o.cache ? new EmbeddingCache({ dir: o.cacheDir }) : undefined;
}

/** Progress bars are shown when stderr is a terminal and stdout is not one JSON object. */
export function showProgress(json?: boolean): boolean {
  return !json && process.stderr.isTTY === true;
}

/**
 * The window of a command: --window/--stride, else the first of `saved` (a model's, a tasks
 * file's) that has one, else DEFAULT_WINDOW. Length and stride are resolved apart, as before.
 */
export function resolveWindowSpec(o: { window?: number; stride?: number }, ...saved: (WindowSpec | undefined)[]): WindowSpec {
  const lengthMs = o.window ?? saved.find((s) => s?.lengthMs !== undefined)?.lengthMs ?? DEFAULT_WINDOW.lengthMs;
  const strideMs = o.stride ?? saved.find((s) => s?.strideMs !== undefined)?.strideMs ?? DEFAULT_WINDOW.strideMs;
  return { lengthMs, strideMs };
}

/** The window spec of a command run with a model (resolveWindowSpec); warns once when the stride leaves gaps. */
export function modelWindowSpec(o: { window?: number; stride?: number }, modelWindow?: WindowSpec): WindowSpec {
  const spec = resolveWindowSpec(o, modelWindow);
  warnStrideGap(spec);
  return spec;
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

/** `--mask traces,logs` of embed and states: modalities treated as absent. */
export function maskArg(value: string): Modality[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const p of parts) if (p !== 'metrics' && p !== 'traces' && p !== 'logs') throw new InvalidArgumentError(`expected a comma-separated list of metrics, traces, logs; got "${p}"`);
  return parts as Modality[];
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

/**
 * One progress bar per encode phase (fitting baselines, then encoding), on stderr and only when
 * `show`. `label` turns the phase's words into the bar's label (e.g. prefixes the source).
 */
export class PhaseProgress {
  private bar?: Progress;
  private phase = '';
  constructor(
    private readonly show: boolean,
    private readonly label: (phase: string) => string = (phase) => phase,
  ) {}
  readonly onProgress = (p: Pick<EncodeProgress, 'phase' | 'windows' | 'total'>): void => {
    if (p.phase !== this.phase) {
      this.phase = p.phase;
      this.bar?.stop();
      this.bar = new Progress(this.label(p.phase === 'fit' ? 'fitting baselines' : 'encoding'), p.total, this.show);
    }
    this.bar?.update(p.windows);
  };
  stop(): void {
    this.bar?.stop();
  }
}

/**
 * Runs `work` (an encode) with one progress bar per phase, passing it the `onProgress` to hand
 * the encoder; the bar is stopped when `work` ends, also when it throws, so an error message
 * is not printed over a bar. `label` prefixes the phase's words ("<label>: encoding").
 */
export async function withEncodeProgress<T>(show: boolean, label: string | undefined, work: (onProgress: PhaseProgress['onProgress']) => Promise<T>): Promise<T> {
  const progress = new PhaseProgress(show, label === undefined ? undefined : (phase) => `${label}: ${phase}`);
  try {
    return await work(progress.onProgress);
  } finally {
    progress.stop();
  }
}

/** Whether `--data` names an encode output (.arrow) rather than a telemetry folder. */
export function isEncodedFile(path: string): boolean {
  return /\.(arrow|feather|ipc)$/i.test(path) && existsSync(path) && statSync(path).isFile();
}

export interface ModelWindowsOptions extends CacheCliOptions {
  /** the model the windows are for; without one, `rawBackbone` encodes and only the metrics view is read */
  ckpt?: LoadedCheckpoint;
  rawBackbone?: string;
  spec: WindowSpec;
  entities?: boolean;
  faultDuration: number;
  show: boolean;
}

/**
 * `--data` as encoded windows for a model: an encode output (.arrow) is read and checked against
 * the model; a telemetry folder is encoded with the model's backbone (progress bar per phase).
 * Shared by `embed` and `states`.
 */
export async function loadModelWindows(data: string, o: ModelWindowsOptions): Promise<EncodedWindow[]> {
  const { ckpt } = o;
  if (isEncodedFile(data)) {
    const r = await readEncodedWindows(data, { entities: o.entities });
    if (ckpt) checkCompatible(ckpt.header, { backboneId: r.info.backboneId, dim: r.info.dim, viewsVersion: r.info.viewsVersion, layouts: r.info.featureLayouts }, data);
    if (o.entities && !r.info.entities) throw new UserError(`${data} has no per-service rows (encoded with --no-entities); drop --entities or re-encode`);
    return r.windows;
  }
  const { viewsVersion, layouts } = currentFeatureLayouts();
  if (ckpt) checkCompatible(ckpt.header, { viewsVersion, layouts }, 'this RuntimeSlicer\'s views');
  const ds = await openDataset(data, { faultDurationMs: o.faultDuration });
  const backboneSpec = ckpt ? ckpt.header.backbone.spec : o.rawBackbone;
  if (!backboneSpec) throw new Error('loadModelWindows: no model and no raw backbone');
  const backbone = await createBackbone(backboneSpec, { allowRemote: o.allowRemote });
  // raw features never read the backbone's vectors: nothing worth caching
  const cache = ckpt ? openCache(o) : undefined;
  try {
    if (ckpt) checkCompatible(ckpt.header, { backboneId: backbone.id, dim: backbone.dim }, `backbone ${ckpt.header.backbone.spec} here`);
    const windows = await withEncodeProgress(o.show, undefined, (onProgress) =>
      encodeWindows(ds, {
        spec: o.spec,
        backbone,
        cache,
        entities: o.entities,
        // raw states read only the metrics view; the other views need not be built
        modalities: ckpt ? undefined : ['metrics'],
        onProgress,
      }),
    );
    noteDataProblems(ds, data);
    return windows;
  } finally {
    cache?.close();
    await backbone.dispose?.();
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
