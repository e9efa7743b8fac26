import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, Option } from 'commander';
import { UserError, parseDuration } from '../telemetry/index.js';

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

export function positiveIntArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`expected a non-negative integer, got "${value}"`);
  return n;
}

export function positiveNumberArg(value: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new InvalidArgumentError(`expected a positive number, got "${value}"`);
  return n;
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

/** Runs a command body: user errors become one line on stderr and exit code 1. */
export async function run(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (e instanceof UserError) {
      process.stderr.write(`runtimeslicer: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    throw e;
  }
}
