/**
 * Probes of an embedding space against what the data can honestly tell (issue 7, item 7).
 *
 * Which questions a dataset can answer depends on how it was recorded:
 *
 * - **Nezha-like** (traces and logs exist only near faults, so "fault vs normal" over all
 *   modalities would measure which files exist): (a) among fault windows only — one per fault,
 *   all three modalities present — kNN accuracy of fault type and of root-cause service;
 *   (b) fault vs normal with traces and logs masked in *every* window (metrics only).
 * - **Simulator folders** (every window has all modalities): (c) kNN purity and silhouette of
 *   normal vs fault and of the workload regime (from the simulator's regimes.json).
 * - **AIOps 2022 cases** (every case is a fault): kNN accuracy of fault type and root-cause
 *   service, with neighbours from the same failure excluded (headline), and on the authors'
 *   split (test cases against train cases; leaks, reported for comparison only).
 *
 * Every kNN question excludes neighbours that share time with the query (overlapping windows
 * are near-copies of one another) or the same fault, so a window is never "recognised" by a
 * copy of itself. Every figure comes with its chance level. Embedders are compared on the
 * same samples with the same masks: the raw backbone (average of the present modalities'
 * backbone vectors), time alone (how much the labels follow the clock), and learned models.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError, type Dataset, type DatasetCase, type DatasetFormat, type FaultLabel, type Modality } from '../telemetry/index.js';
import { MODALITIES, embedWindows, type EncodedWindow, type StateModel } from '../model/index.js';
import { cosineDistances, silhouette } from './embedding-metrics.js';

export type ProbeKind = 'nezha' | 'simulator' | 'aiops22';

/** One interval of the simulator's regimes.json. */
export interface RegimeSpan {
  start: number;
  end: number;
  regime: string;
}

/** One dataset's windows and the labels the probe reads (never the model). */
export interface ProbeSource {
  /** shown in reports (e.g. the folder) */
  name: string;
  kind: ProbeKind;
  windows: readonly EncodedWindow[];
  /** the dataset's faults (active periods), for "which fault does this window belong to" */
  faults: readonly FaultLabel[];
  /** case-based sources: cases with their failure group and split */
  cases?: readonly DatasetCase[];
  /** simulator folders: the workload timeline */
  regimes?: readonly RegimeSpan[];
}

/**
 * Maps windows to one vector each, with the modalities in `mask` treated as absent in every
 * window. Called only with windows that keep at least one modality after masking.
 */
export type Embedder = (windows: readonly EncodedWindow[], mask: readonly Modality[]) => Float32Array[];

export interface NamedEmbedder {
  name: string;
  embed: Embedder;
}

export type ProbeMetric = 'accuracy' | 'balanced-accuracy' | 'purity' | 'class-purity' | 'silhouette';

export interface ProbeMeasure {
  /** stable key, e.g. 'a.type.acc' */
  id: string;
  /** what it measures, for people */
  label: string;
  metric: ProbeMetric;
  /** queries scored (rows with no admissible neighbour are left out) */
  n: number;
  classes: number;
  /**
   * What a guess that ignores the embedding scores. Accuracy: the better of always guessing the
   * most frequent label and guessing the most frequent label among the rows the query may use
   * as neighbours (`referenceChance`); balanced accuracy likewise with 1/classes; purities: the
   * share of the admissible rows carrying the query's label; silhouettes: 0.
   */
  chance: number;
  /** accuracy measures: the plain majority-class share of the queries */
  majority?: number;
  /** per embedder name */
  values: Record<string, number>;
}

export interface ProbeReport {
  source: string;
  kind: ProbeKind;
  k: number;
  embedders: string[];
  measures: ProbeMeasure[];
  /** sample-set sizes, e.g. { 'a.faults': 45, 'b.windows': 2300 } */
  samples: Record<string, number>;
  notes: string[];
}

