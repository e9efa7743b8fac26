/**
 * Small numeric helpers of the views: a seeded PRNG, bounded reservoirs that learn a
 * baseline while streaming, floored robust z-scores, quantiles, and number formatting that is
 * identical on every machine.
 */

/** mulberry32: a tiny seeded PRNG (32-bit state), enough for reservoir sampling. */
export class SeededRandom {
  private s: number;
  constructor(seed = 0) {
    this.s = seed >>> 0;
  }
  /** uniform in [0, 1) */
  next(): number {
    this.s = (this.s + 0x6d2b79f5) | 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/**
 * Algorithm R: a uniform sample of at most `cap` of the values seen, so a baseline over a
 * month of data costs the same memory as over an hour.
 */
export class Reservoir {
  private vals: number[] = [];
  seen = 0;
  constructor(private readonly cap: number, private readonly rng: SeededRandom) {}

  add(v: number): void {
    if (!Number.isFinite(v)) return;
    this.seen++;
    if (this.vals.length < this.cap) {
      this.vals.push(v);
      return;
    }
    const j = Math.floor(this.rng.next() * this.seen);
    if (j < this.cap) this.vals[j] = v;
  }

  /** Freezes the sample into the figures a z-score needs. */
  summarize(floor: ScaleFloor): Baseline {
    const s = Float64Array.from(this.vals).sort();
    return summarizeSorted(s, this.seen, floor);
  }
}

/** The learned reference of one statistic: sample size, robust centre, floored scale. */
export interface Baseline {
  n: number;
  median: number;
  scale: number;
}

/**
 * Lower bounds for a scale. `rel` is a share of |median| and `abs` an absolute epsilon in the
 * statistic's own unit: without them a series that was constant in training (MAD 0, as the
 * quantised latency percentiles of Nezha are) turns any change into an infinite z.
 */
export interface ScaleFloor {
  rel: number;
  abs: number;
}

const MAD_TO_SD = 1.4826;
/** E|X − μ| = σ·√(2/π) for a normal X, so this factor makes the mean absolute deviation a σ. */
const MEANAD_TO_SD = 1.2533;
/** q99 − q01 spans 4.6527σ for a normal X. */
const TAIL_TO_SD = 4.6527;

export function summarizeSorted(s: Float64Array, seen: number, floor: ScaleFloor): Baseline {
  const m = s.length;
  if (m === 0) return { n: 0, median: 0, scale: floor.abs };
  const median = quantileSorted(s, 0.5);
  const dev = new Float64Array(m);
  let sumAbs = 0;
  for (let i = 0; i < m; i++) {
    const d = Math.abs(s[i] - median);
    dev[i] = d;
    sumAbs += d;
  }
  dev.sort();
  const mad = quantileSorted(dev, 0.5) * MAD_TO_SD;
  const meanAd = (sumAbs / m) * MEANAD_TO_SD;
  // Series that spike often in training (more than 1% of the time) are not surprising when they
  // spike again: the tail spread widens their scale, where MAD alone would stay at 0.
  const tail = (quantileSorted(s, 0.99) - quantileSorted(s, 0.01)) / TAIL_TO_SD;
  const scale = Math.max(mad, meanAd, tail, floor.rel * Math.abs(median), floor.abs);
  return { n: seen, median, scale };
}

/** |z| is clipped here: beyond it a deviation is simply "huge", and sums stay finite. */
export const Z_CLIP = 50;

export function zOf(x: number, b: Baseline | undefined): number {
  if (b === undefined || b.n === 0 || !Number.isFinite(x)) return NaN;
  const z = (x - b.median) / b.scale;
  return z > Z_CLIP ? Z_CLIP : z < -Z_CLIP ? -Z_CLIP : z;
}

export function clipZ(z: number): number {
  return z > Z_CLIP ? Z_CLIP : z < -Z_CLIP ? -Z_CLIP : z;
}

/** Signed log: keeps the sign, compresses magnitude (features stay in a few units). */
export function slog(x: number): number {
  if (!Number.isFinite(x)) return 0;
  return x < 0 ? -Math.log1p(-x) : Math.log1p(x);
}

/** Linear-interpolated quantile of an ascending array; NaN when empty. */
export function quantileSorted(s: ArrayLike<number>, q: number): number {
  const n = s.length;
  if (n === 0) return NaN;
  if (n === 1) return s[0];
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Short, deterministic number text: 3 significant digits, exponent form outside
 * [1e-3, 1e5), no trailing zeros. `0.004999` → "0.005", `123456` → "1.23e5".
 */
export function fmt(x: number): string {
  // Views format the same values over and over (baselines, quantised levels): remember them.
  let s = fmtCache.get(x);
  if (s === undefined) {
    s = fmtUncached(x);
    if (fmtCache.size >= FMT_CACHE_MAX) fmtCache.clear();
    fmtCache.set(x, s);
  }
  return s;
}

const FMT_CACHE_MAX = 1 << 16;
const fmtCache = new Map<number, string>();

const SCALE = [1, 10, 100, 1000, 1e4, 1e5];

/**
 * `fmt` for 1e-3 ≤ |x| < 999.5 without toPrecision: x scaled to three integer digits is
 * within 1e-13 of its exact value, so rounding it gives toPrecision's digits unless it sits
 * within 1e-6 of a tie (or rounds into the next decade): then undefined, and toPrecision
 * decides.
 */
function fmtFixed(x: number): string | undefined {
  const a = Math.abs(x);
  if (!(a >= 0.001 && a < 999.5)) return undefined;
  const e = a >= 100 ? 2 : a >= 10 ? 1 : a >= 1 ? 0 : a >= 0.1 ? -1 : a >= 0.01 ? -2 : -3;
  const scaled = a * SCALE[2 - e];
  const n = Math.round(scaled);
  if (n < 100 || n >= 1000 || Math.abs(scaled - Math.floor(scaled) - 0.5) < 1e-6) return undefined;
  const d = String(n);
  const body = e === 2 ? d : e === 1 ? `${d.slice(0, 2)}.${d[2]}` : e === 0 ? `${d[0]}.${d.slice(1)}` : e === -1 ? `0.${d}` : e === -2 ? `0.0${d}` : `0.00${d}`;
  return (x < 0 ? '-' : '') + trimZeros(body);
}

function fmtUncached(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const fixed = fmtFixed(x);
  if (fixed !== undefined) return fixed;
  // round to 3 significant digits first, so that 999.96 is 1000 and not "1.00e+3"
  const p = x.toPrecision(3);
  const r = Number(p);
  const a = Math.abs(r);
  // The usual case: `p` is already the fixed-point text of r (r is the double nearest to p, so
  // r rounded to 3 digits again is p); only its trailing zeros go.
  if (a >= 1e-3 && a < 1000 && p.indexOf('e') < 0) return trimZeros(p);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = r.toExponential(2).split('e');
    return `${trimZeros(m)}e${e.startsWith('+') ? e.slice(1) : e}`;
  }
  if (a >= 1000) return String(r);
  return trimZeros(r.toPrecision(3));
}

function trimZeros(s: string): string {
  if (s.indexOf('.') < 0) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return end === s.length ? s : s.slice(0, end);
}

/** A z as text: sign always shown, one decimal. */
export function fmtZ(z: number): string {
  if (!Number.isFinite(z)) return 'n/a';
  const r = Math.round(z * 10) / 10;
  // |z| is clipped, so there are few distinct texts: one per tenth
  let s = fmtZCache.get(r);
  if (s === undefined) {
    s = (r >= 0 ? '+' : '') + r.toFixed(1);
    if (fmtZCache.size >= FMT_CACHE_MAX) fmtZCache.clear();
    fmtZCache.set(r, s);
  }
  return s;
}

const fmtZCache = new Map<number, string>();

export function pct(x: number): string {
  return `${fmt(100 * x)}%`;
}

/** Ascending sort of finite values, for quantiles over a window. */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  const out = new Float64Array(values.length);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) out[k++] = v;
  }
  return out.subarray(0, k).sort();
}

