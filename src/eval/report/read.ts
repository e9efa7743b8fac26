/**
 * Reading an EVAL.json for the report. The report draws what the file has: `rows` are needed,
 * everything else (cases, their evidence, a timeline) is optional, so a report can be made from
 * any `evaluate` run, old or new, and says on the page what it could not show.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../../telemetry/index.js';
import type { EvalCaseResult, EvalReport, EvalRow } from '../evaluate/index.js';

/** Times in a timeline: epoch milliseconds or ISO 8601 strings. */
export type TimeValue = number | string;

/** A top suspect's evidence, as `evaluate` may attach it to a case (method → suspects in rank order). */
export interface SuspectEvidence {
  suspect: string;
  /** one line: the signals that put it there, e.g. "cpu z=8.1, latency p99 z=5.3" */
  why?: string;
  score?: number;
}

export interface ReportCase extends Partial<Omit<EvalCaseResult, 'ranks' | 'top'>> {
  id: string;
  ranks?: EvalCaseResult['ranks'];
  top?: EvalCaseResult['top'];
  evidence?: Record<string, SuspectEvidence[]>;
}

/**
 * The per-window lanes of the state timeline. `evaluate` does not write them yet: the report
 * draws the faults from the cases and says the states and alarms are missing (docs/report.md).
 */
export interface ReportTimeline {
  states?: { start: TimeValue; end: TimeValue; state: string | number }[];
  alarms?: { start: TimeValue; end: TimeValue; method: string }[];
  faults?: { id?: string; start: TimeValue; end: TimeValue; type?: string; rootCause?: string }[];
}

export interface ReportInput extends Omit<Partial<EvalReport>, 'rows' | 'cases'> {
  schemaVersion: number;
  dataset: string;
  rows: EvalRow[];
  cases?: ReportCase[];
  /** the dataset's kind (nezha, aiops22, simulator) when `evaluate` names it */
  kind?: string;
  timeline?: ReportTimeline;
}

/** Epoch ms of a timeline time; NaN when unreadable. */
export function timeOf(t: TimeValue | undefined): number {
  if (typeof t === 'number') return t;
  if (typeof t === 'string') return Date.parse(t);
  return NaN;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the shape the report relies on; the first problem as a one-line UserError. */
export function parseEvalReport(text: string, path: string): ReportInput {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path} is not JSON (${(e as Error).message}); pass the file \`runtimeslicer evaluate --json\` wrote`);
  }
  if (!isObject(v)) throw new UserError(`${path} is not an evaluate report: expected a JSON object`);
  if (typeof v.schemaVersion !== 'number') throw new UserError(`${path} is not an evaluate report: no schemaVersion`);
  if (v.schemaVersion > 1) throw new UserError(`${path} has schema version ${v.schemaVersion}; this runtimeslicer reads version 1 (update runtimeslicer)`);
  if (!Array.isArray(v.rows)) throw new UserError(`${path} is not an evaluate report: no rows`);
  for (const [i, r] of (v.rows as unknown[]).entries()) {
    if (!isObject(r) || typeof r.task !== 'string' || typeof r.method !== 'string' || typeof r.metric !== 'string' || !(r.value === null || typeof r.value === 'number')) {
      throw new UserError(`${path}: row ${i + 1} is not a {task, level, method, metric, value, n} row`);
    }
  }
  if (v.cases !== undefined && (!Array.isArray(v.cases) || !(v.cases as unknown[]).every((c) => isObject(c) && typeof c.id === 'string'))) {
    throw new UserError(`${path}: cases must be a list of objects with an id`);
  }
  return { ...(v as unknown as ReportInput), dataset: typeof v.dataset === 'string' ? v.dataset : '(unnamed dataset)' };
}

export async function readEvalReport(path: string): Promise<ReportInput> {
  return parseEvalReport(await readFile(path, 'utf8'), path);
}
