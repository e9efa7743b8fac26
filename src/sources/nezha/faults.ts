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

export async function readFaultList(path: string, rel: string, day: string, durationMs: number, problems: ProblemLog): Promise<FaultLabel[]> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    problems.add(rel, 0, `not valid JSON (${(e as Error).message}); no faults read from it`);
    return [];
  }
  const raw: RawFault[] = [];
  if (Array.isArray(doc)) raw.push(...(doc as RawFault[]));
  else if (doc && typeof doc === 'object') {
    const groups = Object.entries(doc as Record<string, unknown>).sort(([a], [b]) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0));
    for (const [, list] of groups) if (Array.isArray(list)) raw.push(...(list as RawFault[]));
  }
  const found: { start: number; pod: string; type: string; order: number }[] = [];
  raw.forEach((f, order) => {
    const start = typeof f?.inject_time === 'string' ? parseInjectTime(f.inject_time) : NaN;
    const pod = typeof f?.inject_pod === 'string' ? f.inject_pod : '';
    const type = typeof f?.inject_type === 'string' ? f.inject_type : '';
    if (!Number.isFinite(start) || !pod || !type) {
      problems.add(rel, 0, `fault #${order + 1}: expected inject_time "YYYY-MM-DD HH:MM:SS", inject_pod and inject_type; skipped`);
      return;
    }
    found.push({ start, pod, type, order });
  });
  found.sort((a, b) => a.start - b.start || a.order - b.order);
  return found.map((f, i) => ({
    id: `${day}#${i + 1}`,
    start: f.start,
    end: f.start + durationMs,
    rootCause: f.pod,
    rootCauseService: serviceOfPod(f.pod),
    type: f.type,
    level: 'pod',
  }));
}
