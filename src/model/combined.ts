/**
 * The embedding the tasks read from a model: the views' own robust deviations beside the
 * state's reconstruction of them, e = [ d ⊕ t̂ ] (docs/losses.md, "What the tasks read").
 *
 *   const rows = combinedEmbeddings(model, windows, { mask: ['traces', 'logs'] });
 *   // rows[i]: Float64Array of combinedWidth(model) values, or undefined (no modality present)
 *
 * - d: per modality (fixed slots, MODALITIES order) the numeric features as a robust z against
 *   the model's own pre-training reference (its normaliser's median and robust scale), NOT
 *   clipped, NaN where the modality is absent or masked or the value missing. Unclipped, d is an
 *   affine map of the raw features per column, so anything that compares columns by their own
 *   robust z (evaluate's per-dimension geometry) sees what the raw views see; a clip fitted on
 *   another system's data would flatten a new system's values instead.
 * - t̂: the learned part, the unit state s read linearly into the same slots by the model's
 *   deviation readout (readout.ts), NaN in the slots of absent or masked modalities.
 *
 * Why this shape: s itself is a unit vector of 128 mixtures; cosine geometry on it throws away
 * the size of a deviation (detection needs it) and mixes a service's few deviating columns with
 * the rest (localization needs them apart), and appended as 128 columns beside d it outvotes
 * d's 17–39 columns per modality. Written in d's coordinates, observation and reconstruction
 * have one column each: the learned part has an equal say and cannot drown what the features
 * already show.
 */
import { MODALITIES, type Modality, type StateModel } from './model.js';
import { embedWindows, type EncodedWindow, type ModalityInputs } from './data.js';
import { featureSlices, type FeatureSlices } from './deviation.js';
import type { DeviationReadout } from './readout.js';
import { SYSTEM_ENTITY } from '../encode/index.js';
import { UserError } from '../telemetry/index.js';

export interface CombinedOptions {
  /** modalities treated as absent in every window (their slots NaN, left out of s) */
  mask?: readonly Modality[];
  /** a service's inputs instead of the system's */
  entity?: string;
  batchSize?: number;
}

/** Width of each half (d, and t̂ in the same slots) and where each modality's features sit in the input. */
export function combinedLayout(model: StateModel): { deviations: number; slices: FeatureSlices } {
  const slices = featureSlices(model.config.inputDims);
  const deviations = MODALITIES.reduce((a, m) => a + (slices[m]?.count ?? 0), 0);
  return { deviations, slices };
}

export function combinedWidth(model: StateModel): number {
  return 2 * combinedLayout(model).deviations;
}

const inputsOf = (w: EncodedWindow, entity: string | undefined): ModalityInputs | undefined =>
  entity === undefined || entity === SYSTEM_ENTITY ? w.inputs : w.entities?.get(entity);

/** Refuses, in one line naming `what`, a model that cannot give the combined embedding. */
export function requireReadout(model: StateModel, what = 'this model'): void {
  if (combinedLayout(model).deviations === 0) throw new UserError(`${what}: the model reads no numeric features (inputs not declared { backbone, features }), so it has no combined embedding`);
  if (!model.readout) throw new UserError(`${what}: no deviation readout (model format 1, written before it): retrain it with \`runtimeslicer train\``);
}

/** [d ⊕ t̂] per window; undefined where no (unmasked) modality the model reads is present. */
export function combinedEmbeddings(model: StateModel, windows: readonly EncodedWindow[], opts: CombinedOptions = {}): (Float64Array | undefined)[] {
  const mask = opts.mask ?? [];
  const { deviations, slices } = combinedLayout(model);
  requireReadout(model);
  const readout = model.readout as DeviationReadout;
  const read = MODALITIES.filter((m) => model.config.inputDims[m] !== undefined && !mask.includes(m));
  const idx: number[] = [];
  windows.forEach((w, i) => {
    const x = inputsOf(w, opts.entity);
    if (x && read.some((m) => x[m] !== undefined)) idx.push(i);
  });
  const out: (Float64Array | undefined)[] = windows.map(() => undefined);
  if (idx.length === 0) return out;
  const e = embedWindows(model, idx.map((i) => windows[i]), { mask, entity: opts.entity, batchSize: opts.batchSize });
  idx.forEach((i, t) => {
    const row = new Float64Array(2 * deviations).fill(NaN);
    const x = inputsOf(windows[i], opts.entity) as ModalityInputs;
    let off = 0;
    for (const m of MODALITIES) {
      const sl = slices[m];
      if (!sl) continue;
      const v = x[m];
      const norm = model.normalizers[m];
      if (v && read.includes(m)) {
        for (let j = 0; j < sl.count; j++) {
          const c = sl.offset + j;
          // without a fitted normaliser the values pass unchanged (still affine per column)
          row[off + j] = norm ? (v[c] - norm.mean[c]) / norm.std[c] : v[c];
        }
        row.set(readout.apply(m, e.state[t]), deviations + off);
      }
      off += sl.count;
    }
    out[i] = row;
  });
  return out;
}
