/**
 * Ranking metrics of root-cause localization: per case, the 1-based rank of the true answer in
 * a ranked candidate list (Infinity when it is not ranked); AC@k, Avg@k and MRR over cases.
 *
 *   AC@k  = share of cases whose answer is within the top k
 *   Avg@k = (AC@1 + … + AC@k) / k
 *   MRR   = mean of 1/rank (0 for an answer not ranked)
 */

/** 1-based rank of `answer` in `ranked`, Infinity when absent. */
export function rankOf(ranked: readonly string[], answer: string): number {
  const i = ranked.indexOf(answer);
  return i < 0 ? Infinity : i + 1;
}

export function acAtK(ranks: readonly number[], k: number): number {
  if (ranks.length === 0) return NaN;
  return ranks.filter((r) => r <= k).length / ranks.length;
}

export function avgAtK(ranks: readonly number[], k: number): number {
  if (ranks.length === 0) return NaN;
  let s = 0;
  for (let j = 1; j <= k; j++) s += acAtK(ranks, j);
  return s / k;
}

export function meanReciprocalRank(ranks: readonly number[]): number {
  if (ranks.length === 0) return NaN;
  return ranks.reduce((a, r) => a + (Number.isFinite(r) && r >= 1 ? 1 / r : 0), 0) / ranks.length;
}
