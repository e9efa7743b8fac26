/**
 * The paper's Figure 4 comparison: the same windows embedded by the raw backbone and by the
 * learned model, each projected to 2-D and coloured by its own k-means state and by fault type,
 * with the silhouettes measured in the embedding space itself (cosine), not on the projection,
 * which distorts distances.
 */
import { kmeans } from 'ml-kmeans';
import type { Modality } from '../telemetry/index.js';
import { SeededRng } from '../telemetry/index.js';
import type { EncodedWindow } from '../model/index.js';
import { classSizes, cosineDistances, silhouette } from '../stats/index.js';
import { l2normalize, measurability, type MeasureValue, type NamedEmbedder } from '../eval/index.js';
import { project2d, type ProjectionMethod } from './project.js';
import { scatterGridSpec, type ScatterPanel } from './charts.js';
import type { TopLevelSpec } from 'vega-lite';

export const DEFAULT_MAX_POINTS = 1500;
/** k-means states tried when k is not given; the best silhouette wins. */
export const STATE_K_RANGE: readonly [number, number] = [2, 8];

export interface EmbeddingPlotOptions {
  method?: ProjectionMethod;
  seed?: number;
  mask?: readonly Modality[];
  /** k-means states per space (default: chosen by silhouette in STATE_K_RANGE) */
  k?: number;
  /** windows drawn at most (default DEFAULT_MAX_POINTS); fault windows are kept first */
  maxPoints?: number;
}

export interface EmbeddingSpace {
  name: string;
  /** states found by k-means in this space */
  k: number;
  /** silhouette of the k-means states (how far the space falls into states) */
  stateSilhouette: MeasureValue;
  /** silhouette of the fault types, normal windows as one class */
  typeSilhouette: MeasureValue;
  points: { x: number; y: number; state: string; type: string; start: number }[];
}

export interface EmbeddingPlot {
  method: ProjectionMethod;
  seed: number;
  mask: Modality[];
  /** windows drawn, and windows there were */
  n: number;
  total: number;
  spaces: EmbeddingSpace[];
  spec: TopLevelSpec;
}

/** The class a window is coloured by: its fault type, or `normal`. */
export function faultClass(w: EncodedWindow): string {
  if (!w.label.abnormal) return 'normal';
  return w.label.type ?? 'fault (type unknown)';
}

/** Up to `max` windows: every fault window first (they are few), then normal ones, by seed; in time order. */
export function sampleWindows(windows: readonly EncodedWindow[], max: number, seed: number): EncodedWindow[] {
  if (windows.length <= max) return [...windows];
  const rng = new SeededRng(seed, 'plot/sample');
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const idx = windows.map((_, i) => i);
  const faults = shuffle(idx.filter((i) => windows[i].label.abnormal));
  const normal = shuffle(idx.filter((i) => !windows[i].label.abnormal));
  const keepFaults = faults.slice(0, Math.min(faults.length, Math.max(Math.ceil(max / 2), max - normal.length)));
  const keep = [...keepFaults, ...normal.slice(0, max - keepFaults.length)].sort((a, b) => a - b);
  return keep.map((i) => windows[i]);
}

function measured(labels: readonly string[], rows: readonly Float32Array[], dist: Float64Array): MeasureValue {
  const nm = measurability(classSizes(labels).values());
  if (nm) return { value: null, notMeasurable: nm };
  return { value: silhouette(rows, labels, dist) };
}

/** k-means states (seeded k-means++); k chosen by silhouette unless given. */
function states(rows: readonly Float32Array[], dist: Float64Array, k: number | undefined, seed: number): { k: number; labels: string[] } {
  const data = rows.map((r) => Array.from(r));
  const fit = (kk: number) => kmeans(data, kk, { seed, initialization: 'kmeans++', maxIterations: 100 }).clusters.map((c) => `state ${c + 1}`);
  if (k !== undefined) return { k: Math.min(k, rows.length), labels: fit(Math.min(k, rows.length)) };
  let best = { k: 1, labels: rows.map(() => 'state 1'), score: -Infinity };
  for (let kk = STATE_K_RANGE[0]; kk <= Math.min(STATE_K_RANGE[1], rows.length - 1); kk++) {
    const labels = fit(kk);
    const s = silhouette(rows, labels, dist);
    if (s > best.score) best = { k: kk, labels, score: s };
  }
  return best;
}

export function formatMeasure(m: MeasureValue): string {
  return m.value === null ? `not measurable (${m.notMeasurable.reason})` : m.value.toFixed(3);
}

/**
 * Embeds the windows with each embedder (modalities in `mask` treated as absent; windows left
 * with no modality are skipped), finds states, measures silhouettes and lays out the plot: one
 * row coloured by state, one by fault type, a column per embedder.
 */
export function embeddingPlot(windows: readonly EncodedWindow[], embedders: readonly NamedEmbedder[], opts: EmbeddingPlotOptions = {}): EmbeddingPlot {
  const method = opts.method ?? 'umap';
  const seed = opts.seed ?? 0;
  const mask = [...(opts.mask ?? [])];
  const masked = new Set(mask);
  const usable = windows.filter((w) => Object.keys(w.inputs).some((m) => !masked.has(m as Modality)));
  const drawn = sampleWindows(usable, opts.maxPoints ?? DEFAULT_MAX_POINTS, seed);
  const types = drawn.map(faultClass);
  const spaces: EmbeddingSpace[] = embedders.map((e) => {
    const rows = drawn.length ? e.embed(drawn, mask).map((v) => l2normalize(Float32Array.from(v))) : [];
    const dist = cosineDistances(rows);
    const st = rows.length >= 2 ? states(rows, dist, opts.k, seed) : { k: rows.length, labels: rows.map(() => 'state 1') };
    const xy = project2d(rows, { method, seed });
    return {
      name: e.name,
      k: st.k,
      stateSilhouette: measured(st.labels, rows, dist),
      typeSilhouette: measured(types, rows, dist),
      points: xy.map(([x, y], i) => ({ x, y, state: st.labels[i], type: types[i], start: drawn[i].window.start })),
    };
  });
  const panel = (s: EmbeddingSpace, by: 'state' | 'type'): ScatterPanel => ({
    title: `${s.name}: ${by === 'state' ? `k-means states (k=${s.k})` : 'fault type'}`,
    subtitle: `silhouette ${formatMeasure(by === 'state' ? s.stateSilhouette : s.typeSilhouette)} (cosine, in the embedding space)`,
    colourTitle: by === 'state' ? `${s.name} state` : 'fault type',
    points: s.points.map((p) => ({ x: p.x, y: p.y, colour: by === 'state' ? p.state : p.type })),
  });
  const spec = scatterGridSpec(
    [
      { panels: spaces.map((s) => panel(s, 'state')), sharedColours: false },
      { panels: spaces.map((s) => panel(s, 'type')), sharedColours: true },
    ],
    { title: `${method.toUpperCase()} of ${drawn.length} windows${mask.length ? ` (masked: ${mask.join(', ')})` : ''}, seed ${seed}` },
  );
  return { method, seed, mask, n: drawn.length, total: usable.length, spaces, spec };
}
