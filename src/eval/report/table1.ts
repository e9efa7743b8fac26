/**
 * The paper's Table 1 shape (per method: anomaly detection P/R/F1; failure localization
 * P/R/F1/MRR; failure diagnosis P/R/F1/MRR) filled from `evaluate` rows, and the paper's own
 * figures for AIOps 2022 beside it. Which rows fill which column is the same choice
 * `formatEvaluateMarkdown` makes: AD = detection on metrics only, FL = service localization,
 * FD = fault-type classification.
 */
import type { EvalRow, LevelName, MetricName, TaskName } from '../evaluate/index.js';
import type { ReportInput } from './read.js';

export interface Table1Column {
  group: 'AD' | 'FL' | 'FD';
  label: string;
  task: TaskName;
  level: LevelName;
  metric: MetricName;
}

export const TABLE1_COLUMNS: readonly Table1Column[] = [
  { group: 'AD', label: 'P', task: 'detection', level: 'metrics-only', metric: 'precision' },
  { group: 'AD', label: 'R', task: 'detection', level: 'metrics-only', metric: 'recall' },
  { group: 'AD', label: 'F1', task: 'detection', level: 'metrics-only', metric: 'f1' },
  { group: 'FL', label: 'P', task: 'localization', level: 'service', metric: 'precision' },
  { group: 'FL', label: 'R', task: 'localization', level: 'service', metric: 'recall' },
  { group: 'FL', label: 'F1', task: 'localization', level: 'service', metric: 'f1' },
  { group: 'FL', label: 'MRR', task: 'localization', level: 'service', metric: 'mrr' },
  { group: 'FD', label: 'P', task: 'classification', level: 'type', metric: 'precision' },
  { group: 'FD', label: 'R', task: 'classification', level: 'type', metric: 'recall' },
  { group: 'FD', label: 'F1', task: 'classification', level: 'type', metric: 'f1' },
  { group: 'FD', label: 'MRR', task: 'classification', level: 'type', metric: 'mrr' },
];

/**
 * The paper's Table 1 figures for AIOps 2022 (RuntimeSlicer row, in %), on the authors' own
 * protocol (a split that leaks failures across train and test; datasets README).
 */
export const PAPER_AIOPS22: Readonly<Record<string, number>> = {
  'AD P': 97.27,
  'AD R': 81.18,
  'AD F1': 88.5,
  'FL P': 69.57,
  'FL R': 67.33,
  'FL F1': 68.43,
  'FL MRR': 70.15,
  'FD P': 87.57,
  'FD R': 75.12,
  'FD F1': 80.88,
  'FD MRR': 83.35,
};

export const PAPER_PROTOCOL = "the authors' own split of AIOps 2022 (failures on both sides of it: leaky)";

/** Whether a report is about AIOps 2022, where the paper's figures apply. */
export function isAiops22(r: Pick<ReportInput, 'dataset' | 'kind'>): boolean {
  if (r.kind !== undefined) return r.kind === 'aiops22';
  return /aiops[-_ ]?(20)?22/i.test(r.dataset);
}

/** A cell: a measured figure, a figure that is not measurable (with why), or nothing run. */
export type Cell = { kind: 'value'; value: number; n: number } | { kind: 'not-measurable'; reason: string; n: number } | { kind: 'absent' };

export function cellOf(rows: readonly EvalRow[], protocol: string | undefined, c: Pick<Table1Column, 'task' | 'level' | 'metric'>, method: string, faultType?: string): Cell {
  const r = rows.find((x) => (protocol === undefined || x.protocol === protocol) && x.task === c.task && x.level === c.level && x.method === method && x.metric === c.metric && x.faultType === faultType);
  if (!r) return { kind: 'absent' };
  if (r.value === null || !Number.isFinite(r.value)) return { kind: 'not-measurable', reason: r.notMeasurable?.reason ?? 'not measurable', n: r.n };
  return { kind: 'value', value: r.value, n: r.n };
}

export interface Table1 {
  protocol: string | undefined;
  leaky: boolean;
  methods: string[];
  cells: Cell[][];
  /** the paper's row, when the dataset is AIOps 2022 */
  paper?: (number | undefined)[];
}

/** The methods in the report's order, else in the order their rows first appear. */
export function methodsOf(r: ReportInput, protocol?: string): string[] {
  const seen = new Set<string>();
  for (const row of r.rows) if (protocol === undefined || row.protocol === protocol) seen.add(row.method);
  const listed = (r.methods ?? []).filter((m) => seen.has(m));
  return [...listed, ...[...seen].filter((m) => !listed.includes(m))];
}

export function table1(r: ReportInput, protocol: string | undefined): Table1 {
  const methods = methodsOf(r, protocol);
  const leaky = r.rows.some((x) => x.protocol === protocol && x.leaky === true) || protocol === 'authors-split';
  return {
    protocol,
    leaky,
    methods,
    cells: methods.map((m) => TABLE1_COLUMNS.map((c) => cellOf(r.rows, protocol, c, m))),
    paper: isAiops22(r) ? TABLE1_COLUMNS.map((c) => PAPER_AIOPS22[`${c.group} ${c.label}`]) : undefined,
  };
}

/** The protocols a report covers, headline first. */
export function protocolsOf(r: ReportInput): (string | undefined)[] {
  const head = r.protocol?.name;
  const present = [...new Set(r.rows.map((x) => x.protocol as string | undefined))];
  if (head === undefined) return present.length ? present : [undefined];
  return [head, ...present.filter((p) => p !== head)];
}
