/**
 * The protocol of one `evaluate` run: which cases are evaluated, which fold each case and each
 * window is in, and the detection window sets. Everything here reads fault *times* (to form
 * groups) and never a fault's root cause or type.
 *
 * - nezha layout: cases are faults (the window starting at the minute of injection); folds
 *   grouped by injection burst; detection metrics-only over every window with metrics, and
 *   all-modalities over the windows that have metrics, traces and logs.
 * - AIOps 2022: cases are the source's cases; folds grouped by failure; the authors' split
 *   reported beside it (leaky); no detection (no normal windows).
 * - simulator / OTLP: cases are faults; folds by time block; detection over every window.
 */
import type { Dataset, FaultLabel, Modality } from '../../telemetry/index.js';
import { MODALITIES, type EncodedWindow } from '../../model/index.js';
import { failureGroupOf, foldOf, foldOfWindow, makeFolds, pickFaultWindows, recordingEdges, type Folds, type ProtocolName } from '../../windows/index.js';

export type EvalKind = 'nezha' | 'aiops22' | 'simulator';

export interface EvalCase {
  id: string;
  start: number;
  end: number;
  type: string;
  service: string;
  pod: string;
  group: string;
  fold: number;
  split?: 'train' | 'test';
  /** the case's window */
  w: EncodedWindow;
}

export interface DetectionSet {
  level: 'metrics-only' | 'all-modalities';
  windows: EncodedWindow[];
  /** fold per window; undefined: touches two folds, scored and fitted in none */
  folds: (number | undefined)[];
  mask: Modality[];
  /** fault starts and ends, with their fold, for event-F1 */
  injections: { start: number; end: number; fold: number }[];
  /** per window: at a recording period's edge (`recordingEdges`: warm-up or past the data), so scored but no normal reference; absent: none is */
  edges?: boolean[];
}

export interface EvalSetup {
  dataset: string;
  kind: EvalKind;
  protocol: ProtocolName;
  folds: Folds;
  cases: EvalCase[];
  /** case data with the source's own split: the authors' split is evaluated beside the folds */
  authorsSplit: boolean;
  detection: DetectionSet[];
  /** every window, with its fold (grid data) for fitting references */
  windows: EncodedWindow[];
  windowFolds: (number | undefined)[];
  services: string[];
  /** pods of a service at a time, in name order */
  podsOf: (service: string, at: number) => string[];
  notes: string[];
}

export interface SetupOptions {
  folds?: number;
  seed?: number;
  /** injection-burst protocol: the gap that starts a new burst (default 60 min) */
  burstGapMs?: number;
  /**
   * Nezha layout: one-minute windows for all-modalities detection ("the minutes that have traces
   * and logs"); without them the set is made of the main windows that have all three modalities.
   */
  minuteWindows?: readonly EncodedWindow[];
  /** pod liveness: first/last metric time per pod (grid data), from `podExtents` */
  podExtents?: Map<string, { start: number; end: number }>;
}

export function evalKindOf(ds: Dataset): EvalKind {
  return ds.format === 'otlp' ? 'simulator' : ds.format;
}

const hasAll = (w: EncodedWindow) => MODALITIES.every((m) => w.inputs[m] !== undefined);

/** First and last metric time of every entity: which pods were alive when (pod names change on redeploys). */
export async function podExtents(ds: Dataset): Promise<Map<string, { start: number; end: number }>> {
  const out = new Map<string, { start: number; end: number }>();
  for await (const batch of ds.metrics()) {
    for (const s of batch) {
      const n = s.times.length;
      if (n === 0) continue;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const t = s.times[i];
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      }
      const e = out.get(s.entity);
      if (!e) out.set(s.entity, { start: lo, end: hi });
      else {
        e.start = Math.min(e.start, lo);
        e.end = Math.max(e.end, hi);
      }
    }
  }
  return out;
}

