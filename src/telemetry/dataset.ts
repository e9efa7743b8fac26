import type { Entity, FaultLabel, LogRecord, MetricSeries, Span, TimeRange, Topology } from './types.js';
import type { ProblemLog } from './problems.js';

export type DatasetFormat = 'nezha' | 'aiops22' | 'otlp';

/**
 * A predefined observation window of a case-based source (aiops22: one ≈60 s window after an
 * injection). Sources without cases window their timeline instead.
 */
export interface DatasetCase {
  id: string;
  start: number;
  end: number;
  label: FaultLabel;
  split?: 'train' | 'test';
  /** groups cases that come from the same failure (for grouped splits) */
  group: string;
}

/** One case's data, as the modality streams would map it. */
export interface CaseData {
  metrics: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
}

export interface LoadOptions {
  /** Active period given to faults whose source states no duration (Nezha). Default 3 min. */
  faultDurationMs?: number;
  /** Where data problems are reported; the dataset makes its own when absent. */
  problems?: ProblemLog;
}

export const DEFAULT_FAULT_DURATION_MS = 3 * 60_000;

/**
 * A source's handle. Opening one reads metadata only (file lists, labels, entities); the
 * modality streams read the data, restricted to a time range, so a window's data is read
 * without loading the whole folder.
 *
 * Ordering contract of every stream: batches come roughly in time order; no record (or metric
 * point) is earlier than the latest time already yielded by that stream minus `disorderMs`.
 * The windower relies on it to emit a window once every stream has moved past its end.
 */
export interface Dataset {
  readonly format: DatasetFormat;
  /** absolute path of the folder (or file) the dataset was opened from */
  readonly root: string;
  readonly entities: Entity[];
  /** covers the data of every modality (and the labels) */
  readonly timeRange: TimeRange;
  readonly labels: FaultLabel[];
  readonly problems: ProblemLog;
  /**
   * One-line messages when a labels file (fault list, faults.json) exists but could not be read
   * in full; absent or empty when labels read fine. Commands warn on it, and the ones that need
   * labels refuse to go on (an unreadable label file must not turn every window "normal").
   */
  readonly labelIssues?: string[];
  readonly disorderMs: number;
  /** case-based sources only */
  readonly cases?: DatasetCase[];
  /**
   * Case-based sources: exactly one case's data. Cases may overlap in time (concurrent test
   * beds with the same pod names), so a time-range read could mix them; the windower uses this.
   */
  caseData?(id: string): CaseData | undefined;
  /** Human-readable notes about the source (e.g. which modalities exist only near faults). */
  readonly notes: string[];

  /** Entities and call edges: the source's own graph, or derived from spans. */
  topology(): Promise<Topology>;
  metrics(range?: TimeRange): AsyncIterable<MetricSeries[]>;
  spans(range?: TimeRange): AsyncIterable<Span[]>;
  logs(range?: TimeRange): AsyncIterable<LogRecord[]>;
}

/** A user-facing error: the CLI prints its message as one line and exits 1, no stack trace. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

export function overlaps(a: TimeRange, b: TimeRange): boolean {
  return a.start < b.end && b.start < a.end;
}
