/**
 * StateModel: per-modality projection heads → L2-normalised modality embeddings z_m, z_t, z_l;
 * a per-modality sigmoid gate; a shallow MLP fusion → L2-normalised state embedding s.
 *
 * Missing modalities are masked, not zero-filled: a head runs only on the rows where its
 * modality is present (absent rows' input values are never read), the absent slots of the fusion
 * input are exactly 0, the gate mass is renormalised over the present modalities, and three
 * presence indicators tell the fusion which slots are real. Entity-level views (one entity's
 * metrics/traces/logs) go through the same forward, so tasks can score entities in the same
 * space. docs/losses.md has the formulas.
 */
import type { DeviationReadout } from './readout.js';
import { ModelRng, noGrad, ops, Tensor, type Activation, type Param } from './engine/index.js';
import { Linear, MLP } from './layers.js';
import { FeatureNormalizer, type FeatureNormalizerJSON } from './normalizer.js';

import { MODALITIES, type Modality } from '../telemetry/index.js';
// One modality vocabulary for the whole project (the data model's).
export { MODALITIES, type Modality };

/** A modality's input width: a number, or the backbone vector and feature vector it joins. */
export type InputDim = number | { backbone: number; features: number };

export interface StateModelConfig {
  /** Input width per modality (backbone dim + feature count). A modality left out has no head and is always absent. */
  inputDims: Partial<Record<Modality, InputDim>>;
  /** Hidden width of the projection heads. Default 512. */
  hidden?: number;
  /** Width of z_m, z_t, z_l. Default 256. */
  modalityDim?: number;
  /** Width of s. Default 128. */
  stateDim?: number;
  /** Hidden width of the fusion MLP. Default: `hidden`. */
  fusionHidden?: number;
  /** Per-modality sigmoid gates; false = equal weights over the present modalities. Default true. */
  gate?: boolean;
  /** Default 'relu' (docs/engine.md). */
  activation?: Activation;
  /** Dropout after hidden activations, training only. Default 0. */
  dropout?: number;
  /** Seed of the weight init and dropout masks. Default 0. */
  seed?: number;
  /**
   * Residual path (docs/losses.md, "Residual path"): s = normalise(fusion(u) + r), r a fixed
   * seeded random projection of the asinh robust z of the numeric features of the present
   * modalities, so the state starts from what the raw views show and the learned part adds to
   * it. Needs inputs declared { backbone, features }. Default false.
   */
  residual?: boolean;
}

export interface ResolvedStateModelConfig {
  inputDims: Partial<Record<Modality, InputDim>>;
  hidden: number;
  modalityDim: number;
  stateDim: number;
  fusionHidden: number;
  gate: boolean;
  activation: Activation;
  dropout: number;
  seed: number;
  residual: boolean;
}

export function resolveConfig(config: StateModelConfig): ResolvedStateModelConfig {
  const hidden = config.hidden ?? 512;
  const r: ResolvedStateModelConfig = {
    inputDims: { ...config.inputDims },
    hidden,
    modalityDim: config.modalityDim ?? 256,
    stateDim: config.stateDim ?? 128,
    fusionHidden: config.fusionHidden ?? hidden,
    gate: config.gate ?? true,
    activation: config.activation ?? 'relu',
    dropout: config.dropout ?? 0,
    seed: config.seed ?? 0,
    residual: config.residual ?? false,
  };
  for (const k of ['hidden', 'modalityDim', 'stateDim', 'fusionHidden'] as const) {
    if (!(Number.isInteger(r[k]) && r[k] > 0)) throw new RangeError(`StateModel: ${k} must be a positive integer, got ${r[k]}`);
  }
  if (r.activation !== 'relu' && r.activation !== 'gelu') throw new RangeError(`StateModel: activation must be "relu" or "gelu"`);
  if (!(r.dropout >= 0 && r.dropout < 1)) throw new RangeError(`StateModel: dropout must be in [0, 1), got ${r.dropout}`);
  if (!MODALITIES.some((m) => r.inputDims[m] !== undefined)) throw new RangeError('StateModel: inputDims names no modality');
  for (const m of MODALITIES) {
    const d = r.inputDims[m];
    if (d !== undefined && !(inputWidth(d) > 0 && Number.isInteger(inputWidth(d)))) throw new RangeError(`StateModel: inputDims.${m} must be a positive integer width`);
  }
  return r;
}