export interface ProbeOptions {
  /** neighbours (default 5) */
  k?: number;
  /**
   * (a) is also scored with neighbours at least this far from the query in time (default
   * 60 min): Nezha injects faults of one type and service back to back, so nearby neighbours
   * share the label because they share the hour.
   */
  minGapMs?: number;
}

export const DEFAULT_PROBE_K = 5;
export const DEFAULT_MIN_GAP_MS = 60 * 60_000;

/** Which probe applies to a dataset format: OTLP folders are read as simulator output. */
export function probeKindOf(format: DatasetFormat): ProbeKind {
  return format === 'otlp' ? 'simulator' : format;
}

// ---------------------------------------------------------------------------------------------
// Embedders

function l2normalize(v: Float32Array): Float32Array {
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

// ---------------------------------------------------------------------------------------------
// Labels from sidecars

/**
 * The simulator's regimes.json beside a folder's OTLP output, or undefined when there is none.
 * A file that is there but malformed is a user error.
 */
export async function readRegimes(folder: string): Promise<RegimeSpan[] | undefined> {
  const st = await stat(folder).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  const path = join(folder, 'regimes.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message}); expected [{start, end, regime}]`);
  }
  if (!Array.isArray(data)) throw new UserError(`${path}: expected a JSON array of {start, end, regime}`);
  return data.map((x: unknown, i) => {
    const r = x as Partial<RegimeSpan> | null;
    if (!r || typeof r.regime !== 'string' || !Number.isFinite(r.start) || !Number.isFinite(r.end) || !((r.end as number) > (r.start as number))) {
      throw new UserError(`${path}: entry ${i} is not {start, end, regime} with epoch-ms start < end`);
    }
    return { start: r.start as number, end: r.end as number, regime: r.regime };
  });
}

/**
 * The regime covering most of `w` (overlap summed over the intervals of each regime; ties: the
 * regime met first) and, of that regime's intervals, the one covering most of `w`; undefined
 * when no interval overlaps.
 */
export function regimeOf(w: { start: number; end: number }, regimes: readonly RegimeSpan[]): { regime: string; interval: number } | undefined {
  const overlap = regimes.map((r) => Math.max(0, Math.min(w.end, r.end) - Math.max(w.start, r.start)));
  const total = new Map<string, number>();
  regimes.forEach((r, i) => {
    if (overlap[i] > 0) total.set(r.regime, (total.get(r.regime) ?? 0) + overlap[i]);
  });
  if (total.size === 0) return undefined;
  let regime = '';
  let best = -1;
  for (const [k, v] of total) {
    if (v > best) {
      best = v;
      regime = k;
    }
  }
  let interval = -1;
  regimes.forEach((r, i) => {
    if (r.regime === regime && (interval < 0 || overlap[i] > overlap[interval])) interval = i;
  });
  return { regime, interval };
}

/**
 * What the probe reads of a dataset: its kind, faults, cases and (simulator folders) the
 * regimes.json beside the data.
 */
export async function probeSourceOf(ds: Dataset, windows: readonly EncodedWindow[], name = ds.root): Promise<ProbeSource> {
  const kind = probeKindOf(ds.format);
  const regimes = kind === 'simulator' ? await readRegimes(ds.root) : undefined;
  return { name, kind, windows, faults: ds.labels, cases: ds.cases, regimes };
}

// ---------------------------------------------------------------------------------------------
// kNN with admissible neighbours

/** Decides whether row j may serve as a neighbour of query row i. */
export type Admissible = (i: number, j: number) => boolean;

export interface KnnResult {
  /** queries that had at least one admissible neighbour */
  scored: number[];
  /** predicted label per scored query */
  predicted: string[];
  /** share of a scored query's neighbours that carry its label */
  purity: number[];
}

/**
 * kNN over a distance matrix: for each query, its k nearest admissible rows (ties: lower
 * index), the majority label among them (ties: the label of the nearest tied neighbour) and
 * the share carrying the query's own label. Selection keeps a k-long sorted list, O(n·k).
 */
export function knnWithExclusion(dist: Float64Array, n: number, labels: readonly string[], k: number, queries: readonly number[], admissible: Admissible): KnnResult {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
  const scored: number[] = [];
  const predicted: string[] = [];
  const purity: number[] = [];
  const nbIdx = new Int32Array(k);
  const nbDist = new Float64Array(k);
  for (const i of queries) {
    let m = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || !admissible(i, j)) continue;
      const d = dist[i * n + j];
      if (m === k && !(d < nbDist[k - 1])) continue;
      let p = m < k ? m++ : k - 1;
      while (p > 0 && nbDist[p - 1] > d) {
        nbDist[p] = nbDist[p - 1];
        nbIdx[p] = nbIdx[p - 1];
        p--;
      }
      nbDist[p] = d;
      nbIdx[p] = j;
    }
    if (m === 0) continue;
    const votes = new Map<string, number>();
    let own = 0;
    for (let t = 0; t < m; t++) {
      const l = labels[nbIdx[t]];
      votes.set(l, (votes.get(l) ?? 0) + 1);
      if (l === labels[i]) own++;
    }
    const top = Math.max(...votes.values());
    let pred = '';
    for (let t = 0; t < m; t++) {
      if (votes.get(labels[nbIdx[t]]) === top) {
        pred = labels[nbIdx[t]];
        break;
      }
    }
    scored.push(i);
    predicted.push(pred);
    purity.push(own / m);
  }
  return { scored, predicted, purity };
}

