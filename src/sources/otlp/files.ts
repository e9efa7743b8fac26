/**
 * Finding OTLP JSON files and reading the requests in them. A file is either one JSON document
 * (possibly pretty-printed over many lines) or one request per line (the collector's file
 * exporter); which one is decided from its first two non-empty lines, the same way every time
 * the file is read. Protobuf files (.binpb, .pb, .protobuf) are read by protobuf.ts into the
 * same request objects, a message's ordinal standing for the line.
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { lineBatches, openBytes } from '../io/index.js';
import type { ReadDamage } from '../io/index.js';
import { PROTOBUF_FILE, readProtobufRequests, sniffProtobuf } from './protobuf.js';
import { isObject } from './values.js';
import type { Json } from './values.js';
import type { ProblemKind } from '../../telemetry/index.js';

export const FAULTS_FILE = 'faults.json';
/** Sidecar files beside the telemetry (labels, the simulator's regime timeline): not data. */
const SIDECAR_FILES = new Set([FAULTS_FILE, 'regimes.json']);
const DATA_FILE = /\.(json|jsonl|ndjson|binpb|pb|protobuf)(\.gz)?$/i;
const LINES_ONLY = /\.(jsonl|ndjson)(\.gz)?$/i;
const OTLP_KEY = /"resource(Metrics|Spans|Logs)"\s*:/;

export type FileMode = 'lines' | 'document';

export interface DataFile {
  path: string;
  /** relative to the dataset root, for problems */
  rel: string;
}

/** Data files under `root` (a folder, searched recursively, or a single file), sorted by path. */
export async function listDataFiles(root: string): Promise<{ dir: string; files: DataFile[] }> {
  const abs = resolve(root);
  const st = await stat(abs);
  if (st.isFile()) return { dir: resolve(abs, '..'), files: [{ path: abs, rel: basename(abs) }] };
  const out: DataFile[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = await readdir(d, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) await walk(p);
      } else if ((e.isFile() || (e.isSymbolicLink() && (await isFile(p)))) && DATA_FILE.test(e.name) && !(d === abs && SIDECAR_FILES.has(e.name))) {
        out.push({ path: p, rel: relative(abs, p) });
      }
    }
  };
  await walk(abs);
  return { dir: abs, files: out };
}

/** Symbolic links are followed to files (not to folders: a link cycle would never end). */
async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** Whether the start of a file (gunzipped if need be) names an OTLP request key, or decodes as one (protobuf). */
export async function sniffOtlp(path: string, bytes = 1 << 16): Promise<boolean> {
  if (PROTOBUF_FILE.test(path)) return sniffProtobuf(path);
  const stream = openBytes(path);
  const parts: Buffer[] = [];
  let n = 0;
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      n += (chunk as Buffer).length;
      if (n >= bytes) break;
    }
  } catch {
    // unreadable or not gzip after all; a damaged .gz is still OTLP if its readable start says
    // so (readRequests then reports the damage and keeps the lines before it)
    if (n === 0) return false;
  } finally {
    stream.destroy();
  }
  return OTLP_KEY.test(Buffer.concat(parts).subarray(0, bytes).toString('utf8'));
}

function parseObjectLine(line: string): Json | null {
  try {
    const v: unknown = JSON.parse(line);
    return isObject(v) ? v : null;
  } catch {
    return null;
  }
}

