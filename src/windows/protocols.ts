/**
 * Which windows a protocol compares: the window of each fault, the faults a window overlaps,
 * whether two windows share time, and the hours faults were injected. Shared by the probe and
 * `evaluate`; generic over `FoldWindow` so windows/ needs nothing of the model.
 */
import type { FaultLabel } from '../telemetry/index.js';
import type { FoldWindow } from './folds.js';

/** Two windows of one source that overlap in time (near-copies of one another). */
export function windowsShareTime(a: FoldWindow, b: FoldWindow): boolean {
  return a.source === b.source && a.window.start < b.window.end && b.window.start < a.window.end;
}

/** Ids of the faults whose active period overlaps each window. */
export function faultsPerWindow(windows: readonly FoldWindow[], faults: readonly FaultLabel[]): Set<string>[] {
  return windows.map((w) => new Set(faults.filter((f) => f.start < w.window.end && w.window.start < f.end).map((f) => f.id)));
}

export function sharesFault(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/**
 * Per fault, the latest window starting at or before its start that contains the start (with a
 * 1-minute stride: the window starting at the minute of injection); `complete` decides whether
 * that window has what the question needs (e.g. all modalities). One window per fault, so every
 * fault weighs the same.
 */
export function pickFaultWindows<W extends FoldWindow>(windows: readonly W[], faults: readonly FaultLabel[], complete: (w: W) => boolean = () => true): { picked: { window: W; fault: FaultLabel }[]; missing: FaultLabel[]; partial: FaultLabel[] } {
  const picked: { window: W; fault: FaultLabel }[] = [];
  const missing: FaultLabel[] = [];
  const partial: FaultLabel[] = [];
  for (const f of [...faults].sort((a, b) => a.start - b.start)) {
    let best: W | undefined;
    for (const w of windows) {
      if (w.window.start <= f.start && f.start < w.window.end && (!best || w.window.start > best.window.start)) best = w;
    }
    if (!best) missing.push(f);
    else if (!complete(best)) partial.push(f);
    else picked.push({ window: best, fault: f });
  }
  return { picked, missing, partial };
}

const DAY_MS = 86_400_000;

/** Per UTC day, from the first fault's start to the last fault's end. */
export function faultSchedule(faults: readonly FaultLabel[]): Map<number, { start: number; end: number }> {
  const out = new Map<number, { start: number; end: number }>();
  for (const f of faults) {
    const day = Math.floor(f.start / DAY_MS);
    const r = out.get(day);
    if (!r) out.set(day, { start: f.start, end: f.end });
    else {
      r.start = Math.min(r.start, f.start);
      r.end = Math.max(r.end, f.end);
    }
  }
  return out;
}

/** Whether a window overlaps its day's injection hours (`faultSchedule`). */
export function inSchedule(w: FoldWindow, hours: ReadonlyMap<number, { start: number; end: number }>): boolean {
  const r = hours.get(Math.floor(w.window.start / DAY_MS));
  return r !== undefined && w.window.start < r.end && r.start < w.window.end;
}
