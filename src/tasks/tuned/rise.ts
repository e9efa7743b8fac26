/**
 * The rise gate (docs/tasks.md, "Rise gate; a supervised detector"): an alarmed window stays
 * alarmed only when its score is above that of the same source's window that ends where it
 * starts, judged in the alarmed window's state. A fault's aftermath scores high and falling; its
 * onset rises above the calm window before it. No constant: the window length is the lag.
 * Shared by evaluate's tuned detection (src/eval/evaluate/tuned-detect.ts) and the tasks file's
 * `detect`, so that a gated tasks file alarms where evaluate's gated candidate does.
 */

/** What the gate reads of a window: its source and its span. */
export interface GateWindow {
  source: string;
  start: number;
  end: number;
}

/** Per window, the index of the same source's window that starts one window length earlier (ends where it starts), if any. */
export function previousWindows(windows: readonly GateWindow[]): (number | undefined)[] {
  const key = (source: string, start: number) => `${source}\u0000${start}`;
  const at = new Map<string, number>();
  windows.forEach((w, i) => at.set(key(w.source, w.start), i));
  return windows.map((w) => at.get(key(w.source, 2 * w.start - w.end)));
}

/**
 * Whether the gate holds back window `i`'s alarm of score `score` in state `state`: its
 * predecessor (`before`, from `previousWindows`) scores at least as high in that state.
 * `scoreAt` gives a window's score in a state (NaN or undefined: it has none, and the alarm stands).
 */
export function riseHeld(i: number, score: number, state: number, before: readonly (number | undefined)[], scoreAt: (j: number, state: number) => number | undefined): boolean {
  const j = before[i];
  if (j === undefined) return false;
  const p = scoreAt(j, state);
  return p !== undefined && Number.isFinite(p) && p >= score;
}