export function inputWidth(d: InputDim): number {
  return typeof d === 'number' ? d : d.backbone + d.features;
}

/** One modality of a batch: [size, width] row-major plus which rows have the modality. */
export interface ModalityBatch {
  x: Float32Array;
  /** Row i has this modality when present[i] is truthy. Default: every row. */
  present?: ArrayLike<number | boolean>;
}

/** A batch of windows (or of entities): a modality left out is absent in every row. */
export interface StateBatch {
  size: number;
  metrics?: ModalityBatch;
  traces?: ModalityBatch;
  logs?: ModalityBatch;
}

export interface StateForward {
  size: number;
  /** [size, modalityDim] per modality; rows where the modality is absent are exactly 0. */
  z: Record<Modality, Tensor>;
  /** The rows where each modality is present, ascending. */
  rows: Record<Modality, Int32Array>;
  /** 1 where present, per modality. */
  present: Record<Modality, Uint8Array>;
  /** [size, 3] raw sigmoid gates (metrics, traces, logs), 0 where absent (all 0 with gate: false). */
  gates: Tensor;
  /** [size, 3] fusion weights: gates renormalised over the present modalities (sum 1, or 0 with none present). */
  weights: Tensor;
  /** [size, stateDim], unit rows. */
  s: Tensor;
}

export interface ForwardOptions {
  /** Training mode: dropout active (when configured). Default false. */
  training?: boolean;
}

export interface ParamLayoutEntry {
  name: string;
  rows: number;
  cols: number;
  /** Offset into the flat parameter vector. */
  offset: number;
  size: number;
}

export interface StateEmbeddings {
  size: number;
  /** [size, stateDim] row-major. */
  s: Float32Array;
  /** [size, modalityDim] row-major per modality; absent rows are 0 (see `present`). */
  z: Record<Modality, Float32Array>;
  present: Record<Modality, Uint8Array>;
}

export interface StateModelJSON {
  config: ResolvedStateModelConfig;
  normalizers: Partial<Record<Modality, FeatureNormalizerJSON>>;
}

/** Added to the gate mass before dividing, so a row with no modality gets weights 0, not NaN. */
const GATE_EPS = 1e-6;

export class StateModel {
  readonly config: ResolvedStateModelConfig;
  readonly heads: Partial<Record<Modality, MLP>> = {};
  readonly gateLayers: Partial<Record<Modality, Linear>> = {};
  readonly fusion: MLP;
  /** Applied to each modality's input rows in forward when set (fit on training windows only). */
  normalizers: Partial<Record<Modality, FeatureNormalizer>> = {};
  /** The state's linear read of the feature deviations (readout.ts), fitted after training; saved with the model. */
  readout?: DeviationReadout;
  private readonly dropoutRng: ModelRng;
  private readonly paramList: Param[];
  /** Residual path: per modality the fixed projection [features, stateDim] and where the features sit in the input. */
  private readonly residualProj: Partial<Record<Modality, { offset: number; count: number; P: Float32Array }>> = {};

