import type { DatasetCase, FaultLabel, TimeRange } from '../telemetry/index.js';

export interface WindowSpec {
  lengthMs: number;
  strideMs: number;
}

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
export function gridWindows(range: TimeRange, spec: WindowSpec): Window[] {
  const { lengthMs: L, strideMs: S } = spec;
  if (!(L > 0) || !(S > 0)) throw new RangeError('window length and stride must be positive');
  if (!(range.end > range.start)) return [];
  const first = Math.floor(range.start / S) * S;
  const hullEnd = Math.ceil(range.end / S) * S;
  const out: Window[] = [];
  for (let s = first; s + L <= hullEnd || out.length === 0; s += S) {
    out.push({ index: out.length, start: s, end: s + L });
    if (s + L > hullEnd) break;
  }
  return out;
}

/** Case-based sources: each case is one window, ordered by start time. */
export function caseWindows(cases: readonly DatasetCase[]): Window[] {
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
    const near: FaultLabel[] = [];
    for (let i = lo; i < sorted.length && sorted[i].start < w.end; i++) near.push(sorted[i]);
    return labelWindow(w, near);
  });
}
