/**
 * Precision, recall and F1 of single-label predictions, per class and averaged:
 *
 *   per class c: P_c = TP_c / (TP_c + FP_c), R_c = TP_c / (TP_c + FN_c), F1_c = 2PR / (P + R)
 *   (0 where the denominator is 0)
 *   macro: the plain mean over the classes that occur in the truth
 *   weighted: the mean weighted by each class's support (its count in the truth)
 *
 * Predictions of a class absent from the truth still count as false positives of that class
 * but the class takes no part in the averages (scikit-learn's `labels=` of the true classes).
 */

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationScores {
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  perClass: Map<string, ClassScores>;
  accuracy: number;
  n: number;
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);

export function classificationScores(truth: readonly string[], predicted: readonly string[]): ClassificationScores {
  if (truth.length !== predicted.length) throw new RangeError(`classificationScores: ${truth.length} truths but ${predicted.length} predictions`);
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const support = new Map<string, number>();
  let hits = 0;
  truth.forEach((t, i) => {
    const p = predicted[i];
    support.set(t, (support.get(t) ?? 0) + 1);
    if (p === t) {
      tp.set(t, (tp.get(t) ?? 0) + 1);
      hits++;
    } else fp.set(p, (fp.get(p) ?? 0) + 1);
  });
  const perClass = new Map<string, ClassScores>();
  for (const c of [...support.keys()].sort()) {
    const s = support.get(c) as number;
    const t = tp.get(c) ?? 0;
    const precision = ratio(t, t + (fp.get(c) ?? 0));
    const recall = ratio(t, s);
    perClass.set(c, { precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: s });
  }
  const n = truth.length;
  const avg = (f: (x: ClassScores) => number, weighted: boolean) => {
    let s = 0;
    for (const x of perClass.values()) s += f(x) * (weighted ? x.support : 1);
    return ratio(s, weighted ? n : perClass.size);
  };
  const of = (w: boolean) => ({ precision: avg((x) => x.precision, w), recall: avg((x) => x.recall, w), f1: avg((x) => x.f1, w) });
  return { macro: of(false), weighted: of(true), perClass, accuracy: ratio(hits, n), n };
}
