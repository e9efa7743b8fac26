/** What guessing without looking at the data scores: majority share and random-neighbour purity. */

/** Class sizes of a label list. */
export function classSizes(labels: Iterable<string>): Map<string, number> {
  const c = new Map<string, number>();
  for (const l of labels) c.set(l, (c.get(l) ?? 0) + 1);
  return c;
}

/** Share of the most frequent label: what always guessing it scores. */
export function majorityShare(labels: readonly string[]): number {
  if (labels.length === 0) return NaN;
  let top = 0;
  for (const v of classSizes(labels).values()) if (v > top) top = v;
  return top / labels.length;
}

/** Expected purity of k random other rows: Σ_c p_c · (n_c − 1) / (n − 1). */
export function randomPurity(labels: readonly string[]): number {
  const n = labels.length;
  if (n < 2) return NaN;
  let s = 0;
  for (const c of classSizes(labels).values()) s += (c / n) * ((c - 1) / (n - 1));
  return s;
}
