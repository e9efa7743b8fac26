/**
 * The pre-training losses, exactly as written in docs/losses.md:
 *
 *   total = modal + λ_t·temporal + λ_a·anomaly
 *
 * - modal: symmetric InfoNCE between the modality embeddings of the same window, over the
 *   pairs (m,t), (m,l), (t,l), each on the rows where both sides are present;
 * - temporal: overlapping windows' state embeddings kept at least as similar as their overlap
 *   allows, minus a slack δ;
 * - anomaly (optional, weak labels of training folds only): normal and abnormal states kept
 *   below a similarity cap γ.
 */
import type { TimeRange } from '../telemetry/index.js';
import { overlapRatio } from '../windows/index.js';
import { ops, Tensor } from './engine/index.js';
import { MODALITIES, type Modality, type StateForward } from './model.js';

export interface LossOptions {
  /** InfoNCE temperature τ. Default 0.1. */
  temperature?: number;
  /** λ_t, weight of the temporal term. Default 0.5. */
  temporalWeight?: number;
  /** δ, slack of the temporal hinge (in cosine units). Default 0.1. */
  temporalSlack?: number;
  /** λ_a, weight of the anomaly term. Default 0.1. */
  anomalyWeight?: number;
  /** γ, the cosine cap between normal and abnormal states. Default 0.5. */
  anomalyCap?: number;
}

export const DEFAULT_LOSS_OPTIONS: Required<LossOptions> = {
  temperature: 0.1,
  temporalWeight: 0.5,
  temporalSlack: 0.1,
  anomalyWeight: 0.1,
  anomalyCap: 0.5,
};

export function resolveLossOptions(options: LossOptions = {}): Required<LossOptions> {
  const r = { ...DEFAULT_LOSS_OPTIONS };
  for (const [k, v] of Object.entries(options) as Array<[keyof LossOptions, number | undefined]>) {
    if (v !== undefined) r[k] = v;
  }
  if (!(r.temperature > 0)) throw new RangeError(`loss: temperature must be > 0, got ${r.temperature}`);
  for (const k of ['temporalWeight', 'anomalyWeight', 'temporalSlack'] as const) {
    if (!(r[k] >= 0)) throw new RangeError(`loss: ${k} must be ≥ 0, got ${r[k]}`);
  }
  if (!(r.anomalyCap >= -1 && r.anomalyCap <= 1)) throw new RangeError(`loss: anomalyCap must be in [-1, 1], got ${r.anomalyCap}`);
  return r;
}

/** Unordered window pairs (i < j) with overlap ratio ρ > 0. */
export interface OverlapPairs {
  i: Int32Array;
  j: Int32Array;
  rho: Float32Array;
}

/** Every pair of `windows` (batch rows) that overlaps in time, with ρ = |A ∩ B| / length(A). */
export function overlapPairs(windows: readonly TimeRange[]): OverlapPairs {
  const order = windows.map((_, k) => k).sort((a, b) => windows[a].start - windows[b].start || a - b);
  const I: number[] = [];
  const J: number[] = [];
  const R: number[] = [];
  for (let x = 0; x < order.length; x++) {
    const a = windows[order[x]];
    for (let y = x + 1; y < order.length; y++) {
      const b = windows[order[y]];
      if (b.start >= a.end) break;
      const rho = overlapRatio(a, b);
      if (rho > 0) {
        I.push(Math.min(order[x], order[y]));
        J.push(Math.max(order[x], order[y]));
        R.push(rho);
      }
    }
  }
  return { i: Int32Array.from(I), j: Int32Array.from(J), rho: Float32Array.from(R) };
}

/**
 * Symmetric InfoNCE between row-aligned unit embeddings a, b ([n, d]): row i of a and row i of b
 * are the positive pair, every other row of the other side a negative.
 *   L = ½·(CE(a·bᵀ/τ, diag) + CE(b·aᵀ/τ, diag))
 */
export function infoNCE(a: Tensor, b: Tensor, temperature: number): Tensor {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new RangeError(`infoNCE: shapes differ [${a.rows}, ${a.cols}] vs [${b.rows}, ${b.cols}]`);
  const logits = ops.scale(ops.matmul(a, b, false, true), 1 / temperature);
  return ops.scale(ops.add(ops.crossEntropyDiag(logits), ops.crossEntropyDiag(ops.transpose(logits))), 0.5);
}

export const MODALITY_PAIRS: ReadonlyArray<readonly [Modality, Modality]> = [
  ['metrics', 'traces'],
  ['metrics', 'logs'],
  ['traces', 'logs'],
];

export interface PairTerm {
  pair: readonly [Modality, Modality];
  /** Rows with both modalities present. */
  rows: number;
  /** The pair's InfoNCE, or undefined when fewer than 2 rows have both (left out). */
  value?: number;
}

/** Rows where both modalities are present. */
function commonRows(f: StateForward, a: Modality, b: Modality): Int32Array {
  const out: number[] = [];
  const pa = f.present[a];
  const pb = f.present[b];
  for (let i = 0; i < f.size; i++) if (pa[i] && pb[i]) out.push(i);
  return Int32Array.from(out);
}

/**
 * Mean over the modality pairs that have ≥ 2 common rows of their symmetric InfoNCE. With
 * fewer than 2 rows a pair has no negatives and is left out; undefined when every pair is.
 */
