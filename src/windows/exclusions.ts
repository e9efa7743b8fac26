/**
 * Which windows a fit may see: the `--exclude FILE` list and the training-split rule. Training,
 * the views' baselines and evaluation all go through this one gate, so a held-out window is
 * removed before anything is fitted (docs/training.md, exclusion file).
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../telemetry/index.js';
import type { Window } from './grid.js';
import type { FoldWindow } from './folds.js';

// ---------------------------------------------------------------------------------------------
// Exclusion

/** One entry of an exclusion list, after parsing. */
export type ExclusionRule =
  | { kind: 'case'; caseId: string; source?: string }
  | { kind: 'window'; start: number; source?: string }
  | { kind: 'range'; start: number; end: number; source?: string };

function parseTime(v: unknown, what: string): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    if (Number.isFinite(t)) return t;
  }
  throw new Error(`${what}: expected epoch ms or an ISO-8601 time, got ${JSON.stringify(v)}`);
}

/**
 * Held-out windows. The JSON list (or `{ "exclude": [...] }`) holds any mix of:
 *   "case-id"                                   a case id (case-based sources)
 *   1674982980000                               a window start time (epoch ms)
 *   { "case": "id", "source"?: "path" }
 *   { "window": <time>, "source"?: "path" }     the window starting at that time
 *   { "start": <time>, "end": <time>, "source"?: "path" }  every window overlapping [start, end)
 * A string is a case id unless it is an object's time field. `source` limits an entry to the
 * windows of one `--data` path (matched by resolved path or by its trailing path segments).
 */
export class Exclusions {
  constructor(readonly rules: readonly ExclusionRule[] = []) {}

  get size(): number {
    return this.rules.length;
  }

  static parse(json: unknown, file = 'exclusion list'): Exclusions {
    const list = Array.isArray(json) ? json : json && typeof json === 'object' && Array.isArray((json as { exclude?: unknown }).exclude) ? (json as { exclude: unknown[] }).exclude : undefined;
    if (!list) throw new UserError(`${file}: expected a JSON list of case ids, window start times or {source?, start, end} ranges`);
    const rules: ExclusionRule[] = [];
    list.forEach((e, k) => {
      const at = `${file}: entry ${k}`;
      try {
        if (typeof e === 'string') rules.push({ kind: 'case', caseId: e });
        else if (typeof e === 'number') rules.push({ kind: 'window', start: parseTime(e, at) });
        else if (e && typeof e === 'object') {
          const o = e as Record<string, unknown>;
          const source = o.source === undefined ? undefined : String(o.source);
          if (o.case !== undefined) rules.push({ kind: 'case', caseId: String(o.case), source });
          else if (o.window !== undefined) rules.push({ kind: 'window', start: parseTime(o.window, at), source });
          else if (o.start !== undefined && o.end !== undefined) {
            const start = parseTime(o.start, at);
            const end = parseTime(o.end, at);
            if (!(end > start)) throw new Error(`${at}: end must be after start`);
            rules.push({ kind: 'range', start, end, source });
          } else throw new Error(`${at}: expected {case}, {window} or {start, end}`);
        } else throw new Error(`${at}: expected a string, a number or an object`);
      } catch (err) {
        throw new UserError((err as Error).message.replace(/\n.*/s, '') + ' (see docs/training.md, exclusion file)');
      }
    });
    return new Exclusions(rules);
  }

  static async read(path: string): Promise<Exclusions> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      throw new UserError(`cannot read exclusion file ${path}`);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (e) {
      throw new UserError(`${path}: not valid JSON (${(e as Error).message.split('\n')[0]})`);
    }
    return Exclusions.parse(json, path);
  }

  /** Whether the window `w` of `source` is held out. */
  matches(source: string, w: { start: number; end: number; caseId?: string }): boolean {
    for (const r of this.rules) {
      if (r.source !== undefined && !sourceMatches(r.source, source)) continue;
      switch (r.kind) {
        case 'case':
          if (w.caseId === r.caseId) return true;
          break;
        case 'window':
          if (w.start === r.start) return true;
          break;
        case 'range':
          if (w.start < r.end && r.start < w.end) return true;
          break;
      }
    }
    return false;
  }
}

function sourceMatches(rule: string, source: string): boolean {
  if (rule === source || resolve(rule) === source) return true;
  const tail = rule.replace(/\/+$/, '');
  return tail.length > 0 && source.replace(/\/+$/, '').endsWith('/' + tail.replace(/^\.?\/+/, ''));
}

export interface SelectionOptions {
  exclude?: Exclusions;
  /** Case-based sources: keep only windows of this split (windows without a split are kept). */
  trainSplit?: 'train' | 'test';
}

export interface Selection<W extends FoldWindow = FoldWindow> {
  kept: W[];
  excluded: number;
  /** Dropped because their case belongs to another split. */
  otherSplit: number;
}

/** The windows training may use: not excluded, and of the training split where one is asked. */
export function selectTrainingWindows<W extends FoldWindow>(windows: readonly W[], opts: SelectionOptions = {}): Selection<W> {
  const kept: W[] = [];
  let excluded = 0;
  let otherSplit = 0;
  for (const w of windows) {
    const caseId = w.caseId ?? w.window.caseId;
    if (opts.exclude?.matches(w.source, caseId === w.window.caseId ? w.window : { ...w.window, caseId })) excluded++;
    else if (opts.trainSplit && w.split !== undefined && w.split !== opts.trainSplit) otherSplit++;
    else kept.push(w);
  }
  return { kept, excluded, otherSplit };
}

/** The same rule as a `fitFilter` for the encode stage (views' baselines see no held-out window). */
export function trainingWindowFilter(source: string, opts: SelectionOptions, splitOf?: (caseId: string) => 'train' | 'test' | undefined): (w: Window) => boolean {
  return (w) => {
    if (opts.exclude?.matches(source, w)) return false;
    if (opts.trainSplit && w.caseId !== undefined) {
      const s = splitOf?.(w.caseId);
      if (s !== undefined && s !== opts.trainSplit) return false;
    }
    return true;
  };
}