  constructor(config: StateModelConfig) {
    this.config = resolveConfig(config);
    const c = this.config;
    const rng = new ModelRng(c.seed, 'init');
    this.dropoutRng = new ModelRng(c.seed, 'dropout');
    for (const m of MODALITIES) {
      const d = c.inputDims[m];
      if (d === undefined) continue;
      this.heads[m] = new MLP(`heads.${m}`, inputWidth(d), c.hidden, c.modalityDim, rng, { activation: c.activation, dropout: c.dropout });
      if (c.gate) this.gateLayers[m] = new Linear(`gates.${m}`, c.modalityDim, 1, rng, 'xavier');
    }
    this.fusion = new MLP('fusion', MODALITIES.length * c.modalityDim + MODALITIES.length, c.fusionHidden, c.stateDim, rng, {
      activation: c.activation,
      dropout: c.dropout,
    });
    this.paramList = [];
    for (const m of MODALITIES) {
      const h = this.heads[m];
      if (h) this.paramList.push(...h.params());
    }
    for (const m of MODALITIES) {
      const g = this.gateLayers[m];
      if (g) this.paramList.push(...g.params());
    }
    this.paramList.push(...this.fusion.params());
    if (c.residual) {
      // Not parameters: drawn from the seed alone, so a loaded model rebuilds them bit for bit.
      // Entries N(0, 1/stateDim): E‖Pᵀa‖² = ‖a‖², the deviations' geometry kept (Johnson–Lindenstrauss).
      const prng = new ModelRng(c.seed, 'residual');
      const sd = 1 / Math.sqrt(c.stateDim);
      for (const m of MODALITIES) {
        const d = c.inputDims[m];
        if (typeof d !== 'object' || d.features <= 0) continue;
        const P = new Float32Array(d.features * c.stateDim);
        for (let k = 0; k < P.length; k++) P[k] = prng.normal() * sd;
        this.residualProj[m] = { offset: d.backbone, count: d.features, P };
      }
      if (Object.keys(this.residualProj).length === 0) throw new RangeError('StateModel: the residual path needs inputs declared { backbone, features } with features');
    }
  }

  /** Input width per modality (0 for a modality without a head). */
  inputWidth(m: Modality): number {
    const d = this.config.inputDims[m];
    return d === undefined ? 0 : inputWidth(d);
  }

  /** Fits each modality's normaliser on the present rows of `batch` (training windows only). */
  fitNormalizers(batch: StateBatch): void {
    for (const m of MODALITIES) {
      const b = batch[m];
      const w = this.inputWidth(m);
      if (!b || w === 0) continue;
      this.checkModality(m, b, batch.size);
      const mask = b.present ? Array.from(b.present, (v) => (v ? 1 : 0)) : undefined;
      // The numeric features (after the backbone vector) get a robust z (normalizer.ts).
      const d = this.config.inputDims[m];
      this.normalizers[m] = FeatureNormalizer.fit(b.x, w, mask, typeof d === 'object' && d.features > 0 ? { robustFrom: d.backbone } : {});
    }
  }

  private checkModality(m: Modality, b: ModalityBatch, size: number): void {
    const w = this.inputWidth(m);
    if (w === 0) throw new RangeError(`StateModel: the batch has ${m} but the model has no ${m} head`);
    if (b.x.length !== size * w) throw new RangeError(`StateModel: ${m} input has ${b.x.length} values, expected ${size}×${w}`);
    if (b.present && b.present.length !== size) throw new RangeError(`StateModel: ${m} presence mask has ${b.present.length} entries for ${size} rows`);
    const norm = this.normalizers[m];
    if (norm && norm.dim !== w) throw new RangeError(`StateModel: the ${m} normaliser has ${norm.dim} columns, the input ${w}`);
  }

  /** The present rows of one modality, normalised, as a compact [n, width] tensor. */
  private compactInput(m: Modality, b: ModalityBatch, idx: Int32Array): Tensor {
    const w = this.inputWidth(m);
    const out = new Float32Array(idx.length * w);
    const norm = this.normalizers[m];
    for (let r = 0; r < idx.length; r++) {
      if (norm) norm.transformInto(b.x, idx[r], out, r, 1);
      else {
        const src = idx[r] * w;
        const dst = r * w;
        for (let j = 0; j < w; j++) {
          const v = b.x[src + j];
          out[dst + j] = Number.isNaN(v) ? 0 : v;
        }
      }
    }
    return new Tensor(out, idx.length, w);
  }

  /** z for `n` rows of one modality's (unnormalised) input: the projection head alone. */
  embedModality(m: Modality, x: Float32Array, options: ForwardOptions = {}): Tensor {
    const head = this.heads[m];
    if (!head) throw new RangeError(`StateModel: no ${m} head`);
    const w = this.inputWidth(m);
    const n = x.length / w;
    if (!Number.isInteger(n)) throw new RangeError(`StateModel: ${m} input of ${x.length} values is not rows of ${w}`);
    const idx = new Int32Array(n);
    for (let i = 0; i < n; i++) idx[i] = i;
    this.checkModality(m, { x }, n);
    const input = this.compactInput(m, { x }, idx);
    return ops.l2NormalizeRows(head.forward(input, options.training ? this.dropoutRng : undefined));
  }

