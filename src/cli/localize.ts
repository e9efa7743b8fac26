import { Option, type Command } from 'commander';
import { loadDataset } from '../sources/index.js';
import { UserError, isoTime, formatDuration, type Dataset } from '../telemetry/index.js';
import { rankCaseEvents, suspectFeatures, type Ranking } from '../tasks/index.js';
import { DEFAULT_HISTORY_MS } from '../encode/evidence/index.js';
import { localizeWithTasks } from '../eval/evaluate/apply-tasks.js';
import { durationArg, positiveIntArg, run, showProgress } from './common.js';
import { DEFAULT_WINDOW } from '../windows/index.js';
import { TasksFile } from '../tasks/index.js';
import { classifyAt, type ViewsMode } from './tune.js';

interface LocalizeCliOptions {
  data: string;
  at?: string;
  case?: string;
  window: number;
  slice: number;
  top: number;
  json?: boolean;
  tasks?: string;
  views: ViewsMode;
}

/** "2023-01-29 08:43:04" (UTC), ISO 8601, or epoch seconds / milliseconds. */
export function parseTimeArg(text: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) {
    const n = Number(t);
    return n < 1e11 ? n * 1000 : n;
  }
  const iso = t.replace(' ', 'T');
  const withZone = /([zZ]|[+-]\d\d:?\d\d)$/.test(iso) ? iso : `${iso}Z`;
  const ms = Date.parse(withZone);
  if (!Number.isFinite(ms)) throw new UserError(`--at: not a time: "${text}" (expected e.g. "2023-01-29 08:43:04" in UTC, an ISO time or epoch seconds)`, 2);
  return ms;
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

/** Evidence subjects shown on a terminal line at most this long (log templates can run to kilobytes; `--json` has them whole). */
const SUBJECT_CHARS = 240;

function shortSubject(s: string): string {
  return s.length <= SUBJECT_CHARS ? s : `${s.slice(0, SUBJECT_CHARS - 40)} … ${s.slice(-39)}`;
}

