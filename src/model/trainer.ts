/**
 * The pre-training loop of the StateModel: AdamW with linear warm-up then cosine decay, early
 * stopping on a validation split of whole time blocks, per-epoch metrics, and resume.
 *
 * Determinism: weights come from the model seed, epoch e's batches from (seed, e) alone
 * (sampler.ts), the learning rate from the step count. After each epoch the whole state —
 * weights, AdamW moments, step and epoch, best validation loss and weights, history — goes to
 * the resume file atomically, so a run interrupted at any point and resumed from its last
 * epoch ends with the same weights as one never interrupted (with dropout 0, the default:
 * the model's dropout generator has no saved state).
 */
import { existsSync } from 'node:fs';
import { UserError } from '../telemetry/index.js';
import { readContainer, writeContainer } from './checkpoint.js';
import { toStateBatch, type EncodedWindow } from './data.js';
import { perturbBatch, resolveAugment, type AugmentOptions } from './augment.js';
import { AdamW, ModelRng, noGrad, ops, type Tensor } from './engine/index.js';
import { fitReadout, readoutError } from './readout.js';
import { concatFloat32 } from './flat.js';
import { DeviationDecoder, deviationTargets, featureSlices, fitDeviationReference, fitEntityDeviationReference, hasDeviationTargets, sampleEntityRows, type DeviationReference } from './deviation.js';
import { anomalySeparationLoss, applicableTerms, infoNCE, modalConsistencyLoss, resolveLossOptions, temporalConsistencyLoss, type LossOptions } from './losses.js';
import { MODALITIES, StateModel, type InputDim, type Modality, type StateForward, type StateModelConfig } from './model.js';
import { FeatureNormalizer, type FeatureNormalizerJSON } from './normalizer.js';
import { BatchSampler, type SampledBatch } from './sampler.js';
import { validationSplit } from '../windows/index.js';

export interface LossTerms {
  modal: boolean;
  temporal: boolean;
  anomaly: boolean;
  /** Reconstructing the robust feature deviations from s (deviation.ts); only with inputs declared as { backbone, features }. */
  deviation: boolean;
  /** InfoNCE between each window and its perturbed copy (augment.ts). Default off. */
  view: boolean;
}

export interface TrainerOptions {
  /** Model input widths per modality (backbone ⊕ features); a modality left out gets no head. */
  inputDims: Partial<Record<Modality, InputDim>>;
  /** Model shape besides the inputs (hidden, modalityDim, stateDim, gate, activation, dropout). */
  model?: Omit<StateModelConfig, 'inputDims' | 'seed'>;
  /** Default 20. */
  epochs?: number;
  /** Default 256. */
  batchSize?: number;
  /** Peak learning rate. Default 1e-3. */
  lr?: number;
  /** Default 0.01. */
  weightDecay?: number;
  /** Default 1. */
  maxGradNorm?: number;
  /** Share of all steps spent warming up linearly from 0. Default 0.05. */
  warmupShare?: number;
  /** The cosine decays to lr × this. Default 0.01. */
  minLrRatio?: number;
  /** Seeds the weights, the validation split and every epoch's batches. Default 0. */
  seed?: number;
  /** Share of windows held out (whole blocks) for validation and early stopping. Default 0.1; 0 = none. */
  valShare?: number;
  /** Time block of the validation split, ms. Default 30 min. */
  valBlockMs?: number;
  /** Epochs without a validation improvement before stopping; 0 = never stop early. Default 5. */
  patience?: number;
  /** Improvement smaller than this does not count. Default 1e-4. */
  minDelta?: number;
  /**
   * What early stopping (and the kept epoch) is decided on. 'loss': the validation loss (the
   * training terms on validation batches). 'reconstruction': task-free and read-side — the
   * held-out error of the deviation readout fitted on the training part after each epoch
   * (readoutError: how well the state carries the deviations the tasks read, on windows it
   * never saw). Needs numeric features; otherwise 'loss' with a warning. Default 'loss'.
   */
  earlyStop?: EarlyStopCriterion;
  loss?: LossOptions;
  /**
   * Deviation term on per-service rows too (windows encoded with entities): each batch adds up
   * to batchSize/2 sampled (window, service) rows, their deviations against that service's own
   * reference. Default false.
   */
  entityDeviation?: boolean;
  /** Perturbations of the view term (feature noise σ, modality dropout p). */
  augment?: AugmentOptions;
  /** Which loss terms to use (ablations). Default all; anomaly needs weakLabels, deviation inputs with numeric features. */
  terms?: Partial<LossTerms>;
  /**
   * Use the training windows' anomaly labels for the weak separation term: true for every
   * training window, a predicate for some (e.g. one source's); others count as unknown.
   * Default false.
   */
  weakLabels?: boolean | ((w: EncodedWindow) => boolean);
  /** Sampler: windows per temporal run (default 6) and share of runs per batch (default 0.5). */
  runLength?: number;
  temporalShare?: number;
  /** Where the state goes after each epoch. */
  resumeFile?: string;
  /** Continue from `resumeFile` when it exists. */
  resume?: boolean;
  /** Anything else that must match for a resume to be valid (e.g. the data sources). */
  fingerprint?: Record<string, unknown>;
  /** Stops after the current epoch (its state saved) when aborted. */
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Called once, before the first epoch, with what the validation split could not honour. */
  onSplitWarnings?: (warnings: readonly string[]) => void;
  /** Called once, before the first epoch, with the active loss terms that cannot be computed on training or validation batches. */
  onTermWarnings?: (warnings: readonly string[]) => void;
  /** Sees the windows of every batch, training and validation (for audits and tests). */
  onBatch?: (windows: readonly EncodedWindow[], phase: 'train' | 'val' | 'normalizer') => void;
}

