/** Small helpers shared by the evidence modules (views/evidence*.ts). */

export function sorted(v: readonly number[]): Float64Array {
  return Float64Array.from(v).sort();
}

/** The shared quantile's definition (linear between order statistics) on sorted values. */
export function q(s: Float64Array, p: number): number {
  return qn(s, s.length, p);
}

/** `q` over the first `n` values of `s` (no view made: one per series and window adds up). */
export function qn(s: Float64Array, n: number, p: number): number {
  if (!n) return NaN;
  const pos = p * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * The shared `median` (stats/robust.ts: non-finite values left out) of values already sorted
 * in typed-array order (−Infinity first; +Infinity, then NaN, last): the middle of the finite
 * run, with the same interpolation, so the same number without the shared one's copies and
 * comparator sort.
 */
export function sortedMedian(s: Float64Array): number {
  let lo = 0;
  let hi = s.length;
  while (lo < hi && !Number.isFinite(s[lo])) lo++;
  while (hi > lo && !Number.isFinite(s[hi - 1])) hi--;
  const n = hi - lo;
  if (!n) return NaN;
  const pos = 0.5 * (n - 1);
  const a = Math.floor(pos);
  const b = Math.ceil(pos);
  return s[lo + a] + (s[lo + b] - s[lo + a]) * (pos - a);
}

export function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** An item of the `items` text, formatted only if it is among a row's strongest. */
export interface Item {
  dev: number;
  text: () => string;
}

export const fmt = (x: number) => (Number.isFinite(x) ? Number(x.toPrecision(3)).toString() : String(x));
export const sig = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(1);
/**
 * Items (the `items` text) are listed from this |statistic| on, so the text stays short and
 * calm rows cost no formatting: a display cut, not a threshold any feature or ranking uses.
 */
export const ITEM_MIN = 3;

