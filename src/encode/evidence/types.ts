import type { LogRecord, Span, TimeRange } from '../../telemetry/index.js';
import type { MetricStore } from './metric-store.js';

export type FamilyName = 'edge-gap' | 'self-time' | 'log-template' | 'log-rate' | 'resource' | 'call-outcome' | 'span-structure' | 'mesh-edge';

/** One piece of evidence behind a suspect, with the value seen and what normal looks like. */
export interface EvidenceItem {
  family: FamilyName;
  service: string;
  pod?: string;
  /** what was measured: an edge "a → b", an operation, "operation | template", a metric */
  subject: string;
  value: number;
  reference: number;
  /** the family's raw deviation for this item (before calibration) */
  deviation: number;
  unit?: string;
  /** spans / calls / points behind `value` */
  support?: number;
  /** how `value` splits by kind (call-outcome: the failed, complained-about and slow shares), for the fault-type classifier */
  kinds?: Record<string, number>;
}

/** A family's raw (uncalibrated) score for one service in one window. */
export interface ServiceRaw {
  score: number;
  /** per pod, where the family sees pods */
  pods?: Map<string, number>;
  /**
   * Sub-scores (per metric, operation or template) when the family compares many things per
   * service: the localizer calibrates each against its own null before taking the max, so a
   * normally bursty metric or template cannot dominate by being bursty.
   */
  parts?: Map<string, number>;
  /** per pod, per part */
  podParts?: Map<string, Map<string, number>>;
  /**
   * Edge families: the deviation of each incoming edge, by caller service, so the localizer can
   * leave out callers whose own resources explain their slow calls (a starved caller).
   */
  incoming?: Map<string, number>;
  /**
   * `call-outcome`: per caller service, how far the calls it made into this service went bad as
   * the caller *felt* them — errored for any reason or slower end to end than normal — whoever
   * is to blame. Blame stays with `incoming`; this says the caller saw trouble through this
   * service, so the localizer can carry an inherited-evidence cap up more than one hop.
   */
  felt?: Map<string, number>;
  items: EvidenceItem[];
}

export type RawScores = Map<string, ServiceRaw>;

/** A log record with its template id (see `assignTemplates`). */
export interface TemplatedLog {
  record: LogRecord;
  template: number;
}

/**
 * What the families see of one window. `spans`/`logs` may reach a little beyond `range`
 * (context for parent/child look-ups); families only count spans that start inside `range`.
 */
export interface WindowInput {
  range: TimeRange;
  spans: Span[];
  logs: TemplatedLog[];
  metrics?: MetricStore;
  templateText?: (id: number) => string | undefined;
  /**
   * Periods left out of rolling histories: for a normal window, the labelled fault periods, so
   * no reference ever sees a fault's data (a query's history is taken as it is).
   */
  historySkip?: readonly TimeRange[];
  /** service of a pod (metric entities); metrics of entities without one are skipped */
  serviceOf?: (entity: string) => string | undefined;
}

/**
 * An evidence family: a per-window summary, a reference fitted from the summaries of normal
 * windows, and a raw per-service score of a summary against a reference.
 */
export interface EvidenceFamily<S, R> {
  readonly name: FamilyName;
  summarize(w: WindowInput): S | undefined;
  fit(normal: readonly S[]): R;
  score(s: S, ref: R): RawScores;
}
