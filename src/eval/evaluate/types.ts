/**
 * What `evaluate` reports (docs/evaluate.md): one row per (task, level, method, metric), and the
 * per-case ranks behind the localization and classification rows.
 */
import type { NotMeasurable } from '../embedding-metrics.js';
import type { ProtocolName } from '../../windows/index.js';

export const EVALUATE_SCHEMA_VERSION = 1;

export type TaskName = 'detection' | 'localization' | 'classification';
/** localization: service | pod; detection: metrics-only | all-modalities; classification: type */
export type LevelName = 'service' | 'pod' | 'metrics-only' | 'all-modalities' | 'type';
/** The leak sentinels and the baselines every run has; a model column is named by its file. */
export const FIXED_METHODS = ['evidence', 'raw-features', 'raw-backbone', 'time-only', 'nearest-fault', 'prior'] as const;

export type MetricName =
  | 'ac@1'
  | 'ac@3'
  | 'ac@5'
  | 'avg@5'
  | 'mrr'
  | 'precision'
  | 'recall'
  | 'f1'
  | 'macro-f1'
  | 'weighted-f1'
  | 'weighted-precision'
  | 'weighted-recall'
  | 'event-f1'
  | 'event-precision'
  | 'event-recall';

export interface EvalRow {
  task: TaskName;
  level: LevelName;
  method: string;
  metric: MetricName;
  /** null when not measurable (then `notMeasurable` says why) */
  value: number | null;
  /** cases (localization, classification) or windows (detection) the figure rests on */
  n: number;
  /** the protocol the figure comes from; leaky protocols are marked */
  protocol: ProtocolName;
  leaky?: boolean;
  /** per-fault-type breakdown rows carry the type */
  faultType?: string;
  notMeasurable?: NotMeasurable | { n: number; classes: number; reason: string };
}

/** One evaluated case with each method's ranks and top answers. */
export interface EvalCaseResult {
  id: string;
  protocol: ProtocolName;
  fold: number;
  group: string;
  start: string;
  type: string;
  rootCause: string;
  rootCauseService: string;
  /** method → rank of the true answer (1-based; null when the method did not rank it) */
  ranks: Record<string, { service: number | null; pod: number | null; type: number | null }>;
  /** method → its first five services and its predicted type */
  top: Record<string, { services: string[]; type?: string }>;
}

export interface EvalReport {
  schemaVersion: number;
  dataset: string;
  /** the headline protocol, and the leaky one reported beside it (AIOps 2022 authors' split) */
  protocol: { name: ProtocolName; folds: number; seed: number; groups: number; also?: ProtocolName[] };
  methods: string[];
  rows: EvalRow[];
  cases: EvalCaseResult[];
  notes: string[];
  /**
   * The report's state timeline (docs/report.md), times in epoch ms: runtime states and alarms of
   * the tuned detector over the metrics-only windows (states are fitted per fold, ids ordered by
   * size within a fold), and the faults.
   */
  timeline?: EvalTimeline;
  /**
   * `evaluate --tasks`: each tasks-file column (fitted by `tune` on other data, applied to every
   * labelled fault and window of this dataset; no folds). Its rows carry the headline protocol's
   * name so they sit beside the grouped-fold columns; this says what they are.
   */
  tasksColumns?: TasksColumnInfo[];
  /**
   * `evaluate --fold-seeds`: the detection columns again under other fold seeds (the same
   * windows; only which normal hour blocks and fault groups land in which fold changes), with
   * the mean over the seeds: where one seed's figure is a lucky or unlucky draw, this says so.
   */
  foldSeeds?: FoldSeedsTable;
}

/** Detection event-F1 and window F1 per fold seed, per level and method (fold-seeds.ts). */
export interface FoldSeedsTable {
  seeds: number[];
  rows: { level: LevelName; method: string; metric: 'event-f1' | 'f1'; values: (number | null)[]; mean: number | null; min: number | null; max: number | null }[];
}

/** One `tasks` column: the file, the data it was fitted on, the protocol in words, what it did. */
export interface TasksColumnInfo {
  method: string;
  /** the tasks file as given */
  tasks: string;
  /** the data `tune` fitted it on (the tasks file's `fittedOn.data`) */
  fittedOn: string;
  protocol: string;
  /** the detector as `detect` ran it (family, states, rise gate, views, alignment) */
  detector: string;
  /** detection levels scored */
  levels: string[];
  notes: string[];
}

/**
 * The shape the report reads (src/eval/report/read.ts, which also takes ISO times and state
 * names); `evaluate` writes epoch ms and numbered states.
 */
export interface EvalTimeline {
  states?: { start: number | string; end: number | string; state: number | string }[];
  alarms?: { start: number | string; end: number | string; method: string }[];
  faults?: { id?: string; start: number | string; end: number | string; type?: string; rootCause?: string }[];
}
