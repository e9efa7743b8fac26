/**
 * The pre-training losses, exactly as written in docs/losses.md:
 *
 *   total = modal + λ_t·temporal + λ_a·anomaly
 *
 * - modal: symmetric InfoNCE between the modality embeddings of the same window, over the
 *   pairs (m,t), (m,l), (t,l), each on the rows where both sides are present;
 * - temporal: soft-target InfoNCE over the batch — each window's state should be closest to the
 *   windows it overlaps, in proportion to the overlap ρ (pairs with ρ ≤ δ are left out);
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
  /** δ, overlap ratio at or below which a pair is neither a temporal positive nor a negative. Default 0.1. */
  temporalSlack?: number;
  /** λ_a, weight of the anomaly term. Default 0.1. */
  anomalyWeight?: number;
  /** γ, the cosine cap between normal and abnormal states. Default 0.5. */
  anomalyCap?: number;
  /** λ_d, weight of the deviation term (deviation.ts; used by the trainer). Default 1. */
  deviationWeight?: number;
  /** λ_v, weight of the view term (augment.ts; used by the trainer). Default 0.5. */
  viewWeight?: number;
}

export const DEFAULT_LOSS_OPTIONS: Required<LossOptions> = {
  temperature: 0.1,
  temporalWeight: 0.5,
  temporalSlack: 0.1,
  anomalyWeight: 0.1,
  anomalyCap: 0.5,
  deviationWeight: 1,
  viewWeight: 0.5,
};