function counts(labels: readonly string[]): Map<string, number> {
  const c = new Map<string, number>();
  for (const l of labels) c.set(l, (c.get(l) ?? 0) + 1);
  return c;
}

/** Share of the most frequent label: what always guessing it scores. */
export function majorityShare(labels: readonly string[]): number {
  if (labels.length === 0) return NaN;
  return Math.max(...counts(labels).values()) / labels.length;
}

/** Expected purity of k random other rows: Σ_c p_c · (n_c − 1) / (n − 1). */
export function randomPurity(labels: readonly string[]): number {
  const n = labels.length;
  if (n < 2) return NaN;
  let s = 0;
  for (const c of counts(labels).values()) s += (c / n) * ((c - 1) / (n - 1));
  return s;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : xs.reduce((a, b) => a + b, 0) / xs.length;
}

function accuracyOf(r: KnnResult, labels: readonly string[]): number {
  return mean(r.scored.map((i, t) => (r.predicted[t] === labels[i] ? 1 : 0)));
}

/** Mean per-class recall: 1/C for a guess that ignores the input. */
function balancedAccuracyOf(r: KnnResult, labels: readonly string[]): number {
  const hit = new Map<string, number>();
  const all = new Map<string, number>();
  r.scored.forEach((i, t) => {
    all.set(labels[i], (all.get(labels[i]) ?? 0) + 1);
    if (r.predicted[t] === labels[i]) hit.set(labels[i], (hit.get(labels[i]) ?? 0) + 1);
  });
  return mean([...all.keys()].map((c) => (hit.get(c) ?? 0) / (all.get(c) as number)));
}

// ---------------------------------------------------------------------------------------------
// The probe

interface SampleSet {
  key: string;
  windows: EncodedWindow[];
  mask: Modality[];
}

/** Distances per (sample set, embedder), computed once and shared by the questions on that set. */
class DistanceCache {
  private readonly cache = new Map<string, Float64Array>();
  constructor(private readonly embedders: readonly NamedEmbedder[]) {}
  get(set: SampleSet, e: NamedEmbedder): Float64Array {
    const key = `${set.key}\u0000${e.name}`;
    let d = this.cache.get(key);
    if (!d) {
      const rows = e.embed(set.windows, set.mask);
      if (rows.length !== set.windows.length) throw new Error(`embedder ${e.name} returned ${rows.length} rows for ${set.windows.length} windows`);
      d = cosineDistances(rows);
      this.cache.set(key, d);
    }
    return d;
  }
  get names(): string[] {
    return this.embedders.map((e) => e.name);
  }
}

