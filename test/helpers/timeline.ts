import type { EncodedWindow } from '../../src/model/index.js';
import type { DetectionSet } from '../../src/eval/evaluate/index.js';
import { lcgNoise } from './rng.js';

/**
 * Synthetic detection data for the tuned-detector tests: one 5-min window per minute (1-min
 * stride), two features — the window's mean of a per-minute fault level plus noise, and noise
 * alone — windows touching a fault's 3 labelled minutes abnormal, and folds by minute.
 * `bump` writes each fault's effect into the per-minute level (its size, its aftermath).
 */
export function faultTimeline(o: {
  seed: number;
  minutes: number;
  faultsAt: readonly number[];
  bump: (level: Float64Array, t0: number, k: number) => void;
  /** a minute's fold (undefined: in no fold) */
  foldOf: (minute: number) => number | undefined;
}): { set: DetectionSet; rows: Float64Array[] } {
  const r = lcgNoise(o.seed);
  const level = new Float64Array(o.minutes + 5);
  o.faultsAt.forEach((t0, k) => o.bump(level, t0, k));
  const windows: EncodedWindow[] = [];
  const rows: Float64Array[] = [];
  for (let i = 0; i < o.minutes; i++) {
    const start = i * 60_000;
    const mean = (level[i] + level[i + 1] + level[i + 2] + level[i + 3] + level[i + 4]) / 5;
    rows.push(Float64Array.of(mean + r(), r()));
    const abnormal = o.faultsAt.some((t0) => i < t0 + 3 && t0 < i + 5);
    windows.push({ source: 's', window: { index: i, start, end: start + 300_000 }, label: { abnormal }, inputs: {} });
  }
  const injections = o.faultsAt.map((t0) => ({ start: t0 * 60_000, end: (t0 + 3) * 60_000, fold: o.foldOf(t0) as number }));
  return { set: { level: 'all-modalities', windows, folds: windows.map((_, i) => o.foldOf(i)), mask: [], injections }, rows };
}

/** A fault of size 1 + (k mod `sizes`) over its 3 minutes. */
export function stepBump(sizes: number): (level: Float64Array, t0: number, k: number) => void {
  return (level, t0, k) => {
    for (let m = 0; m < 3; m++) level[t0 + m] += 1 + (k % sizes);
  };
}
