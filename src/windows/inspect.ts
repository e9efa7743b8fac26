import { isoTime, type Dataset, type Problem, type ProblemKind } from '../telemetry/index.js';
import { datasetWindows } from './stream.js';
import type { WindowSpec } from './grid.js';

export interface InspectReport {
  format: string;
  root: string;
  /** number of entities (pods, services and nodes); `entityKinds` splits it */
  entities: number;
  entityKinds: Record<string, number>;
  /** number of services; `serviceNames` lists them */
  services: number;
  serviceNames: string[];
  timeRange: { start: string; end: string };
  metrics: { series: number; samples: number; missing: number; nanShare: number };
  traces: { spans: number; traces: number };
  logs: { records: number };
  faults: { total: number; byType: Record<string, number> };
  cases?: { total: number; bySplit: Record<string, number> };
  window: { lengthMs: number; strideMs: number };
  windows: number;
  abnormalWindows: number;
  problemsTotal: number;
  problemsByReason: Record<string, number>;
  /** every kind of problem with its count and the first few examples, most frequent first */
  problemsByKind: ProblemGroup[];
  problems: Problem[];
  notes: string[];
}

export interface ProblemGroup {
  kind: ProblemKind;
  count: number;
  examples: { file: string; line: number; reason: string }[];
}

/**
 * One pass over every modality of a dataset: counts, missing shares, faults and windows.
 * `onProgress` gets the fraction of the time range read so far (by the slowest stream).
 */
export async function inspectDataset(ds: Dataset, spec: WindowSpec, onProgress?: (fraction: number) => void): Promise<InspectReport> {
  // The window plan first: one above the bound is refused before any data is read.
  const windows = datasetWindows(ds, spec);
  const { start, end } = ds.timeRange;
  const span = Math.max(1, end - start);
  const progress = [0, 0, 0];
  const report = (i: number, t: number) => {
    progress[i] = Math.min(1, Math.max(progress[i], (t - start) / span));
    onProgress?.(Math.min(progress[0], progress[1], progress[2]));
  };

  const series = new Set<string>();
  let samples = 0;
  let missing = 0;
  let spans = 0;
  const traces = new Set<string>();
  let logs = 0;

  await Promise.all([
    (async () => {
      for await (const batch of ds.metrics()) {
        for (const s of batch) {
          series.add(s.entity + '\u0000' + s.name);
          samples += s.values.length;
          for (let i = 0; i < s.values.length; i++) if (Number.isNaN(s.values[i])) missing++;
          if (s.times.length) report(0, s.times[s.times.length - 1]);
        }
      }
      progress[0] = 1;
    })(),
    (async () => {
      for await (const batch of ds.spans()) {
        spans += batch.length;
        for (const s of batch) traces.add(s.traceId);
        if (batch.length) report(1, batch[batch.length - 1].start);
      }
      progress[1] = 1;
    })(),
    (async () => {
      for await (const batch of ds.logs()) {
        logs += batch.length;
        if (batch.length) report(2, batch[batch.length - 1].time);
      }
      progress[2] = 1;
    })(),
  ]);
  onProgress?.(1);

  const kinds: Record<string, number> = {};
  for (const e of ds.entities) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
  const serviceNames = [...new Set(ds.entities.map((e) => (e.kind === 'service' ? e.id : e.service)).filter((s): s is string => !!s))].sort();
  const byType: Record<string, number> = {};
  for (const f of ds.labels) byType[f.type] = (byType[f.type] ?? 0) + 1;
  const sortedFaults = [...ds.labels].sort((a, b) => a.start - b.start);
  let abnormal = 0;
  for (const w of windows) if (sortedFaults.some((f) => f.start < w.end && f.end > w.start)) abnormal++;
  let cases: InspectReport['cases'];
  if (ds.cases) {
    const bySplit: Record<string, number> = {};
    for (const c of ds.cases) bySplit[c.split ?? 'none'] = (bySplit[c.split ?? 'none'] ?? 0) + 1;
    cases = { total: ds.cases.length, bySplit };
  }
  return {
    format: ds.format,
    root: ds.root,
    entities: ds.entities.length,
    entityKinds: kinds,
    services: serviceNames.length,
    serviceNames,
    timeRange: { start: isoTime(start), end: isoTime(end) },
    metrics: { series: series.size, samples, missing, nanShare: samples ? missing / samples : 0 },
    traces: { spans, traces: traces.size },
    logs: { records: logs },
    faults: { total: ds.labels.length, byType },
    ...(cases ? { cases } : {}),
    window: { lengthMs: spec.lengthMs, strideMs: spec.strideMs },
    windows: windows.length,
    abnormalWindows: abnormal,
    problemsTotal: ds.problems.total,
    problemsByReason: ds.problems.byReason(),
    problemsByKind: ds.problems.byKind().map((g) => ({ kind: g.kind, count: g.count, examples: g.examples.map((p) => ({ file: p.file, line: p.line, reason: p.reason })) })),
    problems: ds.problems.items,
    notes: ds.notes,
  };
}