function presentAfterMask(w: EncodedWindow, mask: readonly Modality[]): Modality[] {
  return MODALITIES.filter((m) => w.inputs[m] !== undefined && !mask.includes(m));
}

function hasAll(w: EncodedWindow): boolean {
  return MODALITIES.every((m) => w.inputs[m] !== undefined);
}

function sharesTime(a: EncodedWindow, b: EncodedWindow): boolean {
  return a.source === b.source && a.window.start < b.window.end && b.window.start < a.window.end;
}

/** Ids of the faults whose active period overlaps each window. */
function faultsPerWindow(windows: readonly EncodedWindow[], faults: readonly FaultLabel[]): Set<string>[] {
  return windows.map((w) => new Set(faults.filter((f) => f.start < w.window.end && w.window.start < f.end).map((f) => f.id)));
}

function sharesFault(a: Set<string>, b: Set<string>): boolean {
  for (const x of a) if (b.has(x)) return true;
  return false;
}

/**
 * What a guess that ignores the embedding scores on each scored query, given the rows it may
 * use as neighbours: `hit` — predicting the majority label of those rows (ties split evenly) —
 * and `share` — the share of those rows carrying the query's label (random neighbours). With
 * nothing excluded these are the majority-class share and the random-neighbour purity; with
 * neighbours restricted (far in time, other failures, the train split) they are the honest
 * reference, since the restriction changes which labels are within reach.
 */
export function referenceChance(labels: readonly string[], scored: readonly number[], admissible: Admissible, n: number): { hit: number[]; share: number[] } {
  const hit: number[] = [];
  const share: number[] = [];
  for (const i of scored) {
    const c = new Map<string, number>();
    let total = 0;
    for (let j = 0; j < n; j++) {
      if (j === i || !admissible(i, j)) continue;
      c.set(labels[j], (c.get(labels[j]) ?? 0) + 1);
      total++;
    }
    const top = Math.max(0, ...c.values());
    const tied = [...c.values()].filter((v) => v === top).length;
    hit.push(c.get(labels[i]) === top ? 1 / tied : 0);
    share.push(total > 0 ? (c.get(labels[i]) ?? 0) / total : 0);
  }
  return { hit, share };
}

class Scorer {
  readonly measures: ProbeMeasure[] = [];
  constructor(
    private readonly dc: DistanceCache,
    private readonly embedders: readonly NamedEmbedder[],
    private readonly k: number,
  ) {}

  /** kNN accuracy (and optionally balanced accuracy / purities) of `labels` on `set`. */
  knn(
    set: SampleSet,
    labels: readonly string[],
    admissible: Admissible,
    spec: {
      id: string;
      label: string;
      metrics: ('accuracy' | 'balanced-accuracy' | 'purity' | 'class-purity')[];
      /** for class-purity: the class whose neighbourhood is scored */
      cls?: string;
      queries?: readonly number[];
    },
  ): void {
    const n = set.windows.length;
    const queries = spec.queries ?? labels.map((_, i) => i);
    const results = this.embedders.map((e) => knnWithExclusion(this.dc.get(set, e), n, labels, this.k, queries, admissible));
    const scored = results[0]?.scored ?? [];
    const qLabels = scored.map((i) => labels[i]);
    const classes = new Set(qLabels).size;
    const ref = referenceChance(labels, scored, admissible, n);
    for (const metric of spec.metrics) {
      const values: Record<string, number> = {};
      let chance: number;
      let majority: number | undefined;
      let nq = scored.length;
      if (metric === 'accuracy') {
        this.embedders.forEach((e, t) => (values[e.name] = accuracyOf(results[t], labels)));
        majority = majorityShare(qLabels);
        chance = Math.max(majority, mean(ref.hit));
      } else if (metric === 'balanced-accuracy') {
        this.embedders.forEach((e, t) => (values[e.name] = balancedAccuracyOf(results[t], labels)));
        const byClass = new Map<string, number[]>();
        scored.forEach((i, q) => byClass.set(labels[i], [...(byClass.get(labels[i]) ?? []), ref.hit[q]]));
        chance = Math.max(classes > 0 ? 1 / classes : NaN, mean([...byClass.values()].map(mean)));
      } else if (metric === 'purity') {
        this.embedders.forEach((e, t) => (values[e.name] = mean(results[t].purity)));
        chance = mean(ref.share);
      } else {
        const cls = spec.cls as string;
        this.embedders.forEach((e, t) => (values[e.name] = mean(results[t].purity.filter((_, q) => labels[results[t].scored[q]] === cls))));
        chance = mean(ref.share.filter((_, q) => labels[scored[q]] === cls));
        nq = qLabels.filter((l) => l === cls).length;
      }
      const suffix = { accuracy: 'acc', 'balanced-accuracy': 'bacc', purity: 'purity', 'class-purity': `purity.${spec.cls}` }[metric];
      const what = { accuracy: 'kNN accuracy', 'balanced-accuracy': 'kNN balanced accuracy', purity: 'kNN purity', 'class-purity': `kNN purity of ${spec.cls} windows` }[metric];
      this.measures.push({ id: `${spec.id}.${suffix}`, label: `${spec.label}: ${what}`, metric, n: nq, classes, chance, ...(majority !== undefined ? { majority } : {}), values });
    }
  }

