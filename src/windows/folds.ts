/**
 * Folds: which windows and cases are evaluated together, so that no test case has a near-copy
 * on the training side. The one home of the failure-group rule and of the evaluation protocols
 * (issue 11): training (validation split), probes and `evaluate` import them from here.
 *
 * - **injection bursts** (Nezha layout): consecutive faults on the same root-cause service whose
 *   starts lie within `burstGapMs` (60 min) of the previous one share a group — Nezha injects
 *   one service's faults back to back, so a fold that splits a burst lets "copy the nearest
 *   fault" score well. The service is part of the rule because time alone chains everything:
 *   Nezha injects every 5–15 min all day, so "within 60 min, transitively" makes 3 groups of
 *   45 faults, each holding whole fault types (a type then never appears in training). Items
 *   without a `key` fall back to time alone.
 * - **failures** (case data, AIOps 2022): the cases of one failure (`<cloudbed>_<failure>`)
 *   share a group.
 * - **time blocks** (simulator, OTLP): the timeline cut into blocks of `blockMs`.
 *
 * Groups are shuffled with the seed and dealt to k folds, largest first, each to the fold with
 * the fewest cases so far; a group is never split.
 */
import { SeededRng } from '../telemetry/index.js';

/** What a fold or split rule reads of a window: its time, source and (case data) case and group. */
export interface FoldWindow {
  source: string;
  window: { start: number; end: number; caseId?: string };
  caseId?: string;
  /** the failure the case comes from, when the source says */
  group?: string;
  split?: 'train' | 'test';
}

/**
 * The failure group of a case: the source's own group when it gives one, else the case id
 * without its trailing window number (`<cloudbed>_<failure>` of `<cloudbed>_<failure>_<k>`),
 * else the case id itself. The one implementation of this rule.
 */
export function failureGroupOf(w: { caseId?: string; group?: string; window?: { caseId?: string } }): string {
  if (w.group !== undefined) return w.group;
  const id = w.caseId ?? w.window?.caseId ?? '';
  return id.replace(/_\d+$/, '');
}

/** Identity of the timeline a window lies on: windows of different sources or cases never overlap in data. */
export function timelineKey(w: FoldWindow): string {
  return w.caseId !== undefined ? `${w.source}\u0000case:${w.caseId}` : w.source;
}

export const DEFAULT_FOLDS = 5;
export const DEFAULT_BURST_GAP_MS = 60 * 60_000;
export const DEFAULT_FOLD_BLOCK_MS = 60 * 60_000;

export type ProtocolName = 'injection-burst' | 'failure' | 'time-block' | 'authors-split';

/** A case to place in a fold: a fault (grid data) or a case window (case data). */
export interface FoldItem {
  id: string;
  /** grid data: the fault's start; case data: the case's start */
  start: number;
  end?: number;
  /** case data: the failure group (`failureGroupOf`) */
  group?: string;
  /** injection bursts: what a burst shares besides time (the root-cause service) */
  key?: string;
}

export interface Folds {
  protocol: ProtocolName;
  k: number;
  seed: number;
  /** item id → group id */
  groupOf: Map<string, string>;
  /** group id → fold (0..k−1) */
  foldOfGroup: Map<string, number>;
  /**
   * Grid data: the timeline segments of each group (a burst's span, or a time block), used to
   * place windows; windows outside every segment are placed by the gap blocks.
   */
  segments: { group: string; start: number; end: number }[];
  /** leaky protocols (the authors' split) are reported beside the honest one, labelled so */
  leaky: boolean;
  /** injection bursts: the one chain of faults was cut at this many widest gaps (`burstGroupsForFolds`) */
  burstCuts?: number;
}

/**
 * Faults within `gapMs` of the previous one (by start), with the same `key` where keys are given,
 * share a group; group ids `burst-<first id>`.
 */
export function burstGroups(items: readonly FoldItem[], gapMs = DEFAULT_BURST_GAP_MS): Map<string, string> {
  const sorted = [...items].sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
  const out = new Map<string, string>();
  let group = '';
  let last = -Infinity;
  let lastKey: string | undefined;
  for (const it of sorted) {
    if (it.start - last > gapMs || group === '' || it.key !== lastKey) group = `burst-${it.id}`;
    out.set(it.id, group);
    last = it.start;
    lastKey = it.key;
  }
  return out;
}

/**
 * Injection bursts that cannot cross-validate: when the bursts leave fewer than two groups (a
 * system injected all day, one fault every half hour, chains into one burst by time alone), the
 * one chain is cut at its `k − 1` widest gaps between consecutive fault starts (ties: the
 * earlier gap), so each fold holds a stretch of faults and the stretches are as far apart as the
 * schedule allows. Two or more bursts are left as they are (TrainTicket's two days give three):
 * the cut only replaces "every fault in one fold", which measures nothing. Also returns how many
 * cuts were made (0: the bursts stand).
 */
