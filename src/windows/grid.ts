import type { DatasetCase, FaultLabel, TimeRange } from '../telemetry/index.js';
import { UserError } from '../telemetry/dataset.js';

/**
 * Largest window plan accepted by default. Every window costs a few hundred bytes before any
 * data is attached (window, label, slice), so ten million is already a few GB: a plan beyond it
 * is almost always a unit slip (`--window 1ms`) or a bad clock, and is refused before any data
 * is read rather than dying out of memory later.
 */
export const MAX_WINDOWS = 10_000_000;

export interface WindowLimits {
  /** refuse plans with more windows than this (default `MAX_WINDOWS`) */
  maxWindows?: number;
}

export interface WindowSpec {
  lengthMs: number;
  strideMs: number;
}

/**
 * The window every command uses when neither its options nor a model or tasks file set one:
 * five minutes, a new window each minute (docs/windows.md). One definition, so the CLI's
 * defaults, the demo and the localizer's query window cannot drift apart.
 */
export const DEFAULT_WINDOW: Readonly<WindowSpec> = Object.freeze({ lengthMs: 5 * 60_000, strideMs: 60_000 });

export interface Window {
  /** position in the window list, 0-based */
  index: number;
  start: number;
  /** exclusive */
  end: number;
  /** set for case-based sources: the case this window is */
  caseId?: string;
}

/**
 * Windows `[s, s + length)` stepped by `stride`, with `s` aligned to multiples of the stride
 * (epoch-aligned, so two datasets or two runs over the same period get the same windows).
 * Every window lies within the stride-aligned hull of `range`; a range shorter than one window
 * still gets one window.
 */
export function gridWindows(range: TimeRange, spec: WindowSpec, limits: WindowLimits = {}): Window[] {
  const { lengthMs: L, strideMs: S } = spec;
  const n = gridWindowCount(range, spec);
  checkWindowCount(n, limits, range, spec);
  if (n === 0) return [];
  const first = Math.floor(range.start / S) * S;
  const hullEnd = Math.ceil(range.end / S) * S;
  const out: Window[] = [];
  for (let s = first; s + L <= hullEnd || out.length === 0; s += S) {
    out.push({ index: out.length, start: s, end: s + L });
    if (s + L > hullEnd) break;
  }
  return out;
}

/** How many windows `gridWindows` makes for `range`, computed without making them. */
export function gridWindowCount(range: TimeRange, spec: WindowSpec): number {
  const { lengthMs: L, strideMs: S } = spec;
  if (!(L > 0) || !(S > 0)) throw new RangeError('window length and stride must be positive');
  if (!(range.end > range.start)) return 0;
  const first = Math.floor(range.start / S) * S;
  const hullEnd = Math.ceil(range.end / S) * S;
  // Same rule as the loop in gridWindows: windows that fit in the hull, at least one.
  return hullEnd - first < L ? 1 : Math.floor((hullEnd - first - L) / S) + 1;
}

/** Throws the one-line UserError for a plan above the bound (see `MAX_WINDOWS`). */
export function checkWindowCount(count: number, limits: WindowLimits = {}, range?: TimeRange, spec?: WindowSpec): void {
  const max = limits.maxWindows ?? MAX_WINDOWS;
  if (count <= max) return;
  const what = spec && range ? ` (${fmtMs(spec.lengthMs)} windows every ${fmtMs(spec.strideMs)} over ${fmtMs(range.end - range.start)})` : '';
  throw new UserError(`${fmtCount(count)} windows${what} exceed the bound of ${fmtCount(max)} windows; use a longer --window/--stride or a shorter time range`);
}

const fmtCount = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n));

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const units: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']];
  for (const [u, name] of units) if (ms >= u) return `${+(ms / u).toFixed(2)} ${name}`;
  return `${+ms.toFixed(3)} ms`;
}

/** Case-based sources: each case is one window, ordered by start time. */
export function caseWindows(cases: readonly DatasetCase[], limits: WindowLimits = {}): Window[] {
  checkWindowCount(cases.length, limits);
  return [...cases]
    .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1))
    .map((c, index) => ({ index, start: c.start, end: c.end, caseId: c.id }));
}

/** Temporal-overlap ratio `|A ∩ B| / length(A)`: 1 for the same window, 0 for disjoint ones. */
export function overlapRatio(a: TimeRange, b: TimeRange): number {
  const inter = Math.min(a.end, b.end) - Math.max(a.start, b.start);
  return inter > 0 ? inter / (a.end - a.start) : 0;
}

export interface WindowLabel {
  abnormal: boolean;
  /** every fault whose active period overlaps the window, most-overlapping first */
  faults: FaultLabel[];
  /** of the most-overlapping fault */
  rootCause?: string;
  rootCauseService?: string;
  type?: string;
}

/**
 * A window is abnormal when it overlaps a fault's active period; it then carries the root cause
 * and type of the fault it overlaps most (ties: the earlier fault).
 */
export function labelWindow(w: TimeRange, faults: readonly FaultLabel[]): WindowLabel {
  const hits: { f: FaultLabel; o: number }[] = [];
  for (const f of faults) {
    const o = Math.min(w.end, f.end) - Math.max(w.start, f.start);
    if (o > 0) hits.push({ f, o });
  }
  if (hits.length === 0) return { abnormal: false, faults: [] };
  hits.sort((a, b) => b.o - a.o || a.f.start - b.f.start);
  const top = hits[0].f;
  return {
    abnormal: true,
    faults: hits.map((h) => h.f),
    rootCause: top.rootCause,
    rootCauseService: top.rootCauseService,
    type: top.type,
  };
}

/** Labels for a case window come from its case; for grid windows from the overlapping faults. */
export function labelWindows(windows: readonly Window[], faults: readonly FaultLabel[], cases?: readonly DatasetCase[]): WindowLabel[] {
  const byCase = new Map(cases?.map((c) => [c.id, c]));
  // Faults sorted by start let each window look only at faults that can overlap it.
  const sorted = [...faults].sort((a, b) => a.start - b.start);
  const maxLen = sorted.reduce((m, f) => Math.max(m, f.end - f.start), 0);
  return windows.map((w) => {
    const c = w.caseId !== undefined ? byCase.get(w.caseId) : undefined;
    if (c) return labelWindow(w, [c.label]);
    let lo = 0;
    let hi = sorted.length;
    const from = w.start - maxLen;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid].start < from) lo = mid + 1;
      else hi = mid;
    }
    // Most windows of a long plan overlap no fault: skip the candidate list for them.
    if (lo >= sorted.length || sorted[lo].start >= w.end) return { abnormal: false, faults: [] };
    const near: FaultLabel[] = [];
    for (let i = lo; i < sorted.length && sorted[i].start < w.end; i++) near.push(sorted[i]);
    return labelWindow(w, near);
  });
}
