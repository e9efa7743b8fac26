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

/**
 * A reference of per-window medians (edge gaps, self time) that also knows how many calls the
 * median of a typical reference window rested on.
 */
export interface SupportedLocation extends RobustLocation {
  /** median number of calls (spans) behind each reference window's median (absent in states saved before it) */
  support?: number;
}

/** `robustLocation` of per-window medians, with the median support of those windows. */
export function supportedLocation(values: readonly number[], supports: readonly number[], floor: number): SupportedLocation {
  return { ...robustLocation(values, floor), support: median(supports) };
}

/**
 * The scale a median of `n` calls is judged by. The reference's scale is the spread of
 * window medians that rested on about `support` calls each; a median of fewer calls varies
 * more, as 1/√n (a sample median's standard error), so its scale grows by √(support/n). It
 * never shrinks below the reference's own scale: with more calls than usual the spread
 * between windows (load, state) remains. A reference without a support (older state) is used as is.
 */
export function supportScale(r: SupportedLocation, n: number): number {
  const s = r.support;
  if (!(s !== undefined && s > n && n > 0)) return r.scale;
  return r.scale * Math.sqrt(s / n);
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

/** Below this log tail `normalUpperQuantile` saturates (1 − p rounds to 1), so the asymptotic form is used. */
const LOG_TAIL_ASYMPTOTIC = Math.log(1e-15);

/** z with log P(Z > z) = logTail, from the Mills-ratio asymptote log Q(z) ≈ −z²/2 − log z − ½ log 2π. */
function normalQuantileOfLogTail(logTail: number): number {
  let z = Math.sqrt(-2 * logTail);
  for (let i = 0; i < 8; i++) z = Math.sqrt(Math.max(0, -2 * (logTail + Math.log(z) + 0.5 * Math.log(2 * Math.PI))));
  return z;
}

/** log of the binomial probability P(X = k), X ~ Bin(n, p), 0 < p < 1. */
function logBinom(k: number, n: number, lp: number, lq: number): number {
  return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1) + k * lp + (n - k) * lq;
}

/** log Γ(x) for x > 0 (Lanczos, g = 7, |rel. error| < 1e-13). */
function lgamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lgamma(1 - x);
  const y = x - 1;
  let a = c[0];
  const t = y + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (y + i);
  return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * How surprising it is that `k` of a window's `n` spans emit a template that `K` of the
 * reference's `N` spans emit: the binomial tail in the direction of the change (P(X ≤ k) when
 * fewer spans emit it, P(X ≥ k) when more), as a positive normal quantile (0 when the window
 * is on the reference's side of its own share). The share is Laplace-smoothed, (K + 1)/(N + 2),
 * so a template never seen (or always seen) in the reference has a share a finite reference
 * allows. Why beside the Welch t: a template logged a variable number of times per span has
 * a large count variance, which caps the t of its vanishing from every span however
 * surely it is always there (1.6 records per span, present in every span: t 3.7 over 7 spans,
 * where absence from all 7 has a probability near 0); and a template present in 96 % of
 * spans vanishing from 3 spans is a 1-in-10⁴ event, not the t of 6.4 a Gaussian
 * approximation gives.
 */
export function presenceZ(k: number, n: number, K: number, N: number): number {
  if (!(n > 0) || !(N >= 0)) return 0;
  const p = (K + 1) / (N + 2);
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  const down = k < n * p;
  if (k === n * p) return 0;
  // log-sum-exp over the tail's terms
  const terms: number[] = [];
  if (down) for (let i = 0; i <= k; i++) terms.push(logBinom(i, n, lp, lq));
  else for (let i = k; i <= n; i++) terms.push(logBinom(i, n, lp, lq));
  const m = Math.max(...terms);
  const logTail = m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0));
  const tail = Math.min(1, Math.exp(logTail));
  if (tail >= 0.5) return 0;
  return logTail < LOG_TAIL_ASYMPTOTIC ? normalQuantileOfLogTail(logTail) : normalUpperQuantile(tail);
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

/**
 * log P(T > t) for Student's t with `df` degrees of freedom (df > 0, any real), through the
 * regularized incomplete beta: P(T > t) = ½·I_{df/(df+t²)}(df/2, ½) for t ≥ 0. Kept in logs
 * so a t far in the tail still maps to a finite z.
 */
