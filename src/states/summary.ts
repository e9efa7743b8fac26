/**
 * What each state is: its size, its share of the time, when it held (runs of consecutive
 * windows), and the signals that set it apart — the views' raw features (not the embedding,
 * which has no names) ranked by standardized mean difference between the state's windows and
 * the rest, at system level and, for windows encoded with entities, per service.
 */
import { SYSTEM_ENTITY } from '../encode/index.js';
import { MODALITIES, currentFeatureLayouts, type EncodedWindow, type Modality, type ModalityInputs } from '../model/index.js';

export interface StateInterval {
  source: string;
  start: number;
  end: number;
  windows: number;
}

export interface FeatureContrast {
  /** SYSTEM_ENTITY or a service. */
  entity: string;
  modality: Modality;
  feature: string;
  /** (mean in the state − mean elsewhere) / pooled standard deviation. */
  smd: number;
  mean: number;
  restMean: number;
}

export interface ServiceContrast {
  service: string;
  /** Largest |SMD| over the service's features, and the feature that has it. */
  score: number;
  top: FeatureContrast;
}

export interface StateSummary {
  state: number;
  windows: number;
  /** Share of the windows. */
  share: number;
  /** Time the state held (intervals summed) and its share of the time covered by any state. */
  timeMs: number;
  timeShare: number;
  intervals: StateInterval[];
  /** Share of the state's windows that have each modality. */
  presence: Record<Modality, number>;
  /** Share of the state's windows labelled abnormal (labels are read, never used to fit). */
  abnormalShare: number;
  features: FeatureContrast[];
  services: ServiceContrast[];
}

export interface SummaryOptions {
  k: number;
  /** Window stride: a run of windows holds from its first start to its last start + stride. */
  strideMs: number;
  /** Features and services listed per state (default 5 and 3). */
  topFeatures?: number;
  topServices?: number;
}

/** The named raw features of one window's inputs for modality m (the tail of the input vector). */
function featuresOf(inputs: ModalityInputs | undefined, m: Modality, width: number): Float32Array | undefined {
  const v = inputs?.[m];
  if (!v || v.length < width) return undefined;
  return v.subarray(v.length - width);
}

/** Mean-difference contrasts of every feature of (entity, m) between the state and the rest. */
function contrasts(
  windows: readonly EncodedWindow[],
  inState: readonly boolean[],
  entity: string,
  m: Modality,
  names: readonly string[],
): FeatureContrast[] {
  const d = names.length;
  const s = { n: 0, sum: new Float64Array(d), sq: new Float64Array(d) };
  const r = { n: 0, sum: new Float64Array(d), sq: new Float64Array(d) };
  windows.forEach((w, i) => {
    const f = featuresOf(entity === SYSTEM_ENTITY ? w.inputs : w.entities?.get(entity), m, d);
    if (!f) return;
    const g = inState[i] ? s : r;
    g.n++;
    for (let j = 0; j < d; j++) {
      g.sum[j] += f[j];
      g.sq[j] += f[j] * f[j];
    }
  });
  // too few windows on either side to say anything about a difference
  if (s.n < 2 || r.n < 2) return [];
  const out: FeatureContrast[] = [];
  for (let j = 0; j < d; j++) {
    const ms = s.sum[j] / s.n;
    const mr = r.sum[j] / r.n;
    const vs = Math.max(0, s.sq[j] / s.n - ms * ms);
    const vr = Math.max(0, r.sq[j] / r.n - mr * mr);
    const pooled = Math.sqrt((vs + vr) / 2);
    // a constant feature separates nothing; the floor keeps a near-constant one from exploding
    if (Math.abs(ms - mr) < 1e-9) continue;
    out.push({ entity, modality: m, feature: names[j], smd: (ms - mr) / Math.max(pooled, 1e-3), mean: ms, restMean: mr });
  }
  return out;
}

function intervalsOf(windows: readonly EncodedWindow[], idx: readonly number[], strideMs: number): StateInterval[] {
  const sorted = [...idx].sort((a, b) => windows[a].source.localeCompare(windows[b].source) || windows[a].window.index - windows[b].window.index);
  const out: StateInterval[] = [];
  let cur: (StateInterval & { lastIndex: number }) | undefined;
  for (const i of sorted) {
    const w = windows[i];
    const end = Math.min(w.window.start + strideMs, w.window.end);
    if (cur && cur.source === w.source && w.window.index === cur.lastIndex + 1) {
      cur.end = end;
      cur.windows++;
      cur.lastIndex = w.window.index;
    } else {
      if (cur) out.push({ source: cur.source, start: cur.start, end: cur.end, windows: cur.windows });
      cur = { source: w.source, start: w.window.start, end, windows: 1, lastIndex: w.window.index };
    }
  }
  if (cur) out.push({ source: cur.source, start: cur.start, end: cur.end, windows: cur.windows });
  return out;
}

export function summarizeStates(windows: readonly EncodedWindow[], states: readonly number[], opts: SummaryOptions): StateSummary[] {
  if (windows.length !== states.length) throw new RangeError(`summarizeStates: ${windows.length} windows and ${states.length} states`);
  const { layouts } = currentFeatureLayouts();
  const services = new Set<string>();
  for (const w of windows) for (const e of w.entities?.keys() ?? []) services.add(e);
  const topF = opts.topFeatures ?? 5;
  const topS = opts.topServices ?? 3;
  const summaries: StateSummary[] = [];
  for (let s = 0; s < opts.k; s++) {
    const idx: number[] = [];
    states.forEach((x, i) => x === s && idx.push(i));
    const inState = states.map((x) => x === s);
    const intervals = intervalsOf(windows, idx, opts.strideMs);
    const presence = { metrics: 0, traces: 0, logs: 0 } as Record<Modality, number>;
    let abnormal = 0;
    for (const i of idx) {
      for (const m of MODALITIES) if (windows[i].inputs[m]) presence[m]++;
      if (windows[i].label.abnormal) abnormal++;
    }
    for (const m of MODALITIES) presence[m] = idx.length ? presence[m] / idx.length : 0;
    const system = MODALITIES.flatMap((m) => contrasts(windows, inState, SYSTEM_ENTITY, m, layouts[m]));
    system.sort((a, b) => Math.abs(b.smd) - Math.abs(a.smd));
    const perService: ServiceContrast[] = [];
    for (const svc of services) {
      const c = MODALITIES.flatMap((m) => contrasts(windows, inState, svc, m, layouts[m]));
      if (c.length === 0) continue;
      const top = c.reduce((a, b) => (Math.abs(b.smd) > Math.abs(a.smd) ? b : a));
      perService.push({ service: svc, score: Math.abs(top.smd), top });
    }
    perService.sort((a, b) => b.score - a.score || a.service.localeCompare(b.service));
    summaries.push({
      state: s,
      windows: idx.length,
      share: windows.length ? idx.length / windows.length : 0,
      timeMs: intervals.reduce((t, iv) => t + (iv.end - iv.start), 0),
      timeShare: 0,
      intervals,
      presence,
      abnormalShare: idx.length ? abnormal / idx.length : 0,
      features: system.slice(0, topF),
      services: perService.slice(0, topS),
    });
  }
  const total = summaries.reduce((t, s) => t + s.timeMs, 0);
  for (const s of summaries) s.timeShare = total > 0 ? s.timeMs / total : 0;
  return summaries;
}