export function burstGroupsForFolds(items: readonly FoldItem[], k: number, gapMs = DEFAULT_BURST_GAP_MS): { groupOf: Map<string, string>; cuts: number } {
  const groupOf = burstGroups(items, gapMs);
  if (new Set(groupOf.values()).size >= 2 || items.length < 2) return { groupOf, cuts: 0 };
  const sorted = [...items].sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
  const gaps = sorted.slice(1).map((it, i) => ({ at: i + 1, gap: it.start - sorted[i].start }));
  gaps.sort((a, b) => b.gap - a.gap || a.at - b.at);
  const cutAt = new Set(gaps.slice(0, Math.min(k, sorted.length) - 1).map((g) => g.at));
  const out = new Map<string, string>();
  let group = `burst-${sorted[0].id}`;
  sorted.forEach((it, t) => {
    if (cutAt.has(t)) group = `burst-${it.id}`;
    out.set(it.id, group);
  });
  return { groupOf: out, cuts: cutAt.size };
}

/** Items grouped by the time block (of `blockMs`, epoch-aligned) their start falls in. */
export function timeBlockGroups(items: readonly FoldItem[], blockMs = DEFAULT_FOLD_BLOCK_MS): Map<string, string> {
  return new Map(items.map((it) => [it.id, `block-${Math.floor(it.start / blockMs)}`]));
}

/**
 * Deals groups to k folds: groups in seeded order, then by size (largest first, stable), each to
 * the fold with the fewest items (ties: the lower fold). No group is split.
 */
export function dealGroups(groupOf: ReadonlyMap<string, string>, k: number, seed: number): Map<string, number> {
  if (!(Number.isInteger(k) && k >= 2)) throw new RangeError(`folds must be an integer ≥ 2, got ${k}`);
  const size = new Map<string, number>();
  for (const g of groupOf.values()) size.set(g, (size.get(g) ?? 0) + 1);
  const groups = [...size.keys()].sort();
  new SeededRng(seed, 'folds').shuffle(groups);
  const order = groups.map((g, i) => ({ g, i })).sort((a, b) => (size.get(b.g) as number) - (size.get(a.g) as number) || a.i - b.i);
  const load = new Array<number>(k).fill(0);
  const out = new Map<string, number>();
  for (const { g } of order) {
    let f = 0;
    for (let j = 1; j < k; j++) if (load[j] < load[f]) f = j;
    out.set(g, f);
    load[f] += size.get(g) as number;
  }
  return out;
}

export interface FoldOptions {
  k?: number;
  seed?: number;
  burstGapMs?: number;
  blockMs?: number;
}

/**
 * The folds of a protocol over `items`. Grid protocols also record each group's timeline
 * segment (from its first start to its last end), so windows can be placed (`foldOfWindow`).
 */
export function makeFolds(protocol: Exclude<ProtocolName, 'authors-split'>, items: readonly FoldItem[], opts: FoldOptions = {}): Folds {
  const k = opts.k ?? DEFAULT_FOLDS;
  const seed = opts.seed ?? 0;
  const bursts = protocol === 'injection-burst' ? burstGroupsForFolds(items, k, opts.burstGapMs) : undefined;
  const groupOf =
    bursts
      ? bursts.groupOf
      : protocol === 'time-block'
        ? timeBlockGroups(items, opts.blockMs)
        : new Map(items.map((it) => [it.id, it.group ?? failureGroupOf({ caseId: it.id })]));
  const foldOfGroup = dealGroups(groupOf, k, seed);
  const segs = new Map<string, { group: string; start: number; end: number }>();
  if (protocol !== 'failure') {
    for (const it of items) {
      const g = groupOf.get(it.id) as string;
      const s = segs.get(g);
      const end = it.end ?? it.start;
      if (!s) segs.set(g, { group: g, start: it.start, end });
      else {
        s.start = Math.min(s.start, it.start);
        s.end = Math.max(s.end, end);
      }
    }
  }
  return { protocol, k, seed, groupOf, foldOfGroup, segments: [...segs.values()].sort((a, b) => a.start - b.start), leaky: false, ...(bursts && bursts.cuts > 0 ? { burstCuts: bursts.cuts } : {}) };
}

/** The fold of an item (undefined for an item the folds were not made over). */
export function foldOf(folds: Folds, id: string): number | undefined {
  const g = folds.groupOf.get(id);
  return g === undefined ? undefined : folds.foldOfGroup.get(g);
}

/**
 * The fold of a grid window: a window overlapping a group's segment (padded by `padMs`, e.g.
 * one window length, so windows just before an injection go with it) takes that group's fold;
 * any other window the fold of its time block (`blockMs`): the block's own group under the
 * time-block protocol, else a seeded draw per block. A window
 * touching segments of two folds is `undefined`: it is scored in no fold and fitted in none.
 */
export function foldOfWindow(folds: Folds, w: { start: number; end: number }, padMs: number, blockMs = DEFAULT_FOLD_BLOCK_MS): number | undefined {
  let fold: number | undefined;
  for (const s of folds.segments) {
    if (s.start - padMs < w.end && w.start < s.end + padMs) {
      const f = folds.foldOfGroup.get(s.group) as number;
      if (fold !== undefined && fold !== f) return undefined;
      fold = f;
    }
  }
  if (fold !== undefined) return fold;
  const block = Math.floor((w.start + w.end) / 2 / blockMs);
  // time-block protocols: a block that holds cases is a group; the rest of it goes with them
  const own = folds.protocol === 'time-block' ? folds.foldOfGroup.get(`block-${block}`) : undefined;
  return own ?? new SeededRng(folds.seed + block, 'fold-block').int(folds.k);
}
