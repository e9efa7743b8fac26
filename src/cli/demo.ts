import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { basename, relative, resolve } from 'node:path';
import { simulate } from '../simulate/index.js';
import { checkOutput, loadDataset } from '../sources/index.js';
import { DEFAULT_WINDOW, inspectDataset, type WindowSpec } from '../windows/index.js';
import { createBackbone, encodeDataset, type Backbone } from '../encode/index.js';
import { DEFAULT_LOSS_OPTIONS, currentFeatureLayouts, encodeWindows, readEncodedWindows, saveCheckpoint, trainStateModel, windowInputDims, type EncodedWindow, type StateModel } from '../model/index.js';
import { evaluateDataset, formatEvaluateMarkdown, modelEmbedder, rawBackboneEmbedder, readRegimes, regimeOf, writeEvaluateJson, type EvalReport } from '../eval/index.js';
import { buildReportHtml, writeReport, type ReportFigure, type ReportInput, type ReportTimeline, type SuspectEvidence } from '../eval/report/index.js';
import { embeddingPlot, renderSvg } from '../plot/index.js';
import { StatePartition, adjustedRandIndex, rawMetricRows, stateRows, summarizeStates, type StateSummary } from '../states/index.js';
import { prepareLocalizer, type Ranking, type Suspect } from '../tasks/index.js';
import { isoTime, type Dataset, type FaultLabel } from '../telemetry/index.js';
import { Progress, nonNegativeIntArg, run, showProgress, withEncodeProgress } from './common.js';
import { formatEmbeddingSummary } from './plot.js';
import { RealDataThread, evaluateRealData, faultSpans, type RealDataResult } from './demo-real.js';

const SPEC: WindowSpec = DEFAULT_WINDOW;

/**
 * The sizes of a demo run. The held-out run uses a different topology from the training run, so
 * nothing shown can come from a model tuned to one call graph.
 */
interface DemoPlan {
  train: { hours: number; faults: number; topology: string };
  heldOut: { hours: number; faults: number; topology: string };
  epochs: number;
  folds: number;
  realData: boolean;
}

const FULL: DemoPlan = {
  train: { hours: 6, faults: 20, topology: 'boutique' },
  heldOut: { hours: 6, faults: 20, topology: 'mesh' },
  epochs: 20,
  folds: 5,
  realData: true,
};

/**
 * Small enough for a test: the same steps, fewer hours and epochs, no real data. Folds are
 * hour-long time blocks, and detection needs normal windows in every training fold, so a run
 * keeps to about three faults an hour.
 */
const QUICK: DemoPlan = {
  train: { hours: 1, faults: 3, topology: 'boutique' },
  heldOut: { hours: 3, faults: 9, topology: 'mesh' },
  epochs: 3,
  folds: 3,
  realData: false,
};

interface DemoOptions {
  out: string;
  seed: number;
  datasets: string;
  quick?: boolean;
}

const say = (s: string) => process.stdout.write(s + '\n');
const indent = (text: string, pad = '   ') => text.trimEnd().split('\n').map((l) => pad + l).join('\n');
const secs = (t: number) => `${((performance.now() - t) / 1000).toFixed(1)} s`;
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;
const clip = (s: string, n: number) => (s.length > n ? s.slice(0, n - 1) + '…' : s);
const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

/**
 * The headline tables of the evaluate Markdown: the tuned tasks' Table 1 beside the paper's
 * figures, then every column (sentinels, raw features, evidence, the model) in the same shape.
 * The breakdowns are in the JSON and the report.
 */
function headlineTable(report: EvalReport): string {
  const md = formatEvaluateMarkdown(report).split('\n');
  const out: string[] = [];
  let i = 0;
  for (let t = 0; t < 2; t++) {
    const first = md.findIndex((l, j) => j >= i && l.startsWith('|'));
    if (first < 0) break;
    let last = first;
    while (last + 1 < md.length && md[last + 1].startsWith('|')) last++;
    out.push(md.slice(i, first).filter((l) => l.trim() && !l.startsWith('## ')).join('\n'), ...md.slice(first, last + 1));
    i = last + 1;
  }
  return out.length ? out.filter((l) => l !== '').join('\n') : md.join('\n');
}

function stateLine(s: StateSummary): string {
  const apart = s.features.slice(0, 2).map((f) => `${f.modality}.${f.feature} ${f.smd >= 0 ? '+' : ''}${f.smd.toFixed(1)}`);
  const svc = s.services[0] ? `; ${s.services[0].service} stands out` : '';
  return `state ${s.state}: ${s.windows} windows (${pct(s.share)}), ${s.intervals.length} interval(s), ${pct(s.abnormalShare)} abnormal${apart.length ? `; ${apart.join(', ')}` : ''}${svc}`;
}

