/**
 * Choosing among candidates ordered simplest first by their cross-validated scores.
 *
 *   pickByRule([{ score: 0.60, perFold: [0.5, 0.7] }, { score: 0.64, perFold: [0.6, 0.68] }], 'one-se');
 *   // 0: the first candidate within one standard error (0.04) of the best
 *
 * 'one-se': the one-standard-error rule of cross-validation (Breiman et al. 1984; Hastie,
 * Tibshirani & Friedman, ESL §7.10) — the first candidate whose score is within one standard
 * error (of the best candidate's per-fold scores) of the best. Why: with a few inner folds and
 * several candidates, the maximum of noisy estimates favours whichever got lucky; among
 * candidates the folds cannot tell apart, the simplest one generalises at least as well.
 * 'one-se-paired': the same with each candidate's own standard error of its per-fold difference
 * from the best (the folds' shared difficulty cancels; per-fold scores of equal length needed,
 * else as 'one-se'). 'best': the best score (the first on ties).
 */
export type SelectionRule = 'best' | 'one-se' | 'one-se-paired';

export interface RuleScore {
  /** cross-validated score, higher is better; NaN when not measurable */
  score: number;
  /** the same score per fold (the standard error's source; absent or one fold: no standard error) */
  perFold?: readonly number[];
}

/** Index of the candidate the rule picks (module comment); no finite score: the first. */
export function pickByRule(scores: readonly RuleScore[], rule: SelectionRule = 'one-se'): number {
  let best = -1;
  for (let i = 0; i < scores.length; i++) {
    if (Number.isFinite(scores[i].score) && (best < 0 || scores[i].score > scores[best].score + 1e-9)) best = i;
  }
  if (best < 0) return 0;
  if (rule === 'best') return best;
  const top = scores[best].perFold ?? [];
  const se = standardError(top);
  const i = scores.findIndex((s) => {
    if (!Number.isFinite(s.score)) return false;
    const own = s.perFold ?? [];
    const paired = rule === 'one-se-paired' && own.length === top.length && own.length > 1;
    return s.score >= scores[best].score - (paired ? standardError(top.map((t, j) => t - own[j])) : se);
  });
  return i < 0 ? best : i;
}

/** Standard error of the mean of the finite values (0 with fewer than two). */
export function standardError(values: readonly number[]): number {
  const f = values.filter((x) => Number.isFinite(x));
  if (f.length < 2) return 0;
  const m = f.reduce((a, b) => a + b, 0) / f.length;
  return Math.sqrt(f.reduce((a, b) => a + (b - m) ** 2, 0) / (f.length - 1) / f.length);
}

/**
 * `pickByRule` over candidates scored per fold: 'one-se' compares the mean of the per-fold scores
 * (the pooled score where a candidate has none: no standard error), 'best' the pooled scores.
 */
export function pickByFolds(scores: readonly { pooled: number; perFold?: readonly number[] }[], rule: SelectionRule = 'one-se'): number {
  if (rule === 'best') return pickByRule(scores.map((x) => ({ score: x.pooled })), 'best');
  return pickByRule(
    scores.map((x) => {
      const f = x.perFold ?? [];
      const finite = f.filter((v) => Number.isFinite(v));
      return finite.length > 0 ? { score: finite.reduce((a, b) => a + b, 0) / finite.length, perFold: f } : { score: x.pooled };
    }),
    rule,
  );
}
