/**
 * Detection scores over a timeline of scored windows.
 *
 * Window P/R/F1: each window alarmed or not against its label.
 *
 * Event F1 (issue 11, false positives counted by time since issue 12): a fault is caught when
 * some alarmed window starts within [inject, inject + tolerance]; each caught fault is a
 * true-positive event (one alarm run over back-to-back injections catches each of them).
 * False-positive events: every alarmed window that neither catches a fault nor overlaps a fault's
 * active span [inject, fault end) is a false alarm (no grace after the end: the minutes after a
 * fault are normal minutes, and an alarm there is not what an operator wants), and false alarms are counted by the time
 * they cover — a run of them whose window starts span D counts 1 + floor(D / L) events (L = the
 * window length). So "alarm always" cannot hide its false alarms inside a run that also catches
 * a fault (the minute before each injection), nor turn a day of alarms into one event.
 * P = caught / (caught + FP events), R = caught faults / faults, F1 their harmonic mean.
 */

export interface AlarmWindow {
  start: number;
  end: number;
  alarm: boolean;
}

export interface PRF {
  precision: number;
  recall: number;
  f1: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
const f1 = (p: number, r: number) => ratio(2 * p * r, p + r);

export function windowPRF(alarm: readonly boolean[], truth: readonly boolean[]): PRF & { tp: number; fp: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  alarm.forEach((a, i) => {
    if (a && truth[i]) tp++;
    else if (a) fp++;
    else if (truth[i]) fn++;
  });
  const precision = ratio(tp, tp + fp);
  const recall = ratio(tp, tp + fn);
  return { precision, recall, f1: f1(precision, recall), tp, fp, fn };
}

export const DEFAULT_EVENT_TOLERANCE_MS = 5 * 60_000;

export interface EventScores extends PRF {
  faults: number;
  caught: number;
  /** detection events: caught faults + false alarms */
  alarms: number;
  /** false-positive events (alarm time outside faults, one per window length) */
  falseAlarms: number;
}

/** A fault for event scoring: its injection time, and its end when known (else the injection). */
export type Injection = number | { start: number; end?: number };

/**
 * Event precision/recall/F1 of alarmed windows against fault injections (see the module
 * comment). Windows may come in any order.
 */
export function eventPRF(windows: readonly AlarmWindow[], injections: readonly Injection[], toleranceMs = DEFAULT_EVENT_TOLERANCE_MS): EventScores {
  const faults = injections.map((f) => (typeof f === 'number' ? { start: f, end: f } : { start: f.start, end: Math.max(f.start, f.end ?? f.start) }));
  const starts = faults.map((f) => f.start);
  const alarmed = windows.filter((w) => w.alarm).sort((a, b) => a.start - b.start || a.end - b.end);
  const catches = (w: AlarmWindow, t: number) => w.start >= t && w.start <= t + toleranceMs;
  const catching = (w: AlarmWindow) => starts.some((t) => catches(w, t));
  const excused = (w: AlarmWindow) => catching(w) || faults.some((f) => w.start < f.end && f.start < w.end);
  let caught = 0;
  for (const t of starts) if (alarmed.some((w) => catches(w, t))) caught++;
  // false-positive events: runs of unexcused alarmed windows, counted by the time they cover
  const lengths = windows.map((w) => w.end - w.start).filter((d) => d > 0).sort((a, b) => a - b);
  const lengthMs = lengths.length > 0 ? lengths[lengths.length >> 1] : 1;
  let falseAlarms = 0;
  for (const run of runsOf(alarmed.filter((w) => !excused(w)))) falseAlarms += 1 + Math.floor((run[run.length - 1].start - run[0].start) / lengthMs);
  const alarms = caught + falseAlarms;
  const precision = ratio(caught, alarms);
  const recall = ratio(caught, starts.length);
  return { precision, recall, f1: f1(precision, recall), faults: starts.length, caught, alarms, falseAlarms };
}

/** Maximal runs of windows (sorted by start) that overlap or touch in time. */
function runsOf(sorted: readonly AlarmWindow[]): AlarmWindow[][] {
  const out: AlarmWindow[][] = [];
  let end = -Infinity;
  for (const w of sorted) {
    if (out.length > 0 && w.start <= end) {
      out[out.length - 1].push(w);
      end = Math.max(end, w.end);
    } else {
      out.push([w]);
      end = w.end;
    }
  }
  return out;
}