  forward(batch: StateBatch, options: ForwardOptions = {}): StateForward {
    const B = batch.size;
    if (!(Number.isInteger(B) && B > 0)) throw new RangeError(`StateModel: batch size must be a positive integer, got ${B}`);
    const c = this.config;
    const d = c.modalityDim;
    const dropRng = options.training ? this.dropoutRng : undefined;
    const z = {} as Record<Modality, Tensor>;
    const rows = {} as Record<Modality, Int32Array>;
    const present = {} as Record<Modality, Uint8Array>;
    const gateCols: Tensor[] = [];
    const presence = new Float32Array(B * MODALITIES.length);
    const residual = c.residual ? new Float32Array(B * c.stateDim) : undefined;
    MODALITIES.forEach((m, k) => {
      const b = batch[m];
      const mask = new Uint8Array(B);
      if (b) {
        this.checkModality(m, b, B);
        for (let i = 0; i < B; i++) mask[i] = !b.present || b.present[i] ? 1 : 0;
      }
      const idxList: number[] = [];
      for (let i = 0; i < B; i++) if (mask[i]) idxList.push(i);
      const idx = Int32Array.from(idxList);
      rows[m] = idx;
      present[m] = mask;
      for (const i of idx) presence[i * MODALITIES.length + k] = 1;
      const head = this.heads[m];
      if (!b || !head || idx.length === 0) {
        z[m] = Tensor.zeros(B, d);
        gateCols.push(Tensor.zeros(B, 1));
        return;
      }
      const xin = this.compactInput(m, b, idx);
      const rp = this.residualProj[m];
      if (residual && rp) addResidual(residual, xin, idx, rp, c.stateDim);
      const zc = ops.l2NormalizeRows(head.forward(xin, dropRng));
      z[m] = ops.scatterRows(zc, idx, B);
      const gl = this.gateLayers[m];
      gateCols.push(gl ? ops.scatterRows(ops.sigmoid(gl.forward(zc)), idx, B) : Tensor.zeros(B, 1));
    });
    const P = new Tensor(presence, B, MODALITIES.length);
    const gates = ops.concatCols(gateCols);
    let weights: Tensor;
    if (c.gate) {
      // Absent slots hold gate 0 (scattered zeros), so the row sum is the present gate mass.
      weights = ops.div(gates, ops.addScalar(ops.rowSum(gates), GATE_EPS));
    } else {
      const w = new Float32Array(B * MODALITIES.length);
      for (let i = 0; i < B; i++) {
        let n = 0;
        for (let k = 0; k < MODALITIES.length; k++) n += presence[i * MODALITIES.length + k];
        for (let k = 0; k < MODALITIES.length; k++) w[i * MODALITIES.length + k] = n > 0 ? presence[i * MODALITIES.length + k] / n : 0;
      }
      weights = new Tensor(w, B, MODALITIES.length);
    }
    const slots = MODALITIES.map((m, k) => ops.mul(z[m], ops.sliceCols(weights, k, k + 1)));
    const fused = ops.concatCols([...slots, P]);
    const h = this.fusion.forward(fused, dropRng);
    const s = ops.l2NormalizeRows(residual ? ops.add(h, new Tensor(residual, B, c.stateDim)) : h);
    return { size: B, z, rows, present, gates, weights, s };
  }

  /** Inference: s and z as plain arrays, no graph recorded, no dropout. */
  embed(batch: StateBatch): StateEmbeddings {
    return noGrad(() => {
      const f = this.forward(batch);
      const z = {} as Record<Modality, Float32Array>;
      for (const m of MODALITIES) z[m] = f.z[m].data;
      return { size: f.size, s: f.s.data, z, present: f.present };
    });
  }

  /** Live parameters in layout order (for the optimiser). */
  parameters(): Param[] {
    return this.paramList;
  }

