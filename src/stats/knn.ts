/**
 * kNN over a precomputed distance matrix with a rule for which rows may serve as neighbours
 * (not the query itself, not a row that shares its time or its fault), and the chance level a
 * guess ignoring the distances reaches under the same rule. No I/O, no label policy: callers
 * say which rows are admissible.
 */
import { mean } from './robust.js';

/** Decides whether row j may serve as a neighbour of query row i. */
export type Admissible = (i: number, j: number) => boolean;

export interface KnnResult {
  /** queries that had at least one admissible neighbour */
  scored: number[];
  /** predicted label per scored query */
  predicted: string[];
  /** share of a scored query's neighbours that carry its label */
  purity: number[];
}

/**
 * kNN over a distance matrix: for each query, its k nearest admissible rows (ties: lower
 * index), the majority label among them (ties: the label of the nearest tied neighbour) and
 * the share carrying the query's own label. Selection keeps a k-long sorted list, O(n·k).
 */
export function knnWithExclusion(dist: Float64Array, n: number, labels: readonly string[], k: number, queries: readonly number[], admissible: Admissible): KnnResult {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const scored: number[] = [];
  const predicted: string[] = [];
  const purity: number[] = [];
  const nbIdx = new Int32Array(k);
  const nbDist = new Float64Array(k);
  for (const i of queries) {
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || !admissible(i, j)) continue;
      const d = dist[i * n + j];
      if (m === k && !(d < nbDist[k - 1])) continue;
      let p = m < k ? m++ : k - 1;
      while (p > 0 && nbDist[p - 1] > d) {
        nbDist[p] = nbDist[p - 1];
        nbIdx[p] = nbIdx[p - 1];
        p--;
      }
      nbDist[p] = d;
      nbIdx[p] = j;
    }
    if (m === 0) continue;
    const votes = new Map<string, number>();
    let own = 0;
    for (let t = 0; t < m; t++) {
      const l = labels[nbIdx[t]];
      votes.set(l, (votes.get(l) ?? 0) + 1);
      if (l === labels[i]) own++;
    }
    let top = 0;
    for (const v of votes.values()) if (v > top) top = v;
    let pred = '';
    for (let t = 0; t < m; t++) {
      if (votes.get(labels[nbIdx[t]]) === top) {
        pred = labels[nbIdx[t]];
        break;
      }
    }
    scored.push(i);
    predicted.push(pred);
    purity.push(own / m);
  }
  return { scored, predicted, purity };
}

/**
 * What a guess that ignores the embedding scores on each scored query, given the rows it may
 * use as neighbours: `hit` — predicting the majority label of those rows (ties split evenly) —
 * and `share` — the share of those rows carrying the query's label (random neighbours). With
 * nothing excluded these are the majority-class share and the random-neighbour purity; with
 * neighbours restricted (far in time, other failures, the train split) they are the honest
 * reference, since the restriction changes which labels are within reach.
 */
export function referenceChance(labels: readonly string[], scored: readonly number[], admissible: Admissible, n: number): { hit: number[]; share: number[] } {
  const hit: number[] = [];
  const share: number[] = [];
  for (const i of scored) {
    const c = new Map<string, number>();
    let total = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || !admissible(i, j)) continue;
      c.set(labels[j], (c.get(labels[j]) ?? 0) + 1);
      total++;
    }
    let top = 0;
    let tied = 0;
    for (const v of c.values()) {
      if (v > top) (top = v), (tied = 1);
      else if (v === top) tied++;
    }
    hit.push(c.get(labels[i]) === top ? 1 / tied : 0);
    share.push(total > 0 ? (c.get(labels[i]) ?? 0) / total : 0);
  }
  return { hit, share };
}

export function knnAccuracy(r: KnnResult, labels: readonly string[]): number {
  return mean(r.scored.map((i, t) => (r.predicted[t] === labels[i] ? 1 : 0)));
}

/** Mean per-class recall: 1/C for a guess that ignores the input. */
export function knnBalancedAccuracy(r: KnnResult, labels: readonly string[]): number {
  const hit = new Map<string, number>();
  const all = new Map<string, number>();
  r.scored.forEach((i, t) => {
    all.set(labels[i], (all.get(labels[i]) ?? 0) + 1);
    if (r.predicted[t] === labels[i]) hit.set(labels[i], (hit.get(labels[i]) ?? 0) + 1);
  });
  return mean([...all.keys()].map((c) => (hit.get(c) ?? 0) / (all.get(c) as number)));
}