export type EarlyStopCriterion = 'loss' | 'reconstruction';

export interface LossMeans {
  /** Mean over the batches where the term applied; undefined when it never did. */
  modal?: number;
  temporal?: number;
  anomaly?: number;
  deviation?: number;
  view?: number;
  total?: number;
  /** Validation only, with earlyStop 'reconstruction': the readout's held-out error (readoutError). */
  reconstruction?: number;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  step: number;
  totalSteps: number;
  lr: number;
  /** Running means over this epoch's batches so far. */
  loss: LossMeans;
}

export interface EpochMetrics {
  epoch: number;
  lr: number;
  steps: number;
  /** Batches that had no applicable loss term (no update). */
  skipped: number;
  train: LossMeans;
  val?: LossMeans;
  improved: boolean;
  ms: number;
}

export interface TrainResult {
  /** The model with the best validation weights (the last epoch's without validation). */
  model: StateModel;
  history: EpochMetrics[];
  bestEpoch: number;
  /** The kept epoch's value of the early-stopping criterion (validation loss, or the held-out reconstruction error with earlyStop 'reconstruction'). */
  bestValLoss?: number;
  stopReason: 'epochs' | 'early-stop' | 'interrupted';
  epochs: number;
  steps: number;
  trainWindows: number;
  valWindows: number;
  purged: number;
  /** Why the validation split differs from --val-share, if it does (`ValidationSplit.warnings`). */
  valWarnings: string[];
  /** Active terms that stay 0 in training, or that validation cannot measure (`onTermWarnings`). */
  termWarnings: string[];
  /** The terms the validation loss (and early stopping) is made of; empty when it measures none. */
  valTerms: Array<keyof LossTerms>;
  /** What early stopping was decided on (after any fallback). */
  earlyStop: EarlyStopCriterion;
  terms: LossTerms;
  /** The epoch the run resumed at (0 when it started fresh). */
  resumedAt: number;
  timings: { trainMs: number; valMs: number; totalMs: number };
}

interface Resolved {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  maxGradNorm: number;
  warmupShare: number;
  minLrRatio: number;
  seed: number;
  valShare: number;
  valBlockMs: number;
  patience: number;
  minDelta: number;
  runLength: number;
  temporalShare: number;
  weakLabels: boolean | ((w: EncodedWindow) => boolean);
  earlyStop: EarlyStopCriterion;
}