/** 1-based line of a JSON.parse error, from the "at position N" of V8's message; 0 if unknown. */
export function errorLine(text: string, err: unknown): number {
  const msg = err instanceof Error ? err.message : String(err);
  const lineCol = /line (\d+) column \d+/.exec(msg);
  if (lineCol) return Number(lineCol[1]);
  const p = Math.min(errorPosition(text, msg), text.length);
  if (p < 0) return 0;
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < p; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/**
 * Offset of a JSON.parse error, or -1. Most V8 messages say "at position N"; "Unexpected token"
 * ones instead quote up to 10 characters either side of the token (with "..." where cut), and
 * the quote locates it.
 */
function errorPosition(text: string, msg: string): number {
  const pos = /at position (\d+)/.exec(msg);
  if (pos) return Number(pos[1]);
  if (/Unexpected end of JSON input/.test(msg)) return text.length;
  const m = /^Unexpected token '([\s\S])', (\.\.\.)?"([\s\S]*)"(\.\.\.)? is not valid JSON$/.exec(msg);
  if (!m) return -1;
  const [, token, before, context, after] = m;
  const CONTEXT = 10;
  if (before && after) {
    const i = text.indexOf(context);
    return i < 0 ? -1 : i + CONTEXT;
  }
  if (after) return context.length - CONTEXT;
  if (before) return text.length - context.length + CONTEXT;
  return text.indexOf(token);
}

function shortReason(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.length > 120 ? msg.slice(0, 117) + '...' : msg;
}

export interface RequestAt {
  req: Json;
  /** 1-based line the request starts on */
  line: number;
}

export interface ReadRequestsOptions {
  /** the mode an earlier read decided, so both reads agree */
  mode?: FileMode;
  /** bad lines (with their 1-based line; the kind when it is not a malformed record); null: skip them silently */
  report?: ((line: number, reason: string, kind?: ProblemKind) => void) | null;
  /** told the mode once decided */
  onMode?: (m: FileMode) => void;
  /** one-request-per-line files: lines not worth parsing (known from an earlier read) */
  skipLine?: (line: number) => boolean;
  /** one-request-per-line files: stop reading after this line */
  lastLine?: number;
}

/** Yields the requests of a file. Bad lines go to `report` and are skipped. */
export async function* readRequests(path: string, opts: ReadRequestsOptions = {}): AsyncGenerator<RequestAt> {
  const { mode, onMode, skipLine } = opts;
  const report = opts.report ?? null;
  const lastLine = opts.lastLine ?? Infinity;
  if (PROTOBUF_FILE.test(path)) {
    // length-delimited messages index like lines; a bare message is one document
    const onFraming = (f: 'delimited' | 'bare') => onMode?.(f === 'delimited' ? 'lines' : 'document');
    for await (const r of readProtobufRequests(path, { report, onFraming, skip: skipLine, last: lastLine })) yield { req: r.req, line: r.line };
    return;
  }
  let decided: FileMode | undefined = mode ?? (LINES_ONLY.test(path) ? 'lines' : undefined);
  if (decided) onMode?.(decided);
  // Lines seen before the mode is known; also the whole text in document mode.
  const held: string[] = [];
  let firstHeld = 1;
  let nonEmpty = 0;

  function* emitLine(l: string, lineNo: number): Generator<RequestAt> {
    if (l.length === 0 || /^\s*$/.test(l)) return;
    if (lineNo > lastLine || skipLine?.(lineNo)) return;
    let v: unknown;
    try {
      v = JSON.parse(l);
    } catch (e) {
      report?.(lineNo, `malformed JSON line: ${shortReason(e)}`);
      return;
    }
    if (Array.isArray(v)) {
      let bad = 0;
      for (const x of v) {
        if (isObject(x)) yield { req: x, line: lineNo };
        else bad++;
      }
      if (bad > 0) report?.(lineNo, `line is a JSON array with ${bad} element(s) that are not objects`);
      return;
    }
    if (!isObject(v)) {
      report?.(lineNo, 'line is not a JSON object');
      return;
    }
    yield { req: v, line: lineNo };
  }

  // A damaged file (cut or corrupt gzip, I/O error): the lines before the damage count, the
  // damage is reported at the line after them.
  const onError = (d: ReadDamage) => report?.(d.linesRead + 1, `damaged file: ${d.reason} after ${d.linesRead} line(s); the rest is unreadable`, 'damaged-file');
  for await (const { lines, firstLine } of lineBatches(path, { onError })) {
    if (decided === 'lines' && firstLine > lastLine) return;
    let i = 0;
    if (decided === undefined) {
      if (held.length === 0) firstHeld = firstLine;
      for (; i < lines.length && decided === undefined; i++) {
        held.push(lines[i]);
        const t = lines[i].trim();
        if (t.length === 0) continue;
        nonEmpty++;
        // A line that is a whole object, or looks like one ({...}) even if broken, means one
        // request per line; a pretty-printed document's first lines are never whole objects.
        if (parseObjectLine(t) !== null || (t.startsWith('{') && t.endsWith('}') && t.length > 2)) decided = 'lines';
        else if (nonEmpty >= 2) decided = 'document';
      }
      if (decided === undefined) continue;
      onMode?.(decided);
      if (decided === 'lines') {
        for (let k = 0; k < held.length; k++) yield* emitLine(held[k], firstHeld + k);
        held.length = 0;
      }
    }
    if (decided === 'lines') {
      for (; i < lines.length; i++) yield* emitLine(lines[i], firstLine + i);
    } else {
      for (; i < lines.length; i++) held.push(lines[i]);
    }
  }
  if (decided === undefined) {
    // Zero or one non-empty line: a single document either way.
    decided = 'document';
    onMode?.(decided);
  }
  if (decided === 'document' && held.length > 0) {
    const text = held.join('\n');
    held.length = 0;
    if (text.trim().length === 0) return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch (e) {
      report?.(errorLine(text, e), `malformed JSON document: ${shortReason(e)}`);
      return;
    }
    const list = Array.isArray(v) ? v : [v];
    let bad = 0;
    for (const x of list) {
      if (isObject(x)) yield { req: x, line: 1 };
      else bad++;
    }
    if (bad > 0) report?.(0, 'document is not a JSON object');
  }
}
