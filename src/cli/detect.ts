import { Option, type Command } from 'commander';
import { detectWithTasks, featureNames, type ViewsMode } from '../eval/evaluate/apply-tasks.js';
import { eventPRF } from '../stats/index.js';
import { TasksFile, type WindowAlarm } from '../tasks/index.js';
import { isoTime } from '../telemetry/index.js';
import { PhaseProgress, noteDataProblems, openDataset, run, showProgress } from './common.js';

interface DetectCliOptions {
  data: string;
  tasks: string;
  json?: boolean;
  states: 'auto' | 'on' | 'off';
  /** what new data is encoded against (see the option's help) */
  views: 'auto' | ViewsMode;
  align: 'auto' | 'on' | 'off';
  /** the rise gate: auto = as the tasks file chose by cross-validation */
  rise: 'auto' | 'on' | 'off';
}

export { featureNames };

/** Runs of alarmed windows that overlap or touch: what an operator sees as one alarm. */
function alarmRuns(alarms: readonly WindowAlarm[]): { start: number; end: number; windows: WindowAlarm[] }[] {
  const sorted = alarms.filter((a) => a.alarm).sort((a, b) => a.start - b.start);
  const out: { start: number; end: number; windows: WindowAlarm[] }[] = [];
  for (const a of sorted) {
    const last = out[out.length - 1];
    if (last && a.start <= last.end && a.source === last.windows[0].source) {
      last.end = Math.max(last.end, a.end);
      last.windows.push(a);
    } else out.push({ start: a.start, end: a.end, windows: [a] });
  }
  return out;
}

/** What the new data's rows were computed against (one line of `detect`'s report). */
function viewsNote(views: ViewsMode, aligned: 'evidence' | 'features' | undefined): string {
  const what = views === 'mixed' ? "the tuning data's references, with metric baselines fitted on this data" : views === 'saved' ? "the tuning data's references" : 'references fitted on this data itself';
  return `encoded against ${what}${aligned ? `; ${aligned} columns aligned to the tuning data's median and spread` : ''}`;
}

async function detect(o: DetectCliOptions): Promise<void> {
  const tasks = await TasksFile.load(o.tasks);
  const names = tasks.evidenceColumns() ?? featureNames();
  const ds = await openDataset(o.data, {});
  const warn = (m: string) => process.stderr.write(`warning: ${m}\n`);
  // the library path evaluate's `tasks` column shares (src/eval/evaluate/apply-tasks.ts)
  const det = await detectWithTasks(ds, tasks, { states: o.states, views: o.views, align: o.align, rise: o.rise, where: o.tasks, data: o.data, progress: new PhaseProgress(showProgress(o.json)), warn });
  noteDataProblems(ds, o.data);
  const { alarms, useStates, rise } = det;
  const evLayout = det.evidence ? tasks.doc.detection.evidence : null;
  const gated = alarms.filter((a) => a.gated).length;
  const runs = alarmRuns(alarms);
  // labelled data: how the alarms fall against the faults (event rule of docs/evaluate.md)
  const ev = ds.labels.length > 0 ? eventPRF(alarms.map((a) => ({ start: a.start, end: a.end, alarm: a.alarm })), ds.labels.map((f) => ({ start: f.start, end: f.end }))) : undefined;
  if (o.json) {
    process.stdout.write(
      JSON.stringify({
        tasks: o.tasks,
        data: o.data,
        detector: `${tasks.doc.detection.input === 'evidence' ? `evidence:${tasks.doc.detection.family}` : `${tasks.doc.detection.family}${useStates ? '+states' : ''}`}${rise ? '+rise' : ''}`,
        rise,
        ...(rise ? { gated } : {}),
        states: useStates ? tasks.k : 1,
        views: det.views,
        aligned: det.aligned !== undefined,
        windows: alarms.map((a) => ({ start: isoTime(a.start), end: isoTime(a.end), state: a.state, score: Number.isFinite(a.score) ? a.score : null, threshold: a.threshold, alarm: a.alarm, ...(a.gated ? { gated: true } : {}), ...(a.alarm && a.feature >= 0 ? { feature: names[a.feature] } : {}) })),
        alarms: runs.map((r) => ({ start: isoTime(r.start), end: isoTime(r.end), windows: r.windows.length, maxScore: Math.max(...r.windows.map((w) => w.score)) })),
        ...(ev ? { againstLabels: { faults: ev.faults, caught: ev.caught, falseAlarms: ev.falseAlarms, precision: ev.precision, recall: ev.recall, f1: ev.f1 } } : {}),
      }) + '\n',
    );
    return;
  }
  const alarmed = alarms.filter((a) => a.alarm).length;
  const lines = [`detect ${o.data} with ${o.tasks}: ${alarms.length} windows, ${alarmed} alarmed in ${runs.length} alarm(s)${rise ? ` (${gated} more above threshold but held back by the rise gate: the window just before scored as high)` : ''}; ${evLayout ? `global detector, ${tasks.doc.detection.family} over the evidence rows (${evLayout.services.length} services × ${evLayout.features.length} features; no states)` : useStates ? `${tasks.k} states, each window judged in the state of its preceding ${tasks.doc.states.contextMs / 60_000} min` : `global detector (${tasks.k > 1 ? 'states off' : 'one state'})`}`, viewsNote(det.views, det.aligned), ''];
  for (const r of runs) {
    const top = r.windows.reduce((a, b) => (b.score > a.score ? b : a));
    lines.push(`${isoTime(r.start)} – ${isoTime(r.end)}  ${r.windows.length} window(s), state ${top.state}, score ${top.score.toFixed(2)} > ${top.threshold.toFixed(2)}${top.feature >= 0 ? ` (${names[top.feature]})` : ''}`);
  }
  if (ev) lines.push('', `against the labels of ${o.data}: ${ev.caught}/${ev.faults} faults caught, ${ev.falseAlarms} false alarm(s); event P ${ev.precision.toFixed(3)} R ${ev.recall.toFixed(3)} F1 ${ev.f1.toFixed(3)}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('detect')
    .description('alarm on windows with the detector of a tasks file (`runtimeslicer tune`): per window its runtime state, score and threshold (docs/tasks.md)')
    .requiredOption('--data <path>', 'telemetry folder')
    .requiredOption('--tasks <file>', 'tasks file written by `runtimeslicer tune`')
    .addOption(new Option('--states <mode>', 'state-aware detector: auto = as the tasks file chose by cross-validation').choices(['auto', 'on', 'off']).default('auto'))
    .addOption(new Option('--views <which>', "references the new data is encoded against: mixed = the tuning data's (saved in the tasks file) but metric baselines fitted on --data, saved = all the tuning data's, own = all fitted on --data itself, auto = mixed for an evidence detector, own for a features one (docs/tasks.md)").choices(['auto', 'mixed', 'saved', 'own']).default('auto'))
    .addOption(new Option('--align <mode>', "move each column of the new data to the tuning data's median and spread over the whole timeline: evidence detector (auto = only with --views own) and features detector (auto = on where the tasks file saves the frame, schemaVersion 6)").choices(['auto', 'on', 'off']).default('auto'))
    .addOption(new Option('--rise <mode>', 'rise gate (an alarm only where the score rose above the same source\'s window just before): auto = as the tasks file chose by cross-validation').choices(['auto', 'on', 'off']).default('auto'))
    .option('--json', 'print one JSON object: every window (gated: held back by the rise gate), and the alarms')
    .action((o: DetectCliOptions) => run(() => detect(o)));
}