/** The one-line reason a suspect is on the list: its strongest families and their best item. */
function why(s: Suspect): string {
  return s.evidence
    .slice(0, 2)
    .map((e) => {
      const it = e.items[0];
      return `${e.family} z=${e.z.toFixed(1)}${it ? ` (${clip(it.subject, 70)}: ${num(it.value)} vs ${num(it.reference)}${it.unit ? ` ${it.unit}` : ''})` : ''}`;
    })
    .join('; ');
}

/** A fault to localize: the middle one of the run, so it has normal history on both sides. */
function pickFault(ds: Dataset): FaultLabel | undefined {
  const faults = [...ds.labels].sort((a, b) => a.start - b.start);
  return faults[Math.floor(faults.length / 2)];
}

async function localizeOne(ds: Dataset, fault: FaultLabel): Promise<Ranking> {
  const query = { start: fault.start, end: Math.max(fault.end, fault.start + SPEC.lengthMs) };
  return (await prepareLocalizer(ds, [query])).rank(query);
}

function formatRanking(r: Ranking, fault: FaultLabel, top: number): string {
  const at = r.services.findIndex((s) => s.service === fault.rootCauseService);
  const lines = [`fault ${fault.id}: ${fault.type} at ${fault.rootCause}, ${isoTime(fault.start)}; the truth is ranked ${at >= 0 ? at + 1 : 'nowhere'} of ${r.services.length}`];
  r.services.slice(0, top).forEach((s, i) => lines.push(`${i + 1}. ${s.service}  score ${s.score.toFixed(1)}  ${why(s)}`));
  return lines.join('\n');
}

/** The state lane of the report's timeline: runs of windows in one state, start to start + stride. */
function stateSpans(windows: readonly EncodedWindow[], states: readonly number[]): NonNullable<ReportTimeline['states']> {
  const spans: NonNullable<ReportTimeline['states']> = [];
  windows.forEach((w, i) => {
    const last = spans[spans.length - 1];
    const end = w.window.start + SPEC.strideMs;
    if (last && last.state === states[i] && (last.end as number) >= w.window.start) last.end = end;
    else spans.push({ start: w.window.start, end, state: states[i] });
  });
  return spans;
}

async function evaluate(ds: Dataset, backbone: Backbone, name: string, folds: number, seed: number, models: { name: string; model: StateModel }[]): Promise<EvalReport> {
  return withEncodeProgress(showProgress(), name, async (onProgress) => (await evaluateDataset(ds, { backbone, spec: SPEC, folds, seed, models, name, onProgress })).report);
}

