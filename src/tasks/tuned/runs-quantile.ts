/**
 * An upper quantile of reference scores in which one episode counts once (runs declustering).
 *
 * Why: the detectors' references are windows of a time series, and windows that overlap see the
 * same minutes. A tail quantile at 0.99 over 400 references rests on its 4 largest values, so one
 * unusual stretch of normal time — the pods warming up after a gap in the export, a day's last
 * windows that the data only half fills — supplies 4–6 overlapping references, *is* the tail, and
 * sets every feature's calibration and the threshold for whichever fold holds it in training
 * (Nezha metrics-only: which fold an hour block lands in moved event-F1 from 0.71 to 0.30;
 * docs/tasks.md, "Nezha detection over fold seeds"). Extreme-value practice counts clusters of
 * exceedances, not exceedances (runs declustering): here references whose windows overlap or
 * touch, and that all exceed a level, are one exceedance of it.
 *
 * The level: the smallest reference value v such that fewer than (1 − q)·n runs of references
 * lie above v would become more when v itself is added — walking the values from the largest, the
 * value at which the run count would pass (1 − q)·n. Without overlapping exceedances this is the
 * ⌊(1 − q)·n⌋+1-th largest value, the plain quantile's neighbour (`quantile` interpolates between
 * it and the next); with them, one episode takes one of the (1 − q)·n places, wherever it sits. No
 * new constant: overlap is the windows' own span, q is the detector's.
 */

/** A reference's time span and source (windows of different sources never form one run). */
export interface RunSpan {
  start: number;
  end: number;
  source?: string;
}

/**
 * The declustered upper `q` quantile of `values` (NaN entries ignored), `spans[i]` the window of
 * `values[i]`. NaN when no value is finite.
 */
export function runsQuantile(values: ArrayLike<number>, spans: readonly RunSpan[], q: number): number {
  const idx: number[] = [];
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) idx.push(i);
  const n = idx.length;
  if (n === 0) return NaN;
  // time order; a run is a set of references above the level chained by overlapping windows
  const byTime = idx.slice().sort((a, b) => (spans[a].source ?? '').localeCompare(spans[b].source ?? '') || spans[a].start - spans[b].start || spans[a].end - spans[b].end);
  const pos = new Map(byTime.map((i, t) => [i, t]));
  const linked = (a: number, b: number) => (spans[a].source ?? '') === (spans[b].source ?? '') && spans[b].start <= spans[a].end && spans[a].start <= spans[b].end;
  // union-find over time positions of the references added so far (largest values first)
  const parent = new Int32Array(n).fill(-1);
  const root = (t: number): number => {
    while (parent[t] !== t) t = parent[t] = parent[parent[t]];
    return t;
  };
  const allowed = (1 - Math.min(1, Math.max(0, q))) * n;
  const desc = idx.slice().sort((a, b) => (values[b] as number) - (values[a] as number));
  let runs = 0;
  for (const i of desc) {
    const t = pos.get(i) as number;
    // the added references whose windows overlap this one (windows sorted by start: scan both ways
    // while they can still overlap; equal-length windows make the scan stop at the first miss)
    const roots = new Set<number>();
    for (let u = t - 1; u >= 0 && linked(byTime[u], i); u--) if (parent[u] >= 0) roots.add(root(u));
    for (let u = t + 1; u < n && linked(i, byTime[u]); u++) if (parent[u] >= 0) roots.add(root(u));
    const next = runs + 1 - roots.size;
    if (next > allowed) return values[i] as number;
    runs = next;
    parent[t] = t;
    for (const r of roots) parent[r] = t;
  }
  return values[desc[n - 1]] as number;
}

