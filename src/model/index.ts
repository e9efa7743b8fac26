/**
 * The model module: numeric engine, StateModel, losses.
 *
 * One training step, as the trainer does it:
 *
 *   const model = new StateModel({ inputDims: { metrics: 1024, traces: 1024, logs: 1024 }, seed: 1 });
 *   model.fitNormalizers(trainBatch);                       // training windows only
 *   const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.01, maxGradNorm: 1 });
 *   const f = model.forward(batch, { training: true });     // batch: { size, metrics: { x, present }, … }
 *   const { total, parts, hasGradient } = totalLoss(f, { overlaps: overlapPairs(windows), labels }, lossOptions);
 *   if (hasGradient) { opt.zeroGrad(); total.backward(); opt.step(); }
 *
 * Inference: `model.embed(batch)` → { s, z, present } as Float32Arrays (no graph).
 * Parameters: `model.layout()` (name, shape, offset), `getFlat()/setFlat()`,
 * `getNamed()/setNamed()`; `toJSON()/StateModel.fromJSON(json, flat)` for config + normalisers.
 * Engine: `RS_ENGINE=js|ort` or `setEngine('js' | 'ort')`; `engineInfo()` says which is in use.
 */
export {
  Tensor,
  noGrad,
  ops,
  setEngine,
  engineInfo,
  kernel,
  AdamW,
  clipGradNorm,
  globalGradNorm,
  ModelRng,
  type Activation,
  type AdamWOptions,
  type AdamWState,
  type Param,
  type StepInfo,
  type EngineInfo,
  type EngineName,
  type GemmKernel,
} from './engine/index.js';
export { Linear, MLP, type InitScheme, type MLPOptions } from './layers.js';
export { FeatureNormalizer, MIN_STD, type FeatureNormalizerJSON } from './normalizer.js';
export {
  StateModel,
  MODALITIES,
  resolveConfig,
  inputWidth,
  type Modality,
  type InputDim,
  type StateModelConfig,
  type ResolvedStateModelConfig,
  type ModalityBatch,
  type StateBatch,
  type StateForward,
  type ForwardOptions,
  type ParamLayoutEntry,
  type StateEmbeddings,
  type StateModelJSON,
} from './model.js';
export {
  totalLoss,
  infoNCE,
  modalConsistencyLoss,
  temporalConsistencyLoss,
  temporalTargets,
  applicableTerms,
  TEMPORAL_MASKED,
  type TemporalTargets,
  type TermApplicability,
  anomalySeparationLoss,
  overlapPairs,
  resolveLossOptions,
  presentModalities,
  DEFAULT_LOSS_OPTIONS,
  MODALITY_PAIRS,
  type LossOptions,
  type LossTargets,
  type LossParts,
  type LossResult,
  type OverlapPairs,
  type PairTerm,
} from './losses.js';
export * from './data.js';
export * from './sampler.js';
export * from './trainer.js';
export * from './checkpoint.js';
export { loadTrainingSources, isEncodedPath, type LoadTrainingSourcesOptions, type TrainingSourceInfo } from './sources.js';
export {
  DeviationDecoder,
  deviationTargets,
  featureSlices,
  fitDeviationReference,
  hasDeviationTargets,
  fitEntityDeviationReference,
  sampleEntityRows,
  DEVIATION_Z_CLIP,
  type DeviationReference,
  type DeviationTargets,
  type FeatureSlice,
  type FeatureSlices,
} from './deviation.js';
export { perturbBatch, resolveAugment, DEFAULT_AUGMENT, type AugmentOptions } from './augment.js';
export { combinedEmbeddings, combinedLayout, combinedWidth, requireReadout, type CombinedOptions } from './combined.js';
export { DeviationReadout, fitReadout, readoutError, RIDGE_SHARE, type ReadoutJSON } from './readout.js';
