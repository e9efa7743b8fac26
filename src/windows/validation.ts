/**
 * The validation split of training: whole time blocks (or whole failure groups of case data)
 * held out, never scattered windows — with overlapping windows a random window split would put
 * near-copies of each validation window into training. Training windows that overlap a
 * validation window of the same source are dropped too (purged). docs/training.md.
 */
import { SeededRng, UserError } from '../telemetry/index.js';
import { failureGroupOf, timelineKey, type FoldWindow } from './folds.js';

export interface ValidationOptions {
  /** Share of the windows held out for validation (0 = none). Default 0.1. */
  share?: number;
  seed?: number;
  /**
   * Longest time block a grid source is cut into. Default 30 min; halved while whole blocks
   * cannot reach `share` within `VAL_SHARE_TOLERANCE`.
   */
  blockMs?: number;
}

export interface ValidationSplit<W extends FoldWindow = FoldWindow> {
  train: W[];
  val: W[];
  /** Training windows dropped because they overlap a validation window of the same source. */
  purged: number;
  blocks: { total: number; val: number };
  /** Block length used for grid sources (≤ the requested `blockMs`). */
  blockMs: number;
  /** Requested share and the share realised: val / all windows (purged ones count in the total). */
  share: { requested: number; realised: number };
  /** Why the split differs from the request (too few blocks, purge ate most of training); empty when it does not. */
  warnings: string[];
}

export const DEFAULT_VAL_BLOCK_MS = 30 * 60_000;

/**
 * How far (absolute share, 0.02 = 2 percentage points) the realised validation share may be
 * from the requested one before blocks are shortened, or, when they cannot be, a warning says so.
 */
export const VAL_SHARE_TOLERANCE = 0.02;

/** Seeded block orders tried per block length; the split that purges least wins. */
const VAL_DRAWS = 4;

interface BlockChoice {
  blockMs: number;
  keys: string[];
  isVal: Uint8Array;
  nVal: number;
  valBlocks: number;
  /** per window: purged from training (overlaps a validation window on its timeline) */
  isPurged: Uint8Array;
  purged: number;
}

function blocksOf(windows: readonly FoldWindow[], blockMs: number): Map<string, number[]> {
  const blocks = new Map<string, number[]>();
  windows.forEach((w, i) => {
    const key = w.caseId !== undefined ? `${w.source}\u0000group:${failureGroupOf(w)}` : `${w.source}\u0000block:${Math.floor(w.window.start / blockMs)}`;
    let b = blocks.get(key);
    if (!b) blocks.set(key, (b = []));
    b.push(i);
  });
  return blocks;
}

/** Whole blocks drawn in seeded order, each taken only when it brings the count nearer the target. */
function drawBlocks(n: number, blocks: Map<string, number[]>, keys: readonly string[], target: number, seed: number, draw: number): { isVal: Uint8Array; nVal: number; valBlocks: number } {
  const isVal = new Uint8Array(n);
  let nVal = 0;
  let valBlocks = 0;
  if (target > 0 && keys.length > 1) {
    const order = keys.slice();
    new SeededRng(seed, draw === 0 ? 'validation-split' : `validation-split/${draw}`).shuffle(order);
    for (const k of order) {
      if (nVal >= target || valBlocks >= keys.length - 1) break;
      const b = blocks.get(k)!;
      // Skipping a block that overshoots more than it helps lets a later, smaller one fit.
      if (Math.abs(nVal + b.length - target) >= Math.abs(nVal - target)) continue;
      for (const i of b) isVal[i] = 1;
      nVal += b.length;
      valBlocks++;
    }
  }
  return { isVal, nVal, valBlocks };
}

/**
 * Marks the non-validation windows that overlap a validation window on their timeline:
 * per timeline, validation windows sorted by start with a running maximum of their ends, so
 * each window needs one binary search (O(n log n), not a scan of every validation window).
 */
function purgeMask(windows: readonly FoldWindow[], isVal: Uint8Array): { isPurged: Uint8Array; purged: number } {
  const byLine = new Map<string, { starts: number[]; maxEnd: number[] }>();
  const vals = new Map<string, FoldWindow[]>();
  windows.forEach((w, i) => {
    if (!isVal[i]) return;
    const k = timelineKey(w);
    let l = vals.get(k);
    if (!l) vals.set(k, (l = []));
    l.push(w);
  });
  for (const [k, l] of vals) {
    l.sort((a, b) => a.window.start - b.window.start);
    const starts: number[] = [];
    const maxEnd: number[] = [];
    let m = -Infinity;
    for (const v of l) {
      m = Math.max(m, v.window.end);
      starts.push(v.window.start);
      maxEnd.push(m);
    }
    byLine.set(k, { starts, maxEnd });
  }
  const isPurged = new Uint8Array(windows.length);
  let purged = 0;
  windows.forEach((w, i) => {
    if (isVal[i]) return;
    const line = byLine.get(timelineKey(w));
    if (!line) return;
    // last validation window starting before w ends
    let lo = 0;
    let hi = line.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (line.starts[mid] < w.window.end) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && line.maxEnd[lo - 1] > w.window.start) {
      isPurged[i] = 1;
      purged++;
    }
  });
  return { isPurged, purged };
}

