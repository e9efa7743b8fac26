/**
 * Per-record values across consecutive windows. Slices of overlapping windows are filtered from
 * the same time-ordered buffer, so the records two consecutive slices share appear in both in
 * the same relative order, and records new to the later slice come after them. One forward
 * walk over the previous slice finds the shared records (by identity) and copies their values;
 * only the rest are computed. Any other sequence of slices is still right, only slower: from the
 * first record the walk does not find, the rest are computed.
 */
export class SliceMemo<T, V> {
  private prev: readonly T[] = [];
  private vals: V[] = [];
  /** with `reuse`: the array before `vals`, refilled by the next call */
  private spare: V[] | undefined;

  /**
   * `reuse`: the returned arrays are two buffers taken in turn (an array is valid until the
   * call after the next), for callers that keep no window's values: a new array per window
   * (≈8,000 spans a window on Nezha) lives through the window's work and is copied by the
   * young generation's collections.
   */
  constructor(
    private readonly compute: (item: T) => V,
    private readonly reuse = false,
  ) {
    if (reuse) this.spare = [];
  }

  map(cur: readonly T[]): V[] {
    const n = cur.length;
    let out: V[];
    if (this.spare) {
      out = this.spare;
      out.length = n;
      this.spare = this.vals;
    } else out = new Array(n);
    const prev = this.prev;
    const vals = this.vals;
    const m = prev.length;
    let p = 0;
    for (let j = 0; j < n; j++) {
      const x = cur[j];
      let q = p;
      while (q < m && prev[q] !== x) q++;
      if (q < m) {
        out[j] = vals[q];
        p = q + 1;
      } else {
        // New records come after the shared ones: stop looking (keeps the walk linear).
        out[j] = this.compute(x);
        p = m;
      }
    }
    this.prev = cur;
    this.vals = out;
    return out;
  }
}
