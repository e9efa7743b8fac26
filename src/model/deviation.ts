/**
 * The deviation term ("keep the evidence", docs/losses.md): the state embedding must carry each
 * window's robust feature deviations — what the raw views know — linearly.
 *
 *   t_imj = asinh( clip( (x_imj − med_src,m,j) / scale_src,m,j , ±10 ) )
 *   L_dev = (1/Σw) Σ_i Σ_m Σ_j w_imj · ( (s_i·D_m + d_m)_j − t_imj )²
 *
 * x_imj is numeric feature j of modality m of window i (the part of the model input after the
 * backbone vector), med/scale the robust location and scale (`robustScale`, the one the raw-
 * features column of `evaluate` uses) of that column over the training windows of the window's
 * own source, label-free. w = 1 where the modality is present and the value finite, else 0.
 * D_m is a linear decoder that exists only during training: a linear one, so that what the
 * deviations separate stays separated in the geometry of s, not hidden behind a non-linearity.
 */
import { robustScale } from '../stats/index.js';
import type { EncodedWindow } from './data.js';
import { Linear } from './layers.js';
import { ModelRng, ops, Tensor, type Param } from './engine/index.js';
import { MODALITIES, type InputDim, type Modality } from './model.js';

/** Same clip as evaluate's raw-features column (Z_CLIP): beyond it a deviation says nothing more. */
export const DEVIATION_Z_CLIP = 10;

/** Where the numeric features sit in a modality's input: after the backbone vector. */
export interface FeatureSlice {
  offset: number;
  count: number;
}

export type FeatureSlices = Partial<Record<Modality, FeatureSlice>>;

/** The feature part of each modality's input, for inputs declared as { backbone, features }. */
export function featureSlices(inputDims: Partial<Record<Modality, InputDim>>): FeatureSlices {
  const out: FeatureSlices = {};
  for (const m of MODALITIES) {
    const d = inputDims[m];
    if (d !== undefined && typeof d !== 'number' && d.features > 0) out[m] = { offset: d.backbone, count: d.features };
  }
  return out;
}

interface ColumnStats {
  center: Float64Array;
  scale: Float64Array;
}

/** Robust location and scale per source, modality and feature column. */
export interface DeviationReference {
  slices: FeatureSlices;
  bySource: Map<string, Partial<Record<Modality, ColumnStats>>>;
}

/**
 * Fitted on `windows` (training windows only), per source: every source is its own system (or
 * test bed), so a deviation is measured against that source's own typical values.
 */
export function fitDeviationReference(windows: readonly EncodedWindow[], slices: FeatureSlices): DeviationReference {
  const groups = new Map<string, EncodedWindow[]>();
  for (const w of windows) {
    let g = groups.get(w.source);
    if (!g) groups.set(w.source, (g = []));
    g.push(w);
  }
  const bySource = new Map<string, Partial<Record<Modality, ColumnStats>>>();
  for (const [source, ws] of groups) {
    const perModality: Partial<Record<Modality, ColumnStats>> = {};
    for (const m of MODALITIES) {
      const sl = slices[m];
      if (!sl) continue;
      const rows = ws.map((w) => w.inputs[m]).filter((x): x is Float32Array => x !== undefined);
      if (rows.length === 0) continue;
      const center = new Float64Array(sl.count);
      const scale = new Float64Array(sl.count);
      const col = new Float64Array(rows.length);
      for (let j = 0; j < sl.count; j++) {
        for (let r = 0; r < rows.length; r++) col[r] = rows[r][sl.offset + j];
        const s = robustScale(col);
        center[j] = s.location;
        scale[j] = s.scale;
      }
      perModality[m] = { center, scale };
    }
    bySource.set(source, perModality);
  }
  return { slices, bySource };
}

/** Targets and weights of one batch, per modality: [n, count] row-major. */
export type DeviationTargets = Partial<Record<Modality, { t: Float32Array; w: Float32Array }>>;

/**
 * t = asinh(clip(robust z, ±10)) per present, finite feature (w = 1), else w = 0. asinh keeps
 * small deviations linear and compresses large ones logarithmically, so a few extreme columns
 * do not take the whole term. A window of a source without a reference gets weight 0.
 * `masked` modalities (absent for the model) get no target either.
 */
