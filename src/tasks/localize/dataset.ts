import type { Dataset, LogRecord, Span, TimeRange } from '../../telemetry/index.js';
import { overlaps } from '../../telemetry/index.js';
import { MetricStore, assignTemplates, type TemplatedLog, type WindowInput } from '../../encode/index.js';
import { lowerBound } from '../../stats/index.js';
import { EvidenceLocalizer, LOCALIZER_DEFAULTS, type LocalizerOptions, type Ranking } from './localizer.js';

export interface DatasetLocalizerOptions extends LocalizerOptions {
  /** length of a normal window and of each slice of a query (default 1 min) */
  sliceMs?: number;
  /** spans/logs read around a slice for parent/child and log joins (default 30 s) */
  contextMs?: number;
  /** a normal window must start at least this long after a labelled fault ends (default 1 min) */
  marginMs?: number;
  /** at most this many normal windows are read for traces and logs (default 240) */
  maxTraceWindows?: number;
  /** at most this many normal windows for the resource null (default 2000) */
  maxMetricWindows?: number;
  /**
   * A query whose metric history is shorter than `historyMs` (the data's start, a return after a
   * gap) has its resource family judged at the history it has, against the normal windows cut to
   * the same history (default false: such slices' resource evidence only explains starved
   * callers; tried, not kept: docs/localize.md "A second system in Nezha's layout").
   */
  shortHistory?: boolean;
  /** ranges never used as normal windows (e.g. the query itself) */
  exclude?: TimeRange[];
}

export const DATASET_DEFAULTS = {
  sliceMs: 60_000,
  contextMs: 30_000,
  marginMs: 60_000,
  maxTraceWindows: 240,
  maxMetricWindows: 2000,
  shortHistory: false,
};

export interface PreparedLocalizer {
  localizer: EvidenceLocalizer;
  /** normal windows for the traces/logs nulls that hold a span or a record, and how many for metrics */
  normalTraceWindows: TimeRange[];
  normalMetricWindows: number;
  rank(query: TimeRange): Ranking;
  /** the query's slices as the families see them (for diagnosis) */
  slices(query: TimeRange): WindowInput[];
}

interface ModalData {
  spans: Span[];
  logs: LogRecord[];
}

async function readRange(ds: Dataset, r: TimeRange): Promise<ModalData> {
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for await (const b of ds.spans(r)) for (const s of b) spans.push(s);
  for await (const b of ds.logs(r)) for (const l of b) logs.push(l);
  return { spans, logs };
}

/**
 * Reads the union of `ranges` in as few stretches as possible and returns a cutter giving
 * the records of any one of them (spans by start, logs by time).
 */
async function readMerged(ds: Dataset, ranges: readonly TimeRange[]): Promise<(r: TimeRange) => ModalData> {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  const merged: TimeRange[] = [];
  for (const r of sorted) {
    const last = merged[merged.length - 1];
    if (last && r.start <= last.end) last.end = Math.max(last.end, r.end);
    else merged.push({ ...r });
  }
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for (const m of merged) {
    const d = await readRange(ds, m);
    for (const x of d.spans) spans.push(x);
    for (const x of d.logs) logs.push(x);
  }
  spans.sort((a, b) => a.start - b.start);
  logs.sort((a, b) => a.time - b.time);
  const spanTimes = spans.map((x) => x.start);
  const logTimes = logs.map((x) => x.time);
  return (r) => ({
    spans: spans.slice(lowerBound(spanTimes, r.start), lowerBound(spanTimes, r.end)),
    logs: logs.slice(lowerBound(logTimes, r.start), lowerBound(logTimes, r.end)),
  });
}

function sliceRange(r: TimeRange, sliceMs: number): TimeRange[] {
  const out: TimeRange[] = [];
  for (let t = r.start; t + sliceMs / 2 <= r.end; t += sliceMs) out.push({ start: t, end: t + sliceMs });
  return out;
}

function evenly<T>(a: T[], n: number): T[] {
  if (a.length <= n) return a;
  return Array.from({ length: n }, (_, i) => a[Math.floor((i * a.length) / n)]);
}

/**
 * Candidate normal windows for traces and logs. Sources that keep traces and logs only near
 * faults (Nezha) name their fault-free reference minutes; there, the minute before each
 * injection is also normal by its label. Elsewhere a grid over the data. Labels only ever
 * remove windows: any window touching a fault's active period (plus a margin after it, for
 * recovery) is dropped.
 */
