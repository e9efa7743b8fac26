/**
 * How each vector column sees a window, at system level (detection, classification) and per
 * service (localization):
 *
 * - raw-features: the views' numeric features of every modality in a fixed layout, NaN where
 *   a modality is absent or masked (compared dimension by dimension, so absent stays absent);
 * - raw-backbone: the backbone vectors of the present modalities, each L2-normalised, averaged;
 * - a model: its combined embedding [robust feature deviations d ⊕ the state's readout t̂ of
 *   them] (per service: the same heads on that service's inputs), compared per dimension like
 *   raw-features.
 */
import type { Modality } from '../../telemetry/index.js';
import { FEATURE_LAYOUTS } from '../../encode/index.js';
import { MODALITIES, combinedEmbeddings, type EncodedWindow, type ModalityInputs, type StateModel } from '../../model/index.js';

export interface Representation {
  name: string;
  /** 'features': per-dimension robust z; 'vector': cosine geometry */
  kind: 'features' | 'vector';
  system(ws: readonly EncodedWindow[], mask: readonly Modality[]): (Float64Array | undefined)[];
  entity(ws: readonly EncodedWindow[], service: string): (Float64Array | undefined)[];
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

/**
 * A model's column reads its combined embedding [d ⊕ t̂] (src/model/combined.ts) in the same
 * per-dimension robust geometry as raw-features: d keeps each column's own deviation (the part
 * cosine on a unit s threw away), t̂ is what pre-training learned, one column per feature
 * column so it cannot outvote them (docs/losses.md "What the tasks read").
 */
export function modelRepresentation(name: string, model: StateModel): Representation {
  return {
    name,
    kind: 'features',
    system: (ws, mask) => combinedEmbeddings(model, ws, { mask }),
    entity: (ws, service) => combinedEmbeddings(model, ws, { entity: service }),
  };
}
