import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError, ProblemLog } from '../../telemetry/index.js';
import { splitCsvLine } from '../../sources/io/index.js';
import { TemplateMiner, type TemplateMinerOptions } from './miner.js';

/**
 * Compiles a Loghub header format (`<Date> <Time> <Level>: <Content>`) the way the Loghub
 * benchmark does: each `<Field>` becomes a lazy capture, a run of spaces in the literal parts
 * matches any run of white space, and the literal parts are otherwise regex source (so `\[`
 * is a bracket and `(...)?` an optional part).
 */
export function compileLogFormat(format: string): { regex: RegExp; fields: string[] } {
  const parts = format.split(/(<[^<>]+>)/);
  const fields: string[] = [];
  let src = '';
  for (let k = 0; k < parts.length; k++) {
    if (k % 2 === 0) src += parts[k].replace(/ +/g, '\\s+');
    else {
      const name = parts[k].slice(1, -1);
      fields.push(name);
      src += `(?<${name}>.*?)`;
    }
  }
  return { regex: new RegExp('^' + src + '$'), fields };
}

/** One Loghub-2k system: the parsed Content of each raw line and its ground truth. */
export interface LoghubSystem {
  name: string;
  /** Content parsed from the raw log with the header format, in line order */
  contents: string[];
  /** ground-truth Content and EventId from `<System>_2k.log_structured.csv`, in LineId order */
  truthContents: string[];
  truthEvents: string[];
}

// what Python's str.strip() removes: white space including the \x1c-\x1f separators and NEL
const PY_STRIP = /^[\s\x1c-\x1f\x85]+|[\s\x1c-\x1f\x85]+$/g;

/**
 * Reads one system. Raw lines whose header does not match go to `problems` and are skipped,
 * as the Loghub benchmark skips them.
 */
export async function loadLoghubSystem(
  dir: string,
  name: string,
  format: string,
  problems: ProblemLog = new ProblemLog(),
): Promise<LoghubSystem> {
  const { regex } = compileLogFormat(format);
  const logPath = join(dir, name, `${name}_2k.log`);
  const raw = await readFile(logPath, 'utf8');
  const lines = raw.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const contents: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    // Loghub strips each line (Python str.strip) before matching its header
    const m = regex.exec(lines[i].replace(PY_STRIP, ''));
    const content = m?.groups?.Content;
    if (content === undefined) {
      problems.add(logPath, i + 1, 'line does not match the header format');
      continue;
    }
    contents.push(content);
  }
  const csvPath = join(dir, name, `${name}_2k.log_structured.csv`);
  const csv = (await readFile(csvPath, 'utf8')).split('\n');
  const header = splitCsvLine(csv[0].replace(/\r$/, '')) ?? [];
  const ci = header.indexOf('Content');
  const ei = header.indexOf('EventId');
  if (ci < 0 || ei < 0) throw new UserError(`${csvPath}: expected Content and EventId columns`);
  const truthContents: string[] = [];
  const truthEvents: string[] = [];
  const row: string[] = [];
  for (let i = 1; i < csv.length; i++) {
    const line = csv[i].replace(/\r$/, '');
    if (line === '') continue;
    const f = splitCsvLine(line, row);
    if (f === null || f.length !== header.length) {
      problems.add(csvPath, i + 1, `expected ${header.length} CSV fields`);
      continue;
    }
    truthContents.push(f[ci]);
    truthEvents.push(f[ei]);
  }
  return { name, contents, truthContents, truthEvents };
}

/**
 * Grouping accuracy: a line counts as correct when the set of lines in its predicted group is
 * exactly the set of lines sharing its ground-truth event. Returns correct lines / all lines.
 */
export function groupingAccuracy(predicted: ArrayLike<number | string>, truth: ArrayLike<number | string>): number {
  const n = truth.length;
  if (predicted.length !== n) throw new Error(`groupingAccuracy: ${predicted.length} predictions for ${n} lines`);
  if (n === 0) return 0;
  // a truth group is correct iff all its lines share one predicted id whose group has the same size
  const predSize = new Map<number | string, number>();
  for (let i = 0; i < n; i++) predSize.set(predicted[i], (predSize.get(predicted[i]) ?? 0) + 1);
  const groups = new Map<number | string, { pred: number | string; size: number; pure: boolean }>();
  for (let i = 0; i < n; i++) {
    const g = groups.get(truth[i]);
    if (g === undefined) groups.set(truth[i], { pred: predicted[i], size: 1, pure: true });
    else {
      g.size++;
      if (g.pred !== predicted[i]) g.pure = false;
    }
  }
  let correct = 0;
  for (const g of groups.values()) if (g.pure && predSize.get(g.pred) === g.size) correct += g.size;
  return correct / n;
}

