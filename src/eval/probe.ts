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
import type { Dataset, DatasetCase, DatasetFormat, FaultLabel, Modality } from '../telemetry/index.js';
import { MODALITIES, type EncodedWindow } from '../model/index.js';
import {
  classSizes,
  cosineDistances,
  knnAccuracy,
  knnBalancedAccuracy,
  knnWithExclusion,
  majorityShare,
  mean,
  referenceChance,
  silhouette,
  type Admissible,
} from '../stats/index.js';
import { failureGroupOf, faultSchedule, faultsPerWindow, inSchedule, pickFaultWindows, sharesFault, windowsShareTime as sharesTime } from '../windows/index.js';
import { measurability, type NotMeasurable } from './embedding-metrics.js';
import type { NamedEmbedder } from './embedders.js';
import { readRegimes, regimeOf, type RegimeSpan } from './regimes.js';

export type ProbeKind = 'nezha' | 'simulator' | 'aiops22';

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
   * Set when the samples are too few, or the classes too few or too small, for the figure to
   * mean anything (`measurability`); `chance` and every value are then null.
   */
  notMeasurable?: NotMeasurable;
  /**
   * What a guess that ignores the embedding scores. Accuracy: the better of always guessing the
   * most frequent label and guessing the most frequent label among the rows the query may use
   * as neighbours (`referenceChance`); balanced accuracy likewise with 1/classes; purities: the
   * share of the admissible rows carrying the query's label; silhouettes: 0. Null when not measurable.
   */
  chance: number | null;
  /** accuracy measures: the plain majority-class share of the queries */
  majority?: number;
  /** per embedder name; null when not measurable */
  values: Record<string, number | null>;
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
        this.embedders.forEach((e, t) => (values[e.name] = knnAccuracy(results[t], labels)));
        majority = majorityShare(qLabels);
        chance = Math.max(majority, mean(ref.hit));
      } else if (metric === 'balanced-accuracy') {
        this.embedders.forEach((e, t) => (values[e.name] = knnBalancedAccuracy(results[t], labels)));
        const byClass = new Map<string, number[]>();
        scored.forEach((i, q) => {
          const list = byClass.get(labels[i]);
          if (list) list.push(ref.hit[q]);
          else byClass.set(labels[i], [ref.hit[q]]);
        });
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
      const nm = measurability(classSizes(qLabels).values(), nq);
      this.measures.push(honest({ id: `${spec.id}.${suffix}`, label: `${spec.label}: ${what}`, metric, n: nq, classes, chance, ...(majority !== undefined ? { majority } : {}), values }, nm));
    }
  }

  silhouette(set: SampleSet, labels: readonly string[], spec: { id: string; label: string }): void {
    const values: Record<string, number> = {};
    const dummy: Float32Array[] = set.windows.map(() => new Float32Array(0));
    for (const e of this.embedders) values[e.name] = silhouette(dummy, labels, this.dc.get(set, e));
    const sizes = classSizes(labels);
    this.measures.push(honest({ id: `${spec.id}.silhouette`, label: `${spec.label}: silhouette`, metric: 'silhouette', n: labels.length, classes: sizes.size, chance: 0, values }, measurability(sizes.values())));
  }
}

/** A measure below the minimums keeps its n and classes, and loses every number. */
function honest(m: ProbeMeasure, nm: NotMeasurable | undefined): ProbeMeasure {
  if (!nm) return m;
  const values: Record<string, null> = {};
  for (const e of Object.keys(m.values)) values[e] = null;
  const { majority: _majority, ...rest } = m;
  return { ...rest, chance: null, values, notMeasurable: nm };
}

/**
 * The fault windows of (a): per fault, the window starting at the minute of injection (see
 * `pickFaultWindows`), kept when it has all three modalities.
 */
export function faultWindows(windows: readonly EncodedWindow[], faults: readonly FaultLabel[]): { picked: { window: EncodedWindow; fault: FaultLabel }[]; missing: FaultLabel[]; partial: FaultLabel[] } {
  return pickFaultWindows(windows, faults, hasAll);
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

function probeCases(src: ProbeSource, sc: Scorer, samples: Record<string, number>, notes: string[]): void {
  const byId = new Map(src.cases?.map((c) => [c.id, c]));
  const set: SampleSet = { key: 'cases', windows: src.windows.filter((w) => w.caseId !== undefined && w.label.type !== undefined), mask: [] };
  samples['cases'] = set.windows.length;
  if (set.windows.length < 2) {
    notes.push('cases: fewer than two labelled cases; nothing scored');
    return;
  }
  const group = set.windows.map((w) => failureGroupOf({ caseId: w.caseId, group: w.group ?? byId.get(w.caseId as string)?.group }));
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
