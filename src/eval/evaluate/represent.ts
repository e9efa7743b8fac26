/**
 * How each vector column sees a window, at system level (detection, classification) and per
 * service (localization):
 *
 * - raw-features: the views' numeric features of every modality in a fixed layout, NaN where
 *   a modality is absent or masked (compared dimension by dimension, so absent stays absent);
 * - raw-backbone: the backbone vectors of the present modalities, each L2-normalised, averaged;
 * - a model: the raw features beside the state's readout t̂ of their deviations, [x ⊕ t̂] (per
 *   service: the same heads on that service's inputs), compared per dimension like
 *   raw-features, t̂ weighted by an α picked per task on the training folds (block-weight.ts).
 */
import type { Modality } from '../../telemetry/index.js';
import { FEATURE_LAYOUTS } from '../../encode/index.js';
import { BLOCK_ALPHAS, type AlphaRule } from './block-weight.js';
import { MODALITIES, combinedEmbeddings, combinedLayout, type EncodedWindow, type ModalityInputs, type StateModel } from '../../model/index.js';

export interface Representation {
  name: string;
  /** 'features': per-dimension robust z; 'vector': cosine geometry */
  kind: 'features' | 'vector';
  system(ws: readonly EncodedWindow[], mask: readonly Modality[]): (Float64Array | undefined)[];
  entity(ws: readonly EncodedWindow[], service: string): (Float64Array | undefined)[];
  /**
   * A learned block beside the observed columns: the column weights that give that block the
   * weight α (observed columns 1). The harness picks α per task and outer fold by inner
   * cross-validation on the training folds (block-weight.ts); α = 0 reads the observed columns alone.
   */
  blockWeights?: (alpha: number, width: number) => Float64Array;
  /** the α candidates (default BLOCK_ALPHAS); one candidate skips the inner cross-validation */
  alphas?: readonly number[];
  /** how the inner cross-validation picks α (default 'one-se', block-weight.ts) */
  alphaRule?: AlphaRule;
}

const FEATURE_WIDTH = MODALITIES.reduce((a, m) => a + FEATURE_LAYOUTS[m].length, 0);

function featuresOf(inputs: ModalityInputs | undefined, backboneDim: number, mask: readonly Modality[]): Float64Array | undefined {
  if (!inputs) return undefined;
  const out = new Float64Array(FEATURE_WIDTH).fill(NaN);
  let off = 0;
  let any = false;
  for (const m of MODALITIES) {
    const width = FEATURE_LAYOUTS[m].length;
    const x = inputs[m];
    if (x && !mask.includes(m)) {
      for (let i = 0; i < width; i++) out[off + i] = x[backboneDim + i];
      any = true;
    }
    off += width;
  }
  return any ? out : undefined;
}

function backboneOf(inputs: ModalityInputs | undefined, backboneDim: number, mask: readonly Modality[]): Float64Array | undefined {
  if (!inputs) return undefined;
  const out = new Float64Array(backboneDim);
  let any = false;
  for (const m of MODALITIES) {
    const x = inputs[m];
    if (!x || mask.includes(m)) continue;
    let s = 0;
    for (let i = 0; i < backboneDim; i++) s += x[i] * x[i];
    const n = Math.sqrt(s) || 1;
    for (let i = 0; i < backboneDim; i++) out[i] += x[i] / n;
    any = true;
  }
  if (!any) return undefined;
  return unit(out);
}

export function unit(v: Float64Array): Float64Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

export function rawFeatures(backboneDim: number): Representation {
  return {
    name: 'raw-features',
    kind: 'features',
    system: (ws, mask) => ws.map((w) => featuresOf(w.inputs, backboneDim, mask)),
    entity: (ws, service) => ws.map((w) => featuresOf(w.entities?.get(service), backboneDim, [])),
  };
}

export function rawBackbone(backboneDim: number): Representation {
  return {
    name: 'raw-backbone',
    kind: 'vector',
    system: (ws, mask) => ws.map((w) => backboneOf(w.inputs, backboneDim, mask)),
    entity: (ws, service) => ws.map((w) => backboneOf(w.entities?.get(service), backboneDim, [])),
  };
}

/** Weights of a row [observed (`observed` columns) ⊕ learned]: 1 on the observed columns, α on the learned ones. */
export function learnedBlockWeights(observed: number, alpha: number, width: number): Float64Array {
  const w = new Float64Array(width).fill(alpha);
  w.fill(1, 0, Math.min(observed, width));
  return w;
}

/**
 * A model's column: [x ⊕ t̂], the raw view features exactly as raw-features reads them beside
 * the state's readout t̂ of their deviations (src/model/combined.ts: the learned half of
 * [d ⊕ t̂]), compared in the same per-dimension robust geometry. The observed half is x, not the
 * model's centred d: d is affine per column, but a centred column escapes the 5 %-of-|median|
 * scale floor the raw column relies on for quantised features, so [d ⊕ ·] at α = 0 was not the
 * raw column (measured: AIOps 2022 AC@1 0.522 vs 0.500, macro-F1 0.214 vs 0.223). With x, α = 0
 * is the raw-features column exactly, window for window. How much t̂ counts (α) is picked per
 * task on the training folds (run.ts, block-weight.ts); `fixedAlpha` pins it, for comparisons.
 * A window is scored where raw-features scores it; t̂ is NaN where no modality the model reads is present.
 */
export function modelRepresentation(name: string, model: StateModel, opts: { fixedAlpha?: number; alphaRule?: AlphaRule } = {}): Representation {
  const { deviations, slices } = combinedLayout(model);
  const backboneDim = MODALITIES.map((m) => slices[m]?.offset).find((o) => o !== undefined) ?? 0;
  const join = (observed: (Float64Array | undefined)[], combined: (Float64Array | undefined)[]) =>
    observed.map((x, i) => {
      if (!x) return undefined;
      const row = new Float64Array(FEATURE_WIDTH + deviations).fill(NaN);
      row.set(x);
      const c = combined[i];
      if (c) row.set(c.subarray(deviations), FEATURE_WIDTH);
      return row;
    });
  const fixed = opts.fixedAlpha;
  return {
    name,
    kind: 'features',
    system: (ws, mask) => join(ws.map((w) => featuresOf(w.inputs, backboneDim, mask)), combinedEmbeddings(model, ws, { mask })),
    entity: (ws, service) => join(ws.map((w) => featuresOf(w.entities?.get(service), backboneDim, [])), combinedEmbeddings(model, ws, { entity: service })),
    blockWeights: (alpha, width) => learnedBlockWeights(FEATURE_WIDTH, alpha, width),
    alphas: fixed === undefined ? BLOCK_ALPHAS : [fixed],
    ...(opts.alphaRule ? { alphaRule: opts.alphaRule } : {}),
  };
}
