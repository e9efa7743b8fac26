/**
 * Label-free quality measures of an embedding space under cosine distance: leave-one-out kNN
 * accuracy, kNN purity and the silhouette coefficient. Rows are compared pairwise (O(n²·d)),
 * fine for the few thousand windows a probe looks at. NaN when undefined; whether a figure may
 * be reported is eval's rule (`measurability` in eval/embedding-metrics.ts).
 */

function norms(rows: readonly Float32Array[]): Float64Array {
  const out = new Float64Array(rows.length);
  rows.forEach((r, i) => {
    let s = 0;
    for (let k = 0; k < r.length; k++) s += r[k] * r[k];
    out[i] = Math.sqrt(s) || 1;
  });
  return out;
}

/** Cosine distance matrix, row-major n×n. */
export function cosineDistances(rows: readonly Float32Array[]): Float64Array {
  const n = rows.length;
  const nm = norms(rows);
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const a = rows[i];
    for (let j = i + 1; j < n; j++) {
      const b = rows[j];
      let s = 0;
      for (let k = 0; k < a.length; k++) s += a[k] * b[k];
      const v = 1 - s / (nm[i] * nm[j]);
      d[i * n + j] = v;
      d[j * n + i] = v;
    }
  }
  return d;
}

/** Indices of the k nearest other rows of row i (ties broken by index, so results are stable). */
function neighbours(d: Float64Array, n: number, i: number, k: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < n; j++) if (j !== i) idx.push(j);
  idx.sort((a, b) => d[i * n + a] - d[i * n + b] || a - b);
  return idx.slice(0, k);
}

/**
 * Leave-one-out kNN classification accuracy: each row is predicted by the majority label of its
 * k nearest other rows (ties: the label of the nearest among the tied).
 */
export function knnLooAccuracy(rows: readonly Float32Array[], labels: readonly string[], k = 5, dist?: Float64Array): number {
  const n = rows.length;
  if (n < 2) return NaN;
  const d = dist ?? cosineDistances(rows);
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const nb = neighbours(d, n, i, k);
    const votes = new Map<string, number>();
    for (const j of nb) votes.set(labels[j], (votes.get(labels[j]) ?? 0) + 1);
    let best = 0;
    for (const v of votes.values()) if (v > best) best = v;
    const pred = nb.map((j) => labels[j]).find((l) => votes.get(l) === best)!;
    if (pred === labels[i]) correct++;
  }
  return correct / n;
}

/** Mean share of each row's k nearest other rows that carry its own label. */
export function knnPurity(rows: readonly Float32Array[], labels: readonly string[], k = 5, dist?: Float64Array): number {
  const n = rows.length;
  if (n < 2) return NaN;
  const d = dist ?? cosineDistances(rows);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const nb = neighbours(d, n, i, k);
    sum += nb.filter((j) => labels[j] === labels[i]).length / nb.length;
  }
  return sum / n;
}

/**
 * Mean silhouette s(i) = (b − a) / max(a, b) under cosine distance, a = mean distance to its own
 * label, b = the smallest mean distance to another label; rows alone in their label score 0.
 */
export function silhouette(rows: readonly Float32Array[], labels: readonly string[], dist?: Float64Array): number {
  const n = rows.length;
  const names = [...new Set(labels)];
  if (n < 2 || names.length < 2) return NaN;
  const d = dist ?? cosineDistances(rows);
  const code = labels.map((l) => names.indexOf(l));
  const size = names.map((_, c) => code.filter((x) => x === c).length);
  let total = 0;
  const sums = new Float64Array(names.length);
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[code[j]] += d[i * n + j];
    const own = code[i];
    if (size[own] <= 1) continue;
    const a = sums[own] / (size[own] - 1);
    let b = Infinity;
    for (let c = 0; c < names.length; c++) if (c !== own && size[c] > 0) b = Math.min(b, sums[c] / size[c]);
    const m = Math.max(a, b);
    total += m > 0 ? (b - a) / m : 0;
  }
  return total / n;
}