function caseOf(id: string, f: FaultLabel, w: EncodedWindow, group: string, fold: number, split?: 'train' | 'test'): EvalCase {
  return { id, start: f.start, end: f.end, type: f.type, service: f.rootCauseService, pod: f.rootCause, group, fold, split, w };
}

export function buildSetup(ds: Dataset, windows: readonly EncodedWindow[], name: string, opts: SetupOptions = {}): EvalSetup {
  const kind = evalKindOf(ds);
  const k = opts.folds ?? 5;
  const seed = opts.seed ?? 0;
  const notes: string[] = [];
  const podsByService = new Map<string, string[]>();
  const services = new Set<string>();
  for (const e of ds.entities) {
    if (e.kind === 'service') services.add(e.id);
    if (e.kind === 'pod' && e.service) {
      services.add(e.service);
      let l = podsByService.get(e.service);
      if (!l) podsByService.set(e.service, (l = []));
      l.push(e.id);
    }
  }
  for (const l of podsByService.values()) l.sort();
  const ext = opts.podExtents;
  const podsOf = (service: string, at: number): string[] => {
    const all = podsByService.get(service) ?? [];
    if (!ext) return all;
    const alive = all.filter((p) => {
      const e = ext.get(p);
      return e !== undefined && e.start - 3_600_000 <= at && at <= e.end + 3_600_000;
    });
    return alive.length > 0 ? alive : all;
  };

  const ws = [...windows];
  if (kind === 'aiops22') {
    const byCase = new Map(ds.cases?.map((c) => [c.id, c]));
    const items = ws.filter((w) => w.caseId !== undefined && byCase.has(w.caseId)).map((w) => ({ id: w.caseId as string, start: w.window.start, group: failureGroupOf({ caseId: w.caseId, group: w.group ?? byCase.get(w.caseId as string)?.group }) }));
    const folds = makeFolds('failure', items, { k, seed });
    const cases: EvalCase[] = [];
    for (const w of ws) {
      const c = w.caseId !== undefined ? byCase.get(w.caseId) : undefined;
      if (!c) continue;
      cases.push(caseOf(c.id, c.label, w, folds.groupOf.get(c.id) as string, foldOf(folds, c.id) as number, w.split ?? c.split));
    }
    const authorsSplit = cases.some((c) => c.split === 'test') && cases.some((c) => c.split === 'train');
    notes.push('AIOps 2022 has no fault-free windows: detection is not measurable here.');
    if (authorsSplit) notes.push("the authors' split (train/test as published) leaks: failures have windows on both sides; its rows are marked leaky and are for comparison with published numbers only");
    return { dataset: name, kind, protocol: 'failure', folds, cases, authorsSplit, detection: [], windows: ws, windowFolds: cases.map((c) => c.fold), services: [...services].sort(), podsOf, notes };
  }

  const protocol: ProtocolName = kind === 'nezha' ? 'injection-burst' : 'time-block';
  const faults = [...ds.labels].sort((a, b) => a.start - b.start);
  const folds = makeFolds(protocol, faults.map((f) => ({ id: f.id, start: f.start, end: f.end, key: f.rootCauseService })), { k, seed, burstGapMs: opts.burstGapMs });
  const lengthMs = ws.length > 0 ? ws[0].window.end - ws[0].window.start : 0;
  const windowFolds = ws.map((w) => foldOfWindow(folds, w.window, lengthMs));
  const fw = pickFaultWindows(ws, faults, (w) => MODALITIES.some((m) => w.inputs[m] !== undefined));
  if (fw.missing.length > 0) notes.push(`${fw.missing.length} fault(s) without a window containing their start were left out of localization and classification`);
  if (fw.partial.length > 0) notes.push(`${fw.partial.length} fault(s) whose window has no data were left out`);
  const cases = fw.picked.map((p) => caseOf(p.fault.id, p.fault, p.window, folds.groupOf.get(p.fault.id) as string, foldOf(folds, p.fault.id) as number));
  // Detection is scored along the timeline, so its folds must be apart in time: bursts chained by
  // time alone (the service-keyed bursts of the cases interleave in time, and "alarm near a
  // training fault" then catches the test faults beside them).
  const detFolds = protocol === 'injection-burst' ? makeFolds(protocol, faults.map((f) => ({ id: f.id, start: f.start, end: f.end })), { k, seed, burstGapMs: opts.burstGapMs }) : folds;
  const detWindowFolds = detFolds === folds ? windowFolds : ws.map((w) => foldOfWindow(detFolds, w.window, lengthMs));
  const injections = faults.map((f) => ({ start: f.start, end: f.end, fold: foldOf(detFolds, f.id) as number }));
  const detection: DetectionSet[] = [];
  // the recording periods of every window with data: their warm-up and their incomplete last windows
  const atEdge = recordingEdges(ws.map((w) => ({ start: w.window.start, end: w.window.end, source: w.source })));
  const edgesOf = (list: readonly EncodedWindow[]) => list.map((w) => atEdge({ start: w.window.start, end: w.window.end, source: w.source }));
  const metricsIdx = ws.map((w, i) => (w.inputs.metrics !== undefined ? i : -1)).filter((i) => i >= 0);
  detection.push({ level: 'metrics-only', windows: metricsIdx.map((i) => ws[i]), folds: metricsIdx.map((i) => detWindowFolds[i]), mask: ['traces', 'logs'], injections, edges: edgesOf(metricsIdx.map((i) => ws[i])) });
  const minutes = opts.minuteWindows?.filter(hasAll);
  const allWs = minutes ?? ws.filter(hasAll);
  const allFolds = minutes ? minutes.map((w) => foldOfWindow(detFolds, w.window, lengthMs)) : ws.map((w, i) => (hasAll(w) ? detWindowFolds[i] : -1)).filter((f) => f !== -1);
  // a fault counts for event-F1 only where the set has data within its catching range
  const covered = (t: number) => allWs.some((w) => w.window.start >= t && w.window.start <= t + 5 * 60_000);
  detection.push({ level: 'all-modalities', windows: allWs, folds: allFolds, mask: [], injections: kind === 'nezha' ? injections.filter((f) => covered(f.start)) : injections, edges: edgesOf(allWs) });
  if (kind === 'nezha') {
    notes.push(
      `nezha: traces and logs exist only near faults, so detection over whole days is metrics-only; all-modalities detection covers only the ${minutes ? 'one-minute windows' : 'windows'} that have metrics, traces and logs (normal = pre-injection and construct minutes; ${allWs.filter((w) => !w.label.abnormal).length} normal of ${allWs.length})`,
    );
  }
  if (detFolds !== folds) {
    const dg = new Set(detFolds.groupOf.values()).size;
    notes.push(`detection folds: injection bursts by time alone (${dg} group(s)${detFolds.burstCuts ? `: every fault chained into one burst, so the chain was cut at its ${detFolds.burstCuts} widest gap(s) between faults` : ''}${dg < k ? `, so in effect ${dg}-fold` : ''}), so no scored window has a training fault minutes away; localization and classification folds: one root-cause service's back-to-back faults (${new Set(folds.groupOf.values()).size} groups)`);
  }
  const groups = new Set(folds.groupOf.values()).size;
  if (groups < k) notes.push(`only ${groups} ${protocol === 'injection-burst' ? 'injection bursts' : 'time blocks'} for ${k} folds: ${k - groups} fold(s) are empty, so this is in effect ${groups}-fold (a group is never split)`);
  const unplaced = windowFolds.filter((f) => f === undefined).length;
  if (unplaced > 0) notes.push(`${unplaced} window(s) touching two folds' segments are neither scored nor fitted`);
  return { dataset: name, kind, protocol, folds, cases, authorsSplit: false, detection, windows: ws, windowFolds, services: [...services].sort(), podsOf, notes };
}
