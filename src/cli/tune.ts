import { Option, type Command } from 'commander';
import { basename, resolve } from 'node:path';
import { EVIDENCE_VERSION } from '../encode/index.js';
import { classifyWithTasks, encodeForTasks, tasksDetectionRows, TASKS_RAW_BACKBONE, type TasksClassification, type ViewsMode } from '../eval/evaluate/apply-tasks.js';
import { buildSetup, crossValidateDetectors, detectorCandidates, DETECTOR_RULE, DETECTOR_SELECT_CUTOFFS, EVALUATE_DETECTOR_OPTIONS, EvidenceByWindow, evidenceDetectionLayout, evidenceDetects, evidenceRankings, evidenceRowsIn, rawFeatures, SETTLE_MS } from '../eval/index.js';
import { MODALITIES, loadCheckpoint, type EncodedWindow } from '../model/index.js';
import { checkOutput } from '../sources/index.js';
import { alignPeriods, columnFrame, fitTasks, frameJSON, LinearRanker, TasksFile, type RankerCase, type SuspectFeatures, type TuneInput } from '../tasks/index.js';
import { UserError, type Dataset, type Modality } from '../telemetry/index.js';
import { DEFAULT_WINDOW, type WindowSpec } from '../windows/index.js';
import { PhaseProgress, durationArg, faultDurationOption, intArg, nonNegativeIntArg, noteDataProblems, openDataset, resolveWindowSpec, run, savedWindowHelp } from './common.js';

interface TuneCliOptions {
  data: string;
  model?: string;
  out: string;
  k?: number;
  seed: number;
  window?: number;
  stride?: number;
  faultDuration: number;
  detector: 'features' | 'evidence' | 'auto';
}

// the library path `detect`, `localize --tasks` and evaluate's `tasks` column share (src/eval/evaluate/apply-tasks.ts)
export { TASKS_RAW_BACKBONE, type ViewsMode } from '../eval/evaluate/apply-tasks.js';

/**
 * A modality the detector reads must be there in nearly every normal window of the tuning data
 * (this share): where traces and logs exist only near faults (Nezha), their presence would be the
 * signal, and new data without them would look normal.
 */
export const DETECTION_PRESENCE = 0.9;

/** The modalities detection leaves out: those present in fewer than DETECTION_PRESENCE of the normal windows with metrics. */
export function detectionMask(windows: readonly EncodedWindow[]): Modality[] {
  const normal = windows.filter((w) => w.inputs.metrics !== undefined && !w.label.abnormal);
  return MODALITIES.filter((m) => m !== 'metrics' && (normal.length === 0 || normal.filter((w) => w.inputs[m] !== undefined).length / normal.length < DETECTION_PRESENCE));
}

/** The evidence localizer's defaults, saved as the tuned localization configuration. */
export const LOCALIZE_WINDOW_MS = DEFAULT_WINDOW.lengthMs;
export const LOCALIZE_SLICE_MS = 60_000;
/** labelled cases with evidence the tuned ranker needs, else the evidence ranking is kept */
export const RANKER_MIN_CASES = 5;

/** Rows of the windows that have metrics, `mask`ed modalities left out, as the detector reads them. */
export const detectionRows = tasksDetectionRows;

