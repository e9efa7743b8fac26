/**
 * A tasks file (`runtimeslicer tune`) applied to a dataset, as `detect --tasks` and `localize
 * --tasks` apply it: one library path shared by those commands and evaluate's `tasks` column, so
 * the column's figures are what the commands print (docs/tasks.md, docs/evaluate.md).
 *
 * - `encodeForTasks` / `tasksDetectionRows`: the data's windows with raw view features, rendered
 *   against the tuning data's references or a fit on the data itself, and the rows detection reads.
 * - `detectWithTasks`: `detect`'s alarms (its defaults resolved as the tasks file chose them).
 * - `localizeWithTasks`: `localize --at T --tasks`'s ranking (the evidence localizer with the
 *   tuned ranker's order).
 * - `classifyWithTasks`: the fault type `localize --tasks` prints for a window, for many windows
 *   over one encode (the encode does not depend on the window asked about).
 */
import { createBackbone, EVIDENCE_VERSION, FEATURE_LAYOUTS, type EvidenceRecord, type ViewBuilderState } from '../../encode/index.js';
import { MODALITIES, encodeWindows, type EncodedWindow } from '../../model/index.js';
import { LinearRanker, prepareLocalizer, rankFeatures, suspectFeatures, type Ranking, type SuspectFeatures, type TasksFile, type TasksTimedRow, type WindowAlarm } from '../../tasks/index.js';
import { UserError, type Dataset, type Modality, type TimeRange } from '../../telemetry/index.js';
import { DEFAULT_WINDOW, type WindowSpec } from '../../windows/index.js';
import { EvidenceByWindow, evidenceRowsIn } from './detect-evidence.js';
import { rawFeatures } from './represent.js';

/** Task models read raw view features only: without a model the backbone's vectors are never read. */
export const TASKS_RAW_BACKBONE = 'hash:dim=8';

/** What new data is encoded against (`detect --views`): the tuning data's views state with the new data's metric baselines, all of it, or a fit on the new data. */
export type ViewsMode = 'mixed' | 'saved' | 'own';

/** Progress callbacks of an encode (the CLI's `PhaseProgress`; absent: silent). */
export interface EncodeProgressSink {
  onProgress?: Parameters<typeof encodeWindows>[1]['onProgress'];
  stop?: () => void;
}

/** Feature names of a raw-features row, in layout order (modality.feature). */
export function featureNames(): string[] {
  return MODALITIES.flatMap((m) => FEATURE_LAYOUTS[m].map((f) => `${m}.${f}`));
}

/**
 * The dataset's windows with view features (and per-service rows when `entities`), encoded in
 * memory; `onEvidence` takes the evidence rows. `fitted`: rendered against that views state (the
 * tuning data's, saved in the tasks file), with its metric baselines fitted on this dataset when
 * `ownMetrics` (a metric's level is the deployment's: node memory, restart counters); else
 * against a state fitted on this dataset's own windows (label-free). `views` is the state used.
 */
export async function encodeForTasks(ds: Dataset, spec: WindowSpec, backboneSpec: string, entities: boolean, progress: EncodeProgressSink = {}, onEvidence?: (rows: readonly EvidenceRecord[]) => void, fitted?: ViewBuilderState, ownMetrics = false): Promise<{ windows: EncodedWindow[]; dim: number; views: ViewBuilderState }> {
  const backbone = await createBackbone(backboneSpec);
  let views: ViewBuilderState | undefined;
  try {
    if (fitted && ownMetrics) {
      // the metric baselines an own fit of this data learns: every modality is read, because the
      // baselines' reservoirs share one random stream (a metrics-only pass samples other windows
      // and moved Nezha's in-sample detection by a fault)
      let own: ViewBuilderState | undefined;
      await encodeWindows(ds, { spec, backbone, entities: false, onProgress: progress.onProgress, onViews: (v) => (own = v) });
      fitted = { ...fitted, metrics: own!.metrics };
    }
    const windows = await encodeWindows(ds, { spec, backbone, entities, onProgress: progress.onProgress, ...(onEvidence ? { onEvidence } : {}), ...(fitted ? { fitted } : {}), onViews: (v) => (views = v) });
    return { windows, dim: backbone.dim, views: views! };
  } finally {
    progress.stop?.();
    await backbone.dispose?.();
  }
}

