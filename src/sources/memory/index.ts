import {

  ProblemLog,
  edgesFromSpans,
  type Dataset,
  type DatasetCase,
  type Entity,
  type FaultLabel,
  type LogRecord,
  type MetricSeries,
  type Span,
  type TimeRange,
  type Topology,
} from '../../telemetry/index.js';
import { lowerBound } from '../../stats/index.js';

export interface MemoryDatasetInput {
  entities: Entity[];
  metrics?: MetricSeries[];
  spans?: Span[];
  logs?: LogRecord[];
  labels?: FaultLabel[];
  cases?: DatasetCase[];
  notes?: string[];
  /** records per yielded batch, to exercise streaming consumers */
  batchSize?: number;
}

/**
 * A Dataset over arrays already in memory: for library users who build telemetry themselves,
 * and for tests of everything downstream of the readers.
 */
export function memoryDataset(input: MemoryDatasetInput): Dataset {
  const metrics = (input.metrics ?? []).map(sortSeries);
  const spans = [...(input.spans ?? [])].sort((a, b) => a.start - b.start);
  const logs = [...(input.logs ?? [])].sort((a, b) => a.time - b.time);
  const labels = input.labels ?? [];
  const batch = input.batchSize ?? 1000;
  let lo = Infinity;
  let hi = -Infinity;
  const see = (t: number) => {
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  };
  for (const m of metrics) if (m.times.length) (see(m.times[0]), see(m.times[m.times.length - 1]));
  for (const s of spans) see(s.start);
  for (const l of logs) see(l.time);
  for (const f of labels) (see(f.start), see(f.end - 1));
  for (const c of input.cases ?? []) (see(c.start), see(c.end - 1));
  const timeRange: TimeRange = lo <= hi ? { start: lo, end: hi + 1 } : { start: 0, end: 0 };
  const inRange = (t: number, r?: TimeRange) => !r || (t >= r.start && t < r.end);

  return {
    format: 'otlp',
    root: '(memory)',
    entities: input.entities,
    timeRange,
    labels,
    cases: input.cases,
    problems: new ProblemLog(),
    disorderMs: 0,
    notes: input.notes ?? [],
    async topology(): Promise<Topology> {
      return { entities: input.entities, edges: [...edgesFromSpans(spans).values()] };
    },
    async *metrics(range?: TimeRange) {
      // One time block per batch-size of points keeps the stream time-ordered across series.
      const step = 3_600_000;
      const start = range?.start ?? timeRange.start;
      const end = range?.end ?? timeRange.end;
      for (let t = Math.floor(start / step) * step; t < end; t += step) {
        const out: MetricSeries[] = [];
        for (const m of metrics) {
          const a = lowerBound(m.times, Math.max(t, start));
          const b = lowerBound(m.times, Math.min(t + step, end));
          if (b > a) out.push({ ...m, times: m.times.subarray(a, b), values: m.values.subarray(a, b) });
        }
        if (out.length) yield out;
      }
    },
    async *spans(range?: TimeRange) {
      yield* chunks(spans.filter((s) => inRange(s.start, range)), batch);
    },
    async *logs(range?: TimeRange) {
      yield* chunks(logs.filter((l) => inRange(l.time, range)), batch);
    },
  };
}


function* chunks<T>(a: T[], n: number): Generator<T[]> {
  for (let i = 0; i < a.length; i += n) yield a.slice(i, i + n);
}


function sortSeries(m: MetricSeries): MetricSeries {
  let sorted = true;
  for (let i = 1; i < m.times.length; i++) if (m.times[i] < m.times[i - 1]) sorted = false;
  if (sorted) return m;
  const idx = [...m.times.keys()].sort((a, b) => m.times[a] - m.times[b]);
  return { ...m, times: Float64Array.from(idx, (i) => m.times[i]), values: Float64Array.from(idx, (i) => m.values[i]) };
}
