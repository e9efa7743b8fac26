/** Robust location and scale, and quantiles, for scores and thresholds. */

export function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** The q-quantile (0..1) by linear interpolation between order statistics; NaN for no values. */
export function quantile(xs: ArrayLike<number>, q: number): number {
  const a = Array.from(xs).filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return NaN;
  const pos = Math.min(1, Math.max(0, q)) * (a.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return a[lo] + (a[hi] - a[lo]) * (pos - lo);
}

export function median(xs: ArrayLike<number>): number {
  return quantile(xs, 0.5);
}

/**
 * A scale that never collapses: the largest of 1.4826·MAD, the mean absolute deviation and
 * `floorShare` of the level |median| (and an absolute `floor`). Quantised, spiky series (latency
 * percentiles) have MAD 0, and a plain robust z then reaches 1e8 and wins every max.
 */
export function robustScale(xs: ArrayLike<number>, floorShare = 0.05, floor = 1e-6): { location: number; scale: number } {
  const a = Array.from(xs).filter((x) => Number.isFinite(x));
  if (a.length === 0) return { location: NaN, scale: NaN };
  const m = median(a);
  const dev = a.map((x) => Math.abs(x - m));
  const mad = 1.4826 * median(dev);
  const meanAbs = mean(dev);
  return { location: m, scale: Math.max(mad, meanAbs, floorShare * Math.abs(m), floor) };
}

/**
 * Each column's `robustScale` over the rows' finite values; a column with fewer than
 * `minReference` of them gets NaN location and scale (no reference to judge it by).
 */
export function columnRobustScales(rows: readonly ArrayLike<number>[], minReference: number): { loc: number[]; scale: number[] } {
  const d = rows.length > 0 ? rows[0].length : 0;
  const loc = new Array<number>(d).fill(NaN);
  const scale = new Array<number>(d).fill(NaN);
  const col: number[] = [];
  for (let j = 0; j < d; j++) {
    col.length = 0;
    for (const r of rows) if (Number.isFinite(r[j])) col.push(r[j]);
    if (col.length < minReference) continue;
    const s = robustScale(col);
    loc[j] = s.location;
    scale[j] = s.scale;
  }
  return { loc, scale };
}
