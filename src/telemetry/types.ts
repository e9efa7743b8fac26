/**
 * The data model every reader produces and every later stage consumes.
 * Time is milliseconds since the Unix epoch (UTC), fractions allowed; durations are milliseconds.
 * Readers convert units; nothing downstream guesses them.
 */

export type EntityKind = 'service' | 'pod' | 'node';

export interface Entity {
  /** Unique within a dataset: the pod name, the service name or the node name. */
  id: string;
  kind: EntityKind;
  /** The service a pod belongs to (a service's own id for kind 'service'). */
  service?: string;
  /** The node a pod runs on, when known. */
  node?: string;
}

export interface TimeRange {
  /** inclusive, ms */
  start: number;
  /** exclusive, ms */
  end: number;
}

/**
 * One metric series, or a time-slice of it, kept columnar: `times[i]` (ms) and `values[i]`
 * (NaN = missing, never silently 0). Within a chunk, times are ascending.
 */
export interface MetricSeries {
  entity: string;
  name: string;
  /** Unit as the source states it, e.g. "%", "s", "Mi", "By", "1"; '' when unknown. */
  unit?: string;
  times: Float64Array;
  values: Float64Array;
  /**
   * The source's aggregation temporality, for sources that state one (OTLP sums and
   * histograms). Readers turn cumulative values into per-interval amounts, so `values` mean the
   * same either way; this only records what the source sent.
   */
  temporality?: 'delta' | 'cumulative';
}

/** A single metric sample, for code that is not on a hot path. */
export interface MetricSample {
  entity: string;
  name: string;
  time: number;
  value: number;
}

export type SpanStatus = 'ok' | 'error' | 'unset';

/** OTLP SpanKind; absent where the source does not say (Nezha CSV). */
export type SpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** A timestamped event on a span, e.g. `exception` from recordException. */
export interface SpanEvent {
  /** ms */
  time: number;
  name: string;
  attributes?: Record<string, string | number | boolean>;
}

export interface Span {
  traceId: string;
  spanId: string;
  /** undefined for a root span */
  parentId?: string;
  /** the pod (or service, where the source has no pods) that emitted the span */
  entity: string;
  service: string;
  operation: string;
  /** ms */
  start: number;
  /** ms */
  duration: number;
  status: SpanStatus;
  /** the status description the source gives with an error status */
  statusMessage?: string;
  kind?: SpanKind;
  events?: SpanEvent[];
  attributes?: Record<string, string | number | boolean>;
}

export type Severity = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unknown';

export interface LogRecord {
  time: number;
  entity: string;
  service: string;
  severity: Severity;
  body: string;
  traceId?: string;
  spanId?: string;
  attributes?: Record<string, string | number | boolean>;
}

export interface FaultLabel {
  id: string;
  /** ms, start of the active period */
  start: number;
  /** ms, exclusive end of the active period */
  end: number;
  /** root-cause entity id (pod, service or node) */
  rootCause: string;
  /** service of the root cause */
  rootCauseService: string;
  /** failure type in the source's own (or an English) vocabulary */
  type: string;
  /** the source's original type name, when `type` was translated */
  typeOriginal?: string;
  level?: string;
  split?: 'train' | 'test';
}

export interface CallEdge {
  caller: string;
  callee: string;
  count: number;
}

/** Entities and their call graph as observed (or as the source states it). */
export interface Topology {
  entities: Entity[];
  /** pod-level (or entity-level) edges */
  edges: CallEdge[];
}

/** A data problem found while reading: reported, never thrown. */
export interface Problem {
  /** file path relative to the dataset root, or '' for the dataset as a whole */
  file: string;
  /** 1-based line number; 0 when it concerns the whole file */
  line: number;
  reason: string;
  /** what sort of problem (for grouping); set by ProblemLog */
  kind?: ProblemKind;
}

/**
 * Sorts of data problems, for grouped reports: a record that does not parse; a file that is
 * damaged (gzip/CRC/truncated) or cannot be read at all; a file of an unexpected layout or
 * header; two clocks that disagree or records out of order; times that are invalid or far
 * outside the data; labels (fault lists) that cannot be read; anything else.
 */
export type ProblemKind = 'malformed-record' | 'damaged-file' | 'unreadable-file' | 'layout' | 'clock' | 'time' | 'labels' | 'entity' | 'other';

export type Modality = 'metrics' | 'traces' | 'logs';
export const MODALITIES: readonly Modality[] = ['metrics', 'traces', 'logs'];