async function demo(o: DemoOptions): Promise<void> {
  const plan = o.quick ? QUICK : FULL;
  const t0 = performance.now();
  const trainDir = resolve(o.out, 'sim-train');
  const testDir = resolve(o.out, 'sim-heldout');
  const reportDir = resolve(o.out, 'report');
  checkOutput(o.out, [], { folder: true }); // writable before minutes of simulation
  const nezha = resolve(o.datasets, 'nezha-trainticket');
  const withNezha = plan.realData && existsSync(nezha);
  // the real data's evaluation runs beside the simulator steps (mostly one core's work); in-line at step 7 where no thread starts
  const nezhaThread = withNezha ? RealDataThread.start(nezha, o.seed, SPEC) : undefined;
  // paths as the user would type them: relative under the working folder, else absolute
  const shown = (p: string) => {
    const rel = relative(process.cwd(), p);
    return rel === '' ? '.' : rel.startsWith('..') ? p : rel;
  };

  const { train: tr, heldOut: ho } = plan;
  say(`1. simulating a training run (${tr.topology}, ${tr.hours} h, ${tr.faults} faults) and a held-out run of another system (${ho.topology}, ${ho.hours} h, ${ho.faults} faults), load regimes low/normal/peak/burst → ${shown(o.out)}`);
  let t = performance.now();
  const total = (tr.hours + ho.hours) * 60;
  const bar = new Progress('simulating', total);
  await simulate({ outDir: trainDir, hours: tr.hours, seed: o.seed, faults: tr.faults, topology: tr.topology, onProgress: (d) => bar.update(Math.round(d / 60_000)) });
  await simulate({ outDir: testDir, hours: ho.hours, seed: o.seed + 1000, faults: ho.faults, topology: ho.topology, onProgress: (d) => bar.update(tr.hours * 60 + Math.round(d / 60_000)) });
  bar.stop();
  const train = await loadDataset(trainDir);
  const held = await loadDataset(testDir);
  const r = await inspectDataset(train, SPEC);
  say(`   read back as OTLP JSON + faults.json: ${r.entities} entities, ${r.metrics.samples} metric samples, ${r.traces.spans} spans, ${r.logs.records} logs, ${r.windows} windows (${secs(t)})`);

  const arrow = resolve(o.out, 'sim-train-views.arrow');
  say(`2. pre-training the state model on the training run without task labels (views → hash backbone → modal InfoNCE + temporal + weak anomaly terms)`);
  t = performance.now();
  const backbone = await createBackbone('hash');
  const enc = await withEncodeProgress(showProgress(), 'training run', (onProgress) => encodeDataset(train, { spec: SPEC, backboneSpec: 'hash', out: arrow, onProgress }));
  // the views file is the training input: nothing is encoded twice
  const trainWindows = (await readEncodedWindows(arrow)).windows;
  const b2t = new Progress('training', plan.epochs);
  const trained = await trainStateModel(trainWindows, { inputDims: windowInputDims(backbone.dim), epochs: plan.epochs, seed: o.seed, weakLabels: true, onProgress: (p) => b2t.update(p.epoch + 1) });
  b2t.stop();
  const model = trained.model;
  // saved, so the commands named at the end can be tried on the same model
  const modelPath = resolve(o.out, 'model.rsm');
  const { viewsVersion, layouts } = currentFeatureLayouts();
  await saveCheckpoint(modelPath, {
    model,
    backbone: { id: backbone.id, spec: 'hash', dim: backbone.dim },
    window: SPEC,
    features: { viewsVersion, layouts },
    loss: { options: DEFAULT_LOSS_OPTIONS, terms: trained.terms },
    training: {
      epochs: trained.epochs,
      bestEpoch: trained.bestEpoch + 1,
      steps: trained.steps,
      bestValLoss: trained.bestValLoss,
      stopReason: trained.stopReason,
      trainWindows: trained.trainWindows,
      valWindows: trained.valWindows,
      sources: [trainDir],
      seed: o.seed,
      weakLabels: true,
    },
  });
  say(`   ${enc.rows} view rows → ${shown(arrow)}; ${trained.epochs} epochs${trained.stopReason === 'epochs' ? '' : ` (${trained.stopReason})`} over ${trained.trainWindows} windows → ${shown(modelPath)} (${secs(t)})`);

  say(`3. runtime states of the held-out run: k-means over its state embeddings with traces and logs masked (load lives in the metrics; faults in traces and logs), k by silhouette`);
  t = performance.now();
  const heldWindows = await withEncodeProgress(showProgress(), 'held-out run', (onProgress) => encodeWindows(held, { spec: SPEC, backbone, entities: true, onProgress }));
  const partition = StatePartition.fit(stateRows(model, heldWindows, { mask: ['traces', 'logs'] }), { method: 'kmeans', kMax: 6, seed: o.seed });
  const states = partition.labels;
  for (const s of summarizeStates(heldWindows, states, { k: partition.k, strideMs: SPEC.strideMs, topFeatures: 2, topServices: 1 })) say('   ' + stateLine(s));
  const regimes = await readRegimes(testDir);
  if (regimes) {
    const regimeAt = heldWindows.map((w) => regimeOf(w.window, regimes)?.regime);
    const ari = (labels: readonly number[], idx: readonly number[]) => {
      const kept = idx.filter((i) => regimeAt[i] !== undefined);
      return adjustedRandIndex(kept.map((i) => labels[i]), kept.map((i) => regimeAt[i] as string));
    };
    // the same clustering of the raw metrics features, so the figure has something to stand beside
    const raw = rawMetricRows(heldWindows);
    const rawPartition = StatePartition.fit(raw.rows, { method: 'kmeans', kMax: 6, seed: o.seed });
    const rawLabels: number[] = [];
    raw.keep.forEach((w, j) => (rawLabels[w] = rawPartition.labels[j]));
    say(
      `   ${partition.k} states over ${heldWindows.length} windows; adjusted Rand index against the simulated load regimes: ${ari(states, heldWindows.map((_, i) => i)).toFixed(3)}` +
        ` (raw metrics features, ${rawPartition.k} states: ${ari(rawLabels, raw.keep).toFixed(3)}) (${secs(t)})`,
    );
  }

  say(`4. evaluate on the held-out run: ${plan.folds} grouped folds, leak sentinels, raw features, evidence localizer and the model (Table 1 shape)`);
  t = performance.now();
  const simName = `simulator ${ho.topology} (held out)`;
  const simReport = await evaluate(held, backbone, simName, plan.folds, o.seed, [{ name: 'model', model }]);
  const evalJson = resolve(o.out, 'eval-sim.json');
  await writeEvaluateJson(evalJson, simReport);
  say(indent(headlineTable(simReport)));
  say(`   full report with breakdowns → ${shown(evalJson)} (${secs(t)})`);

  const fault = pickFault(held);
  const evidence: Record<string, SuspectEvidence[]> = {};
  if (fault) {
    say('5. localizing one held-out fault with the evidence localizer (call-edge gaps, self time, log templates, resources; no labels)');
    t = performance.now();
    const ranking = await localizeOne(held, fault);
    say(indent(formatRanking(ranking, fault, 3)) + ` (${secs(t)})`);
    evidence.evidence = ranking.services.slice(0, 3).map((s) => ({ suspect: s.service, score: s.score, why: why(s) }));
  } else {
    say('5. (skipped: the held-out run has no fault to localize)');
  }

  say('6. writing the HTML report (Table 1, per-type bars, state timeline with faults, per-case rankings, embedding plot)');
  t = performance.now();
  const plot = embeddingPlot(heldWindows, [
    { name: 'raw backbone', embed: rawBackboneEmbedder(backbone.dim) },
    { name: 'learned state model', embed: modelEmbedder(model) },
  ], { method: 'umap', seed: o.seed, maxPoints: 600 });
  const summary = formatEmbeddingSummary(plot);
  const embedding: ReportFigure = { title: 'Raw backbone vs learned state embedding (held-out run)', svg: await renderSvg(plot.spec), caption: summary.trim() };
  const input: ReportInput = {
    ...simReport,
    kind: 'simulator',
    cases: simReport.cases.map((c) => (fault && c.id === fault.id ? { ...c, evidence } : c)),
    // the model's states replace evaluate's (those of the tuned detector's raw features); its alarms stay
    timeline: { alarms: simReport.timeline?.alarms, states: stateSpans(heldWindows, states), faults: faultSpans(held) },
  };
  const reportPath = await writeReport(reportDir, await buildReportHtml(input, { embedding, source: evalJson }));
  say(`   ${shown(reportPath)} (${secs(t)})`);

  let nezhaReport: string | undefined;
  if (!plan.realData) say('7. (skipped with --quick: the real TrainTicket data)');
  else if (!withNezha) say(`7. (skipped: ${nezha} not found)`);
  else {
    say(`7. the real TrainTicket data (${nezha}): the same evaluate without the model column (the model knows only the simulator)${nezhaThread ? '; it ran beside the steps above' : ''}`);
    t = performance.now();
    let real: RealDataResult;
    if (nezhaThread) real = await nezhaThread.result();
    else real = await withEncodeProgress(showProgress(), basename(nezha), (onProgress) => evaluateRealData(nezha, o.seed, SPEC, onProgress));
    const rep = real.report;
    const json = resolve(o.out, 'eval-nezha.json');
    await writeEvaluateJson(json, rep);
    say(indent(headlineTable(rep)));
    nezhaReport = await writeReport(resolve(o.out, 'report-nezha'), await buildReportHtml({ ...rep, kind: 'nezha', timeline: { ...rep.timeline, faults: real.faults } }, {
      source: json,
      embeddingMissing: 'No embedding plot: the demo trains its model on the simulator only; run `runtimeslicer train` on this data and `runtimeslicer report --model --data` for one.',
    }));
    say(`   ${real.problems} data problem(s) reported while reading; → ${shown(json)}, ${shown(nezhaReport)} (${nezhaThread ? `${secs(t)} waited for it` : secs(t)})`);
  }
  say(`done in ${secs(t0)}. Next: \`runtimeslicer states --model ${shown(modelPath)} --data ${shown(testDir)}\`, or \`train\`, \`evaluate\` and \`report\` on your own OTLP export (README).`);
  say(`report: ${shown(reportPath)}${nezhaReport ? ` (real data: ${shown(nezhaReport)})` : ''}`);
}

/**
 * The product end to end: simulate systems with load regimes and faults, pre-train the state
 * model, find the runtime states of a run it never saw, evaluate it there (Table 1), localize a
 * fault with its evidence, write the HTML report; then the same evaluate on the real TrainTicket
 * data when ../shared/datasets is there.
 */
export function register(program: Command): void {
  program
    .command('demo')
    .description('end-to-end demo: simulate, pre-train, find the runtime states, evaluate (Table 1), localize a fault with its evidence, write the HTML report (then the real Nezha data if present)')
    .option('--out <dir>', 'where the simulated runs, the views file, the EVAL.json files and the report are written', 'out/demo')
    .option('--seed <n>', 'random seed', nonNegativeIntArg, 1)
    .option('--datasets <dir>', 'folder with the shared real datasets', '../shared/datasets')
    .option('--quick', 'a small run (1 h + 3 h, 3 epochs, 3 folds) and no real data: for tests and a first look')
    .action((o: DemoOptions) => run(() => demo(o)));
}