function formatRanking(r: Ranking, top: number, header: string): string {
  const lines = [header, `families with data: ${r.families.join(', ') || '(none)'}`, ''];
  if (!r.services.length) {
    // an empty ranking is an answer about the data, not a failure: say what each family needs
    lines.push(
      'nothing to rank: no evidence family had data for this window. Traces and logs need normal windows',
      `to compare against; metrics need each pod's history before the window (${formatDuration(DEFAULT_HISTORY_MS)}, or less where the data begins).`,
      'What the data holds, and when: `runtimeslicer inspect PATH`.',
    );
  }
  r.services.slice(0, top).forEach((s, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${s.service}  score ${s.score.toFixed(1)}  (${s.evidence.map((e) => `${e.family} ${e.z.toFixed(1)}`).join(', ')})`);
    for (const e of s.evidence.slice(0, 2)) for (const it of e.items.slice(0, 2)) {
      lines.push(`      ${e.family}: ${shortSubject(it.subject)}${it.pod ? ` [${it.pod}]` : ''}: ${num(it.value)} vs ${num(it.reference)}${it.unit ? ` ${it.unit}` : ''} (deviation ${it.deviation.toFixed(1)}${it.support !== undefined ? `, n ${it.support}` : ''})`);
    }
  });
  if (r.pods.length) {
    lines.push('', 'pods:');
    r.pods.slice(0, top).forEach((p, i) => lines.push(`${String(i + 1).padStart(2)}. ${p.pod} (${p.service})  ${p.score.toFixed(1)}`));
  }
  return lines.join('\n');
}

async function localizeCase(ds: Dataset, o: LocalizeCliOptions): Promise<void> {
  const cases = ds.cases ?? [];
  let id = o.case;
  if (!id && o.at !== undefined) {
    const t = parseTimeArg(o.at);
    id = cases.find((c) => t >= c.start && t < c.end)?.id;
    if (!id) throw new UserError(`no case of ${ds.root} contains ${isoTime(t)}; pass --case ID`);
  }
  if (!id) throw new UserError('this dataset is made of cases: pass --case ID (or --at TIME inside one)', 2);
  if (!cases.some((c) => c.id === id)) throw new UserError(`no case "${id}" in ${ds.root}`);
  const r = rankCaseEvents(ds, cases.map((c) => c.id)).get(id)!;
  if (o.json) {
    process.stdout.write(JSON.stringify({ case: id, method: 'metric-event-idf', ...r }, null, 2) + '\n');
    return;
  }
  const lines = [`case ${id}: metric and log events weighted by (pod, KPI or template) IDF over all cases (no labels), over the incident so far`, ''];
  r.services.slice(0, o.top).forEach((s, i) => {
    lines.push(`${String(i + 1).padStart(2)}. ${s.service}  score ${s.score.toFixed(1)}`);
    for (const it of s.items) lines.push(`      ${it.pod} ${it.kpi}: ${it.events} event(s), idf ${it.idf.toFixed(2)}${it.case !== id ? ` (window ${it.case})` : ''}`);
  });
  process.stdout.write(lines.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('localize')
    .description('rank services and pods by label-free root-cause evidence in a window (call-edge gaps, self time, log templates per span, pod resources), each calibrated against normal windows (docs/localize.md)')
    .requiredOption('--data <path>', 'telemetry folder')
    .option('--at <time>', 'window start: "YYYY-MM-DD HH:MM:SS" (UTC), ISO time or epoch seconds')
    .option('--case <id>', 'case-based datasets (AIOps 2022): the case to rank')
    .addOption(new Option('--window <duration>', 'window length').argParser(durationArg).default(DEFAULT_WINDOW.lengthMs, formatDuration(DEFAULT_WINDOW.lengthMs)))
    .option('--slice <duration>', 'normal-window length; the window is judged slice by slice', durationArg, 60_000)
    .option('--top <n>', 'suspects shown', positiveIntArg, 10)
    .option('--json', 'print one JSON object')
    .option('--tasks <file>', 'tasks file (`runtimeslicer tune`): its localizer configuration, and the fault type of the window (classification)')
    .addOption(new Option('--views <which>', "--tasks: what the window's rows for the classifier are encoded against (as `detect --views`; default own: a fit on --data)").choices(['mixed', 'saved', 'own']).default('own'))
    .action((o: LocalizeCliOptions, cmd: Command) =>
      run(async () => {
        const tasks = o.tasks ? await TasksFile.load(o.tasks) : undefined;
        // the tuned configuration, unless given on the command line
        if (tasks && cmd.getOptionValueSource('window') === 'default') o.window = tasks.doc.localization.windowMs;
        if (tasks && cmd.getOptionValueSource('slice') === 'default') o.slice = tasks.doc.localization.sliceMs;
        const ds = await loadDataset(o.data);
        if (ds.labelIssues?.length) for (const m of ds.labelIssues) process.stderr.write(`runtimeslicer: warning: ${m}\n`);
        if (ds.cases?.length) {
          if (tasks) throw new UserError('--tasks: case-based datasets (AIOps 2022) have no normal windows for the task models; leave --tasks out', 2);
          return localizeCase(ds, o);
        }
        if (o.at === undefined) throw new UserError('localize: --at TIME is required', 2);
        const start = parseTimeArg(o.at);
        const query = { start, end: start + o.window };
        if (query.end <= ds.timeRange.start || query.start >= ds.timeRange.end) {
          throw new UserError(`--at ${isoTime(start)}: the window has no data (${o.data} covers ${isoTime(ds.timeRange.start)} – ${isoTime(ds.timeRange.end)})`);
        }
        // the library path evaluate's `tasks` column shares (src/eval/evaluate/apply-tasks.ts)
        const loc = await localizeWithTasks(ds, tasks, start, { windowMs: o.window, sliceMs: o.slice });
        const r = loc.ranking;
        const ranker = loc.rankedBy === 'tuned-ranker';
        const cls = tasks ? await classifyAt(ds, tasks, start, r.services[0]?.service, suspectFeatures(r), showProgress(o.json), o.views) : undefined;
        if (o.json) {
          process.stdout.write(
            JSON.stringify(
              { at: isoTime(start), windowMs: o.window, sliceMs: o.slice, rankedBy: ranker ? 'tuned-ranker' : 'evidence', normalWindows: loc.normal, ...r, services: r.services.slice(0, o.top), pods: r.pods.slice(0, o.top), ...(tasks ? { faultTypes: cls?.types ?? [], state: cls?.state ?? null } : {}) },
              null,
              2,
            ) + '\n',
          );
          return;
        }
        const header = `localize ${o.data} [${isoTime(query.start)}, +${formatDuration(o.window)}) in ${formatDuration(o.slice)} slices; normal windows: ${loc.normal.traceLog} with traces/logs, ${loc.normal.metric} for metrics${ranker ? `; ranked by the tuned ranker of ${o.tasks}` : ''}`;
        process.stdout.write(formatRanking(r, o.top, header) + '\n');
        if (tasks) process.stdout.write(cls && cls.types.length > 0 ? `\nfault type (${o.tasks}, state ${cls.state}): ${cls.types[0]}; ranked: ${cls.types.join(', ')}\n` : `\nfault type: none (${o.tasks} has no classifier, or the window has no data)\n`);
      }),
    );
}
