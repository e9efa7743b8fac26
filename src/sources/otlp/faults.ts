/**
 * faults.json: the fault labels that go with an OTLP folder. Schema in docs/formats/faults-json.md.
 * Invalid entries are reported (file, line, entry index) and skipped; the rest are kept.
 */
import { readFile } from 'node:fs/promises';
import { isoTime } from '../../telemetry/index.js';
import type { FaultLabel, ProblemLog } from '../../telemetry/index.js';
import { errorLine, FAULTS_FILE } from './files.js';
import { isObject } from './values.js';
import { writeFileAtomic } from './atomic.js';

export const FAULTS_VERSION = 1;

export interface FaultsFile {
  version: 1;
  faults: FaultEntry[];
}

/** One entry as written: times as ISO-8601 text (or epoch ms where a time has sub-ms digits). */
export interface FaultEntry {
  id: string;
  start: string | number;
  end: string | number;
  rootCause: string;
  rootCauseService: string;
  type: string;
  typeOriginal?: string;
  level?: string;
  split?: 'train' | 'test';
}

// An ISO-8601 date-time with an explicit zone: a bare local time would depend on the reader's TZ.
const ISO = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

function timeOf(v: unknown): number | string {
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'must be a finite number of epoch ms';
  if (typeof v === 'string') {
    if (!ISO.test(v.trim())) return `"${v}" is not an ISO-8601 time with a zone (e.g. 2024-05-01T12:00:00Z)`;
    const ms = Date.parse(v.trim());
    return Number.isFinite(ms) ? ms : `"${v}" is not a valid time`;
  }
  return 'must be an ISO-8601 string or epoch ms';
}

/**
 * Validates a parsed faults.json. Returns the valid labels; every problem goes to `report`
 * with the 1-based line of the entry when `lines` gives it.
 */
export function parseFaults(doc: unknown, report: (line: number, reason: string) => void, lines: number[] = []): FaultLabel[] {
  if (!isObject(doc)) {
    report(0, 'faults.json must be an object {"version": 1, "faults": [...]}');
    return [];
  }
  if (doc.version !== FAULTS_VERSION) {
    report(0, `faults.json: unsupported version ${JSON.stringify(doc.version)} (expected 1)`);
    return [];
  }
  if (!Array.isArray(doc.faults)) {
    report(0, 'faults.json: "faults" must be an array');
    return [];
  }
  const out: FaultLabel[] = [];
  const seen = new Set<string>();
  doc.faults.forEach((f: unknown, i: number) => {
    const at = `faults[${i}]`;
    const line = lines[i] ?? 0;
    const errors: string[] = [];
    if (!isObject(f)) {
      report(line, `${at}: must be an object`);
      return;
    }
    const str = (k: string, required: boolean): string | undefined => {
      const v = f[k];
      if (v === undefined || v === null) {
        if (required) errors.push(`"${k}" is required`);
        return undefined;
      }
      if (typeof v !== 'string' || v.length === 0) {
        errors.push(`"${k}" must be a non-empty string`);
        return undefined;
      }
      return v;
    };
    const id = str('id', true);
    const rootCause = str('rootCause', true);
    const rootCauseService = str('rootCauseService', true);
    const type = str('type', true);
    const typeOriginal = str('typeOriginal', false);
    const level = str('level', false);
    const start = timeOf(f.start);
    const end = timeOf(f.end);
    if (typeof start === 'string') errors.push(`"start" ${f.start === undefined ? 'is required' : start}`);
    if (typeof end === 'string') errors.push(`"end" ${f.end === undefined ? 'is required' : end}`);
    if (typeof start === 'number' && typeof end === 'number' && !(end > start)) errors.push('"end" must be after "start"');
    let split: 'train' | 'test' | undefined;
    if (f.split !== undefined && f.split !== null) {
      if (f.split === 'train' || f.split === 'test') split = f.split;
      else errors.push('"split" must be "train" or "test"');
    }
    if (id !== undefined && seen.has(id)) errors.push(`duplicate id "${id}"`);
    if (errors.length > 0 || id === undefined || rootCause === undefined || rootCauseService === undefined || type === undefined) {
      report(line, `${at}: ${errors.join('; ')}`);
      return;
    }
    seen.add(id);
    const label: FaultLabel = { id, start: start as number, end: end as number, rootCause, rootCauseService, type };
    if (typeOriginal !== undefined) label.typeOriginal = typeOriginal;
    if (level !== undefined) label.level = level;
    if (split !== undefined) label.split = split;
    out.push(label);
  });
  return out;
}