export function deviationTargets(windows: readonly EncodedWindow[], ref: DeviationReference, masked: readonly Modality[] = []): DeviationTargets {
  const out: DeviationTargets = {};
  const n = windows.length;
  for (const m of MODALITIES) {
    const sl = ref.slices[m];
    if (!sl || masked.includes(m)) continue;
    const t = new Float32Array(n * sl.count);
    const w = new Float32Array(n * sl.count);
    let any = false;
    for (let i = 0; i < n; i++) {
      const x = windows[i].inputs[m];
      const st = ref.bySource.get(windows[i].source)?.[m];
      if (!x || !st) continue;
      for (let j = 0; j < sl.count; j++) {
        const v = x[sl.offset + j];
        const c = st.center[j];
        const s = st.scale[j];
        if (!Number.isFinite(v) || !Number.isFinite(c) || !(s > 0)) continue;
        const z = Math.max(-DEVIATION_Z_CLIP, Math.min(DEVIATION_Z_CLIP, (v - c) / s));
        t[i * sl.count + j] = Math.asinh(z);
        w[i * sl.count + j] = 1;
        any = true;
      }
    }
    if (any) out[m] = { t, w };
  }
  return out;
}

/** Whether a batch's targets give the deviation term anything to fit. */
export function hasDeviationTargets(t: DeviationTargets): boolean {
  return MODALITIES.some((m) => t[m] !== undefined);
}

/**
 * The training-only linear decoders s → deviations, one per modality. Not part of the model
 * (its checkpoint layout is unchanged): like a contrastive projection head it is dropped after
 * training; the resume file keeps its weights.
 */
export class DeviationDecoder {
  readonly layers: Partial<Record<Modality, Linear>> = {};
  private readonly list: Param[] = [];

  constructor(stateDim: number, slices: FeatureSlices, seed: number) {
    const rng = new ModelRng(seed, 'deviation');
    for (const m of MODALITIES) {
      const sl = slices[m];
      if (!sl) continue;
      const l = new Linear(`deviation.${m}`, stateDim, sl.count, rng, 'xavier');
      this.layers[m] = l;
      this.list.push(...l.params());
    }
  }

  params(): Param[] {
    return this.list;
  }

  getFlat(): Float32Array {
    const out = new Float32Array(this.list.reduce((a, p) => a + p.tensor.size, 0));
    let o = 0;
    for (const p of this.list) {
      out.set(p.tensor.data, o);
      o += p.tensor.size;
    }
    return out;
  }

  setFlat(flat: Float32Array): void {
    let o = 0;
    for (const p of this.list) {
      p.tensor.data.set(flat.subarray(o, o + p.tensor.size));
      o += p.tensor.size;
    }
  }

  /** L_dev on unit state rows `s` [n, stateDim]; undefined when no entry has a target. */
  loss(s: Tensor, targets: DeviationTargets): Tensor | undefined {
    let total = 0;
    for (const m of MODALITIES) {
      const tg = targets[m];
      if (tg && this.layers[m]) for (let k = 0; k < tg.w.length; k++) total += tg.w[k];
    }
    if (total === 0) return undefined;
    let out: Tensor | undefined;
    for (const m of MODALITIES) {
      const tg = targets[m];
      const layer = this.layers[m];
      if (!tg || !layer) continue;
      const diff = ops.sub(layer.forward(s), new Tensor(tg.t, s.rows, layer.outDim));
      const w = new Float32Array(tg.w.length);
      for (let k = 0; k < w.length; k++) w[k] = tg.w[k] / total;
      const part = ops.weightedSum(ops.mul(diff, diff), w);
      out = out ? ops.add(out, part) : part;
    }
    return out;
  }
}

/** Separates source and service in the keys of an entity reference. */
const ENTITY_KEY_SEP = '\u0000';

function entityView(w: EncodedWindow, service: string, inputs: EncodedWindow['inputs']): EncodedWindow {
  return { source: `${w.source}${ENTITY_KEY_SEP}${service}`, window: w.window, label: w.label, inputs };
}

/**
 * The per-service reference of the entity-level deviation term: every service's own typical
 * values in its own source (training windows only), so a service's deviation is "unusual for
 * this service" — what localization ranks.
 */
export function fitEntityDeviationReference(windows: readonly EncodedWindow[], slices: FeatureSlices): DeviationReference {
  const rows: EncodedWindow[] = [];
  for (const w of windows) for (const [svc, inputs] of w.entities ?? []) rows.push(entityView(w, svc, inputs));
  return fitDeviationReference(rows, slices);
}

/**
 * Up to `max` (window, service) rows of a batch, drawn with `rng` (all of them when there are
 * fewer), as windows whose inputs are that service's and whose source keys the entity
 * reference. Empty when the windows carry no per-service inputs.
 */
export function sampleEntityRows(windows: readonly EncodedWindow[], rng: { int(n: number): number }, max: number): EncodedWindow[] {
  const all: EncodedWindow[] = [];
  for (const w of windows) for (const [svc, inputs] of w.entities ?? []) all.push(entityView(w, svc, inputs));
  if (all.length <= max) return all;
  // partial Fisher–Yates: the first `max` of a uniform shuffle
  for (let k = 0; k < max; k++) {
    const j = k + rng.int(all.length - k);
    [all[k], all[j]] = [all[j], all[k]];
  }
  return all.slice(0, max);
}