export function normalWindows(ds: Dataset, opt: { sliceMs: number; marginMs: number; exclude?: TimeRange[] }, extent?: TimeRange): TimeRange[] {
  const { sliceMs, marginMs } = opt;
  const cand: TimeRange[] = [];
  const refs = (ds as { referenceRanges?: TimeRange[] }).referenceRanges;
  if (refs && !extent) {
    for (const r of refs) cand.push(...sliceRange(r, sliceMs));
    for (const l of ds.labels) cand.push({ start: l.start - sliceMs, end: l.start });
  } else {
    const e = extent ?? ds.timeRange;
    for (let t = e.start; t + sliceMs <= e.end; t += sliceMs) cand.push({ start: t, end: t + sliceMs });
  }
  const blocked = blockedRanges(ds, marginMs, opt.exclude);
  return cand.filter((w) => !blocked.some((b) => overlaps(w, b))).sort((a, b) => a.start - b.start);
}

/** Fault periods (plus the recovery margin) and excluded ranges: never part of a reference. */
export function blockedRanges(ds: Dataset, marginMs: number, exclude: readonly TimeRange[] = []): TimeRange[] {
  return [...ds.labels.map((l) => ({ start: l.start, end: l.end + marginMs })), ...exclude];
}

function outside(t: number, blocked: readonly TimeRange[]): boolean {
  return !blocked.some((b) => t >= b.start && t < b.end);
}

/**
 * Whether a window's rolling metric history reaches back its full length: some metric point
 * lies in the slice that starts `historyMs` before the window. The resource family compares a
 * pod with its own recent past, so a window just after the metrics begin (or resume after a
 * gap: Nezha's second day starts at 11:39) is judged against a few minutes — which no null
 * window resembles. The null windows and the query slices both pass this test (issue 11,
 * lesson c: calibrate against windows like the one judged).
 */
export function fullHistory(times: readonly number[], historyMs: number, sliceMs: number): (w: TimeRange) => boolean {
  return (w) => {
    const from = w.start - historyMs;
    const i = lowerBound(times, from);
    return i < times.length && times[i] < from + sliceMs;
  };
}

function serviceLookup(ds: Dataset): (e: string) => string | undefined {
  const m = new Map<string, string>();
  for (const e of ds.entities) {
    if (e.kind === 'pod' && e.service) m.set(e.id, e.service);
    if (e.kind === 'service') m.set(e.id, e.id);
  }
  return (e) => m.get(e);
}

/**
 * Reads a dataset's normal windows and the query ranges, mines log templates over all of them
 * (no labels involved) and fits the localizer. Queries are given up front so every window
 * shares one template vocabulary.
 */
