/**
 * What the trainer may learn from, and in which batches.
 *
 * - `Exclusions` (the `--exclude FILE` list) and `selectTrainingWindows` keep held-out windows,
 *   cases and time ranges out of training entirely: they are removed before sampling, so no
 *   batch, normaliser or weak label ever sees them.
 * - `validationSplit` holds out whole time blocks (or whole failure groups of case data), never
 *   scattered windows: with overlapping windows a random window split would put near-copies of
 *   each validation window into training. Training windows that overlap a validation window
 *   of the same source are dropped too (purged).
 * - `BatchSampler` builds each epoch's batches from runs of temporally adjacent windows of one
 *   source (for the temporal loss) and single windows drawn from anywhere (other times, other
 *   sources: negatives for InfoNCE). Epoch e is a pure function of (seed, e), so a resumed run
 *   samples exactly what an uninterrupted one would.
 *
 * docs/training.md describes the exclusion file and the defaults.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError } from '../telemetry/index.js';
import type { Window } from '../windows/index.js';
import { overlapRatio } from '../windows/index.js';
import type { EncodedWindow } from './data.js';
import { ModelRng } from './engine/index.js';
import type { OverlapPairs } from './losses.js';

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
  matches(source: string, w: Window): boolean {
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

export interface Selection {
  kept: EncodedWindow[];
  excluded: number;
  /** Dropped because their case belongs to another split. */
  otherSplit: number;
}

/** The windows training may use: not excluded, and of the training split where one is asked. */
export function selectTrainingWindows(windows: readonly EncodedWindow[], opts: SelectionOptions = {}): Selection {
  const kept: EncodedWindow[] = [];
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

// ---------------------------------------------------------------------------------------------
// Validation split

export interface ValidationOptions {
  /** Share of the windows held out for validation (0 = none). Default 0.1. */
  share?: number;
  seed?: number;
  /** Length of the time blocks a grid source is cut into. Default 30 min. */
  blockMs?: number;
}

export interface ValidationSplit {
  train: EncodedWindow[];
  val: EncodedWindow[];
  /** Training windows dropped because they overlap a validation window of the same source. */
  purged: number;
  blocks: { total: number; val: number };
}

/** Identity of the timeline a window lies on: windows of different sources or cases never overlap in data. */
export function timelineKey(w: EncodedWindow): string {
  return w.caseId !== undefined ? `${w.source}\u0000case:${w.caseId}` : w.source;
}

/** The failure group of a case window (`<cloudbed>_<failure>` of `<cloudbed>_<failure>_<k>`), else the case id. */
function caseGroup(w: EncodedWindow): string {
  return w.group ?? (w.caseId ?? '').replace(/_\d+$/, '');
}

export const DEFAULT_VAL_BLOCK_MS = 30 * 60_000;

/**
 * Holds out whole blocks — time blocks of `blockMs` per grid source, failure groups for case
 * data — drawn with the seed until `share` of the windows is reached, then purges training
 * windows that overlap a validation window on the same timeline.
 */
export function validationSplit(windows: readonly EncodedWindow[], opts: ValidationOptions = {}): ValidationSplit {
  const share = opts.share ?? 0.1;
  if (!(share >= 0 && share < 1)) throw new UserError(`--val-share must be in [0, 1), got ${share}`);
  const blockMs = opts.blockMs ?? DEFAULT_VAL_BLOCK_MS;
  const blocks = new Map<string, number[]>();
  windows.forEach((w, i) => {
    const key = w.caseId !== undefined ? `${w.source}\u0000group:${caseGroup(w)}` : `${w.source}\u0000block:${Math.floor(w.window.start / blockMs)}`;
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = []));
    b.push(i);
  });
  const keys = [...blocks.keys()].sort();
  const target = Math.round(share * windows.length);
  const isVal = new Uint8Array(windows.length);
  let nVal = 0;
  let valBlocks = 0;
  if (target > 0 && keys.length > 1) {
    const rng = new ModelRng(opts.seed ?? 0, 'validation-split');
    rng.shuffle(keys);
    for (const k of keys) {
      if (nVal >= target || valBlocks >= keys.length - 1) break;
      for (const i of blocks.get(k)!) isVal[i] = 1;
      nVal += blocks.get(k)!.length;
      valBlocks++;
    }
  }
  const val: EncodedWindow[] = [];
  const byTimeline = new Map<string, EncodedWindow[]>();
  windows.forEach((w, i) => {
    if (!isVal[i]) return;
    val.push(w);
    const k = timelineKey(w);
    let l = byTimeline.get(k);
    if (!l) byTimeline.set(k, (l = []));
    l.push(w);
  });
  const train: EncodedWindow[] = [];
  let purged = 0;
  windows.forEach((w, i) => {
    if (isVal[i]) return;
    const near = byTimeline.get(timelineKey(w));
    if (near && near.some((v) => v.window.start < w.window.end && w.window.start < v.window.end)) purged++;
    else train.push(w);
  });
  return { train, val, purged, blocks: { total: keys.length, val: valBlocks } };
}