/**
 * Quantiles (as `quantileSorted` of the sorted values would give) by selection, in O(n) per
 * quantile instead of a sort. Reorders `a`. `qs` must be ascending.
 */
export function selectQuantiles(a: Float64Array, qs: readonly number[]): number[] {
  const n = a.length;
  if (n === 0) return qs.map(() => NaN);
  const out: number[] = [];
  let from = 0;
  for (const q of qs) {
    const pos = q * (n - 1);
    const lo = Math.floor(pos);
    selectKth(a, from, n - 1, lo);
    from = lo;
    let v = a[lo];
    if (pos > lo && lo + 1 < n) {
      let next = Infinity;
      for (let i = lo + 1; i < n; i++) if (a[i] < next) next = a[i];
      v += (next - v) * (pos - lo);
    }
    out.push(v);
  }
  return out;
}

/** Hoare selection: afterwards a[k] is the k-th smallest of a[lo..hi], smaller ones before it, larger after. */
function selectKth(a: Float64Array, lo: number, hi: number, k: number): void {
  while (hi - lo > 16) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > v) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = v;
  }
}

/** The largest of the finite values, 0 when none is (NaN would poison Math.max and sorts). */
export function maxFinite(...xs: number[]): number {
  let m = 0;
  for (const x of xs) if (x > m) m = x;
  return m;
}