/** Rows of the windows that have metrics, `mask`ed modalities left out, as the detector reads them. */
export function tasksDetectionRows(windows: readonly EncodedWindow[], dim: number, mask: readonly Modality[]): (TasksTimedRow & { w: EncodedWindow; abnormal: boolean })[] {
  const ws = windows.filter((w) => w.inputs.metrics !== undefined);
  const rows = rawFeatures(dim).system(ws, mask);
  return ws.map((w, i) => ({ w, start: w.window.start, end: w.window.end, source: w.source, row: rows[i], abnormal: w.label.abnormal }));
}

/**
 * The tasks file fits this runtimeslicer's row layout (else a clear refusal). `where` names the
 * file in the message.
 */
export function checkTasksLayout(tasks: TasksFile, where: string): void {
  if (tasks.doc.rows.width !== featureNames().length) {
    throw new UserError(`${where} was fitted on ${tasks.doc.rows.width} features per window, this runtimeslicer's views give ${featureNames().length}: run \`runtimeslicer tune\` again`);
  }
}

export interface DetectWithTasksOptions {
  states?: 'auto' | 'on' | 'off';
  views?: 'auto' | ViewsMode;
  align?: 'auto' | 'on' | 'off';
  rise?: 'auto' | 'on' | 'off';
  /** the tasks file's name in messages */
  where?: string;
  /** the data's name in messages */
  data?: string;
  progress?: EncodeProgressSink;
  /** warnings (default: dropped) */
  warn?: (message: string) => void;
}

export interface DetectWithTasks {
  /** one per window with metrics, in `rows` order */
  alarms: WindowAlarm[];
  rows: (TasksTimedRow & { w: EncodedWindow; abnormal: boolean })[];
  /** the detector reads the evidence rows (no states) */
  evidence: boolean;
  useStates: boolean;
  /** what the data was encoded against (`own` when the tasks file holds no views state) */
  views: ViewsMode;
  /** which columns were aligned to the tuning data's frame (undefined: none) */
  aligned: 'evidence' | 'features' | undefined;
  rise: boolean;
}

/**
 * `detect --data DS --tasks T` with its options: the data encoded as the detector's input needs
 * (views auto = the tuning data's references with this data's metric baselines for an evidence
 * detector, a fit on this data for a features detector), then the tasks file's detector, with
 * states, alignment and the rise gate as the tasks file chose them unless overridden.
 */
export async function detectWithTasks(ds: Dataset, tasks: TasksFile, o: DetectWithTasksOptions = {}): Promise<DetectWithTasks> {
  const where = o.where ?? 'tasks file';
  const data = o.data ?? ds.root;
  const warn = o.warn ?? (() => undefined);
  const states = o.states ?? 'auto';
  checkTasksLayout(tasks, where);
  const evLayout = tasks.doc.detection.input === 'evidence' ? tasks.doc.detection.evidence : null;
  if (evLayout && states === 'on') throw new UserError(`${where}: its detector reads the evidence rows, which have no states (chosen by cross-validation at \`tune\`); use --states auto or off`);
  if (evLayout && evLayout.evidenceVersion !== EVIDENCE_VERSION) throw new UserError(`${where}: its detector reads evidence features of version ${evLayout.evidenceVersion}, this runtimeslicer's encode writes version ${EVIDENCE_VERSION}: run \`runtimeslicer tune\` again`);
  // auto: the tuning data's references where the detector reads the evidence rows, the new data's
  // own fit where it reads the features (docs/tasks.md, "References for new data": the saved log
  // template miner marks a new run's unseen line shapes as new templates in every window)
  const views: ViewsMode = (o.views ?? 'auto') === 'auto' ? (evLayout ? 'mixed' : 'own') : (o.views as ViewsMode);
  const saved = views !== 'own' ? tasks.doc.views : undefined;
  if (views !== 'own' && !saved) warn(`${where} holds no views state (schemaVersion ${tasks.doc.schemaVersion}): ${data} is encoded against references fitted on itself; run \`runtimeslicer tune\` again to judge it against the tuning data's`);
  if (evLayout && saved && !saved.evidence) throw new UserError(`${where}: its detector reads the evidence rows but its views state has no evidence references; run \`runtimeslicer tune\` again, or use --views own`);
  // the evidence detector reads each window's evidence rows: against the tuning data's evidence
  // references (`--views mixed|saved`), or against references encode fits on this data's own
  // windows without labels (`--views own`, as evaluate computes them inside one run)
  const evIn = evLayout ? new EvidenceByWindow() : undefined;
  const { windows, dim } = await encodeForTasks(ds, tasks.doc.window, tasks.doc.fittedOn.backbone, false, o.progress, evIn?.add, saved, views === 'mixed');
  const det = tasksDetectionRows(windows, dim, tasks.doc.detection.mask as Modality[]);
  if (det.length === 0) throw new UserError(`${data}: no window has metrics; detection reads the metrics view`);
  if (evIn && evLayout) {
    let evRows: (Float64Array | undefined)[];
    try {
      evRows = evidenceRowsIn(evLayout, det.map((d) => d.w), (w) => evIn.of(w));
    } catch (e) {
      throw new UserError(`${where}: ${e instanceof Error ? e.message : String(e)}; run \`runtimeslicer tune\` again`);
    }
    det.forEach((d, i) => {
      if (evRows[i]) d.evidence = evRows[i];
    });
    if (!evRows.some((r) => r !== undefined)) warn(`${data} gives no evidence row for the services of ${where} (${evLayout.services.length} services): its detector reads them, so nothing alarms; run \`runtimeslicer tune\` on data of this system`);
  }
  const useStates = !evLayout && (states === 'auto' ? tasks.doc.detection.useStates : states === 'on') && tasks.k > 1;
  // evidence detector: the alignment patched references fitted on the new data itself; against
  // the tuning data's evidence references it is not needed (docs/tasks.md, "For use"). Features
  // detector: on wherever the tasks file has the frame — a period's own levels (another day's
  // load, other pod names) are not what it should alarm on (docs/tasks.md, "Another period")
  const frame = !evLayout && tasks.doc.detection.frame !== undefined;
  const alignOpt = o.align ?? 'auto';
  const align = alignOpt === 'auto' ? (evLayout ? !saved : frame) : alignOpt === 'on';
  if (!evLayout && alignOpt === 'on' && !frame) warn(`${where} (schemaVersion ${tasks.doc.schemaVersion}) saves no feature frame: --align on does nothing for its features detector; run \`runtimeslicer tune\` again`);
  const riseOpt = o.rise ?? 'auto';
  const rise = riseOpt === 'auto' ? tasks.doc.detection.rise === true : riseOpt === 'on';
  const alarms = tasks.detect(det, { states: useStates, align, rise });
  return { alarms, rows: det, evidence: evLayout !== null, useStates, views: saved ? views : 'own', aligned: align && evLayout ? 'evidence' : align && frame ? 'features' : undefined, rise };
}