function resolve(o: TrainerOptions): Resolved {
  const r: Resolved = {
    epochs: o.epochs ?? 20,
    batchSize: o.batchSize ?? 256,
    lr: o.lr ?? 1e-3,
    weightDecay: o.weightDecay ?? 0.01,
    maxGradNorm: o.maxGradNorm ?? 1,
    warmupShare: o.warmupShare ?? 0.05,
    minLrRatio: o.minLrRatio ?? 0.01,
    seed: o.seed ?? 0,
    valShare: o.valShare ?? 0.1,
    valBlockMs: o.valBlockMs ?? 30 * 60_000,
    patience: o.patience ?? 5,
    minDelta: o.minDelta ?? 1e-4,
    runLength: o.runLength ?? 6,
    temporalShare: o.temporalShare ?? 0.5,
    weakLabels: o.weakLabels ?? false,
    earlyStop: o.earlyStop ?? 'loss',
  };
  if (r.earlyStop !== 'loss' && r.earlyStop !== 'reconstruction') throw new UserError(`early stopping must be "loss" or "reconstruction", got ${String(r.earlyStop)}`);
  if (!(Number.isInteger(r.epochs) && r.epochs >= 1)) throw new UserError(`epochs must be a positive integer, got ${r.epochs}`);
  if (!(r.lr > 0 && Number.isFinite(r.lr))) throw new UserError(`learning rate must be a positive number, got ${r.lr}`);
  if (!(r.warmupShare >= 0 && r.warmupShare < 1)) throw new UserError(`warm-up share must be in [0, 1), got ${r.warmupShare}`);
  if (!(r.minLrRatio >= 0 && r.minLrRatio <= 1)) throw new UserError(`minimum lr ratio must be in [0, 1], got ${r.minLrRatio}`);
  if (!(Number.isInteger(r.patience) && r.patience >= 0)) throw new UserError(`patience must be a non-negative integer, got ${r.patience}`);
  return r;
}

