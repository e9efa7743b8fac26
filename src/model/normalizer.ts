/**
 * Per-column standardisation of model inputs (backbone vector ⊕ numeric features), fitted on
 * training rows only. With `robustFrom` the columns from that index on (the numeric features)
 * are scaled robustly instead — median and `robustScale`, then clipped at ±ROBUST_CLIP — the
 * same robust z the raw-features column of `evaluate` compares: a feature whose faults are
 * 1000× its normal value would otherwise set a standard deviation that flattens all normal
 * variation to ~0. NaN (a missing feature value) is skipped when fitting and becomes the
 * column mean (0 after scaling) when transforming; a column with (near) zero variance is only
 * centred, never divided by ~0.
 */
import { robustScale } from '../stats/index.js';
import { UserError } from '../telemetry/index.js';

export interface FeatureNormalizerJSON {
  kind: 'standard';
  dim: number;
  mean: number[];
  std: number[];
  /** Columns from this index on are clipped to ±ROBUST_CLIP after scaling (robust columns). */
  clipFrom?: number;
}

/** Same clip as evaluate's raw-features column (Z_CLIP). */
export const ROBUST_CLIP = 10;

/** Columns whose standard deviation is below this are treated as constant (scale 1). */
export const MIN_STD = 1e-6;

export class FeatureNormalizer {
  private constructor(
    readonly mean: Float32Array,
    readonly std: Float32Array,
    /** Columns ≥ this are clipped to ±ROBUST_CLIP; dim = none. */
    readonly clipFrom: number = mean.length,
  ) {}

  get dim(): number {
    return this.mean.length;
  }

  /** Fits on `rows` (row-major [n, dim]); `rowMask`, when given, picks the rows that count. */
  static fit(rows: Float32Array, dim: number, rowMask?: ArrayLike<number>, opts: { robustFrom?: number } = {}): FeatureNormalizer {
    if (!(Number.isInteger(dim) && dim > 0) || rows.length % dim !== 0) {
      throw new RangeError(`FeatureNormalizer.fit: ${rows.length} values do not make rows of ${dim}`);
    }
    const n = rows.length / dim;
    if (rowMask && rowMask.length !== n) throw new RangeError(`FeatureNormalizer.fit: mask has ${rowMask.length} entries for ${n} rows`);
    // Welford per column, in float64: one pass, stable for large offsets.
    const count = new Float64Array(dim);
    const mean = new Float64Array(dim);
    const m2 = new Float64Array(dim);
    for (let i = 0; i < n; i++) {
      if (rowMask && !rowMask[i]) continue;
      const o = i * dim;
      for (let j = 0; j < dim; j++) {
        const x = rows[o + j];
        if (Number.isNaN(x)) continue;
        const c = ++count[j];
        const d = x - mean[j];
        mean[j] += d / c;
        m2[j] += d * (x - mean[j]);
      }
    }
    const std = new Float32Array(dim);
    const mu = new Float32Array(dim);
    for (let j = 0; j < dim; j++) {
      mu[j] = count[j] > 0 ? mean[j] : 0;
      const s = count[j] > 1 ? Math.sqrt(m2[j] / count[j]) : 0;
      std[j] = s >= MIN_STD && Number.isFinite(s) ? s : 1;
    }
    const from = opts.robustFrom;
    if (from === undefined || from >= dim) return new FeatureNormalizer(mu, std);
    if (!(Number.isInteger(from) && from >= 0)) throw new RangeError(`FeatureNormalizer.fit: robustFrom must be a column index, got ${from}`);
    const col: number[] = [];
    for (let j = from; j < dim; j++) {
      col.length = 0;
      for (let i = 0; i < n; i++) if (!rowMask || rowMask[i]) col.push(rows[i * dim + j]);
      const r = robustScale(col);
      mu[j] = Number.isFinite(r.location) ? r.location : 0;
      std[j] = r.scale >= MIN_STD && Number.isFinite(r.scale) ? r.scale : 1;
    }
    return new FeatureNormalizer(mu, std, from);
  }

  /** The identity normaliser (mean 0, std 1). */
  static identity(dim: number): FeatureNormalizer {
    return new FeatureNormalizer(new Float32Array(dim), new Float32Array(dim).fill(1));
  }

  /** (x − mean) / std per column into a new array; NaN → 0. */
  transform(rows: Float32Array): Float32Array {
    const out = new Float32Array(rows.length);
    this.transformInto(rows, 0, out, 0, rows.length / this.dim);
    return out;
  }

  /** Normalises `n` rows of `src` starting at row `srcRow` into `dst` at row `dstRow`. */
  transformInto(src: Float32Array, srcRow: number, dst: Float32Array, dstRow: number, n: number): void {
    const d = this.dim;
    const { mean, std, clipFrom } = this;
    for (let r = 0; r < n; r++) {
      const si = (srcRow + r) * d;
      const di = (dstRow + r) * d;
      for (let j = 0; j < d; j++) {
        const x = src[si + j];
        const v = Number.isNaN(x) ? 0 : (x - mean[j]) / std[j];
        dst[di + j] = j < clipFrom ? v : Math.max(-ROBUST_CLIP, Math.min(ROBUST_CLIP, v));
      }
    }
  }

  toJSON(): FeatureNormalizerJSON {
    const out: FeatureNormalizerJSON = { kind: 'standard', dim: this.dim, mean: Array.from(this.mean), std: Array.from(this.std) };
    if (this.clipFrom < this.dim) out.clipFrom = this.clipFrom;
    return out;
  }

  static fromJSON(json: unknown): FeatureNormalizer {
    const j = json as Partial<FeatureNormalizerJSON> | null;
    if (
      !j ||
      j.kind !== 'standard' ||
      !Array.isArray(j.mean) ||
      !Array.isArray(j.std) ||
      j.mean.length !== j.dim ||
      j.std.length !== j.dim ||
      !j.std.every((s) => typeof s === 'number' && s > 0) ||
      !j.mean.every((m) => typeof m === 'number' && Number.isFinite(m)) ||
      (j.clipFrom !== undefined && !(Number.isInteger(j.clipFrom) && j.clipFrom >= 0 && j.clipFrom <= j.dim))
    ) {
      throw new UserError('feature normaliser: expected {kind: "standard", dim, mean[dim], std[dim] > 0, clipFrom?}');
    }
    return new FeatureNormalizer(Float32Array.from(j.mean), Float32Array.from(j.std), j.clipFrom ?? j.dim);
  }
}
