/**
 * State-preserving perturbations of a batch, for the view term (docs/losses.md): a window and
 * its perturbed copy are the same system state, so their state embeddings should match —
 *
 *   L_view = ½·[CE(S/τ, diag) + CE(Sᵀ/τ, diag)],   S_ij = ⟨s_i, s̃_j⟩
 *
 * with s̃ the states of the perturbed batch (the modal InfoNCE's form, window vs its own view).
 *
 * - feature noise: x̃_j = x_j + σ·scale_j·ε, ε ~ N(0, 1), scale_j the normaliser's column scale,
 *   so the noise is σ of each column's own spread whatever its unit;
 * - modality dropout: in a row with two or more modalities each is dropped with probability p,
 *   at least one kept — the state must not hinge on which modalities happen to be there (Nezha
 *   exports traces and logs only near faults: presence itself must not be the signal).
 */
import type { ModelRng } from './engine/index.js';
import { MODALITIES, type StateBatch, type StateModel } from './model.js';

export interface AugmentOptions {
  /** σ of the feature noise, in units of each column's scale. Default 0.1. */
  noise?: number;
  /** Probability of dropping each modality of a multi-modal row. Default 0.5. */
  modalityDrop?: number;
}

export const DEFAULT_AUGMENT: Required<AugmentOptions> = { noise: 0.1, modalityDrop: 0.5 };

export function resolveAugment(o: AugmentOptions = {}): Required<AugmentOptions> {
  const r = { noise: o.noise ?? DEFAULT_AUGMENT.noise, modalityDrop: o.modalityDrop ?? DEFAULT_AUGMENT.modalityDrop };
  if (!(r.noise >= 0 && Number.isFinite(r.noise))) throw new RangeError(`augment: noise must be ≥ 0, got ${r.noise}`);
  if (!(r.modalityDrop >= 0 && r.modalityDrop < 1)) throw new RangeError(`augment: modalityDrop must be in [0, 1), got ${r.modalityDrop}`);
  return r;
}

/** A perturbed copy of `batch` (inputs untouched); `model` gives each column's scale. */
export function perturbBatch(batch: StateBatch, model: StateModel, rng: ModelRng, options: AugmentOptions = {}): StateBatch {
  const o = resolveAugment(options);
  const n = batch.size;
  const present = MODALITIES.map((m) => {
    const b = batch[m];
    return b ? Uint8Array.from({ length: n }, (_, i) => (!b.present || b.present[i] ? 1 : 0)) : new Uint8Array(n);
  });
  // Modality dropout, decided per row before any noise so the draws do not depend on widths.
  for (let i = 0; i < n; i++) {
    const have = MODALITIES.map((_, k) => k).filter((k) => present[k][i]);
    if (have.length < 2 || o.modalityDrop === 0) continue;
    const kept = have.filter(() => !rng.chance(o.modalityDrop));
    const keep = kept.length > 0 ? kept : [have[rng.int(have.length)]];
    for (const k of have) if (!keep.includes(k)) present[k][i] = 0;
  }
  const out: StateBatch = { size: n };
  MODALITIES.forEach((m, k) => {
    const b = batch[m];
    if (!b) return;
    const w = model.inputWidth(m);
    const x = b.x.slice();
    const scale = model.normalizers[m]?.std;
    if (o.noise > 0) {
      for (let i = 0; i < n; i++) {
        if (!present[k][i]) continue;
        for (let j = 0; j < w; j++) x[i * w + j] += o.noise * (scale ? scale[j] : 1) * rng.normal();
      }
    }
    if (present[k].some((v) => v)) out[m] = { x, present: present[k] };
  });
  return out;
}
