/**
 * The rows states are found in: the model's state embedding of every window (with modalities
 * masked as asked), or — without a model — the metrics view's raw features, the fallback that
 * needs no training. Raw rows exist only for windows that have metrics; `keep` says which.
 */
import { currentFeatureLayouts, embedWindows, type EncodedWindow, type Modality, type StateModel } from '../model/index.js';

export function stateRows(model: StateModel, windows: readonly EncodedWindow[], opts: { mask?: readonly Modality[]; batchSize?: number } = {}): Float32Array[] {
  if (windows.length === 0) return [];
  return embedWindows(model, windows, { mask: opts.mask, batchSize: opts.batchSize }).state;
}

export function rawMetricRows(windows: readonly EncodedWindow[]): { rows: Float32Array[]; keep: number[] } {
  const width = currentFeatureLayouts().layouts.metrics.length;
  const rows: Float32Array[] = [];
  const keep: number[] = [];
  windows.forEach((w, i) => {
    const v = w.inputs.metrics;
    if (!v || v.length < width) return;
    rows.push(v.slice(v.length - width));
    keep.push(i);
  });
  return { rows, keep };
}

/** Row-wise concatenation (state embedding ⊕ raw features); every column is standardised later, so neither block's scale matters. */
export function joinRows(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array[] {
  if (a.length !== b.length) throw new RangeError(`joinRows: ${a.length} and ${b.length} rows`);
  return a.map((x, i) => {
    const out = new Float32Array(x.length + b[i].length);
    out.set(x, 0);
    out.set(b[i], x.length);
    return out;
  });
}
