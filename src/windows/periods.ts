/**
 * Recording periods of a timeline: maximal runs of windows of one source whose consecutive starts
 * are at most `gapMs` apart. A dataset recorded on two days (Nezha: two 12–15 h recordings half a
 * day apart) is two periods; a continuous stream is one. Period boundaries are where a system's
 * levels may have moved (another day's load, a redeploy with other pod names) without anything
 * being wrong, so detection moves each period's feature columns into one frame (src/tasks/tuned/align.ts).
 */
export const PERIOD_GAP_MS = 60 * 60_000;

/** Indices of `windows` grouped by period, each group in time order; periods in order of their first window. */
export function periodsOf(windows: readonly { start: number; source: string }[], gapMs: number = PERIOD_GAP_MS): number[][] {
  const bySource = new Map<string, number[]>();
  windows.forEach((w, i) => {
    const l = bySource.get(w.source);
    if (l) l.push(i);
    else bySource.set(w.source, [i]);
  });
  const out: number[][] = [];
  for (const idx of bySource.values()) {
    idx.sort((a, b) => windows[a].start - windows[b].start || a - b);
    let cur: number[] = [];
    for (const i of idx) {
      if (cur.length > 0 && windows[i].start - windows[cur[cur.length - 1]].start > gapMs) {
        out.push(cur);
        cur = [];
      }
      cur.push(i);
    }
    if (cur.length > 0) out.push(cur);
  }
  return out.sort((a, b) => windows[a[0]].start - windows[b[0]].start || a[0] - b[0]);
}