  silhouette(set: SampleSet, labels: readonly string[], spec: { id: string; label: string }): void {
    const values: Record<string, number> = {};
    const dummy: Float32Array[] = set.windows.map(() => new Float32Array(0));
    for (const e of this.embedders) values[e.name] = silhouette(dummy, labels, this.dc.get(set, e));
    this.measures.push({ id: `${spec.id}.silhouette`, label: `${spec.label}: silhouette`, metric: 'silhouette', n: labels.length, classes: new Set(labels).size, chance: 0, values });
  }
}

/**
 * The fault windows of (a): per fault, the latest window starting at or before its start that
 * contains the start (with a 1-minute stride: the window starting at the minute of injection),
 * kept when it has all three modalities. One window per fault, so every fault weighs the same.
 */
export function faultWindows(windows: readonly EncodedWindow[], faults: readonly FaultLabel[]): { picked: { window: EncodedWindow; fault: FaultLabel }[]; missing: FaultLabel[]; partial: FaultLabel[] } {
  const picked: { window: EncodedWindow; fault: FaultLabel }[] = [];
  const missing: FaultLabel[] = [];
  const partial: FaultLabel[] = [];
  for (const f of [...faults].sort((a, b) => a.start - b.start)) {
    let best: EncodedWindow | undefined;
    for (const w of windows) {
      if (w.window.start <= f.start && f.start < w.window.end && (!best || w.window.start > best.window.start)) best = w;
    }
    if (!best) missing.push(f);
    else if (!hasAll(best)) partial.push(f);
    else picked.push({ window: best, fault: f });
  }
  return { picked, missing, partial };
}

function shortType(f: { type?: string }): string {
  return f.type ?? '(none)';
}

