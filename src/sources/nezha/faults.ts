import { readFile } from 'node:fs/promises';
import { serviceOfPod } from '../../telemetry/index.js';
import type { FaultLabel, ProblemLog } from '../../telemetry/index.js';

/**
 * `<day>-fault_list.json`: `{ "<HH>": [{ inject_time, inject_timestamp, inject_pod, inject_type }] }`.
 * `inject_time` ("YYYY-MM-DD HH:MM:SS", UTC) is the injection time; `inject_timestamp` is off by
 * about eight hours in the published data and is ignored. Faults state no duration: the active
 * period is `durationMs` from the injection.
 */

const INJECT_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?Z?$/;

export function parseInjectTime(text: string): number {
  const m = INJECT_TIME_RE.exec(text.trim());
  if (!m) return NaN;
  const ms = m[7] ? Math.round(Number('0.' + m[7]) * 1000) : 0;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms);
}

interface RawFault {
  inject_time?: unknown;
  inject_pod?: unknown;
  inject_type?: unknown;
}

export interface FaultListRead {
  labels: FaultLabel[];
  /** one-line messages when the file could not be read in full (Dataset.labelIssues) */
  issues: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Reads a fault list. Anything that keeps a fault from being read (invalid JSON, another
 * shape, an entry without inject_time, inject_pod or inject_type) is a problem of kind
 * 'labels' and an issue: an unreadable fault list must not quietly make every window normal.
 */
export async function readFaultList(path: string, rel: string, day: string, durationMs: number, problems: ProblemLog): Promise<FaultListRead> {
  const issues: string[] = [];
  const fail = (line: number, reason: string) => {
    problems.add(rel, line, reason, 'labels');
    issues.push(`${rel}: ${reason}`);
  };
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    fail(0, err.code ? `cannot read the fault list (${err.code}); no faults read from it` : `not valid JSON (${err.message}); no faults read from it`);
    return { labels: [], issues };
  }
  const raw: RawFault[] = [];
  if (Array.isArray(doc)) raw.push(...(doc as RawFault[]));
  else if (isObject(doc)) {
    const groups = Object.entries(doc).sort(([a], [b]) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [key, list] of groups) {
      if (Array.isArray(list)) raw.push(...(list as RawFault[]));
      else if (isObject(list) && 'inject_time' in list) raw.push(list as RawFault);
      else fail(0, `group "${key}" is not a list of faults (expected { "<HH>": [{ inject_time, inject_pod, inject_type }] }); skipped`);
    }
  } else {
    fail(0, `expected an object of hour groups or a list of faults, found ${doc === null ? 'null' : typeof doc}; no faults read from it`);
    return { labels: [], issues };
  }
  const found: { start: number; pod: string; type: string; order: number }[] = [];
  const bad: string[] = [];
  raw.forEach((f, order) => {
    const start = isObject(f) && typeof f.inject_time === 'string' ? parseInjectTime(f.inject_time) : NaN;
    const pod = isObject(f) && typeof f.inject_pod === 'string' ? f.inject_pod.trim() : '';
    const type = isObject(f) && typeof f.inject_type === 'string' ? f.inject_type.trim() : '';
    if (!Number.isFinite(start) || !pod || !type) {
      const missing = [!Number.isFinite(start) && 'inject_time "YYYY-MM-DD HH:MM:SS"', !pod && 'inject_pod', !type && 'inject_type'].filter(Boolean).join(', ');
      problems.add(rel, 0, `fault #${order + 1}: no valid ${missing}; skipped`, 'labels');
      bad.push(`#${order + 1}`);
      return;
    }
    found.push({ start, pod, type, order });
  });
  if (bad.length > 0) {
    const list = bad.length > 5 ? `${bad.slice(0, 5).join(', ')}, …` : bad.join(', ');
    issues.push(`${rel}: ${bad.length} of ${raw.length} fault(s) unreadable (${list}: missing or invalid inject_time, inject_pod or inject_type); skipped`);
  }
  found.sort((a, b) => a.start - b.start || a.order - b.order);
  const labels = found.map((f, i): FaultLabel => ({
    id: `${day}#${i + 1}`,
    start: f.start,
    end: f.start + durationMs,
    rootCause: f.pod,
    rootCauseService: serviceOfPod(f.pod),
    type: f.type,
    level: 'pod',
  }));
  return { labels, issues };
}