/** lr at `step` (0-based) of `total`: linear warm-up over `warmup` steps, then cosine to lr·minRatio. */
export function learningRate(step: number, total: number, peak: number, warmupShare: number, minRatio: number): number {
  const warmup = warmupShare > 0 ? Math.max(1, Math.round(warmupShare * total)) : 0;
  if (step < warmup) return (peak * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const t = Math.min(1, (step - warmup) / span);
  const min = peak * minRatio;
  return min + (peak - min) * 0.5 * (1 + Math.cos(Math.PI * t));
}

interface BatchLoss {
  total?: Tensor;
  modal?: number;
  temporal?: number;
  anomaly?: number;
  deviation?: number;
  view?: number;
}

/** The deviation term's decoder and this batch's targets (deviation.ts). */
export interface DeviationBatch {
  decoder: DeviationDecoder;
  reference: DeviationReference;
  windows: readonly EncodedWindow[];
  /** Modalities absent for the model in this batch. */
  masked?: readonly Modality[];
  /** Per-service rows of the batch, their states and reference (entityDeviation). */
  entities?: { rows: readonly EncodedWindow[]; s: Tensor; reference: DeviationReference };
}

/** total = modal + λ_t·temporal + λ_a·anomaly + λ_d·deviation over the enabled terms that apply to this batch (docs/losses.md). */
export function batchLoss(f: StateForward, b: Pick<SampledBatch, 'overlaps' | 'labels'>, terms: LossTerms, loss: Required<LossOptions>, dev?: DeviationBatch, sView?: Tensor): BatchLoss {
  const out: BatchLoss = {};
  const parts: Tensor[] = [];
  if (terms.modal) {
    const m = modalConsistencyLoss(f, loss.temperature);
    if (m.loss) {
      parts.push(m.loss);
      out.modal = m.loss.item();
    }
  }
  if (terms.temporal && loss.temporalWeight > 0) {
    const t = temporalConsistencyLoss(f.s, b.overlaps, loss.temporalSlack, loss.temperature);
    if (t) {
      parts.push(ops.scale(t, loss.temporalWeight));
      out.temporal = t.item();
    }
  }
  if (terms.anomaly && b.labels && loss.anomalyWeight > 0) {
    const a = anomalySeparationLoss(f.s, b.labels, loss.anomalyCap);
    if (a) {
      parts.push(ops.scale(a, loss.anomalyWeight));
      out.anomaly = a.item();
    }
  }
  if (terms.deviation && dev && loss.deviationWeight > 0) {
    let d = dev.decoder.loss(f.s, deviationTargets(dev.windows, dev.reference, dev.masked));
    const e = dev.entities && dev.entities.rows.length > 0 ? dev.decoder.loss(dev.entities.s, deviationTargets(dev.entities.rows, dev.entities.reference, dev.masked)) : undefined;
    // system and service rows count alike: the mean of the two errors
    if (d && e) d = ops.scale(ops.add(d, e), 0.5);
    else d ??= e;
    if (d) {
      parts.push(ops.scale(d, loss.deviationWeight));
      out.deviation = d.item();
    }
  }
  if (terms.view && sView && loss.viewWeight > 0 && f.size >= 2) {
    const v = infoNCE(f.s, sView, loss.temperature);
    parts.push(ops.scale(v, loss.viewWeight));
    out.view = v.item();
  }
  if (parts.length > 0) {
    let total = parts[0];
    for (let k = 1; k < parts.length; k++) total = ops.add(total, parts[k]);
    out.total = total;
  }
  return out;
}

class MeanAcc {
  private sum = { modal: 0, temporal: 0, anomaly: 0, deviation: 0, view: 0, total: 0 };
  private n = { modal: 0, temporal: 0, anomaly: 0, deviation: 0, view: 0, total: 0 };
  add(l: BatchLoss, weight = 1): void {
    for (const k of ['modal', 'temporal', 'anomaly', 'deviation', 'view'] as const) {
      const v = l[k];
      if (v !== undefined) {
        this.sum[k] += v * weight;
        this.n[k] += weight;
      }
    }
    if (l.total) {
      this.sum.total += l.total.item() * weight;
      this.n.total += weight;
    }
  }
  means(): LossMeans {
    const out: LossMeans = {};
    for (const k of ['modal', 'temporal', 'anomaly', 'deviation', 'view', 'total'] as const) if (this.n[k] > 0) out[k] = this.sum[k] / this.n[k];
    return out;
  }
}

interface ResumeState {
  epoch: number;
  step: number;
  adamStep: number;
  best: number | null;
  bestEpoch: number;
  bad: number;
  history: EpochMetrics[];
  normalizers: Partial<Record<Modality, FeatureNormalizerJSON>>;
  fingerprint: Record<string, unknown>;
  stopped?: string;
}

function split(flat: Float32Array, sizes: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  let o = 0;
  for (const s of sizes) {
    out.push(flat.slice(o, o + s));
    o += s;
  }
  return out;
}

function diffKeys(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

const TERM_NAMES: ReadonlyArray<keyof LossTerms> = ['modal', 'temporal', 'anomaly', 'deviation', 'view'];

/** Per term, in how many of `batches` (rows into `pool`) it can take a value. */
function termCoverage(batches: readonly SampledBatch[], pool: readonly EncodedWindow[], modalities: readonly Modality[], loss: Required<LossOptions>, reference?: DeviationReference): Record<keyof LossTerms, number> {
  const count = { modal: 0, temporal: 0, anomaly: 0, deviation: 0, view: 0 };
  for (const b of batches) {
    const present: Partial<Record<Modality, Uint8Array>> = {};
    for (const m of modalities) present[m] = Uint8Array.from(b.rows, (i) => (pool[i].inputs[m] !== undefined ? 1 : 0));
    const a = applicableTerms(b.rows.length, present, b, loss);
    for (const k of ['modal', 'temporal', 'anomaly'] as const) if (a[k]) count[k]++;
    if (b.rows.length >= 2) count.view++;
    if (reference && hasDeviationTargets(deviationTargets(b.rows.map((i) => pool[i]), reference))) count.deviation++;
  }
  return count;
}

/** Why `term` cannot take a value on any batch drawn from `pool` (for warnings and errors). */
function whyNoTerm(term: keyof LossTerms, pool: readonly EncodedWindow[], modalities: readonly Modality[], loss: Required<LossOptions>, labelled: boolean): string {
  if (term === 'modal') {
    const multi = pool.filter((w) => modalities.filter((m) => w.inputs[m] !== undefined).length >= 2).length;
    return multi === 0
      ? `modal: no window has two modalities (${[...new Set(pool.flatMap((w) => modalities.filter((m) => w.inputs[m] !== undefined)))].join('/') || 'none'} only), so there is no cross-modal pair`
      : `modal: only ${multi} window(s) have two modalities and no batch holds two of them with the same pair`;
  }
  if (term === 'view') return 'view: no batch holds two windows';
  if (term === 'deviation') return 'deviation: no window has a finite numeric feature measured against its source\'s reference';
  if (term === 'temporal') return `temporal: no batch holds two windows of one timeline overlapping by more than δ = ${loss.temporalSlack} (stride ≥ window length, or one window per timeline?)`;
  return labelled ? 'anomaly: no batch holds both a normal and an abnormal weakly labelled window' : 'anomaly: no weak labels';
}

function weightOf(term: keyof LossTerms, loss: Required<LossOptions>): number {
  return term === 'modal' ? 1 : term === 'temporal' ? loss.temporalWeight : term === 'deviation' ? loss.deviationWeight : term === 'view' ? loss.viewWeight : loss.anomalyWeight;
}

/**
 * Trains a StateModel on `windows` (the training windows: exclusions already applied). A share
 * of them, in whole time blocks, is held out for validation (see sampler.ts).
 */
export async function trainStateModel(windows: readonly EncodedWindow[], options: TrainerOptions): Promise<TrainResult> {
  const t0 = performance.now();
  const o = resolve(options);
  const loss = resolveLossOptions(options.loss);
  const inputDims: Partial<Record<Modality, InputDim>> = {};
  for (const m of MODALITIES) {
    const d = options.inputDims[m];
    if (d !== undefined && windows.some((w) => w.inputs[m] !== undefined)) inputDims[m] = d;
  }
  const slices = featureSlices(inputDims);
  const terms: LossTerms = {
    modal: options.terms?.modal ?? true,
    temporal: options.terms?.temporal ?? true,
    anomaly: (options.terms?.anomaly ?? true) && !!o.weakLabels,
    // Only where the inputs say which part is numeric features (not a bare width).
    deviation: (options.terms?.deviation ?? true) && Object.keys(slices).length > 0,
    view: options.terms?.view ?? false,
  };
  const augment = resolveAugment(options.augment);
  if (!terms.modal && !terms.temporal && !terms.anomaly && !terms.deviation && !terms.view) throw new UserError('every loss term is switched off: nothing to train (drop one of --no-modal / --no-temporal / --no-deviation, or add --weak-labels)');
  if (Object.keys(inputDims).length === 0) throw new UserError('no training window has any modality: nothing to train on');
  const vs = validationSplit(windows, { share: o.valShare, seed: o.seed, blockMs: o.valBlockMs });
  if (vs.warnings.length) options.onSplitWarnings?.(vs.warnings);
  if (vs.train.length < 2) throw new UserError(`${vs.train.length} training window(s) after the validation split: need at least 2 (more data, or a smaller --val-share)`);
  const model = new StateModel({ ...options.model, inputDims, seed: o.seed });
  const widths: Partial<Record<Modality, number>> = {};
  for (const m of MODALITIES) if (inputDims[m] !== undefined) widths[m] = model.inputWidth(m);
  const mask = MODALITIES.filter((m) => widths[m] === undefined);
  const batchOf = (ws: readonly EncodedWindow[], phase: 'train' | 'val' | 'normalizer') => {
    options.onBatch?.(ws, phase);
    return toStateBatch(ws, { widths, mask });
  };
  // Normalisers from the training part only (not validation, not excluded windows).
  model.fitNormalizers(batchOf(vs.train, 'normalizer'));
  // The deviation term's reference (per source, training part only) and its training-only decoder.
  const reference = terms.deviation ? fitDeviationReference(vs.train, slices) : undefined;
  const decoder = terms.deviation ? new DeviationDecoder(model.config.stateDim, slices, o.seed) : undefined;
  const entityReference = decoder && options.entityDeviation && vs.train.some((w) => w.entities && w.entities.size > 0) ? fitEntityDeviationReference(vs.train, slices) : undefined;
  const devOf = (ws: readonly EncodedWindow[], rng: ModelRng, training: boolean): DeviationBatch | undefined => {
    if (!decoder || !reference) return undefined;
    const out: DeviationBatch = { decoder, reference, windows: ws, masked: mask };
    if (entityReference) {
      const rows = sampleEntityRows(ws, rng, Math.max(2, Math.floor(o.batchSize / 2)));
      if (rows.length > 0) out.entities = { rows, reference: entityReference, s: model.forward(toStateBatch(rows, { widths, mask }), { training }).s };
    }
    return out;
  };
  const trainParams = [...model.parameters(), ...(decoder?.params() ?? [])];
  const opt = new AdamW(trainParams, { lr: o.lr, weightDecay: o.weightDecay, maxGradNorm: o.maxGradNorm });
  const sampler = new BatchSampler(vs.train, { batchSize: o.batchSize, seed: o.seed, runLength: o.runLength, temporalShare: o.temporalShare, weakLabels: terms.anomaly && o.weakLabels });
  // One fixed set of validation batches, so epochs are compared on the same pairs and negatives.
  const valSampler = new BatchSampler(vs.val, { batchSize: o.batchSize, seed: o.seed + 1, runLength: o.runLength, temporalShare: o.temporalShare, weakLabels: terms.anomaly && o.weakLabels });
  const valBatches = vs.val.length >= 2 ? valSampler.epoch(0) : [];
  // Which terms can do anything, decided before training from the batches' composition: a run
  // whose every active term is 0 would write a model that learned nothing.
  const modalities = MODALITIES.filter((m) => widths[m] !== undefined);
  const active = TERM_NAMES.filter((k) => terms[k] && weightOf(k, loss) > 0);
  const trainCover = termCoverage(sampler.epoch(0), vs.train, modalities, loss, reference);
  const trainable = active.filter((k) => trainCover[k] > 0);
  const termWarnings: string[] = [];
  const labelled = terms.anomaly && !!o.weakLabels;
  if (trainable.length === 0) {
    const why = active.map((k) => whyNoTerm(k, vs.train, modalities, loss, labelled));
    throw new UserError(`nothing to train: every active loss term would be 0 (active: ${active.join(', ') || 'none, every weight is 0'}${why.length ? `; ${why.join('; ')}` : ''})`);
  }
  for (const k of active) if (!trainable.includes(k)) termWarnings.push(`training: the ${k} term stays 0 (${whyNoTerm(k, vs.train, modalities, loss, labelled).replace(/^\w+: /, '')}); training uses ${trainable.join(' + ')}`);
  // Validation measures the same terms as training, each where it can: early stopping on those.
  let valTerms: Array<keyof LossTerms> = [];
  if (valBatches.length > 0) {
    const valCover = termCoverage(valBatches, vs.val, modalities, loss, reference);
    valTerms = trainable.filter((k) => valCover[k] > 0);
    const missing = trainable.filter((k) => valCover[k] === 0);
    if (valTerms.length === 0) termWarnings.push(`validation: no training term can be measured on the ${vs.val.length} validation windows (${missing.map((k) => whyNoTerm(k, vs.val, modalities, loss, labelled)).join('; ')}): early stopping is off and the last epoch is kept`);
    else for (const k of missing) termWarnings.push(`validation: the ${k} term cannot be measured on the validation windows (${whyNoTerm(k, vs.val, modalities, loss, labelled).replace(/^\w+: /, '')}); early stopping uses ${valTerms.join(' + ')}`);
  }
  // The read-side criterion needs features to reconstruct and validation windows to hold out.
  let earlyStop = o.earlyStop;
  const readoutReference = earlyStop === 'reconstruction' && vs.val.length > 0 && Object.keys(slices).length > 0 ? (reference ?? fitDeviationReference(vs.train, slices)) : undefined;
  if (earlyStop === 'reconstruction' && !readoutReference) {
    termWarnings.push(`early stopping: the reconstruction criterion needs numeric features and validation windows (${vs.val.length} validation windows); using the validation loss`);
    earlyStop = 'loss';
  }
  if (termWarnings.length) options.onTermWarnings?.(termWarnings);
  const perEpoch = sampler.batchesPerEpoch;
  const totalSteps = o.epochs * perEpoch;
  const fingerprint: Record<string, unknown> = {
    ...(options.fingerprint ?? {}),
    trainer: o,
    loss,
    // The temporal term changed from a hinge to a soft-target KL: older resume files do not match.
    temporalLoss: 'soft-target-kl',
    entityDeviation: !!entityReference,
    augment: terms.view ? augment : null,
    terms,
    model: model.config,
    trainWindows: vs.train.length,
    valWindows: vs.val.length,
    firstWindow: vs.train[0] ? [vs.train[0].source, vs.train[0].window.start] : null,
  };

  let epoch0 = 0;
  let step = 0;
  let best = Infinity;
  let bestEpoch = -1;
  let bestFlat: Float32Array | undefined;
  let bad = 0;
  let history: EpochMetrics[] = [];
  let stopped: TrainResult['stopReason'] | undefined;
  if (options.resume && options.resumeFile && existsSync(options.resumeFile)) {
    const { header, arrays } = await readContainer(options.resumeFile, 'resume');
    const st = header.state as ResumeState | undefined;
    if (!st || typeof st.epoch !== 'number') throw new UserError(`${options.resumeFile}: corrupt resume file (no trainer state)`);
    const differs = diffKeys(st.fingerprint ?? {}, JSON.parse(JSON.stringify(fingerprint)) as Record<string, unknown>);
    if (differs.length > 0) throw new UserError(`${options.resumeFile}: written for a different run (differs in ${differs.join(', ')}); delete it or drop --resume`);
    const weights = arrays.get('weights');
    const m = arrays.get('adam.m');
    const v = arrays.get('adam.v');
    if (!weights || !m || !v || weights.length !== model.parameterCount()) throw new UserError(`${options.resumeFile}: corrupt resume file (weights or optimiser state missing)`);
    model.setFlat(weights);
    for (const k of MODALITIES) {
      const n = st.normalizers[k];
      if (n) model.normalizers[k] = FeatureNormalizer.fromJSON(n);
    }
    const dw = arrays.get('deviation');
    if (decoder) {
      if (!dw || dw.length !== decoder.getFlat().length) throw new UserError(`${options.resumeFile}: corrupt resume file (deviation decoder missing)`);
      decoder.setFlat(dw);
    }
    const sizes = trainParams.map((p) => p.tensor.size);
    opt.loadState({ step: st.adamStep, m: split(m, sizes), v: split(v, sizes) });
    bestFlat = arrays.get('best')?.slice();
    epoch0 = st.epoch;
    step = st.step;
    best = st.best ?? Infinity;
    bestEpoch = st.bestEpoch;
    bad = st.bad;
    history = st.history;
    if (st.stopped === 'early-stop') stopped = 'early-stop';
  }
  const resumedAt = epoch0;

  const saveResume = async (nextEpoch: number, stop?: string) => {
    if (!options.resumeFile) return;
    const s = opt.state();
    const state: ResumeState = {
      epoch: nextEpoch,
      step,
      adamStep: s.step,
      best: Number.isFinite(best) ? best : null,
      bestEpoch,
      bad,
      history,
      normalizers: model.toJSON().normalizers,
      fingerprint,
      stopped: stop,
    };
    const arrays: [string, Float32Array][] = [
      ['weights', model.getFlat()],
      ['adam.m', concatFloat32(s.m)],
      ['adam.v', concatFloat32(s.v)],
    ];
    if (bestFlat) arrays.push(['best', bestFlat]);
    if (decoder) arrays.push(['deviation', decoder.getFlat()]);
    await writeContainer(options.resumeFile, 'resume', { format: 'runtimeslicer-trainer-state', state }, arrays);
  };

  let trainMs = 0;
  let valMs = 0;
  for (let e = epoch0; e < o.epochs && !stopped; e++) {
    const te = performance.now();
    const batches = sampler.epoch(e);
    // Per epoch, like the batches: a resumed run perturbs exactly as an uninterrupted one.
    const augRng = new ModelRng(o.seed, `augment/${e}`);
    const entRng = new ModelRng(o.seed, `entities/${e}`);
    const acc = new MeanAcc();
    let skipped = 0;
    let lr = o.lr;
    for (let k = 0; k < batches.length; k++) {
      const b = batches[k];
      lr = learningRate(step, totalSteps, o.lr, o.warmupShare, o.minLrRatio);
      opt.lr = lr;
      const ws = b.rows.map((i) => vs.train[i]);
      const input = batchOf(ws, 'train');
      const f = model.forward(input, { training: true });
      const sView = terms.view ? model.forward(perturbBatch(input, model, augRng, augment), { training: true }).s : undefined;
      const l = batchLoss(f, b, terms, loss, devOf(ws, entRng, true), sView);
      if (l.total && l.total.requiresGrad) {
        opt.zeroGrad();
        l.total.backward();
        opt.step();
      } else skipped++;
      step++;
      acc.add(l);
      options.onProgress?.({ epoch: e, epochs: o.epochs, batch: k + 1, batches: batches.length, step, totalSteps, lr, loss: acc.means() });
    }
    const tv = performance.now();
    trainMs += tv - te;
    let val: LossMeans | undefined;
    if (valBatches.length > 0) {
      const vacc = new MeanAcc();
      // The same perturbations every epoch, like the fixed validation batches.
      const valRng = new ModelRng(o.seed + 1, 'augment/val');
      const valEntRng = new ModelRng(o.seed + 1, 'entities/val');
      noGrad(() => {
        for (const b of valBatches) {
          const ws = b.rows.map((i) => vs.val[i]);
          const input = batchOf(ws, 'val');
          const sView = terms.view ? model.forward(perturbBatch(input, model, valRng, augment)).s : undefined;
          vacc.add(batchLoss(model.forward(input), b, terms, loss, devOf(ws, valEntRng, false), sView), b.rows.length);
        }
      });
      val = vacc.means();
      // The validation loss is the weighted sum of the per-term means over the terms it can
      // measure (the same every epoch: fixed batches), not a mean of batch totals whose mix of
      // terms varies from batch to batch.
      if (valTerms.length > 0) {
        let total = 0;
        for (const k of valTerms) total += weightOf(k, loss) * (val[k] ?? 0);
        val.total = total;
      } else delete val.total;
      if (readoutReference) {
        const r = fitReadout(model, vs.train, readoutReference);
        const err = r ? readoutError(model, r, vs.val, readoutReference) : undefined;
        if (err !== undefined) val.reconstruction = err;
      }
    }
    valMs += performance.now() - tv;
    let improved: boolean;
    const criterion = earlyStop === 'reconstruction' ? val?.reconstruction : val?.total;
    if (criterion !== undefined) {
      improved = criterion < best - o.minDelta;
      if (improved) {
        best = criterion;
        bestEpoch = e;
        bestFlat = model.getFlat();
        bad = 0;
      } else bad++;
    } else {
      // Without a validation loss the last epoch is the one kept.
      improved = true;
      bestEpoch = e;
      bestFlat = undefined;
    }
    const metrics: EpochMetrics = { epoch: e, lr, steps: batches.length, skipped, train: acc.means(), val, improved, ms: performance.now() - te };
    // Belt and braces after the composition check above: an epoch with no update, or a loss of
    // exactly 0, means the model learns nothing.
    if (skipped === batches.length || !((metrics.train.total ?? 0) > 0)) {
      throw new UserError(`nothing to train: epoch ${e + 1} had loss ${metrics.train.total ?? 'none'} on ${batches.length} batch(es), ${skipped} without any term (active: ${active.join(', ')})`);
    }
    history.push(metrics);
    options.onEpoch?.(metrics);
    if (o.patience > 0 && bad >= o.patience) stopped = 'early-stop';
    await saveResume(e + 1, stopped);
    if (!stopped && options.signal?.aborted && e + 1 < o.epochs) stopped = 'interrupted';
  }
  if (bestFlat && stopped !== 'interrupted') model.setFlat(bestFlat);
  // The kept weights' linear read of the deviations, on the training part only (readout.ts).
  const tr = performance.now();
  model.readout = fitReadout(model, vs.train);
  trainMs += performance.now() - tr;
  return {
    model,
    history,
    bestEpoch,
    bestValLoss: Number.isFinite(best) ? best : undefined,
    stopReason: stopped ?? 'epochs',
    epochs: history.length,
    steps: step,
    trainWindows: vs.train.length,
    valWindows: vs.val.length,
    purged: vs.purged,
    valWarnings: vs.warnings,
    termWarnings,
    valTerms,
    earlyStop,
    terms,
    resumedAt,
    timings: { trainMs, valMs, totalMs: performance.now() - t0 },
  };
}