export function resolveLossOptions(options: LossOptions = {}): Required<LossOptions> {
  const r = { ...DEFAULT_LOSS_OPTIONS };
  for (const [k, v] of Object.entries(options) as Array<[keyof LossOptions, number | undefined]>) {
    if (v !== undefined) r[k] = v;
  }
  if (!(r.temperature > 0)) throw new RangeError(`loss: temperature must be > 0, got ${r.temperature}`);
  for (const k of ['temporalWeight', 'anomalyWeight', 'temporalSlack', 'deviationWeight', 'viewWeight'] as const) {
    if (!(r[k] >= 0)) throw new RangeError(`loss: ${k} must be ≥ 0, got ${r[k]}`);
  }
  if (!(r.temporalSlack < 1)) throw new RangeError(`loss: temporalSlack must be < 1 (an overlap ratio), got ${r.temporalSlack}`);
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
 * Who is whose temporal neighbour in a batch of `n` rows, as soft targets (docs/losses.md,
 * "Temporal consistency"). Row a is an anchor when it has at least one partner with ρ > δ
 * and at least two candidates. Its candidates are every other row except the ambiguous ones
 * (0 < ρ ≤ δ: they share a little time, so they are neither pulled nor pushed); its target
 * puts q_aj = ρ_aj / Σ_k ρ_ak on the partners with ρ > δ and 0 on every other candidate.
 */
export interface TemporalTargets {
  /** Anchor rows. */
  anchors: Int32Array;
  /** [anchors, n] row-major target distributions. */
  q: Float32Array;
  /** [anchors, n] additive logit mask: 0 for a candidate, TEMPORAL_MASKED for self and ambiguous rows. */
  mask: Float32Array;
  /** Σ_a Σ_j q_aj·log q_aj (the targets' negative entropy), so the loss is a KL divergence ≥ 0. */
  negEntropy: number;
}

/** Finite (not −∞) so that 0·(masked log-probability) stays 0 instead of NaN. */
export const TEMPORAL_MASKED = -1e4;

export function temporalTargets(n: number, pairs: OverlapPairs, slack: number): TemporalTargets | undefined {
  if (n < 2) return undefined;
  // ρ per ordered (a, j), both directions; a pair listed twice keeps its larger ρ.
  const rho = new Map<number, number>();
  for (let p = 0; p < pairs.rho.length; p++) {
    const i = pairs.i[p];
    const j = pairs.j[p];
    const r = pairs.rho[p];
    if (i === j || !(r > 0) || i < 0 || j < 0 || i >= n || j >= n) continue;
    for (const key of [i * n + j, j * n + i]) rho.set(key, Math.max(rho.get(key) ?? 0, r));
  }
  const byAnchor = new Map<number, Array<[number, number]>>();
  for (const [key, r] of rho) {
    const a = Math.floor(key / n);
    let l = byAnchor.get(a);
    if (!l) byAnchor.set(a, (l = []));
    l.push([key - a * n, r]);
  }
  const anchors: number[] = [];
  const rowsQ: Float32Array[] = [];
  const rowsM: Float32Array[] = [];
  let negEntropy = 0;
  for (const a of [...byAnchor.keys()].sort((x, y) => x - y)) {
    const partners = byAnchor.get(a)!;
    const q = new Float32Array(n);
    const mask = new Float32Array(n);
    mask[a] = TEMPORAL_MASKED;
    let total = 0;
    let ambiguous = 0;
    for (const [j, r] of partners) {
      if (r > slack) {
        q[j] = r;
        total += r;
      } else {
        mask[j] = TEMPORAL_MASKED;
        ambiguous++;
      }
    }
    if (total === 0 || n - 1 - ambiguous < 2) continue;
    for (let j = 0; j < n; j++) {
      if (q[j] > 0) {
        q[j] /= total;
        negEntropy += q[j] * Math.log(q[j]);
      }
    }
    anchors.push(a);
    rowsQ.push(q);
    rowsM.push(mask);
  }
  if (anchors.length === 0) return undefined;
  const q = new Float32Array(anchors.length * n);
  const mask = new Float32Array(anchors.length * n);
  rowsQ.forEach((r, k) => q.set(r, k * n));
  rowsM.forEach((r, k) => mask.set(r, k * n));
  return { anchors: Int32Array.from(anchors), q, mask, negEntropy };
}

/**
 * Soft-target InfoNCE over the batch (docs/losses.md): for each anchor a,
 *   p_aj = softmax_j( cos(s_a, s_j) / τ ) over its candidates,
 *   L_t = (1/|A|) Σ_a KL(q_a ‖ p_a) = (1/|A|) Σ_a Σ_j q_aj·(log q_aj − log p_aj),
 * q_aj ∝ ρ_aj on the partners with ρ > δ. Its minimum orders similarities like overlaps:
 * cos_aj − cos_ak = τ·ln(ρ_aj/ρ_ak) between partners, every non-overlapping row further away.
 * s has unit rows. Undefined when no row is an anchor (temporalTargets()).
 */
export function temporalConsistencyLoss(s: Tensor, pairs: OverlapPairs, slack: number, temperature = DEFAULT_LOSS_OPTIONS.temperature): Tensor | undefined {
  if (!(temperature > 0)) throw new RangeError(`temporal loss: temperature must be > 0, got ${temperature}`);
  const t = temporalTargets(s.rows, pairs, slack);
  if (!t) return undefined;
  const A = t.anchors.length;
  // One Gram matrix for all anchors: cheaper than gathering pairs when runs overlap densely.
  const logits = ops.add(ops.scale(ops.gatherRows(ops.matmul(s, s, false, true), t.anchors), 1 / temperature), new Tensor(t.mask, A, s.rows));
  const w = new Float32Array(t.q.length);
  for (let k = 0; k < w.length; k++) w[k] = -t.q[k] / A;
  return ops.addScalar(ops.weightedSum(ops.logSoftmaxRows(logits), w), t.negEntropy / A);
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

/** Which terms a batch can give a value to, from its composition alone (no forward pass). */
export interface TermApplicability {
  modal: boolean;
  temporal: boolean;
  anomaly: boolean;
}

/**
 * The same conditions the loss functions apply, read off the batch: modal needs ≥ 2 rows with
 * some pair of modalities; temporal needs an anchor (temporalTargets()); anomaly needs a
 * normal and an abnormal label. `present[m][i]` is 1 where row i has modality m.
 */
export function applicableTerms(
  n: number,
  present: Partial<Record<Modality, ArrayLike<number>>>,
  targets: LossTargets,
  options: Pick<LossOptions, 'temporalSlack'> = {},
): TermApplicability {
  let modal = false;
  for (const [a, b] of MODALITY_PAIRS) {
    const pa = present[a];
    const pb = present[b];
    if (!pa || !pb) continue;
    let both = 0;
    for (let i = 0; i < n && both < 2; i++) if (pa[i] && pb[i]) both++;
    if (both >= 2) {
      modal = true;
      break;
    }
  }
  const slack = options.temporalSlack ?? DEFAULT_LOSS_OPTIONS.temporalSlack;
  const temporal = !!targets.overlaps && temporalTargets(n, targets.overlaps, slack) !== undefined;
  let normal = false;
  let abnormal = false;
  const labels = targets.labels;
  if (labels) {
    for (let i = 0; i < labels.length; i++) {
      if (labels[i] === 0) normal = true;
      else if (labels[i] === 1) abnormal = true;
    }
  }
  return { modal, temporal, anomaly: normal && abnormal };
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
  const temporal = targets.overlaps && o.temporalWeight > 0 ? temporalConsistencyLoss(f.s, targets.overlaps, o.temporalSlack, o.temperature) : undefined;
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