export function modalConsistencyLoss(f: StateForward, temperature: number): { loss?: Tensor; terms: PairTerm[] } {
  const terms: PairTerm[] = [];
  const parts: Tensor[] = [];
  for (const pair of MODALITY_PAIRS) {
    const idx = commonRows(f, pair[0], pair[1]);
    if (idx.length < 2) {
      terms.push({ pair, rows: idx.length });
      continue;
    }
    const l = infoNCE(ops.gatherRows(f.z[pair[0]], idx), ops.gatherRows(f.z[pair[1]], idx), temperature);
    parts.push(l);
    terms.push({ pair, rows: idx.length, value: l.item() });
  }
  if (parts.length === 0) return { terms };
  let loss = parts[0];
  for (let k = 1; k < parts.length; k++) loss = ops.add(loss, parts[k]);
  return { loss: ops.scale(loss, 1 / parts.length), terms };
}

/**
 * L_t = Σ_{ρij>0} ρij · max(0, (1 − cos(s_i, s_j)) − (1 − ρij) − δ) / Σ ρij
 *     = Σ ρij · max(0, ρij − δ − cos(s_i, s_j)) / Σ ρij
 * s has unit rows (cos = dot). Undefined when no pair has ρ > 0.
 */
export function temporalConsistencyLoss(s: Tensor, pairs: OverlapPairs, slack: number): Tensor | undefined {
  const keep: number[] = [];
  for (let p = 0; p < pairs.rho.length; p++) {
    if (pairs.rho[p] > 0 && pairs.i[p] !== pairs.j[p]) keep.push(p);
  }
  if (keep.length === 0) return undefined;
  const I = Int32Array.from(keep, (p) => pairs.i[p]);
  const J = Int32Array.from(keep, (p) => pairs.j[p]);
  const margin = new Float32Array(keep.length);
  const w = new Float32Array(keep.length);
  let total = 0;
  for (let q = 0; q < keep.length; q++) total += pairs.rho[keep[q]];
  for (let q = 0; q < keep.length; q++) {
    const rho = pairs.rho[keep[q]];
    margin[q] = rho - slack;
    w[q] = rho / total;
  }
  // One Gram matrix instead of two row gathers: cheaper when windows overlap many neighbours.
  const cos = ops.gatherEntries(ops.matmul(s, s, false, true), I, J);
  const excess = ops.hinge(ops.sub(new Tensor(margin, keep.length, 1), cos));
  return ops.weightedSum(excess, w);
}

/**
 * L_a = mean over (normal i, abnormal j) of max(0, cos(s_i, s_j) − γ): pushes the two groups
 * apart only where they are more similar than γ, without pulling either group together.
 * labels[i] = 1 abnormal, 0 normal, anything else (−1, NaN) unknown and left out. Undefined
 * when either group is empty.
 */
export function anomalySeparationLoss(s: Tensor, labels: ArrayLike<number>, cap: number): Tensor | undefined {
  if (labels.length !== s.rows) throw new RangeError(`anomaly loss: ${labels.length} labels for ${s.rows} rows`);
  const normal: number[] = [];
  const abnormal: number[] = [];
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] === 0) normal.push(i);
    else if (labels[i] === 1) abnormal.push(i);
  }
  if (normal.length === 0 || abnormal.length === 0) return undefined;
  const cos = ops.matmul(ops.gatherRows(s, Int32Array.from(normal)), ops.gatherRows(s, Int32Array.from(abnormal)), false, true);
  return ops.mean(ops.hinge(cos, cap));
}

/** What the batch knows beyond its inputs. */
export interface LossTargets {
  /** Overlapping window pairs (overlapPairs()); no temporal term without. */
  overlaps?: OverlapPairs;
  /** Weak labels per row (1 abnormal, 0 normal, else unknown), training folds only; no anomaly term without. */
  labels?: ArrayLike<number>;
}

export interface LossParts {
  /** 0 when the term is left out (see `used`). */
  modal: number;
  temporal: number;
  anomaly: number;
  total: number;
  used: { modal: boolean; temporal: boolean; anomaly: boolean };
  pairs: PairTerm[];
}

export interface LossResult {
  /** [1, 1]; call total.backward() when `parts.total` has a gradient (some term used). */
  total: Tensor;
  parts: LossParts;
  /** False when no term applied (nothing to learn from this batch): skip the step. */
  hasGradient: boolean;
}

/** total = modal + λ_t·temporal + λ_a·anomaly, each term left out where it does not apply. */
export function totalLoss(f: StateForward, targets: LossTargets = {}, options: LossOptions = {}): LossResult {
  const o = resolveLossOptions(options);
  const modal = modalConsistencyLoss(f, o.temperature);
  const temporal = targets.overlaps && o.temporalWeight > 0 ? temporalConsistencyLoss(f.s, targets.overlaps, o.temporalSlack) : undefined;
  const anomaly = targets.labels && o.anomalyWeight > 0 ? anomalySeparationLoss(f.s, targets.labels, o.anomalyCap) : undefined;
  const terms: Tensor[] = [];
  if (modal.loss) terms.push(modal.loss);
  if (temporal) terms.push(ops.scale(temporal, o.temporalWeight));
  if (anomaly) terms.push(ops.scale(anomaly, o.anomalyWeight));
  let total = terms.length > 0 ? terms[0] : Tensor.scalar(0);
  for (let k = 1; k < terms.length; k++) total = ops.add(total, terms[k]);
  return {
    total,
    hasGradient: total.requiresGrad,
    parts: {
      modal: modal.loss?.item() ?? 0,
      temporal: temporal?.item() ?? 0,
      anomaly: anomaly?.item() ?? 0,
      total: total.item(),
      used: { modal: modal.loss !== undefined, temporal: temporal !== undefined, anomaly: anomaly !== undefined },
      pairs: modal.terms,
    },
  };
}

/** The modalities present in at least one row of a forward pass (for reporting). */
export function presentModalities(f: StateForward): Modality[] {
  return MODALITIES.filter((m) => f.rows[m].length > 0);
}