// ---------------------------------------------------------------------------------------------
// Batches

export interface SamplerOptions {
  batchSize: number;
  seed: number;
  /** Windows per run of temporal neighbours. Default 6 (5-min windows, 1-min stride: ρ 0.8…0.2 within a run). */
  runLength?: number;
  /** Share of each batch made of runs; the rest are single windows from anywhere. Default 0.5. */
  temporalShare?: number;
  /** Weak labels per row (1 abnormal, 0 normal) in each batch. Default false. */
  /** true: every window's label; a predicate: only those windows' labels (others unknown). */
  weakLabels?: boolean | ((w: EncodedWindow) => boolean);
}

export interface SampledBatch {
  /** Indices into the sampler's windows. */
  rows: number[];
  /** Overlapping pairs (batch positions) on the same timeline, ρ = overlap ratio. */
  overlaps: OverlapPairs;
  /** With weakLabels: 1 abnormal, 0 normal per row. */
  labels?: Float32Array;
}

/**
 * Pairs of batch rows with ρ = overlapRatio > 0, only between windows of the same source and
 * case: two sources (say, two simulator runs starting at the same instant) share clock times
 * but no data.
 */
export function temporalOverlaps(windows: readonly EncodedWindow[]): OverlapPairs {
  const groups = new Map<string, number[]>();
  windows.forEach((w, k) => {
    const key = timelineKey(w);
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(k);
  });
  const I: number[] = [];
  const J: number[] = [];
  const R: number[] = [];
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    g.sort((a, b) => windows[a].window.start - windows[b].window.start || a - b);
    for (let x = 0; x < g.length; x++) {
      const a = windows[g[x]].window;
      for (let y = x + 1; y < g.length; y++) {
        const b = windows[g[y]].window;
        if (b.start >= a.end) break;
        const rho = overlapRatio(a, b);
        if (rho > 0) {
          I.push(Math.min(g[x], g[y]));
          J.push(Math.max(g[x], g[y]));
          R.push(rho);
        }
      }
    }
  }
  return { i: Int32Array.from(I), j: Int32Array.from(J), rho: Float32Array.from(R) };
}

/** Weak labels of training windows: 1 abnormal, 0 normal. */
/**
 * 1 abnormal, 0 normal; −1 (unknown, left out of the anomaly term) for windows whose labels the
 * user did not offer as weak supervision (`from` says which).
 */
export function weakLabelsOf(windows: readonly EncodedWindow[], from?: (w: EncodedWindow) => boolean): Float32Array {
  return Float32Array.from(windows, (w) => (from && !from(w) ? -1 : w.label.abnormal ? 1 : 0));
}

export class BatchSampler {
  readonly batchSize: number;
  readonly runLength: number;
  readonly temporalShare: number;
  /** Window indices per timeline, in time order. */
  private readonly timelines: number[][];

