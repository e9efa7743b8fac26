import { classSizes, cosineDistances, knnLooAccuracy, knnPurity, silhouette } from '../stats/index.js';

/**
 * Label-free quality measures of an embedding space, for probes: leave-one-out kNN accuracy,
 * kNN purity and the silhouette coefficient, all under cosine distance. Rows are compared
 * pairwise (O(n²·d)), which is fine for the few thousand windows a probe looks at.
 *
 * `knnLooAccuracy`, `knnPurity` and `silhouette` (src/stats/space.ts) are the bare statistics (NaN when undefined).
 * A report must not print them on a handful of samples: with two windows of one class every
 * score is 1.000 and equals chance. `measurability` is the one rule for when a figure may be
 * reported, and `embeddingMeasures` applies it (docs/probe.md, "Not measurable").
 */

/** Fewest samples (scored queries; rows for the silhouette) a reported figure may rest on. */
export const MIN_MEASURE_SAMPLES = 10;
/** Fewest classes (labels) among them that have at least `MIN_CLASS_MEMBERS` members each. */
export const MIN_MEASURE_CLASSES = 2;
/** A class counts towards `MIN_MEASURE_CLASSES` only with this many members. */
export const MIN_CLASS_MEMBERS = 2;

/** Why a figure is not reported: the sample count, the number of distinct classes and the rule broken. */
export interface NotMeasurable {
  n: number;
  classes: number;
  reason: string;
}

/**
 * Whether a figure over samples with these class sizes may be reported: undefined when it may,
 * else why not. `n` defaults to the sum of the class sizes (a class-restricted purity passes the
 * size of its own class).
 */
export function measurability(classSizes: Iterable<number>, n?: number): NotMeasurable | undefined {
  let total = 0;
  let classes = 0;
  let big = 0;
  for (const c of classSizes) {
    if (c <= 0) continue;
    total += c;
    classes++;
    if (c >= MIN_CLASS_MEMBERS) big++;
  }
  const count = n ?? total;
  if (count < MIN_MEASURE_SAMPLES) return { n: count, classes, reason: `fewer than ${MIN_MEASURE_SAMPLES} samples` };
  if (classes < MIN_MEASURE_CLASSES) return { n: count, classes, reason: classes === 1 ? 'a single class' : 'no class' };
  if (big < MIN_MEASURE_CLASSES) return { n: count, classes, reason: `fewer than ${MIN_MEASURE_CLASSES} classes with ≥ ${MIN_CLASS_MEMBERS} members` };
  return undefined;
}

/** `not measurable (n=2, classes=1: fewer than 10 samples)`, as text reports print it. */
export function formatNotMeasurable(m: NotMeasurable): string {
  return `not measurable (n=${m.n}, classes=${m.classes}: ${m.reason})`;
}

/** A reported figure: a number, or null with the reason. */
export type MeasureValue = { value: number; notMeasurable?: undefined } | { value: null; notMeasurable: NotMeasurable };

/**
 * kNN accuracy, kNN purity and silhouette of labelled rows, each null with `notMeasurable`
 * when the rows are too few or the classes too few or too small (`measurability`).
 */
export function embeddingMeasures(rows: readonly Float32Array[], labels: readonly string[], k = 5): { knnAccuracy: MeasureValue; knnPurity: MeasureValue; silhouette: MeasureValue } {
  if (rows.length !== labels.length) throw new RangeError(`embeddingMeasures: ${rows.length} rows but ${labels.length} labels`);
  const nm = measurability(classSizes(labels).values());
  if (nm) return { knnAccuracy: { value: null, notMeasurable: nm }, knnPurity: { value: null, notMeasurable: nm }, silhouette: { value: null, notMeasurable: nm } };
  const d = cosineDistances(rows);
  return {
    knnAccuracy: { value: knnLooAccuracy(rows, labels, k, d) },
    knnPurity: { value: knnPurity(rows, labels, k, d) },
    silhouette: { value: silhouette(rows, labels, d) },
  };
}
