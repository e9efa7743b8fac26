/**
 * How much a representation's learned block counts, chosen per task and outer fold by inner
 * cross-validation on that fold's training folds only (docs/losses.md, "How much t̂ counts").
 *
 *   const alpha = pickAlpha([{ alpha: 0, score: 0.61 }, { alpha: 0.5, score: 0.64 }, { alpha: 1, score: 0.64 }]);
 *   // 0.5: the best inner score (no per-fold scores: no standard error); a tie goes to the smaller α
 *
 * Why: the model column is [x ⊕ t̂], the raw view features beside the state's reconstruction t̂
 * of their deviations (represent.ts). Whether t̂ helps differs per task and per system (a
 * reconstruction smooths the small, single-column deviations detection on a quiet system needs,
 * and adds cross-modal context classification can use). α = 0 reads x alone — the raw-features
 * column exactly — so the column falls back to what the views show whenever the training folds
 * do not show t̂ helping; ties go to the smaller α for the same reason.
 */

import { pickByRule } from '../../stats/index.js';

/** The weights tried for the learned block: off, half the say of an observed column, an equal say. Set before measuring. */
export const BLOCK_ALPHAS: readonly number[] = [0, 0.5, 1];

export interface AlphaScore {
  alpha: number;
  /** inner cross-validated score, pooled over the inner folds (higher is better); NaN when not measurable */
  score: number;
  /** the same score per inner fold (for the one-standard-error rule) */
  perFold?: number[];
}

/**
 * 'one-se' (default): the smallest α whose pooled score is within one standard error (over the
 * inner folds) of the best — the one-standard-error rule of cross-validation (Breiman et al.
 * 1984; Hastie, Tibshirani & Friedman, ESL §7.10): among nested candidates, the simplest one
 * the inner folds cannot tell apart from the best. α = 0 (the observed features alone) is the
 * simplest, and an inner fold holds 6–9 cases, so score differences between α are mostly fold
 * noise; taking the plain maximum of three noisy estimates favours whichever got lucky.
 * 'best': the best pooled inner score (the rule of the third pass; docs/losses.md).
 */
export type AlphaRule = 'best' | 'one-se';

/** The α the rule picks (module comment); ties (and no finite score) go to the smallest α. */
export function pickAlpha(scores: readonly AlphaScore[], rule: AlphaRule = 'one-se'): number {
  const sorted = [...scores].sort((a, b) => a.alpha - b.alpha);
  return sorted.length === 0 ? 0 : sorted[pickByRule(sorted, rule)].alpha;
}

/** One line for the report's notes: the α chosen per outer fold, and how often α > 0 won. */
export function alphaNote(method: string, task: string, chosen: readonly { fold: number; alpha: number; scores: readonly AlphaScore[] }[]): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : 'n/a');
  const on = chosen.filter((c) => c.alpha > 0).length;
  return `${method} ${task}: learned-block weight α > 0 in ${on} of ${chosen.length} folds — ${chosen.map((c) => `fold ${c.fold}: α=${c.alpha} (inner ${c.scores.map((s) => `${s.alpha}: ${f(s.score)}`).join(', ')})`).join('; ')}`;
}