/** The tuned ranker's order of the evidence candidates; pods follow their services. */
export function reorderByRanker(r: Ranking, ranker: LinearRanker): Ranking {
  const order = ranker.rank(rankFeatures(r));
  const pos = new Map(order.map((s, i) => [s, i]));
  const at = (s: string) => pos.get(s) ?? Infinity;
  const services = r.services.map((s, i) => ({ s, i })).sort((a, b) => at(a.s.service) - at(b.s.service) || a.i - b.i).map((x) => x.s);
  const pods = r.pods.map((p, i) => ({ p, i })).sort((a, b) => at(a.p.service) - at(b.p.service) || a.i - b.i).map((x) => x.p);
  return { ...r, services, pods };
}

export interface TasksLocalization {
  ranking: Ranking;
  rankedBy: 'tuned-ranker' | 'evidence';
  /** the localizer's normal windows (trace/log windows, metric windows) */
  normal: { traceLog: number; metric: number };
}

/**
 * `localize --data DS --at START --tasks T`: the evidence localizer over [start, start + window)
 * judged in slices, fitted on the data's normal windows (the query kept out of them), with the
 * tuned ranker's order where the tasks file has one. `windowMs` / `sliceMs` default to the tasks
 * file's localization configuration.
 */
export async function localizeWithTasks(ds: Dataset, tasks: TasksFile | undefined, start: number, opts: { windowMs?: number; sliceMs?: number; evidence?: EvidenceAt } = {}): Promise<TasksLocalization> {
  const windowMs = opts.windowMs ?? tasks?.doc.localization.windowMs ?? DEFAULT_WINDOW.lengthMs;
  const sliceMs = opts.sliceMs ?? tasks?.doc.localization.sliceMs ?? 60_000;
  const ev = await (opts.evidence ?? evidenceAt)(ds, { start, end: start + windowMs }, sliceMs);
  const ranker = tasks?.doc.localization.ranker ? LinearRanker.fromJSON(tasks.doc.localization.ranker) : undefined;
  const ranking = ranker ? reorderByRanker(ev.ranking, ranker) : ev.ranking;
  return { ranking, rankedBy: ranker ? 'tuned-ranker' : 'evidence', normal: ev.normal };
}

/** The evidence localizer's ranking of one query, fitted with that query kept out of its normal windows. */
export type EvidenceAt = (ds: Dataset, query: TimeRange, sliceMs: number) => Promise<{ ranking: Ranking; normal: { traceLog: number; metric: number } }>;

