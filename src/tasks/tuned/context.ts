/**
 * The runtime state a window is judged in: the most common state of the windows of the same
 * source that end before it starts, within STATE_CONTEXT_MS — the regime the system was in, which
 * a fault does not change (a fault's own window drifts toward a wider state, whose looser
 * threshold would hide it). Its own state when it has no context. Label-free: times and states only.
 */

/** How far back the runtime state of a window is read (its context). */
export const STATE_CONTEXT_MS = 30 * 60_000;

export interface TimedState {
  start: number;
  end: number;
  source: string;
  /** the window's own state (nearest state of its own row) */
  state: number;
}

/** Context state of each of `query` (indices into `all`), `k` states. */
export function contextStates(all: readonly TimedState[], query: readonly number[], k: number, contextMs = STATE_CONTEXT_MS): number[] {
  if (k <= 1) return query.map(() => 0);
  const bySource = new Map<string, number[]>();
  all.forEach((w, i) => {
    let l = bySource.get(w.source);
    if (!l) bySource.set(w.source, (l = []));
    l.push(i);
  });
  for (const l of bySource.values()) l.sort((a, b) => all[a].end - all[b].end);
  return query.map((i) => {
    const w = all[i];
    const l = bySource.get(w.source) ?? [];
    const counts = new Array<number>(k).fill(0);
    let any = false;
    // l is sorted by end: walk back from the last window ending at or before w.start
    let lo = 0;
    let hi = l.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (all[l[mid]].end <= w.start) lo = mid + 1;
      else hi = mid;
    }
    for (let j = lo - 1; j >= 0 && all[l[j]].end > w.start - contextMs; j--) {
      const s = all[l[j]].state;
      if (s >= 0 && s < k) {
        counts[s]++;
        any = true;
      }
    }
    if (!any) return w.state;
    let best = 0;
    for (let s = 1; s < k; s++) if (counts[s] > counts[best]) best = s;
    return best;
  });
}