export async function prepareLocalizer(ds: Dataset, queries: readonly TimeRange[], options: DatasetLocalizerOptions = {}): Promise<PreparedLocalizer> {
  const opt = { ...DATASET_DEFAULTS, ...LOCALIZER_DEFAULTS, ...options };
  const exclude = [...(opt.exclude ?? []), ...queries];
  const metrics = new MetricStore();
  const metricTimes = new Set<number>();
  for await (const b of ds.metrics()) {
    metrics.add(b);
    for (const m of b) for (const t of m.times) metricTimes.add(t);
  }
  metrics.seal();
  const sortedTimes = [...metricTimes].sort((a, b) => a - b);
  const hasHistory = fullHistory(sortedTimes, opt.historyMs, opt.sliceMs);
  const serviceOf = serviceLookup(ds);

  const traceWins = evenly(normalWindows(ds, { ...opt, exclude }), opt.maxTraceWindows);
  const ext = metrics.extent();
  const metricWins = ext
    ? evenly(normalWindows(ds, { ...opt, exclude }, { start: ext.start + opt.historyMs, end: ext.end }).filter(hasHistory), opt.maxMetricWindows)
    : [];

  // windows (with context) overlap their neighbours (a query's slices, the minute before an
  // injection and the injection): each merged stretch is read once, then cut per window
  const pad = (r: TimeRange) => ({ start: r.start - opt.contextMs, end: r.end + opt.contextMs });
  const querySlices = queries.map((q) => sliceRange(q, opt.sliceMs));
  const cache = await readMerged(ds, [...traceWins, ...querySlices.flat()].map(pad));
  // a normal window's context stops at fault periods, so no fault record reaches a reference
  const faults = blockedRanges(ds, opt.marginMs);
  const reads: { range: TimeRange; data: ModalData }[] = traceWins.map((w) => {
    const d = cache(pad(w));
    return { range: w, data: { spans: d.spans.filter((s) => outside(s.start, faults)), logs: d.logs.filter((l) => outside(l.time, faults)) } };
  });
  const queryReads = querySlices.map((slices) => slices.map((sl) => ({ range: sl, data: cache(pad(sl)) })));
  const all = [...reads, ...queryReads.flat()];
  // windows share records where they overlap: each record is mined once
  const allLogs = [...new Set(all.flatMap((r) => r.data.logs))];
  const mined = assignTemplates(allLogs);
  const byRecord = new Map<LogRecord, TemplatedLog>();
  mined.logs.forEach((l) => byRecord.set(l.record, l));
  const input = (r: { range: TimeRange; data: ModalData }, withMetrics: boolean): WindowInput => ({
    range: r.range,
    spans: r.data.spans,
    logs: r.data.logs.map((l) => byRecord.get(l)!),
    metrics: withMetrics ? metrics : undefined,
    templateText: mined.text,
    serviceOf,
  });

  // trace/log windows carry no metrics (the resource null comes from the metric grid), so a
  // window is not counted twice in the resource null
  const normal: WindowInput[] = [
    ...reads.map((r) => input(r, false)),
    ...metricWins.map((w) => ({ range: w, spans: [], logs: [], metrics, serviceOf, historySkip: faults })),
  ];
  const localizer = EvidenceLocalizer.fit(normal, opt);
  // resource-only localizers with a shorter rolling history, fitted on the same metric windows
  // when a query first needs one (keyed by the history)
  const shortFits = new Map<number, EvidenceLocalizer>();
  const shortFit = (historyMs: number): EvidenceLocalizer => {
    let l = shortFits.get(historyMs);
    if (!l) shortFits.set(historyMs, (l = EvidenceLocalizer.fit(normal.filter((w) => w.metrics !== undefined), { ...opt, historyMs, families: ['resource'] })));
    return l;
  };
  const byQuery = new Map<string, WindowInput[]>();
  queries.forEach((q, i) => byQuery.set(`${q.start}:${q.end}`, queryReads[i].map((r) => input(r, true))));
  const sliceOf = (query: TimeRange): WindowInput[] => {
    const slices = byQuery.get(`${query.start}:${query.end}`);
    if (!slices) throw new Error('rank: query was not given to prepareLocalizer');
    return slices;
  };
  return {
    localizer,
    // only those that hold a span or a log record: a metrics-only source has none to show
    normalTraceWindows: traceWins.filter((_, i) => reads[i].data.spans.length + reads[i].data.logs.length > 0),
    normalMetricWindows: metricWins.length,
    slices: sliceOf,
    rank(query: TimeRange): Ranking {
      const slices = sliceOf(query);
      const full = slices.map((w) => hasHistory(w.range));
      if (full.every(Boolean) || !opt.shortHistory || !opt.families.includes('resource')) {
        // a slice without a full metric history has no like among the null windows (all of which
        // have one): its resource z may explain a starved caller, not rank a suspect
        return localizer.rank(slices, query, { resourceRanks: full });
      }
      // `shortHistory`: the query's metrics begin less than `historyMs` before it (the start of
      // the data, or its return after a gap). Its like among the null windows is the same
      // windows with their history cut to what every slice of the query has: the longest whole
      // number of slices that every slice passes `fullHistory` with. The normal windows all have
      // the full history, so any shorter one is theirs too; under one slice, nothing is alike
      for (let h = opt.historyMs - opt.sliceMs; h >= opt.sliceMs; h -= opt.sliceMs) {
        const has = fullHistory(sortedTimes, h, opt.sliceMs);
        const ranks = slices.map((w) => has(w.range));
        if (ranks.every(Boolean)) return localizer.rank(slices, query, { resourceRanks: ranks, resourceBy: shortFit(h) });
      }
      return localizer.rank(slices, query, { resourceRanks: full });
    },
  };
}