  parameterCount(): number {
    let n = 0;
    for (const p of this.paramList) n += p.tensor.size;
    return n;
  }

  /** Name, shape and flat offset of every parameter; the order of getFlat/setFlat. */
  layout(): ParamLayoutEntry[] {
    let offset = 0;
    return this.paramList.map((p) => {
      const e = { name: p.name, rows: p.tensor.rows, cols: p.tensor.cols, offset, size: p.tensor.size };
      offset += e.size;
      return e;
    });
  }

  /** All parameters concatenated in layout order (a copy). */
  getFlat(): Float32Array {
    const out = new Float32Array(this.parameterCount());
    let o = 0;
    for (const p of this.paramList) {
      out.set(p.tensor.data, o);
      o += p.tensor.size;
    }
    return out;
  }

  setFlat(flat: Float32Array): void {
    const n = this.parameterCount();
    if (flat.length !== n) throw new RangeError(`StateModel.setFlat: ${flat.length} values for ${n} parameters`);
    let o = 0;
    for (const p of this.paramList) {
      p.tensor.data.set(flat.subarray(o, o + p.tensor.size));
      o += p.tensor.size;
    }
  }

  /** Copies of the parameters by name. */
  getNamed(): Map<string, Float32Array> {
    return new Map(this.paramList.map((p) => [p.name, p.tensor.data.slice()]));
  }

  /** Sets every parameter from `named`; names and sizes must match the layout exactly. */
  setNamed(named: ReadonlyMap<string, Float32Array> | Record<string, Float32Array>): void {
    const get = (k: string) => (named instanceof Map ? named.get(k) : (named as Record<string, Float32Array>)[k]);
    const keys = named instanceof Map ? [...named.keys()] : Object.keys(named);
    const known = new Set(this.paramList.map((p) => p.name));
    const extra = keys.filter((k) => !known.has(k));
    if (extra.length > 0) throw new RangeError(`StateModel.setNamed: unknown parameters ${extra.join(', ')}`);
    for (const p of this.paramList) {
      const v = get(p.name);
      if (!v) throw new RangeError(`StateModel.setNamed: missing ${p.name}`);
      if (v.length !== p.tensor.size) throw new RangeError(`StateModel.setNamed: ${p.name} has ${v.length} values, expected ${p.tensor.size}`);
    }
    for (const p of this.paramList) p.tensor.data.set(get(p.name) as Float32Array);
  }

  zeroGrad(): void {
    for (const p of this.paramList) p.tensor.zeroGrad();
  }

  /** Config and normalisers (parameters go separately, as getFlat + layout). */
  toJSON(): StateModelJSON {
    const normalizers: Partial<Record<Modality, FeatureNormalizerJSON>> = {};
    for (const m of MODALITIES) {
      const n = this.normalizers[m];
      if (n) normalizers[m] = n.toJSON();
    }
    return { config: this.config, normalizers };
  }

  /** A model from toJSON() output and, optionally, its flat parameters. */
  static fromJSON(json: StateModelJSON, flat?: Float32Array): StateModel {
    const model = new StateModel(json.config);
    for (const m of MODALITIES) {
      const n = json.normalizers?.[m];
      if (n) model.normalizers[m] = FeatureNormalizer.fromJSON(n);
    }
    if (flat) model.setFlat(flat);
    return model;
  }
}

/** r[idx[i]] += asinh(feature columns of row i) · P: the residual path's fixed summary of the deviations (robust z, already clipped by the normaliser). */
function addResidual(r: Float32Array, xin: Tensor, idx: Int32Array, rp: { offset: number; count: number; P: Float32Array }, D: number): void {
  const w = xin.cols;
  const x = xin.data;
  for (let i = 0; i < idx.length; i++) {
    const dst = idx[i] * D;
    for (let j = 0; j < rp.count; j++) {
      const a = Math.asinh(x[i * w + rp.offset + j]);
      if (a === 0 || !Number.isFinite(a)) continue;
      const row = j * D;
      for (let k = 0; k < D; k++) r[dst + k] += a * rp.P[row + k];
    }
  }
}
