import { open, readdir, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { splitCsvLine } from '../io/index.js';

/** Columns that make a CSV the case list (TVDiag's `aiops22-pod.csv`, whatever its name). */
export const CASE_COLUMNS = ['index', 'level', 'instance', 'anomaly_type', 'data_type'] as const;
/** Columns of the injection list (`raw_label.csv`). */
export const RAW_LABEL_COLUMNS = ['timestamp', 'cmdb_id', 'failure_type', 'index'] as const;
export const EVENT_FILES = ['metric', 'log', 'trace'] as const;
export type EventFile = (typeof EVENT_FILES)[number];

export interface Aiops22Files {
  root: string;
  /** file names relative to root */
  caseCsv: string;
  /** other CSVs that also look like case lists (ignored; the first by name is read) */
  otherCaseCsvs: string[];
  rawLabelCsv?: string;
  events: Record<EventFile, string>;
  nodes?: string;
  edges?: string;
}

const isCsv = (n: string) => n.endsWith('.csv') || n.endsWith('.csv.gz');

/** First line of a (possibly gzipped) file, split as CSV; null when unreadable. */
async function csvHeader(path: string): Promise<string[] | null> {
  let fh;
  try {
    fh = await open(path, 'r');
    const buf = Buffer.alloc(64 * 1024);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    let bytes = buf.subarray(0, bytesRead);
    if (path.endsWith('.gz')) {
      // A header lives in the first kilobytes; a truncated gzip member still yields them.
      try {
        bytes = gunzipSync(bytes, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      } catch {
        return null;
      }
    }
    let text = bytes.toString('utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) text = text.slice(0, nl);
    text = text.replace(/^\uFEFF/, '').replace(/\r$/, '');
    return splitCsvLine(text)?.map((h) => h.trim()) ?? null;
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

const hasAll = (header: string[], names: readonly string[]) => names.every((n) => header.includes(n));

/**
 * Finds the files of an AIOps 2022 events folder. `path` is the folder or its case CSV.
 * Null when the layout is not this one (no case CSV, or an event file missing).
 */
export async function locateAiops22(path: string): Promise<Aiops22Files | null> {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => null);
  if (!st) return null;
  let root = abs;
  let only: string | undefined;
  if (st.isFile()) {
    root = dirname(abs);
    only = abs.slice(root.length + 1);
    if (!isCsv(only)) return null;
  } else if (!st.isDirectory()) return null;
  const names = (await readdir(root).catch(() => [] as string[])).sort();
  const events = {} as Record<EventFile, string>;
  for (const f of EVENT_FILES) {
    const n = names.find((x) => x === `${f}.json`) ?? names.find((x) => x === `${f}.json.gz`);
    if (!n) return null;
    events[f] = n;
  }
  const caseCsvs: string[] = [];
  let rawLabelCsv: string | undefined;
  for (const n of names) {
    if (!isCsv(n)) continue;
    const h = await csvHeader(join(root, n));
    if (!h) continue;
    if (hasAll(h, CASE_COLUMNS)) caseCsvs.push(n);
    else if (!rawLabelCsv && hasAll(h, RAW_LABEL_COLUMNS)) rawLabelCsv = n;
  }
  if (only && !caseCsvs.includes(only)) return null;
  const caseCsv = only ?? caseCsvs[0];
  if (!caseCsv) return null;
  const pick = (base: string) => names.find((x) => x === `${base}.json`) ?? names.find((x) => x === `${base}.json.gz`);
  return {
    root,
    caseCsv,
    otherCaseCsvs: caseCsvs.filter((n) => n !== caseCsv),
    rawLabelCsv,
    events,
    nodes: pick('nodes'),
    edges: pick('edges'),
  };
}