export const evidenceAt: EvidenceAt = async (ds, query, sliceMs) => {
  const prep = await prepareLocalizer(ds, [query], { sliceMs });
  return { ranking: prep.rank(query), normal: { traceLog: prep.normalTraceWindows.length, metric: prep.normalMetricWindows } };
};

/**
 * `evidenceAt` remembered per (query, slice): the ranking before the tuned ranker reads no tasks
 * file, so several tasks columns over one dataset share each fit (it is the slow part).
 */
export function memoEvidenceAt(): EvidenceAt {
  const memo = new Map<string, ReturnType<EvidenceAt>>();
  return (ds, query, sliceMs) => {
    const key = `${query.start}:${query.end}:${sliceMs}`;
    let r = memo.get(key);
    if (!r) memo.set(key, (r = evidenceAt(ds, query, sliceMs)));
    return r;
  };
}

/** One window to classify: its time, and the localizer's top suspect with what its evidence says. */
export interface ClassifyQuery {
  at: number;
  suspect: string | undefined;
  evidence: SuspectFeatures | undefined;
}

export interface TasksClassification {
  /** fault types, nearest first */
  types: string[];
  /** the window's context state */
  state: number;
  windowStart: number;
}

/**
 * The fault type of the window starting at (or last before) each query's `at`, by the classifier
 * of a tasks file: the window's row ⊕ the suspect service's row ⊕ what the suspect's evidence says
 * (`suspectFeatures` of the window's ranking), in the window's context state (the tasks file's
 * detector with its defaults). One encode for all queries. Undefined: no classifier (fewer than
 * two types at `tune`), or no window / no row at that time.
 */
export async function classifyWithTasks(ds: Dataset, tasks: TasksFile, queries: readonly ClassifyQuery[], views: ViewsMode = 'own', progress?: EncodeProgressSink, encoded?: OwnEncodes): Promise<(TasksClassification | undefined)[]> {
  if (!tasks.doc.classification) return queries.map(() => undefined);
  const fitted = views === 'own' ? undefined : tasks.doc.views;
  // an own fit depends on the window and backbone only: shared between tasks files when given
  const { windows, dim } = views === 'own' && encoded ? await encoded(tasks.doc.window, tasks.doc.fittedOn.backbone, progress) : await encodeForTasks(ds, tasks.doc.window, tasks.doc.fittedOn.backbone, true, progress, undefined, fitted, views === 'mixed');
  const rep = rawFeatures(dim);
  const det = tasksDetectionRows(windows, dim, tasks.doc.detection.mask as Modality[]);
  const alarms = tasks.detect(det);
  const detIndex = new Map(det.map((d, i) => [d.w, i]));
  return queries.map((q) => {
    // the window starting at or last before `at` (the first such in encode order on a tie)
    let w: EncodedWindow | undefined;
    for (const x of windows) if (x.window.start <= q.at && (!w || x.window.start > w.window.start)) w = x;
    if (!w) return undefined;
    const row = rep.system([w], [])[0];
    if (!row) return undefined;
    const i = detIndex.get(w);
    const state = (i === undefined ? undefined : alarms[i]?.state) ?? 0;
    const types = tasks.classify(row, q.suspect === undefined ? undefined : rep.entity([w], q.suspect)[0], q.evidence, state);
    return { types, state, windowStart: w.window.start };
  });
}

/** `localize --tasks`'s classification of one ranking's window (the top suspect and its evidence). */
export function classifyQueryOf(at: number, r: Ranking): ClassifyQuery {
  return { at, suspect: r.services[0]?.service, evidence: suspectFeatures(r) };
}

/** The data's windows with entities, encoded against a fit on the data itself, per window and backbone. */
export type OwnEncodes = (spec: WindowSpec, backboneSpec: string, progress?: EncodeProgressSink) => Promise<{ windows: EncodedWindow[]; dim: number }>;

/** `OwnEncodes` remembered per (window, stride, backbone) over one dataset. */
export function memoOwnEncodes(ds: Dataset): OwnEncodes {
  const memo = new Map<string, Promise<{ windows: EncodedWindow[]; dim: number }>>();
  return (spec, backboneSpec, progress) => {
    const key = `${spec.lengthMs}:${spec.strideMs}:${backboneSpec}`;
    let r = memo.get(key);
    if (!r) memo.set(key, (r = encodeForTasks(ds, spec, backboneSpec, true, progress)));
    return r;
  };
}
