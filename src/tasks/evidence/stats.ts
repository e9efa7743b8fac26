/** Small robust statistics shared by the evidence families and the calibration. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return quantileOfSorted(s, 0.5);
}

export function quantileOfSorted(s: readonly number[], q: number): number {
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

export function quantile(values: readonly number[], q: number): number {
  return quantileOfSorted([...values].sort((a, b) => a - b), q);
}

export interface RobustLocation {
  center: number;
  scale: number;
  n: number;
}

/**
 * Median and a scale that cannot collapse: max(1.4826·MAD, mean absolute deviation from the
 * median, `floor`). MAD alone is 0 whenever more than half the values tie (quantised metrics,
 * edges that are always 3 ms), which would turn any movement into an infinite z.
 */
export function robustLocation(values: readonly number[], floor: number): RobustLocation {
  const center = median(values);
  if (values.length === 0) return { center: NaN, scale: floor, n: 0 };
  const dev = values.map((v) => Math.abs(v - center));
  const mad = 1.4826 * median(dev);
  const meanAbs = dev.reduce((a, b) => a + b, 0) / dev.length;
  return { center, scale: Math.max(mad, meanAbs, floor), n: values.length };
}

/** Moments of per-span counts: spans, Σx, Σx². */
export interface Moments {
  n: number;
  sum: number;
  sumSq: number;
}

export function addMoments(a: Moments, b: Moments): Moments {
  return { n: a.n + b.n, sum: a.sum + b.sum, sumSq: a.sumSq + b.sumSq };
}

function variance(m: Moments): number {
  if (m.n < 2) return 0;
  return Math.max(0, (m.sumSq - (m.sum * m.sum) / m.n) / (m.n - 1));
}

/**
 * Welch-style t of a window's per-span counts against the reference's. Each side's variance is
 * floored at the pooled mean (a Poisson variance): a template emitted exactly once per span has
 * sample variance 0 on both sides, and a template that appears (reference 0, 0) would otherwise
 * divide by zero. Where counts vary more than Poisson (loops that log a variable number of
 * times), the observed variance is used, which is the point of not using a Poisson test.
 */
export function welchT(window: Moments, reference: Moments): number {
  if (window.n === 0 || reference.n === 0) return 0;
  const pooledMean = (window.sum + reference.sum + 1) / (window.n + reference.n + 1);
  const vw = Math.max(variance(window), pooledMean);
  const vr = Math.max(variance(reference), pooledMean);
  const diff = window.sum / window.n - reference.sum / reference.n;
  return diff / Math.sqrt(vw / window.n + vr / reference.n);
}