export interface LoghubEvalOptions {
  /** miner options, the same for every system */
  miner?: TemplateMinerOptions;
  /** systems to evaluate (default: every folder listed in formats.json that exists) */
  systems?: string[];
  /** timed passes over all lines for linesPerSecond (median taken); default 5 */
  passes?: number;
  problems?: ProblemLog;
}

export interface LoghubEvalResult {
  average: number;
  systems: Record<string, number>;
  linesPerSecond: number;
}

/** Reads `formats.json` of a Loghub-2k folder. */
export async function readLoghubFormats(dir: string): Promise<Record<string, string>> {
  const path = join(dir, 'formats.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UserError(`${path}: expected a Loghub-2k folder with formats.json`);
  }
  const parsed = JSON.parse(text) as unknown;
  if (parsed === null || typeof parsed !== 'object') throw new UserError(`${path}: expected an object of header formats`);
  return parsed as Record<string, string>;
}

/** Loads every system of a Loghub-2k folder (those of formats.json that have a folder). */
export async function loadLoghub(dir: string, systems?: string[], problems?: ProblemLog): Promise<LoghubSystem[]> {
  const formats = await readLoghubFormats(dir);
  const present = new Set(await readdir(dir));
  const names = systems ?? Object.keys(formats).filter((s) => present.has(s));
  const out: LoghubSystem[] = [];
  for (const name of names) {
    const format = formats[name];
    if (format === undefined) throw new UserError(`${name}: no header format in ${join(dir, 'formats.json')}`);
    if (!present.has(name) || !(await stat(join(dir, name))).isDirectory())
      throw new UserError(`${join(dir, name)}: expected a system folder`);
    out.push(await loadLoghubSystem(dir, name, format, problems));
  }
  return out;
}

/** Mines one system from scratch; returns each line's final template id. */
export function mineSystem(contents: readonly string[], options?: TemplateMinerOptions): Int32Array {
  const miner = new TemplateMiner(options);
  const ids = new Int32Array(contents.length);
  for (let i = 0; i < contents.length; i++) ids[i] = miner.add(contents[i]).templateId;
  // templates merged after a line was added keep their old id as an alias
  for (let i = 0; i < ids.length; i++) ids[i] = miner.resolve(ids[i]);
  return ids;
}

/**
 * Grouping accuracy of the miner on each Loghub-2k system (one miner per system, one
 * configuration for all) and the core loop's throughput: lines mined per second over all
 * systems, file reading and header parsing excluded, median of `passes` timed passes.
 */
export async function evaluateLoghub(dir: string, opts: LoghubEvalOptions = {}): Promise<LoghubEvalResult> {
  const data = await loadLoghub(dir, opts.systems, opts.problems);
  if (data.length === 0) throw new UserError(`${dir}: no Loghub-2k system found`);
  const systems: Record<string, number> = {};
  let sum = 0;
  for (const s of data) {
    if (s.contents.length !== s.truthEvents.length)
      throw new UserError(`${s.name}: ${s.contents.length} parsed lines but ${s.truthEvents.length} ground-truth rows`);
    const ga = groupingAccuracy(mineSystem(s.contents, opts.miner), s.truthEvents);
    systems[s.name] = ga;
    sum += ga;
  }
  const passes = Math.max(1, opts.passes ?? 5);
  const total = data.reduce((a, s) => a + s.contents.length, 0);
  const rates: number[] = [];
  for (let p = 0; p < passes; p++) {
    const t0 = performance.now();
    for (const s of data) mineSystem(s.contents, opts.miner);
    const dt = (performance.now() - t0) / 1000;
    rates.push(total / dt);
  }
  rates.sort((a, b) => a - b);
  return { average: sum / data.length, systems, linesPerSecond: rates[rates.length >> 1] };
}
