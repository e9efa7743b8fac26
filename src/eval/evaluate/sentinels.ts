/**
 * Leak sentinels: methods that look at nothing but the clock and the training labels. Under an
 * honest protocol they score at chance; when they do not, the folds leak (Nezha injects one
 * service's faults back to back, so copying the nearest fault scores AC@1 ≈ 0.5 under plain
 * stratified folds).
 *
 * - time-only: the k nearest training cases (windows) by time of day vote;
 * - nearest-fault: copy the nearest-in-time training case's (window's) label;
 * - prior: the training folds' label frequencies.
 * Ties and the tail of every ranking follow the prior, then the name.
 */

const DAY_MS = 86_400_000;
export const TIME_ONLY_K = 5;
export const TIME_ONLY_DETECTION_K = 15;

export interface Labelled {
  start: number;
  end: number;
  label: string;
}

function todDistance(a: number, b: number): number {
  const d = Math.abs((((a % DAY_MS) + DAY_MS) % DAY_MS) - (((b % DAY_MS) + DAY_MS) % DAY_MS));
  return Math.min(d, DAY_MS - d);
}

/** Labels by training frequency (desc), then name; then `candidates` not seen in training, by name. */
export function priorOrder(train: readonly string[], candidates: readonly string[]): string[] {
  const c = new Map<string, number>();
  for (const l of train) c.set(l, (c.get(l) ?? 0) + 1);
  const seen = [...c.keys()].sort((a, b) => (c.get(b) as number) - (c.get(a) as number) || (a < b ? -1 : 1));
  const rest = candidates.filter((x) => !c.has(x)).sort();
  return [...seen, ...rest];
}

/** `first` ranked by `score` (desc, stable), then everything else in `order`. */
function ranked(score: Map<string, number>, order: readonly string[]): string[] {
  const head = [...score.keys()].sort((a, b) => (score.get(b) as number) - (score.get(a) as number) || order.indexOf(a) - order.indexOf(b));
  return [...head, ...order.filter((x) => !score.has(x))];
}

export function timeOnlyRanking(t: number, train: readonly Labelled[], order: readonly string[], k = TIME_ONLY_K): string[] {
  const nb = [...train].sort((a, b) => todDistance(t, a.start) - todDistance(t, b.start) || a.start - b.start).slice(0, k);
  const votes = new Map<string, number>();
  for (const n of nb) votes.set(n.label, (votes.get(n.label) ?? 0) + 1);
  return ranked(votes, order);
}

export function nearestRanking(t: number, train: readonly Labelled[], order: readonly string[]): string[] {
  let best: Labelled | undefined;
  for (const c of train) if (!best || Math.abs(c.start - t) < Math.abs(best.start - t)) best = c;
  return best ? ranked(new Map([[best.label, 1]]), order) : [...order];
}

/** Detection: time-only votes among the k nearest training windows by time of day (not sharing time with the query). */
export function timeOnlyAlarm(q: { start: number; end: number }, train: readonly Labelled[], k = TIME_ONLY_DETECTION_K): boolean {
  const nb = train
    .filter((w) => !(w.start < q.end && q.start < w.end))
    .map((w) => ({ d: todDistance(q.start, w.start), w }))
    .sort((a, b) => a.d - b.d || a.w.start - b.w.start)
    .slice(0, k);
  const ab = nb.filter((n) => n.w.label === 'abnormal').length;
  return nb.length > 0 && ab / nb.length > 0.5;
}

/** Detection: the label of the nearest-in-time training window that does not share time with the query. */
export function nearestAlarm(q: { start: number; end: number }, train: readonly Labelled[]): boolean {
  let best: Labelled | undefined;
  let bd = Infinity;
  for (const w of train) {
    if (w.start < q.end && q.start < w.end) continue;
    const d = Math.abs(w.start - q.start);
    if (d < bd) {
      bd = d;
      best = w;
    }
  }
  return best?.label === 'abnormal';
}