/**
 * 1-based line where each element of the top-level "faults" array starts. A small scanner
 * (strings, nesting, the key of each level) instead of a JSON parser with positions.
 */
export function entryLines(text: string): number[] {
  const out: number[] = [];
  // stack of containers: for objects the last key read, for arrays the key they sit under
  const stack: { type: '{' | '['; key: string | null; under: string | null }[] = [];
  let line = 1;
  let lastString: string | null = null;
  const inFaults = () => stack.length === 2 && stack[1].type === '[' && stack[1].under === 'faults' && stack[0].type === '{';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '"') {
      if (inFaults()) out.push(line); // a string element (invalid, but it has an index)
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\\') j++;
        else if (text[j] === '\n') line++;
        j++;
      }
      lastString = text.slice(i + 1, j);
      i = j;
    } else if (c === ':') {
      const top = stack[stack.length - 1];
      if (top && top.type === '{') top.key = lastString;
    } else if (c === '{' || c === '[') {
      if (inFaults()) out.push(line);
      const top = stack[stack.length - 1];
      stack.push({ type: c, key: null, under: top ? top.key : null });
    } else if (c === '}' || c === ']') {
      stack.pop();
    } else if (inFaults() && !/[\s,]/.test(c)) {
      // a scalar element (invalid, but it still has an index)
      out.push(line);
      while (i + 1 < text.length && !/[\s,\]]/.test(text[i + 1])) i++;
    }
  }
  return out;
}

/**
 * Reads `<dir>/faults.json` if present. Problems go to the log (kind 'labels') and, as one-line
 * "faults.json:LINE reason" messages, to `issues` (the dataset's labelIssues); never throws for
 * bad content.
 */
export async function readFaults(dir: string, problems: ProblemLog, file = FAULTS_FILE, issues: string[] = []): Promise<FaultLabel[]> {
  const report = (line: number, reason: string) => {
    problems.add(file, line, reason, 'labels');
    issues.push(`${file}${line > 0 ? `:${line}` : ''}: ${reason}`);
  };
  let text: string;
  try {
    text = await readFile(`${dir}/${file}`, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    report(0, `cannot read: ${(e as Error).message}`);
    return [];
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    report(errorLine(text, e), `malformed JSON: ${(e as Error).message}`);
    return [];
  }
  return parseFaults(doc, report, entryLines(text));
}

function timeText(ms: number): string | number {
  // ISO text holds whole milliseconds only; a fractional time stays a number so nothing is lost.
  return Number.isInteger(ms) ? isoTime(ms) : ms;
}

export function faultsDocument(labels: readonly FaultLabel[]): FaultsFile {
  return {
    version: FAULTS_VERSION,
    faults: labels.map((l) => {
      const e: FaultEntry = {
        id: l.id,
        start: timeText(l.start),
        end: timeText(l.end),
        rootCause: l.rootCause,
        rootCauseService: l.rootCauseService,
        type: l.type,
      };
      if (l.typeOriginal !== undefined) e.typeOriginal = l.typeOriginal;
      if (l.level !== undefined) e.level = l.level;
      if (l.split !== undefined) e.split = l.split;
      return e;
    }),
  };
}

/** Writes `<dir>/faults.json` atomically (temp file, then rename). */
export async function writeFaults(dir: string, labels: readonly FaultLabel[]): Promise<void> {
  await writeFileAtomic(`${dir}/${FAULTS_FILE}`, JSON.stringify(faultsDocument(labels), null, 2) + '\n');
}
