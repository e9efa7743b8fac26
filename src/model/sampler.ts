/**
 * In which batches the trainer sees its windows. Which windows it may see at all (exclusions,
 * the validation split, folds) is decided in windows/ (exclusions.ts, validation.ts, folds.ts).
 *
 * - `BatchSampler` builds each epoch's batches from runs of temporally adjacent windows of one
 *   source (for the temporal loss) and single windows drawn from anywhere (other times, other
 *   sources: negatives for InfoNCE). Epoch e is a pure function of (seed, e), so a resumed run
 *   samples exactly what an uninterrupted one would.
 *
 * docs/training.md describes the exclusion file and the defaults.
 */
import { UserError } from '../telemetry/index.js';
import { overlapRatio, timelineKey } from '../windows/index.js';
import type { EncodedWindow } from './data.js';
import { ModelRng } from './engine/index.js';
import type { OverlapPairs } from './losses.js';

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

/** `to.push(...from.slice(lo, hi))` without spreading: a spread of a long timeline into arguments overflows the stack. */
function pushAll<T>(to: T[], from: readonly T[], lo = 0, hi = from.length): void {
  for (let i = lo; i < hi; i++) to.push(from[i]);
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
        if (rng.float() < this.temporalShare && head.length > 1) runs.push(head);
        else pushAll(singles, head);
      }
      for (; at < line.length; at += R) {
        const run = line.slice(at, at + R);
        if (run.length > 1 && rng.float() < this.temporalShare) runs.push(run);
        else pushAll(singles, run);
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
            pushAll(batch, r, 0, room);
            carry = r.slice(room);
            return;
          }
          pushAll(batch, r);
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
      pushAll(batches[batches.length - 1], last);
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
