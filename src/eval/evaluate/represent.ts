/**
 * How each vector column sees a window, at system level (detection, classification) and per
 * service (localization):
 *
 * - raw-features: the views' numeric features of every modality in a fixed layout, NaN where
 *   a modality is absent or masked (compared dimension by dimension, so absent stays absent);
 * - raw-backbone: the backbone vectors of the present modalities, each L2-normalised, averaged;
 * - a model: its state embedding s (per service: the same heads on that service's inputs).
 */
import type { Modality } from '../../telemetry/index.js';
import { FEATURE_LAYOUTS } from '../../encode/index.js';
import { MODALITIES, embedWindows, type EncodedWindow, type ModalityInputs, type StateModel } from '../../model/index.js';

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

const present = (inputs: ModalityInputs | undefined, mask: readonly Modality[]) => inputs !== undefined && MODALITIES.some((m) => inputs[m] !== undefined && !mask.includes(m));

export function modelRepresentation(name: string, model: StateModel): Representation {
  const embed = (ws: readonly EncodedWindow[], mask: readonly Modality[], entity?: string) => {
    const has = ws.map((w) => present(entity === undefined ? w.inputs : w.entities?.get(entity), mask));
    const idx = has.map((h, i) => (h ? i : -1)).filter((i) => i >= 0);
    const out: (Float64Array | undefined)[] = ws.map(() => undefined);
    if (idx.length === 0) return out;
    const e = embedWindows(model, idx.map((i) => ws[i]), { mask, entity });
    idx.forEach((i, t) => (out[i] = Float64Array.from(e.state[t])));
    return out;
  };
  return { name, kind: 'vector', system: (ws, mask) => embed(ws, mask), entity: (ws, service) => embed(ws, [], service) };
}
