/** Small robust statistics shared by the evidence families and the calibration. */

// median/quantile are the shared ones (stats/robust.ts: non-finite values are left out)
export { median, quantile } from '../../stats/index.js';
import { median } from '../../stats/index.js';

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
export function robustLocation(values: readonly number[], floor: number, withMeanAbs = true): RobustLocation {
  const center = median(values);
  if (values.length === 0) return { center: NaN, scale: floor, n: 0 };
  const dev = values.map((v) => Math.abs(v - center));
  const mad = 1.4826 * median(dev);
  const meanAbs = withMeanAbs ? dev.reduce((a, b) => a + b, 0) / dev.length : 0;
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
 * The least variance an integer count with mean `m` can have: all mass on ⌊m⌋ and ⌈m⌉, so
 * f(1 − f) with f the fractional part. A Poisson variance (= m) is the wrong floor for a
 * template logged exactly once per span (its variance is 0, not 1), and it capped the evidence
 * of a template that vanishes from a handful of spans at √(n·m) (docs/localize.md).
 */
export function minCountVariance(m: number): number {
  const f = m - Math.floor(m);
  return f * (1 - f);
}

/**
 * Welch-style t of a window's per-span counts against the reference's. Under the null the
 * window's spans are drawn like the reference's, so the window's variance is taken as at least
 * the reference's (a window of 7 spans that all skip a template has sample variance 0, which is
 * no evidence of a quieter template); both are floored at the least variance an integer count
 * with the pooled mean can have (`minCountVariance`), so a template that appears or vanishes
 * in every span still gives a finite t. Where a window's counts vary more than the reference's
 * (a one-off record), its own variance is used, so one stray line is not extreme.
 */
export function welchT(window: Moments, reference: Moments): number {
  if (window.n === 0 || reference.n === 0) return 0;
  const pooledMean = (window.sum + reference.sum) / (window.n + reference.n);
  const floor = Math.max(minCountVariance(pooledMean), 1e-12);
  const vr = Math.max(variance(reference), floor);
  const vw = Math.max(variance(window), vr);
  const diff = window.sum / window.n - reference.sum / reference.n;
  return diff / Math.sqrt(vw / window.n + vr / reference.n);
}

/** Standard normal upper quantile: z with P(Z > z) = p (Acklam's rational approximation). */
export function normalUpperQuantile(p: number): number {
  const q = Math.min(Math.max(1 - p, 1e-300), 1 - 1e-16);
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (q < lo) {
    const r = Math.sqrt(-2 * Math.log(q));
    return (((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  if (q > 1 - lo) {
    const r = Math.sqrt(-2 * Math.log(1 - q));
    return -(((((c[0] * r + c[1]) * r + c[2]) * r + c[3]) * r + c[4]) * r + c[5]) / ((((d[0] * r + d[1]) * r + d[2]) * r + d[3]) * r + 1);
  }
  const r = q - 0.5;
  const t = r * r;
  return ((((((a[0] * t + a[1]) * t + a[2]) * t + a[3]) * t + a[4]) * t + a[5]) * r) / (((((b[0] * t + b[1]) * t + b[2]) * t + b[3]) * t + b[4]) * t + 1);
}

/** A null sample kept sorted, with its robust location, for `tailZ`. */
export interface EmpiricalNull extends RobustLocation {
  sorted: number[];
}

/**
 * `withMeanAbs` false: the scale is max(1.4826·MAD, floor) only. In z units the floor already
 * keeps a null of ties from collapsing, and the mean absolute deviation is not robust — two
 * contaminated windows at z 18 in a null of 45 add 0.75 to it.
 */
export function empiricalNull(values: readonly number[], floor: number, withMeanAbs = true): EmpiricalNull {
  return { ...robustLocation(values, floor, withMeanAbs), sorted: [...values].sort((a, b) => a - b) };
}

/** Share of a null's largest values an empirical tail is not trusted with (see `tailZ`). */
export const TAIL_TRUST_SHARE = 0.01;

/**
 * A value's z on a common scale across nulls of any size: up to the null's top 1 %
 * (`TAIL_TRUST_SHARE`), the normal quantile of its empirical tail probability
 * (1 + #null ≥ x)/(n + 1) — so the heavy tail of, say, an idle pod's CPU counts for what it is;
 * beyond that anchor, the anchor's z plus the excess in the null's robust scale. The top 1 % is
 * not trusted because that is where contamination sits (a fault's aftermath that outlives its
 * label; Nezha's pre-injection minutes that are already faulty): one such window as the null's
 * maximum would otherwise hide every real fault below it.
 */
export function tailZ(n: EmpiricalNull, x: number): number {
  const s = n.sorted;
  const len = s.length;
  if (!len || !Number.isFinite(x)) return NaN;
  const k = Math.max(1, Math.ceil(TAIL_TRUST_SHARE * (len + 1)));
  const anchor = s[len - k];
  if (x > anchor) return normalUpperQuantile((1 + k) / (len + 1)) + (x - anchor) / n.scale;
  // values ≥ x: len − (index of the first value ≥ x)
  let lo = 0;
  let hi = len;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  // at the bottom, symmetric to the top: never below "under all n"
  return normalUpperQuantile(Math.min(1 + len - lo, len) / (len + 1));
}

/** Standard normal upper tail P(Z > z) (erfc by Numerical Recipes' Chebyshev fit, |rel. error| < 1.2e-7). */
export function normalUpperTail(z: number): number {
  if (Number.isNaN(z)) return NaN;
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc =
    t *
    Math.exp(
      -x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851526 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/**
 * The level up to which a calibrated z is a normal quantile of a tail probability: the start of
 * the untrusted top `TAIL_TRUST_SHARE` of a null (`tailZ`), z ≈ 2.33. Above it a z is an anchor
 * plus an excess in the null's robust scale, not a probability.
 */
export const MAX_CORRECTION_LEVEL = normalUpperQuantile(TAIL_TRUST_SHARE);

/**
 * Makes the maximum of `n` calibrated z's (one per slice of a query, each against a null of
 * single slices) comparable to a single z — Šidák: the z of p_n = 1 − (1 − p)ⁿ, p = P(Z > z),
 * the chance that the best of n independent normal slices is at least as high. Up to
 * `MAX_CORRECTION_LEVEL` that is applied as is; beyond it (the anchor-plus-excess region of
 * `tailZ`, and heavy robust z's) the shift at that level is subtracted, so only the
 * probability part is corrected, the excess is kept and the map stays continuous and
 * increasing. Identity for n ≤ 1. Slices are treated as independent: for correlated slices
 * (a metric's consecutive minutes) it over-corrects a little, i.e. it is conservative about
 * the family with more chances.
 */
export function maxOfNCorrection(z: number, n: number): number {
  if (!(n > 1) || !Number.isFinite(z)) return z;
  const sidak = (x: number) => normalUpperQuantile(-Math.expm1(n * Math.log1p(-normalUpperTail(x))));
  if (z <= MAX_CORRECTION_LEVEL) return sidak(z);
  return z - (MAX_CORRECTION_LEVEL - sidak(MAX_CORRECTION_LEVEL));
}