function probeNezha(src: ProbeSource, sc: Scorer, opts: Required<ProbeOptions>, samples: Record<string, number>, notes: string[]): void {
  // (a) fault windows only, all three modalities, no mask.
  const fw = faultWindows(src.windows, src.faults);
  samples['a.faults'] = fw.picked.length;
  if (fw.missing.length > 0) notes.push(`(a): ${fw.missing.length} fault(s) without a window containing their start were left out`);
  if (fw.partial.length > 0) notes.push(`(a): ${fw.partial.length} fault(s) whose window lacks a modality were left out (${fw.partial.map((f) => f.id).join(', ')})`);
  if (fw.picked.length >= 2) {
    const setA: SampleSet = { key: 'a', windows: fw.picked.map((p) => p.window), mask: [] };
    const types = fw.picked.map((p) => shortType(p.fault));
    const services = fw.picked.map((p) => p.fault.rootCauseService);
    const noOverlap: Admissible = (i, j) => !sharesTime(setA.windows[i], setA.windows[j]);
    const far: Admissible = (i, j) => Math.abs(setA.windows[i].window.start - setA.windows[j].window.start) >= opts.minGapMs;
    const gap = `${Math.round(opts.minGapMs / 60_000)} min`;
    sc.knn(setA, types, noOverlap, { id: 'a.type', label: '(a) fault windows, fault type', metrics: ['accuracy'] });
    sc.knn(setA, services, noOverlap, { id: 'a.service', label: '(a) fault windows, root-cause service', metrics: ['accuracy'] });
    sc.knn(setA, types, far, { id: 'a.type.far', label: `(a) fault type, neighbours ≥ ${gap} away`, metrics: ['accuracy'] });
    sc.knn(setA, services, far, { id: 'a.service.far', label: `(a) root-cause service, neighbours ≥ ${gap} away`, metrics: ['accuracy'] });
  }

  // (b) fault vs normal, traces and logs masked in every window.
  const mask: Modality[] = ['traces', 'logs'];
  const setB: SampleSet = { key: 'b', windows: src.windows.filter((w) => presentAfterMask(w, mask).length > 0), mask };
  samples['b.windows'] = setB.windows.length;
  samples['b.fault'] = setB.windows.filter((w) => w.label.abnormal).length;
  const dropped = src.windows.length - setB.windows.length;
  if (dropped > 0) notes.push(`(b): ${dropped} window(s) without metrics were left out`);
  if (setB.windows.length >= 2) {
    const fb = faultsPerWindow(setB.windows, src.faults);
    const labels = setB.windows.map((w) => (w.label.abnormal ? 'fault' : 'normal'));
    const adm: Admissible = (i, j) => !sharesTime(setB.windows[i], setB.windows[j]) && !sharesFault(fb[i], fb[j]);
    sc.knn(setB, labels, adm, { id: 'b.fault', label: '(b) fault vs normal, metrics only', metrics: ['accuracy', 'balanced-accuracy', 'class-purity'], cls: 'fault' });
    sc.silhouette(setB, labels, { id: 'b.fault', label: '(b) fault vs normal, metrics only' });

    // Nezha injects faults in the morning and early afternoon only; the evening is normal and
    // under another load. Restricted to the hours faults were being injected, the clock no
    // longer separates the classes by itself.
    const hours = faultSchedule(src.faults);
    const inSched = setB.windows.map((w, i) => (inSchedule(w, hours) ? i : -1)).filter((i) => i >= 0);
    const setS: SampleSet = { key: 'b.sched', windows: inSched.map((i) => setB.windows[i]), mask };
    const ls = inSched.map((i) => labels[i]);
    const fs = inSched.map((i) => fb[i]);
    samples['b.sched.windows'] = setS.windows.length;
    samples['b.sched.fault'] = ls.filter((l) => l === 'fault').length;
    if (new Set(ls).size > 1) {
      const admS: Admissible = (i, j) => !sharesTime(setS.windows[i], setS.windows[j]) && !sharesFault(fs[i], fs[j]);
      const what = '(b) fault vs normal, metrics only, injection hours';
      sc.knn(setS, ls, admS, { id: 'b.sched', label: what, metrics: ['balanced-accuracy', 'class-purity'], cls: 'fault' });
      sc.silhouette(setS, ls, { id: 'b.sched', label: what });
    }
  }
}

const DAY_MS = 86_400_000;

/** Per UTC day, from the first fault's start to the last fault's end. */
function faultSchedule(faults: readonly FaultLabel[]): Map<number, { start: number; end: number }> {
  const out = new Map<number, { start: number; end: number }>();
  for (const f of faults) {
    const day = Math.floor(f.start / DAY_MS);
    const r = out.get(day);
    if (!r) out.set(day, { start: f.start, end: f.end });
    else {
      r.start = Math.min(r.start, f.start);
      r.end = Math.max(r.end, f.end);
    }
  }
  return out;
}

