/**
 * Detection scores over a timeline of scored windows.
 *
 * Window P/R/F1: each window alarmed or not against its label.
 *
 * Event F1 (issue 11): alarmed windows are merged into alarms (maximal runs of alarmed windows
 * that overlap or touch in time). A fault is caught when some alarmed window starts within
 * [inject, inject + tolerance]. An alarm that contains no catching window of any fault — it
 * touches no fault — is a false positive. P = alarms touching a fault / all alarms,
 * R = caught faults / faults, F1 their harmonic mean.
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
  alarms: number;
  falseAlarms: number;
}

/**
 * Event precision/recall/F1 of alarmed windows against fault injection times (see the module
 * comment). Windows may come in any order.
 */
export function eventPRF(windows: readonly AlarmWindow[], injections: readonly number[], toleranceMs = DEFAULT_EVENT_TOLERANCE_MS): EventScores {
  const alarmed = windows.filter((w) => w.alarm).sort((a, b) => a.start - b.start || a.end - b.end);
  const catches = (w: AlarmWindow, t: number) => w.start >= t && w.start <= t + toleranceMs;
  // merge into alarms
  const alarms: AlarmWindow[][] = [];
  let end = -Infinity;
  for (const w of alarmed) {
    if (alarms.length > 0 && w.start <= end) alarms[alarms.length - 1].push(w);
    else alarms.push([w]);
    end = Math.max(end, w.end);
    if (alarms[alarms.length - 1].length === 1) end = w.end;
  }
  let caught = 0;
  for (const t of injections) if (alarmed.some((w) => catches(w, t))) caught++;
  let falseAlarms = 0;
  for (const a of alarms) if (!a.some((w) => injections.some((t) => catches(w, t)))) falseAlarms++;
  const precision = ratio(alarms.length - falseAlarms, alarms.length);
  const recall = ratio(caught, injections.length);
  return { precision, recall, f1: f1(precision, recall), faults: injections.length, caught, alarms: alarms.length, falseAlarms };
}
