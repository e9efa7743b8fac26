/**
 * Per-column standardisation (z-score) fitted on the rows a partition is fitted on and applied
 * unchanged to new rows. Clustering works on these: state embeddings are unit vectors whose
 * dimensions differ a lot in spread, and raw view features mix logs, shares and z-scores, so
 * without it a few wide columns would decide every distance.
 */

/** Columns that barely vary keep this spread, so they neither explode nor divide by zero. */
export const MIN_SCALE = 1e-6;

export interface StandardizerJSON {
  mean: number[];
  scale: number[];
}

export class Standardizer {
  private constructor(
    readonly mean: Float64Array,
    readonly scale: Float64Array,
  ) {}

  static fit(rows: readonly ArrayLike<number>[]): Standardizer {
    if (rows.length === 0) throw new RangeError('Standardizer.fit: no rows');
    const d = rows[0].length;
    const mean = new Float64Array(d);
    const sq = new Float64Array(d);
    for (const r of rows) {
      if (r.length !== d) throw new RangeError(`Standardizer.fit: rows of width ${r.length} and ${d}`);
      for (let j = 0; j < d; j++) mean[j] += r[j];
    }
    for (let j = 0; j < d; j++) mean[j] /= rows.length;
    for (const r of rows) for (let j = 0; j < d; j++) sq[j] += (r[j] - mean[j]) ** 2;
    const scale = new Float64Array(d);
    for (let j = 0; j < d; j++) scale[j] = Math.max(Math.sqrt(sq[j] / rows.length), MIN_SCALE);
    return new Standardizer(mean, scale);
  }

  get dim(): number {
    return this.mean.length;
  }

  apply(rows: readonly ArrayLike<number>[]): number[][] {
    const d = this.dim;
    return rows.map((r) => {
      if (r.length !== d) throw new RangeError(`Standardizer: expected rows of width ${d}, got ${r.length}`);
      const out = new Array<number>(d);
      for (let j = 0; j < d; j++) out[j] = (r[j] - this.mean[j]) / this.scale[j];
      return out;
    });
  }

  toJSON(): StandardizerJSON {
    return { mean: [...this.mean], scale: [...this.scale] };
  }

  static fromJSON(j: StandardizerJSON): Standardizer {
    if (!Array.isArray(j?.mean) || !Array.isArray(j?.scale) || j.mean.length !== j.scale.length) throw new RangeError('Standardizer: malformed JSON');
    return new Standardizer(Float64Array.from(j.mean), Float64Array.from(j.scale));
  }
}

export function squaredDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j] - b[j];
    s += t * t;
  }
  return s;
}