function inSchedule(w: EncodedWindow, hours: Map<number, { start: number; end: number }>): boolean {
  const r = hours.get(Math.floor(w.window.start / DAY_MS));
  return r !== undefined && w.window.start < r.end && r.start < w.window.end;
}

function probeSimulator(src: ProbeSource, sc: Scorer, samples: Record<string, number>, notes: string[]): void {
  // (c) windows with all three modalities; presence is not a signal there, and is kept equal.
  const set: SampleSet = { key: 'c', windows: src.windows.filter(hasAll), mask: [] };
  samples['c.windows'] = set.windows.length;
  samples['c.fault'] = set.windows.filter((w) => w.label.abnormal).length;
  const dropped = src.windows.length - set.windows.length;
  if (dropped > 0) notes.push(`(c): ${dropped} window(s) lacking a modality were left out`);
  if (set.windows.length < 2) return;
  const fc = faultsPerWindow(set.windows, src.faults);
  const adm: Admissible = (i, j) => !sharesTime(set.windows[i], set.windows[j]) && !sharesFault(fc[i], fc[j]);
  const labels = set.windows.map((w) => (w.label.abnormal ? 'fault' : 'normal'));
  if (new Set(labels).size > 1) {
    sc.knn(set, labels, adm, { id: 'c.fault', label: '(c) fault vs normal, all modalities', metrics: ['purity', 'class-purity'], cls: 'fault' });
    sc.silhouette(set, labels, { id: 'c.fault', label: '(c) fault vs normal, all modalities' });
  } else notes.push('(c): all windows have the same fault label; fault vs normal not scored');

  if (!src.regimes || src.regimes.length === 0) {
    notes.push('(c): no regimes.json beside the data; workload regime not scored');
    return;
  }
  const reg = set.windows.map((w) => regimeOf(w.window, src.regimes as RegimeSpan[]));
  const idx = reg.map((r, i) => (r ? i : -1)).filter((i) => i >= 0);
  if (idx.length < set.windows.length) notes.push(`(c): ${set.windows.length - idx.length} window(s) outside regimes.json left out of the regime measures`);
  const rset: SampleSet = idx.length === set.windows.length ? set : { key: 'c.regime', windows: idx.map((i) => set.windows[i]), mask: [] };
  const rl = idx.map((i) => (reg[i] as { regime: string }).regime);
  const ri = idx.map((i) => (reg[i] as { interval: number }).interval);
  samples['c.regime.windows'] = rset.windows.length;
  samples['c.regime.intervals'] = new Set(ri).size;
  if (new Set(rl).size < 2) {
    notes.push('(c): a single workload regime in this run; regime not scored');
    return;
  }
  const radm: Admissible = (i, j) => !sharesTime(rset.windows[i], rset.windows[j]);
  sc.knn(rset, rl, radm, { id: 'c.regime', label: '(c) workload regime', metrics: ['purity'] });
  // Neighbours from other stretches of the timeline only: recognising a regime when it returns.
  sc.knn(rset, rl, (i, j) => ri[i] !== ri[j], { id: 'c.regime.other', label: '(c) workload regime, neighbours from other regime intervals', metrics: ['purity'] });
  sc.silhouette(rset, rl, { id: 'c.regime', label: '(c) workload regime' });
}

/** Failure group of an AIOps 2022 case id `<cloudbed>_<failure>_<window>` when no case list says. */
function groupFromCaseId(id: string): string {
  const k = id.lastIndexOf('_');
  return k > 0 ? id.slice(0, k) : id;
}