export function studentLogUpperTail(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return NaN;
  if (t < 0) return Math.log1p(-Math.exp(studentLogUpperTail(-t, df)));
  if (t === 0) return Math.log(0.5);
  if (!Number.isFinite(df)) return Math.log(normalUpperTail(t));
  const x = df / (df + t * t);
  const a = df / 2;
  const b = 0.5;
  const lbeta = lgamma(a) + lgamma(b) - lgamma(a + b);
  // the continued fraction converges for x < (a + 1)/(a + b + 2); beyond it, by symmetry
  if (x < (a + 1) / (a + b + 2)) return Math.log(0.5) + a * Math.log(x) + b * Math.log1p(-x) - lbeta + Math.log(betaContinuedFraction(a, b, x) / a);
  const other = Math.exp(b * Math.log1p(-x) + a * Math.log(x) - lbeta) * (betaContinuedFraction(b, a, 1 - x) / b);
  return Math.log(0.5) + Math.log1p(-Math.min(other, 1));
}

/** Lentz's continued fraction for the incomplete beta (Numerical Recipes' betacf). */
function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-14) break;
  }
  return h;
}

/**
 * The normal quantile with the same tail probability as Student's t: z with P(Z > z) =
 * P(T_df > t), signed like t. An infinite df is the identity.
 */
export function studentToZ(t: number, df: number): number {
  if (!Number.isFinite(t) || !Number.isFinite(df)) return t;
  if (t === 0) return 0;
  const lt = studentLogUpperTail(Math.abs(t), df);
  const z = lt < LOG_TAIL_ASYMPTOTIC ? normalQuantileOfLogTail(lt) : normalUpperQuantile(Math.exp(lt));
  return Math.sign(t) * z;
}

/**
 * Welch–Satterthwaite degrees of freedom of `welchT`'s statistic. Each variance term carries the
 * degrees of freedom of the sample it was estimated from: the window's own variance (where it is
 * larger than the reference's and `welchT` uses it) rests on n − 1; where `welchT` takes the
 * reference's variance (or the integer-count floor) for the window, that term is known from the
 * reference's N − 1 (or exactly), so on many reference spans the statistic is already ≈ normal.
 */
export function welchDf(window: Moments, reference: Moments): number {
  if (window.n === 0 || reference.n === 0) return Infinity;
  const pooledMean = (window.sum + reference.sum) / (window.n + reference.n);
  const floor = Math.max(minCountVariance(pooledMean), 1e-12);
  const vrSample = variance(reference);
  const vr = Math.max(vrSample, floor);
  const vwSample = variance(window);
  const ownWindow = vwSample > vr;
  const vw = ownWindow ? vwSample : vr;
  const dfR = vrSample >= floor && reference.n > 1 ? reference.n - 1 : Infinity;
  const dfW = ownWindow ? window.n - 1 : dfR;
  const a = vw / window.n;
  const b = vr / reference.n;
  const den = (dfW === Infinity ? 0 : (a * a) / dfW) + (dfR === Infinity ? 0 : (b * b) / dfR);
  return den > 0 ? ((a + b) * (a + b)) / den : Infinity;
}

/**
 * `welchT` on the normal scale: its Student t tail at the Welch–Satterthwaite degrees of freedom
 * (`welchDf`), as a z. A t over 3 spans whose own variance it uses is not a z — t 6.4 on 2
 * degrees of freedom is a one-sided p of ≈ 0.012, z ≈ 2.3 — while a t whose variances come from
 * a large reference is left almost as it is.
 */
export function welchZ(window: Moments, reference: Moments): number {
  return studentToZ(welchT(window, reference), welchDf(window, reference));
}

/**
 * How a family turns the Welch t of per-span counts into its part score: `t` — as it is (the
 * default); `student` — through `welchZ` (docs/localize.md "Small-sample t", tried and not kept).
 */
export type CountScale = 't' | 'student';

/** The per-span count test a family uses under `scale`. */
export function countTest(scale: CountScale): (window: Moments, reference: Moments) => number {
  return scale === 'student' ? welchZ : welchT;
}