async function tune(o: TuneCliOptions): Promise<void> {
  const out = checkOutput(o.out, [o.data, o.model], { label: '--out' });
  const header = o.model ? (await loadCheckpoint(o.model)).header : undefined;
  const spec: WindowSpec = resolveWindowSpec(o, header?.window);
  const backboneSpec = header?.backbone.spec ?? TASKS_RAW_BACKBONE;
  const ds = await openDataset(o.data, { faultDurationMs: o.faultDuration, needsLabels: 'tune' });
  if (ds.labels.length === 0 && !(ds.cases?.length)) throw new UserError(`${o.data} has no fault labels: tune fits on labelled data`);
  const show = process.stderr.isTTY === true;
  // evidence rows for the evidence detectors, as evaluate collects them (not for case sources,
  // whose cases have no normal windows; not for Nezha's 5-min windows, where evaluate reads the
  // evidence only over minutes, and whose 5-min detection reads metrics alone: `detectionMask`)
  // `--detector features` (the default) never reads them: before the tasks file saved the views
  // state, an evidence detector won the cross-validation inside one run and transferred worse to
  // another run; with the saved references (`detect --views auto`) it transfers, but on too few
  // systems measured to change the default (docs/tasks.md, "References for new data")
  if (o.detector === 'evidence' && (ds.cases || ds.format === 'nezha')) throw new UserError(`--detector evidence: ${o.data} gives no evidence rows for detection (${ds.cases ? 'its cases have no normal windows' : "Nezha's traces and logs exist only near faults"}); use --detector features`);
  const ev = o.detector === 'features' || ds.cases || ds.format === 'nezha' ? undefined : new EvidenceByWindow();
  const { windows, dim, views } = await encodeForTasks(ds, spec, backboneSpec, true, new PhaseProgress(show), ev?.add);
  noteDataProblems(ds, o.data);
  const setup = buildSetup(ds, windows, basename(o.data.replace(/\/+$/, '')), { folds: 5, seed: o.seed });
  const rep = rawFeatures(dim);
  const mask = detectionMask(windows);
  const det = detectionRows(windows, dim, mask);
  // evidence rows where the detection set keeps traces or logs (`evidenceDetects`), in one layout
  // over every window: the services of the tuning data
  const evidenceLayout = ev && ev.size > 0 && evidenceDetects(mask) ? evidenceDetectionLayout(windows, (w) => ev.of(w), mask) : undefined;
  if (o.detector === 'evidence' && !evidenceLayout) throw new UserError(`--detector evidence: ${o.data} gives no evidence rows for detection (its normal windows lack traces or logs, or no service has evidence); use --detector features`);
  if (ev && evidenceLayout) {
    const evRows = evidenceRowsIn(evidenceLayout, det.map((d) => d.w), (w) => ev.of(w));
    det.forEach((d, i) => {
      if (evRows[i]) d.evidence = evRows[i];
    });
  }
  // the evidence ranking of every labelled case: the ranker's training cases, and the suspect
  // the classifier learns from — the localizer's top service and its evidence, as on new data
  // (the true root cause only where the localizer ranks nothing)
  const evidence = await evidenceRankings(ds, setup);
  const cases = setup.cases.map((c) => {
    const e = evidence.get(c.id);
    return {
      row: rep.system([c.w], [])[0] as Float64Array,
      suspect: rep.entity([c.w], e?.services[0] ?? c.service)[0],
      evidence: e?.suspect,
      fold: c.fold,
      stateRow: rep.system([c.w], mask)[0],
      type: c.type,
    };
  });
  const faults = [...ds.labels.map((f) => ({ start: f.start, end: f.end }))];
  const settleMs = ds.format === 'nezha' ? SETTLE_MS : 0;
  // which detector (robust-z or kNN, on the features with states or not, or on the evidence
  // rows, gated by the rise of the window just before or not): cross-validation over the evaluate
  // protocol's folds of this data, over the candidates evaluate's `tuned` column compares inside
  // each fold (`detectorCandidates` with EVALUATE_DETECTOR_OPTIONS and the feature-selection
  // cutoffs DETECTOR_SELECT_CUTOFFS; the tasks file has no logit)
  const mo = setup.detection.find((s) => s.level === (mask.length > 0 ? 'metrics-only' : 'all-modalities'));
  let crossValidation: TuneInput['crossValidation'];
  if (mo && mo.injections.length > 0) {
    // each recording period moved into the data's feature frame, as fitTasks fits the detectors
    const frame = frameJSON(columnFrame(det.map((d) => d.row)));
    const rows = alignPeriods(mo.windows.map((w) => ({ start: w.window.start, source: w.source })), rep.system(mo.windows, mask), frame);
    const evRows = ev && evidenceLayout ? evidenceRowsIn(evidenceLayout, mo.windows, (w) => ev.of(w)) : undefined;
    const withEvidence = evRows !== undefined && evRows.some((r) => r !== undefined);
    const folds = [...new Set(mo.folds.filter((f): f is number => f !== undefined))].sort((a, b) => a - b);
    if (folds.length >= 2) {
      const candidates = detectorCandidates(rep.kind, false, withEvidence, { ...EVALUATE_DETECTOR_OPTIONS, select: DETECTOR_SELECT_CUTOFFS }).filter((c): c is typeof c & { family: 'robust-z' | 'knn' } => c.family !== 'logit');
      const cv = crossValidateDetectors(rep, mo, withEvidence ? { features: rows, evidence: evRows } : rows, folds, candidates, o.seed, settleMs);
      // the per-fold F1s let fitTasks choose by evaluate's rule (DETECTOR_RULE) whichever it is
      const all = candidates.map((c, i) => ({ family: c.family, states: c.states, ...(c.input ? { input: c.input } : {}), ...(c.rise ? { rise: true } : {}), ...(c.select !== undefined ? { select: c.select } : {}), f1: cv[i].f1, perFold: cv[i].perFold }));
      crossValidation = { folds: cv[0]?.perFold.length ?? folds.length, rule: DETECTOR_RULE, candidates: o.detector === 'evidence' ? all.filter((c) => c.input === 'evidence') : all };
    }
  }
  // the tuned ranker: the evidence ranking of every labelled case, re-weighed by a linear
  // ranker on their root causes; λ by cross-validation over the evaluate protocol's folds
  const rankerCases: RankerCase[] = setup.cases.flatMap((c) => {
    const e = evidence.get(c.id);
    return e?.candidates ? [{ candidates: e.candidates, truth: c.service, group: c.fold }] : [];
  });
  const ranker = rankerCases.length >= RANKER_MIN_CASES ? LinearRanker.fit(rankerCases) : undefined;
  const tasks = fitTasks({
    detection: det,
    faults,
    settleMs,
    mask,
    ...(evidenceLayout ? { evidenceLayout: { evidenceVersion: EVIDENCE_VERSION, ...evidenceLayout } } : {}),
    crossValidation,
    cases: cases.filter((c) => c.row !== undefined),
    k: o.k,
    seed: o.seed,
    fittedOn: {
      data: resolve(o.data),
      format: ds.format,
      ...(o.model ? { model: resolve(o.model) } : {}),
      backbone: backboneSpec,
      windows: windows.length,
      normalWindows: det.filter((w) => !w.abnormal).length,
      faults: ds.labels.length,
      cases: cases.length,
    },
    window: spec,
    views,
    localization: ranker
      ? { method: 'evidence+ranker', windowMs: LOCALIZE_WINDOW_MS, sliceMs: LOCALIZE_SLICE_MS, note: `the evidence localizer's candidates re-weighed by a linear ranker (${ranker.toJSON().loss ?? 'conditional-logit'} loss) fitted on ${ranker.toJSON().cases} labelled case(s) (docs/localize.md, "The tuned ranker"); global weights`, ranker: ranker.toJSON() }
      : { method: 'evidence', windowMs: LOCALIZE_WINDOW_MS, sliceMs: LOCALIZE_SLICE_MS, note: `the label-free evidence localizer with its defaults (no tuned ranker: fewer than ${RANKER_MIN_CASES} cases with evidence)` },
  });
  await tasks.save(out);
  const d = tasks.doc;
  const fmt = (v: number | null) => (v === null ? 'n/a' : v.toFixed(3));
  const lines = [
    `tasks fitted on ${o.data}: ${d.fittedOn.windows} windows (${d.detection.references} normal references), ${d.fittedOn.cases} labelled case(s)`,
    `detection reads: ${MODALITIES.filter((m) => !d.detection.mask.includes(m)).join(', ')}${d.detection.mask.length ? ` (${d.detection.mask.join(', ')} left out: in fewer than ${DETECTION_PRESENCE * 100} % of normal windows)` : ''}`,
    `states: k=${d.states.k} (${d.states.partition ? `k-means, chosen by ${d.states.partition.chosenBy}` : 'one state: too few rows'}); context ${d.states.contextMs / 60_000} min`,
    `detection: ${d.detection.input === 'evidence' ? `evidence:${d.detection.family} over ${d.detection.evidence?.services.length} services × ${d.detection.evidence?.features.length} evidence features` : `${d.detection.family}${d.detection.useStates ? ' with states' : ', global'}${d.detection.global.keep ? `, over the ${d.detection.global.keep.filter(Boolean).length} of ${d.detection.global.keep.length} features whose |z| separates the fault windows with AUC ≥ ${d.detection.global.select}` : ''}`}${d.detection.rise ? ', rise gate (an alarm only where the score rose above the window just before)' : ''} (cross-validated event-F1 over ${d.detection.crossValidation ? `${d.detection.crossValidation.folds} folds: ${d.detection.crossValidation.candidates.map((c) => `${c.candidate} ${fmt(c.f1)}`).join(', ')}` : 'not measured'}); robust-z thresholds ${d.detection.state.states.map((s, i) => `state ${i}: ${s.threshold.toFixed(2)} (n=${s.n}, w=${s.weight.toFixed(2)})`).join('; ')}; global ${d.detection.global.global.threshold.toFixed(2)}`,
    `localization: ${d.localization.ranker ? `evidence re-weighed by a ranker (${d.localization.ranker.lambda === null ? 'λ=∞: no λ beat the evidence ranking on held-out folds' : `λ=${d.localization.ranker.lambda}`}, ${d.localization.ranker.cases} cases; weights ${d.localization.ranker.features.map((f, j) => `${f} ${d.localization.ranker!.global[j].toFixed(2)}`).join(', ')})` : 'the label-free evidence ranking'}`,
    `classification: ${d.classification ? `${d.classification.types.length} types (${d.classification.types.join(', ')}); reads ${d.classification.evidence.blocks === 'evidence' ? "the suspect's evidence alone" : `the window, the suspect's view${d.classification.evidence.layout.length > 0 ? " and the suspect's evidence" : ''}`}${d.classification.evidence.crossValidation ? ` (cross-validated macro-F1: ${d.classification.evidence.crossValidation.map((c) => `${c.candidate} ${fmt(c.f1)}`).join(', ')})` : ''}` : 'none (fewer than two fault types)'}`,
    `views: the tuning data's references saved for \`detect\` and \`localize --tasks\` (${d.views?.metrics.length ?? 0} metric baselines, ${d.views?.miner.clusters.length ?? 0} log templates, ${d.views?.evidence ? 'evidence references' : 'no evidence references'})`,
    `wrote ${out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  // reading it back proves the file is whole
  await TasksFile.load(out);
}

export function register(program: Command): void {
  program
    .command('tune')
    .description('fit the runtime states and the three task models (detection, classification, localization configuration) on all labelled data of a dataset; writes one versioned tasks file for `detect` and `localize --tasks` (docs/tasks.md)')
    .requiredOption('--data <path>', 'labelled telemetry folder (Nezha export, simulator / OTLP output)')
    .option('--model <file>', "trained model: its window and backbone are used (the task models read raw view features)")
    .requiredOption('--out <file>', 'the tasks file to write (JSON, atomically)')
    .option('--k <n>', 'number of runtime states (default: chosen by silhouette over 2..4)', intArg(1))
    .option('--seed <n>', 'seed of the k-means', nonNegativeIntArg, 0)
    .option('--window <duration>', savedWindowHelp('length'), durationArg)
    .option('--stride <duration>', savedWindowHelp('stride'), durationArg)
    .addOption(faultDurationOption())
    .addOption(
      new Option('--detector <input>', 'what the detector reads: features (raw view features), evidence (the evidence rows; sets with traces and logs in normal windows), auto (whichever cross-validates best on this data; see docs/tasks.md on transfer to other runs)')
        .choices(['features', 'evidence', 'auto'])
        .default('features'),
    )
    .action((o: TuneCliOptions) => run(() => tune(o)));
}

/**
 * The fault type of the window starting at (or last before) `at`, by the classifier of a tasks
 * file (`classifyWithTasks` for one window). Types are ranked nearest first (MRR-ordered).
 */
export async function classifyAt(ds: Dataset, tasks: TasksFile, at: number, suspect: string | undefined, evidence: SuspectFeatures | undefined, show: boolean, views: ViewsMode = 'own'): Promise<TasksClassification | undefined> {
  return (await classifyWithTasks(ds, tasks, [{ at, suspect, evidence }], views, new PhaseProgress(show)))[0];
}