function probeCases(src: ProbeSource, sc: Scorer, samples: Record<string, number>, notes: string[]): void {
  const byId = new Map(src.cases?.map((c) => [c.id, c]));
  const set: SampleSet = { key: 'cases', windows: src.windows.filter((w) => w.caseId !== undefined && w.label.type !== undefined), mask: [] };
  samples['cases'] = set.windows.length;
  if (set.windows.length < 2) {
    notes.push('cases: fewer than two labelled cases; nothing scored');
    return;
  }
  const group = set.windows.map((w) => byId.get(w.caseId as string)?.group ?? groupFromCaseId(w.caseId as string));
  const split = set.windows.map((w) => w.split ?? byId.get(w.caseId as string)?.split);
  samples['cases.failures'] = new Set(group).size;
  const types = set.windows.map((w) => shortType(w.label));
  const services = set.windows.map((w) => w.label.rootCauseService ?? '(none)');
  const grouped: Admissible = (i, j) => group[i] !== group[j];
  sc.knn(set, types, grouped, { id: 'cases.type', label: 'cases, fault type, other failures only', metrics: ['accuracy'] });
  sc.knn(set, services, grouped, { id: 'cases.service', label: 'cases, root-cause service, other failures only', metrics: ['accuracy'] });
  const test = split.map((s, i) => (s === 'test' ? i : -1)).filter((i) => i >= 0);
  const train = split.map((s) => s === 'train');
  if (test.length > 0 && train.some(Boolean)) {
    const leaky = new Set(test.map((i) => group[i]).filter((g) => set.windows.some((_, j) => train[j] && group[j] === g))).size;
    samples['cases.test'] = test.length;
    notes.push(`cases: the authors' split leaks — ${leaky} of ${new Set(test.map((i) => group[i])).size} test failures also have train cases; the *.authors figures are for comparison with published numbers only`);
    const trainOnly: Admissible = (_i, j) => train[j];
    sc.knn(set, types, trainOnly, { id: 'cases.type.authors', label: "cases, fault type, authors' split (leaky)", metrics: ['accuracy'], queries: test });
    sc.knn(set, services, trainOnly, { id: 'cases.service.authors', label: "cases, root-cause service, authors' split (leaky)", metrics: ['accuracy'], queries: test });
  }
}

/**
 * Scores every embedder on the questions that apply to `src.kind` (see the module comment and
 * docs/probe.md). Embedders see the same windows with the same masks.
 */
export function probeDataset(src: ProbeSource, embedders: readonly NamedEmbedder[], options: ProbeOptions = {}): ProbeReport {
  const opts: Required<ProbeOptions> = { k: options.k ?? DEFAULT_PROBE_K, minGapMs: options.minGapMs ?? DEFAULT_MIN_GAP_MS };
  if (embedders.length === 0) throw new RangeError('probeDataset: no embedder');
  const names = embedders.map((e) => e.name);
  if (new Set(names).size !== names.length) throw new RangeError(`probeDataset: embedder names must be distinct (${names.join(', ')})`);
  const dc = new DistanceCache(embedders);
  const sc = new Scorer(dc, embedders, opts.k);
  const samples: Record<string, number> = { windows: src.windows.length };
  const notes: string[] = [];
  if (src.kind === 'nezha') probeNezha(src, sc, opts, samples, notes);
  else if (src.kind === 'simulator') probeSimulator(src, sc, samples, notes);
  else probeCases(src, sc, samples, notes);
  return { source: src.name, kind: src.kind, k: opts.k, embedders: names, measures: sc.measures, samples, notes };
}

// ---------------------------------------------------------------------------------------------
// Presentation

function fmt(x: number): string {
  return Number.isFinite(x) ? x.toFixed(3) : '—';
}

function pad(s: string, w: number, right = false): string {
  return right ? s.padStart(w) : s.padEnd(w);
}

/** A plain-text table: one row per measure; columns n, chance, then one per embedder. */
export function formatProbeReport(r: ProbeReport): string {
  const head = ['measure', 'n', 'chance', ...r.embedders];
  const rows = r.measures.map((m) => [m.label, String(m.n), fmt(m.chance), ...r.embedders.map((e) => fmt(m.values[e]))]);
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => pad(x, widths[c], c > 0)).join('  ');
  const out = [`${r.source} (${r.kind}, k=${r.k}; samples ${Object.entries(r.samples).map(([k, v]) => `${k}=${v}`).join(', ')})`, line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  for (const n of r.notes) out.push(`note: ${n}`);
  return out.join('\n') + '\n';
}
