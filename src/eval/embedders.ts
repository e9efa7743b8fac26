/**
 * Embedders the probe and `evaluate` compare on the same windows with the same masks: the raw
 * backbone, time alone (a leak sentinel), and a learned state model.
 */
import type { Modality } from '../telemetry/index.js';
import { MODALITIES, embedWindows, type EncodedWindow, type StateModel } from '../model/index.js';

/**
 * Maps windows to one vector each, with the modalities in `mask` treated as absent in every
 * window. Called only with windows that keep at least one modality after masking.
 */
export type Embedder = (windows: readonly EncodedWindow[], mask: readonly Modality[]) => Float32Array[];

export interface NamedEmbedder {
  name: string;
  embed: Embedder;
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  if (n > 0) for (let i = 0; i < v.length; i++) v[i] /= n;
  return v;
}

/**
 * The raw-backbone baseline: per window, the system-level backbone vectors (the first
 * `backboneDim` values of each modality's input) of the modalities present and not masked,
 * each L2-normalised, averaged, and normalised again.
 */
export function rawBackboneEmbedder(backboneDim: number): Embedder {
  if (!(Number.isInteger(backboneDim) && backboneDim > 0)) throw new RangeError(`rawBackboneEmbedder: backboneDim must be a positive integer, got ${backboneDim}`);
  return (windows, mask) => {
    const masked = new Set(mask);
    return windows.map((w) => {
      const out = new Float32Array(backboneDim);
      for (const m of MODALITIES) {
        const x = w.inputs[m];
        if (!x || masked.has(m)) continue;
        if (x.length < backboneDim) throw new RangeError(`rawBackboneEmbedder: a ${m} input has ${x.length} values, fewer than the backbone's ${backboneDim}`);
        const v = l2normalize(x.slice(0, backboneDim));
        for (let i = 0; i < backboneDim; i++) out[i] += v[i];
      }
      return l2normalize(out);
    });
  };
}

/**
 * Time alone, as a reference: window starts mapped onto a quarter circle, so cosine distance
 * grows with the time between two windows. What this scores, the labels give away by their
 * timing (faults of one kind injected back to back, regimes that last).
 */
export const timeEmbedder: Embedder = (windows) => {
  let lo = Infinity;
  let hi = -Infinity;
  for (const w of windows) {
    lo = Math.min(lo, w.window.start);
    hi = Math.max(hi, w.window.start);
  }
  const span = hi > lo ? hi - lo : 1;
  return windows.map((w) => {
    const a = ((w.window.start - lo) / span) * (Math.PI / 2);
    return Float32Array.of(Math.cos(a), Math.sin(a));
  });
};

/** The learned state embedding s of `model`, with the same masks. */
export function modelEmbedder(model: StateModel): Embedder {
  return (windows, mask) => embedWindows(model, windows, { mask }).state;
}
