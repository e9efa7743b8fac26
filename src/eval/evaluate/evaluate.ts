/**
 * `evaluate` as a library call: encode the dataset's windows (views + backbone, per service),
 * build the protocol, compute the evidence localizer's rankings, run every column.
 *
 *   const ds = await loadDataset('../shared/datasets/nezha-trainticket');
 *   const { report } = await evaluateDataset(ds, { backbone: await createBackbone('hash') });
 *   process.stdout.write(formatEvaluateMarkdown(report));
 */
import type { Dataset } from '../../telemetry/index.js';
import type { Backbone, EmbeddingCache, EncodeProgress } from '../../encode/index.js';
import { encodeWindows, type EncodedWindow, type StateModel } from '../../model/index.js';
import { DEFAULT_WINDOW, type WindowSpec } from '../../windows/index.js';
import { evidenceRankings } from './evidence.js';
import { modelRepresentation, rawBackbone, rawFeatures, type Representation } from './represent.js';
import { runEvaluation, type RunResult } from './run.js';
import { buildSetup, podExtents } from './setup.js';
import { EvidenceByWindow } from './detect-evidence.js';
import { addTasksColumns, tasksColumn, type TasksColumnInput, type TasksColumnResult } from './tasks-column.js';
import { memoEvidenceAt, memoOwnEncodes, type EncodeProgressSink } from './apply-tasks.js';
import { detectionOverSeeds } from './fold-seeds.js';

export interface EvaluateOptions {
  backbone: Backbone;
  cache?: EmbeddingCache;
  /** default 5 min / 1 min */
  spec?: WindowSpec;
  folds?: number;
  seed?: number;
  /** injection-burst protocol: the gap that starts a new burst (default 60 min) */
  burstGapMs?: number;
  /** learned models, each a column under its name */
  models?: { name: string; model: StateModel }[];
  /** the state-aware `tuned` / `tuned-global` columns (default true) */
  tuned?: boolean;
  /** the evidence localizer column (default true) */
  evidence?: boolean;
  /** evidence rows as tuned-detector candidates (encode's evidence pass; default true) */
  detectionEvidence?: boolean;
  /**
   * tasks files fitted by `tune` on other data, each a column applied to every labelled fault and
   * window here as `detect` / `localize --tasks` apply it (`tasks-column.ts`; check them first
   * with `checkTasksColumn`)
   */
  tasks?: TasksColumnInput[];
  /** progress of the tasks columns' own encodes */
  tasksProgress?: EncodeProgressSink;
  /**
   * the detection columns again under each of these fold seeds, with their mean (`report.foldSeeds`;
   * fold-seeds.ts); absent: only the headline seed
   */
  foldSeeds?: readonly number[];
  /** dataset name in the report (default the folder) */
  name?: string;
  onProgress?: (p: EncodeProgress) => void;
  /** what the run is doing, for a progress line */
  onPhase?: (phase: string) => void;
}

export const DEFAULT_EVALUATE_SPEC: WindowSpec = DEFAULT_WINDOW;

export async function evaluateDataset(ds: Dataset, opts: EvaluateOptions): Promise<RunResult & { timings: Record<string, number> }> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (k: string) => {
    const now = Date.now();
    timings[k] = now - t;
    t = now;
  };
  opts.onPhase?.('encoding');
  // the views' evidence (label-free references) for the tuned detectors' evidence candidates
  const withEvidence = (opts.tuned ?? true) && (opts.detectionEvidence ?? true) && !ds.cases;
  const ev5 = new EvidenceByWindow();
  // (where all-modalities detection has its own minute windows, Nezha, the main windows serve
  // metrics-only detection only, which reads no evidence: `evidenceDetects`)
  const windows = await encodeWindows(ds, { spec: opts.spec ?? DEFAULT_EVALUATE_SPEC, backbone: opts.backbone, cache: opts.cache, entities: true, onProgress: opts.onProgress, ...(withEvidence && ds.format !== 'nezha' ? { onEvidence: ev5.add } : {}) });
  lap('encode');
  // Nezha: all-modalities detection is asked over minutes; a second, system-level encode.
  const ev1 = new EvidenceByWindow();
  const minuteWindows = ds.format === 'nezha' ? await encodeWindows(ds, { spec: { lengthMs: 60_000, strideMs: 60_000 }, backbone: opts.backbone, cache: opts.cache, entities: false, ...(withEvidence ? { onEvidence: ev1.add } : {}) }) : undefined;
  const minuteSet = new Set(minuteWindows);
  const evidenceOf = withEvidence ? (w: EncodedWindow) => (minuteSet.has(w) ? ev1 : ev5).of(w) : undefined;
  lap('encode-minutes');
  const setupOptions = { minuteWindows, folds: opts.folds, burstGapMs: opts.burstGapMs, podExtents: ds.cases ? undefined : await podExtents(ds) };
  const setup = buildSetup(ds, windows, opts.name ?? ds.root, { ...setupOptions, seed: opts.seed });
  lap('setup');
  const notes: string[] = [];
  let evidence;
  if (opts.evidence ?? true) {
    opts.onPhase?.('evidence localizer');
    evidence = await evidenceRankings(ds, setup);
    lap('evidence');
    notes.push('evidence: localization only (the localizer ranks suspects; it neither detects nor classifies)');
  } else notes.push('evidence column left out (--no-evidence)');
  const reps: Representation[] = [rawFeatures(opts.backbone.dim), rawBackbone(opts.backbone.dim), ...(opts.models ?? []).map((m) => modelRepresentation(m.name, m.model))];
  opts.onPhase?.('scoring');
  const result = runEvaluation(setup, reps, { evidence, notes, tuned: opts.tuned, seed: opts.seed, evidenceOf });
  lap('score');
  if (opts.foldSeeds && opts.foldSeeds.length > 0 && setup.detection.length > 0) {
    result.report.foldSeeds = detectionOverSeeds({
      ds, windows, name: opts.name ?? ds.root, setupOptions, reps, tuned: opts.tuned ?? true, evidenceOf, seeds: opts.foldSeeds,
      headline: { seed: opts.seed ?? 0, setup, alarms: result.alarms },
      onSeed: (seed, i) => opts.onPhase?.(`detection over fold seeds (${i + 1}/${opts.foldSeeds?.length}: seed ${seed})`),
    });
    lap('fold-seeds');
  }
  const cols: TasksColumnResult[] = [];
  // the columns share what reads no tasks file: each fault's evidence fit, the own-fit encode
  const shared = { evidence: memoEvidenceAt(), encoded: memoOwnEncodes(ds) };
  for (const t of opts.tasks ?? []) cols.push(await tasksColumn(ds, setup, t, { progress: opts.tasksProgress, onPhase: opts.onPhase, ...shared }));
  if (cols.length > 0) {
    lap('tasks');
    for (const c of cols) for (const [level, a] of c.alarms) result.alarms.get(level)?.set(c.info.method, a);
    return { ...result, report: addTasksColumns(result.report, setup, cols), timings };
  }
  return { ...result, timings };
}
