/**
 * Binary search and running selection on sorted or streamed numbers, shared by the readers,
 * the windower, the views and the tasks (one copy instead of five).
 */

/** First index i in [from, to) with a[i] ≥ t in an ascending array (`to` when none). */
export function lowerBound(a: ArrayLike<number>, t: number, from = 0, to = a.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The k smallest of values offered one at a time, kept sorted; `mean()` is what kNN scores use
 * (mean distance to the k nearest). Memory is k, whatever the number offered.
 */
export class KSmallest {
  private readonly best: number[] = [];
  constructor(readonly k: number) {}

  offer(v: number): void {
    const b = this.best;
    if (b.length < this.k) {
      b.push(v);
      b.sort((x, y) => x - y);
    } else if (v < b[this.k - 1]) {
      b[this.k - 1] = v;
      b.sort((x, y) => x - y);
    }
  }

  /** NaN when nothing was offered. */
  mean(): number {
    const b = this.best;
    return b.length === 0 ? NaN : b.reduce((a, x) => a + x, 0) / b.length;
  }
}