  constructor(
    readonly windows: readonly EncodedWindow[],
    readonly options: SamplerOptions,
  ) {
    this.batchSize = options.batchSize;
    this.runLength = options.runLength ?? 6;
    this.temporalShare = options.temporalShare ?? 0.5;
    if (!(Number.isInteger(this.batchSize) && this.batchSize >= 2)) throw new UserError(`batch size must be an integer ≥ 2, got ${this.batchSize}`);
    if (!(Number.isInteger(this.runLength) && this.runLength >= 1)) throw new RangeError(`runLength must be a positive integer, got ${this.runLength}`);
    if (!(this.temporalShare >= 0 && this.temporalShare <= 1)) throw new RangeError(`temporalShare must be in [0, 1], got ${this.temporalShare}`);
    const byLine = new Map<string, number[]>();
    windows.forEach((w, i) => {
      const k = timelineKey(w);
      let l = byLine.get(k);
      if (!l) byLine.set(k, (l = []));
      l.push(i);
    });
    this.timelines = [...byLine.entries()]
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([, l]) => l.sort((a, b) => windows[a].window.start - windows[b].window.start || a - b));
  }

  /** Batches per epoch: every window once, batches of batchSize, a short tail merged into the last full batch. */
  get batchesPerEpoch(): number {
    const n = this.windows.length;
    if (n < 2) return 0;
    const full = Math.floor(n / this.batchSize);
    const rest = n - full * this.batchSize;
    if (full === 0) return 1;
    return rest >= this.minTail() ? full + 1 : full;
  }

  private minTail(): number {
    return Math.max(2, Math.ceil(this.batchSize / 8));
  }

  /** The batches of epoch `epoch` (0-based): every window exactly once. */
  epoch(epoch: number): SampledBatch[] {
    const n = this.windows.length;
    if (n < 2) return [];
    const rng = new ModelRng(this.options.seed, `sampler/epoch-${epoch}`);
    // Cut every timeline into runs at a random phase; each run is kept whole (temporal) or
    // scattered into single windows, so both kinds cover the epoch.
    const runs: number[][] = [];
    const singles: number[] = [];
    const R = this.runLength;
    for (const line of this.timelines) {
      let at = R > 1 ? rng.int(R) : 0;
      if (at > 0) {
        const head = line.slice(0, at);
        (rng.float() < this.temporalShare && head.length > 1 ? runs.push(head) : singles.push(...head));
      }
      for (; at < line.length; at += R) {
        const run = line.slice(at, at + R);
        if (run.length > 1 && rng.float() < this.temporalShare) runs.push(run);
        else singles.push(...run);
      }
    }
    rng.shuffle(runs);
    rng.shuffle(singles);
    const B = this.batchSize;
    const quota = Math.round(B * this.temporalShare);
    const batches: number[][] = [];
    let ri = 0;
    let si = 0;
    let carry: number[] = [];
    const takeRun = (): number[] | undefined => {
      if (carry.length > 0) {
        const c = carry;
        carry = [];
        return c;
      }
      return ri < runs.length ? runs[ri++] : undefined;
    };
    while (ri < runs.length || carry.length > 0 || si < singles.length) {
      const batch: number[] = [];
      // Whole runs until `limit`; a run that does not fit is split and its rest carried over.
      const addRuns = (limit: number) => {
        while (batch.length < limit) {
          const r = takeRun();
          if (!r) return;
          const room = B - batch.length;
          if (r.length > room) {
            batch.push(...r.slice(0, room));
            carry = r.slice(room);
            return;
          }
          batch.push(...r);
        }
      };
      addRuns(quota); // runs up to the temporal quota
      // singles for the rest; runs again if singles ran out
      while (batch.length < B && si < singles.length) batch.push(singles[si++]);
      addRuns(B);
      batches.push(batch);
    }
    const last = batches[batches.length - 1];
    if (batches.length > 1 && last.length < this.minTail()) {
      batches.pop();
      batches[batches.length - 1].push(...last);
    }
    return batches.map((rows) => this.describe(rows));
  }

  /** Overlaps and labels of one batch of window indices. */
  describe(rows: number[]): SampledBatch {
    const ws = rows.map((i) => this.windows[i]);
    const out: SampledBatch = { rows, overlaps: temporalOverlaps(ws) };
    const weak = this.options.weakLabels;
    if (weak) out.labels = weakLabelsOf(ws, typeof weak === 'function' ? weak : undefined);
    return out;
  }
}
