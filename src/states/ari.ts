/**
 * Adjusted Rand index (Hubert & Arabie 1985) between two labellings of the same items: 1 for
 * identical partitions (up to renaming), ≈ 0 for independent ones, negative below chance. NaN
 * when undefined (fewer than two items, or both labellings put everything in one group).
 */
export function adjustedRandIndex(a: readonly (string | number)[], b: readonly (string | number)[]): number {
  if (a.length !== b.length) throw new RangeError(`adjustedRandIndex: ${a.length} and ${b.length} labels`);
  const n = a.length;
  if (n < 2) return NaN;
  const pair = (x: number) => (x * (x - 1)) / 2;
  const cells = new Map<string, number>();
  const rowsA = new Map<string | number, number>();
  const colsB = new Map<string | number, number>();
  for (let i = 0; i < n; i++) {
    const key = JSON.stringify([a[i], b[i]]);
    cells.set(key, (cells.get(key) ?? 0) + 1);
    rowsA.set(a[i], (rowsA.get(a[i]) ?? 0) + 1);
    colsB.set(b[i], (colsB.get(b[i]) ?? 0) + 1);
  }
  let index = 0;
  for (const v of cells.values()) index += pair(v);
  let sumA = 0;
  for (const v of rowsA.values()) sumA += pair(v);
  let sumB = 0;
  for (const v of colsB.values()) sumB += pair(v);
  const expected = (sumA * sumB) / pair(n);
  const max = (sumA + sumB) / 2;
  if (max === expected) return NaN;
  return (index - expected) / (max - expected);
}
