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

/**
 * How long after a recording period starts its windows are no normal references (issue 12). A
 * recording period usually starts with the system just deployed or restarted, or the collector
 * just attached: pods warm up (heap grows, caches fill), so the first minutes look like nothing
 * the rest of the period does, and the features that compare a pod with its own recent history
 * have less than their look-back to compare with. 30 min is that look-back (the resource
 * evidence's rolling history, src/encode/evidence/resources.ts `DEFAULT_HISTORY_MS`): the one
 * span after which every feature sees a full history. Not chosen on any figure.
 */
export const WARMUP_MS = 30 * 60_000;

export interface RecordingEdgeOptions {
  warmupMs?: number;
  gapMs?: number;
}

/**
 * Whether a window lies at an edge of a recording period of `timeline` (every window of a source
 * that has data): it starts within `warmupMs` of the period's first window, or it ends after the
 * period's data (its last window's start plus one stride), so part of it has no data. Such
 * windows are scored like any other, but are no normal references: a detector's tail estimated
 * on a warm-up is the warm-up's. Windows of another grid (the one-minute windows of a Nezha
 * export) are judged against the same periods; a window in no period (no timeline window within
 * `gapMs` before it) is not at an edge.
 */
export function recordingEdges(timeline: readonly { start: number; end: number; source: string }[], o: RecordingEdgeOptions = {}): (w: { start: number; end: number; source: string }) => boolean {
  const warmupMs = o.warmupMs ?? WARMUP_MS;
  const gapMs = o.gapMs ?? PERIOD_GAP_MS;
  const bySource = new Map<string, { first: number; lastStart: number; dataEnd: number }[]>();
  for (const p of periodsOf(timeline, gapMs)) {
    const starts = p.map((i) => timeline[i].start);
    let stride = Infinity;
    for (let t = 1; t < starts.length; t++) if (starts[t] > starts[t - 1]) stride = Math.min(stride, starts[t] - starts[t - 1]);
    const first = starts[0];
    const lastStart = starts[starts.length - 1];
    // one window only: its own end is all we know of the data
    const dataEnd = Number.isFinite(stride) ? lastStart + stride : timeline[p[p.length - 1]].end;
    const l = bySource.get(timeline[p[0]].source) ?? [];
    l.push({ first, lastStart, dataEnd });
    bySource.set(timeline[p[0]].source, l);
  }
  return (w) => {
    const period = bySource.get(w.source)?.find((p) => w.start >= p.first && w.start <= p.lastStart + gapMs);
    return period !== undefined && (w.start < period.first + warmupMs || w.end > period.dataEnd);
  };
}
