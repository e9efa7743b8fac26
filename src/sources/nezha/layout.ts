import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';

/**
 * The Nezha export layout: `rca_data/<YYYY-MM-DD>/` (fault injection runs, with
 * `<day>-fault_list.json`) and `construct_data/<YYYY-MM-DD>/` (fault-free reference runs), each
 * day holding `metric/`, `trace/HH_MM_trace.csv`, `log/HH_MM_log.csv` (`.csv` or `.csv.gz`).
 * Everything is discovered from folder and file names; nothing about the system is assumed.
 */

export type RunKind = 'rca' | 'construct';

export interface DayFolder {
  /** YYYY-MM-DD */
  day: string;
  kind: RunKind;
  /** absolute path */
  dir: string;
  /** 00:00 UTC of the day, ms */
  dayStart: number;
}

export interface MinuteFile {
  /** absolute path */
  path: string;
  /** relative to the dataset root, for problem reports */
  rel: string;
  kind: RunKind;
  day: string;
  /** the HH:MM the file is named after, ms (its records lie roughly in [nominal − 51 s, nominal + 9 s)) */
  nominal: number;
}

export interface MetricFile {
  path: string;
  rel: string;
  day: string;
  /** file name without `.csv(.gz)` */
  stem: string;
}

export interface NezhaLayout {
  root: string;
  days: DayFolder[];
  /** per day: the metric files read (from rca_data when both runs have them; see metricFilesOf) */
  metricFiles: MetricFile[];
  traceFiles: MinuteFile[];
  logFiles: MinuteFile[];
  faultLists: { path: string; rel: string; day: string }[];
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const MINUTE_RE = /^(\d{2})_(\d{2})_(trace|log)\.csv(?:\.gz)?$/;
const CSV_RE = /\.csv(?:\.gz)?$/;
const SUBFOLDERS = ['metric', 'trace', 'log'];

export function dayStartMs(day: string): number {
  const m = DAY_RE.exec(day);
  if (!m) return NaN;
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/**
 * A day folder: named YYYY-MM-DD, holding its fault list or a metric/, trace/ or log/ folder
 * with at least one file named the Nezha way (so other dated layouts are not mistaken for it).
 */
async function isDayFolder(dir: string): Promise<boolean> {
  const day = basename(dir);
  if (!DAY_RE.test(day) || !Number.isFinite(dayStartMs(day))) return false;
  const names = await list(dir);
  if (names.includes(`${day}-fault_list.json`)) return true;
  for (const s of SUBFOLDERS) {
    if (!names.includes(s)) continue;
    const files = await list(join(dir, s));
    const ok = s === 'metric' ? files.some((n) => CSV_RE.test(n)) : files.some((n) => MINUTE_RE.exec(n)?.[3] === s);
    if (ok) return true;
  }
  return false;
}

async function dayFoldersIn(dir: string, kind: RunKind): Promise<DayFolder[]> {
  const out: DayFolder[] = [];
  for (const name of await list(dir)) {
    const p = join(dir, name);
    if (await isDayFolder(p)) out.push({ day: name, kind, dir: p, dayStart: dayStartMs(name) });
  }
  return out;
}

const kindOfFolderName = (name: string): RunKind => (name === 'construct_data' ? 'construct' : 'rca');

/**
 * Finds the day folders under `path`, which may be the export root (holding rca_data/ and/or
 * construct_data/), one of those two folders, or a single day folder. Returns null when `path`
 * is none of these.
 */
export async function findDays(path: string): Promise<{ root: string; days: DayFolder[] } | null> {
  const abs = resolve(path);
  if (!(await isDir(abs))) return null;
  const days: DayFolder[] = [];
  for (const sub of ['rca_data', 'construct_data']) {
    const p = join(abs, sub);
    if (await isDir(p)) days.push(...(await dayFoldersIn(p, kindOfFolderName(sub))));
  }
  if (days.length > 0) return { root: abs, days };
  const here = await dayFoldersIn(abs, kindOfFolderName(basename(abs)));
  if (here.length > 0) return { root: abs, days: here };
  if (await isDayFolder(abs)) {
    const name = basename(abs);
    return { root: abs, days: [{ day: name, kind: kindOfFolderName(basename(dirname(abs))), dir: abs, dayStart: dayStartMs(name) }] };
  }
  return null;
}

/** Prefers `x.csv.gz` over `x.csv` when both are present, so no file is read twice. */
function dedupeCompressed(names: string[]): string[] {
  const set = new Set(names);
  return names.filter((n) => !(n.endsWith('.csv') && set.has(n + '.gz')));
}

const stemOf = (name: string) => name.replace(CSV_RE, '');

export async function scanLayout(root: string, days: DayFolder[]): Promise<NezhaLayout> {
  const layout: NezhaLayout = { root, days, metricFiles: [], traceFiles: [], logFiles: [], faultLists: [] };
  const rel = (p: string) => relative(root, p) || '.';

  // construct_data/<day>/metric/ repeats rca_data/<day>/metric/ verbatim: take a day's metrics
  // from one run only (rca first) so no sample is counted twice.
  const metricDirOfDay = new Map<string, string>();
  const ordered = [...days].sort((a, b) => (a.day === b.day ? (a.kind === 'rca' ? -1 : 1) : a.day < b.day ? -1 : 1));
  for (const d of ordered) {
    const mdir = join(d.dir, 'metric');
    if (!metricDirOfDay.has(d.day) && (await isDir(mdir))) {
      const names = dedupeCompressed((await list(mdir)).filter((n) => CSV_RE.test(n)));
      if (names.length > 0) {
        metricDirOfDay.set(d.day, mdir);
        for (const n of names) layout.metricFiles.push({ path: join(mdir, n), rel: rel(join(mdir, n)), day: d.day, stem: stemOf(n) });
      }
    }
    for (const [sub, into] of [['trace', layout.traceFiles], ['log', layout.logFiles]] as const) {
      const dir = join(d.dir, sub);
      for (const n of dedupeCompressed(await list(dir))) {
        const m = MINUTE_RE.exec(n);
        if (!m || m[3] !== sub) continue;
        const p = join(dir, n);
        into.push({ path: p, rel: rel(p), kind: d.kind, day: d.day, nominal: d.dayStart + (Number(m[1]) * 60 + Number(m[2])) * 60_000 });
      }
    }
    for (const n of await list(d.dir)) {
      if (n === `${d.day}-fault_list.json`) layout.faultLists.push({ path: join(d.dir, n), rel: rel(join(d.dir, n)), day: d.day });
    }
  }
  const byTime = (a: MinuteFile, b: MinuteFile) => a.nominal - b.nominal || (a.path < b.path ? -1 : 1);
  layout.traceFiles.sort(byTime);
  layout.logFiles.sort(byTime);
  return layout;
}