/** The best of a few seeded draws at one block length: nearest the target, then fewest purged. */
function chooseBlocks(windows: readonly FoldWindow[], blockMs: number, target: number, seed: number): BlockChoice {
  const blocks = blocksOf(windows, blockMs);
  const keys = [...blocks.keys()].sort();
  let best: BlockChoice | undefined;
  for (let draw = 0; draw < VAL_DRAWS; draw++) {
    const d = drawBlocks(windows.length, blocks, keys, target, seed, draw);
    const p = purgeMask(windows, d.isVal);
    const c: BlockChoice = { blockMs, keys, ...d, ...p };
    if (!best || better(c, best, target)) best = c;
    if (target === 0 || keys.length < 2) break; // every draw is the same
  }
  return best!;
}

function better(a: BlockChoice, b: BlockChoice, target: number): boolean {
  const ea = Math.abs(a.nVal - target);
  const eb = Math.abs(b.nVal - target);
  return ea !== eb ? ea < eb : a.purged < b.purged;
}

/**
 * Holds out whole blocks — time blocks of at most `blockMs` per grid source, failure groups for
 * case data — drawn with the seed until `share` of the windows is reached, then purges training
 * windows that overlap a validation window on the same timeline.
 *
 * Blocks are `blockMs` long when that reaches the share within `VAL_SHARE_TOLERANCE` (large
 * data). Otherwise shorter lengths (halving) are tried, and of those within the tolerance the
 * split that purges the fewest training windows wins (few, contiguous blocks). When no length
 * gets there (too few windows, or case groups that are too big) the nearest split is used and
 * `warnings` says why.
 */
export function validationSplit<W extends FoldWindow>(windows: readonly W[], opts: ValidationOptions = {}): ValidationSplit<W> {
  const share = opts.share ?? 0.1;
  if (!(share >= 0 && share < 1)) throw new UserError(`--val-share must be in [0, 1), got ${share}`);
  const maxBlockMs = opts.blockMs ?? DEFAULT_VAL_BLOCK_MS;
  if (!(maxBlockMs > 0)) throw new RangeError(`validation block length must be positive, got ${maxBlockMs}`);
  const seed = opts.seed ?? 0;
  const n = windows.length;
  const target = Math.round(share * n);
  // Distance from the share asked for (not from the rounded target: 0 of 4 windows is not 10%).
  const err = (c: BlockChoice) => (n > 0 ? Math.abs(c.nVal / n - share) : 0);
  let choice = chooseBlocks(windows, maxBlockMs, target, seed);
  if (share > 0 && err(choice) > VAL_SHARE_TOLERANCE && windows.some((w) => w.caseId === undefined)) {
    let best = choice;
    // Halve until every window is its own block (shorter blocks change nothing more).
    for (let blockMs = maxBlockMs / 2, last = choice; last.keys.length < n && blockMs >= 1; blockMs /= 2) {
      last = chooseBlocks(windows, blockMs, target, seed);
      const inA = err(last) <= VAL_SHARE_TOLERANCE;
      const inB = err(best) <= VAL_SHARE_TOLERANCE;
      if (inA && !inB) best = last;
      else if (inA && inB ? last.purged < best.purged : err(last) < err(best)) best = last;
    }
    choice = best;
  }
  const { isVal, isPurged, purged, keys, valBlocks, blockMs } = choice;
  const train: W[] = [];
  const val: W[] = [];
  windows.forEach((w, i) => {
    if (isVal[i]) val.push(w);
    else if (!isPurged[i]) train.push(w);
  });

  const realised = n > 0 ? val.length / n : 0;
  const warnings: string[] = [];
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  if (share > 0 && n > 0 && err(choice) > VAL_SHARE_TOLERANCE) {
    const why =
      target === 0
        ? `${n} window(s) are too few for a ${pct(share)} share (it rounds to 0 windows)`
        : keys.length < 2
          ? `all ${n} window(s) form one block, and one block is never held out whole`
          : `the ${keys.length} whole blocks (time blocks${windows.some((w) => w.caseId !== undefined) ? ' or failure groups, which are never split' : ''}) cannot make ${target} of ${n} windows`;
    warnings.push(`validation share ${pct(realised)} (${val.length} of ${n} windows) instead of the requested ${pct(share)}: ${why}`);
  }
  const rest = n - val.length;
  if (val.length > 0 && rest > 0 && purged > rest / 2) {
    warnings.push(`purging the ${purged} training window(s) that overlap validation windows leaves ${train.length} of ${rest} for training (windows much longer than the stride); more data or a smaller --val-share keeps more`);
  }
  return { train, val, purged, blocks: { total: keys.length, val: valBlocks }, blockMs, share: { requested: share, realised }, warnings };
}
