/**
 * The `tasks` column of `evaluate --tasks T.json` (docs/evaluate.md, "Held-out runs"): a tasks
 * file fitted by `tune` on *other* data, applied to every labelled fault and window of this
 * dataset exactly as the commands apply it — detection as `detect --data D --tasks T` alarms,
 * localization as `localize --data D --at <fault start> --tasks T` ranks, the fault type as that
 * command prints it. Nothing of this dataset reaches a fit except what those commands refit on new
 * data without labels (views references, the localizer's normal windows); the grouping is by run,
 * so every fault is scored once, with no folds. The rows sit beside the grouped-fold columns of the
 * same run (same protocol name, same scoring functions), and the report names the protocol.
 */
import { basename } from 'node:path';
import type { Dataset } from '../../telemetry/index.js';
import { MODALITIES, UserError } from '../../telemetry/index.js';
import { rankOf } from '../../stats/index.js';
import type { Ranking, TasksFile } from '../../tasks/index.js';
import type { WindowSpec } from '../../windows/index.js';
import { checkTasksLayout, classifyQueryOf, classifyWithTasks, detectWithTasks, localizeWithTasks, TASKS_RAW_BACKBONE, type EncodeProgressSink, type EvidenceAt, type OwnEncodes } from './apply-tasks.js';
import { detectionRows, rankingRows } from './rows.js';
import type { DetectionSet, EvalSetup } from './setup.js';
import type { EvalReport, EvalRow, TasksColumnInfo } from './types.js';

export interface TasksColumnInput {
  /** the column's method name (`tasks`, or `tasks:<file>` with several) */
  name: string;
  /** where the file was read from (report and messages) */
  path: string;
  tasks: TasksFile;
}

/** Column name per tasks file: `tasks` for one, `tasks:<file name>` (made unique) for several. */
export function tasksColumnNames(paths: readonly string[]): string[] {
  if (paths.length === 1) return ['tasks'];
  const base = paths.map((p) => basename(p));
  return base.map((b, i) => `tasks:${base.indexOf(b) === i && base.lastIndexOf(b) === i ? b : paths[i]}`);
}

/**
 * Refusals before any work: a tasks file whose window or stride is not this run's (its detector's
 * windows would not be the windows scored), whose backbone is not this run's where its rows read
 * one (a tasks file fitted with a model), or whose row layout is not this runtimeslicer's; data
 * made of cases (no normal windows for the task models) or without labelled faults.
 */
export function checkTasksColumn(ds: Dataset, t: TasksColumnInput, spec: WindowSpec, backboneSpec: string): void {
  const w = t.tasks.doc.window;
  if (w.lengthMs !== spec.lengthMs || w.strideMs !== spec.strideMs) {
    throw new UserError(`--tasks ${t.path}: fitted on ${w.lengthMs / 1000} s windows every ${w.strideMs / 1000} s, this evaluate uses ${spec.lengthMs / 1000} s every ${spec.strideMs / 1000} s; pass --window/--stride to match, or tune again`);
  }
  const b = t.tasks.doc.fittedOn.backbone;
  // raw-features tasks files never read the backbone's vectors (TASKS_RAW_BACKBONE): any backbone goes
  if (b !== TASKS_RAW_BACKBONE && b !== backboneSpec) throw new UserError(`--tasks ${t.path}: fitted with backbone ${b}, this evaluate uses ${backboneSpec}; evaluate with --backbone ${b} (or its model)`);
  checkTasksLayout(t.tasks, `--tasks ${t.path}`);
  if (ds.cases?.length) throw new UserError(`--tasks ${t.path}: ${ds.root} is made of cases (AIOps 2022), which have no normal windows for the task models; leave --tasks out`, 2);
  if (ds.labels.length === 0) throw new UserError(`--tasks ${t.path}: ${ds.root} has no labelled faults to score the tasks file on`);
}

export interface TasksColumnResult {
  info: TasksColumnInfo;
  rows: EvalRow[];
  /** case id → the column's answers */
  perCase: Map<string, { services: string[]; pods: string[]; types?: string[] }>;
  /** detection level → alarm per window of the set (undefined: not scored) */
  alarms: Map<string, (boolean | undefined)[]>;
}

const windowKey = (source: string, start: number, end: number) => `${source}\u0000${start}\u0000${end}`;

/**
 * Which detection sets the tasks detector's alarms are scored on: a set whose windows are the
 * detector's windows (the same source, start and end), and that masks no modality the detector
 * reads — a metrics-only detector is scored at both levels, one that reads traces or logs at
 * all-modalities only (its metrics-only figure would not be one).
 */
function scoredSets(setup: EvalSetup, mask: readonly string[]): DetectionSet[] {
  return setup.detection.filter((s) => s.mask.every((m) => mask.includes(m)));
}

export async function tasksColumn(ds: Dataset, setup: EvalSetup, t: TasksColumnInput, opts: { progress?: EncodeProgressSink; onPhase?: (phase: string) => void; evidence?: EvidenceAt; encoded?: OwnEncodes } = {}): Promise<TasksColumnResult> {
  const { tasks, name } = t;
  const rows: EvalRow[] = [];
  const notes: string[] = [];
  // detection: `detect`'s alarms, every option as the tasks file chose it
  opts.onPhase?.(`${name}: detection`);
  const det = await detectWithTasks(ds, tasks, { where: t.path, data: ds.root, progress: opts.progress, warn: (m) => notes.push(m) });
  const byWindow = new Map(det.rows.map((r, i) => [windowKey(r.source, r.start, r.end), det.alarms[i].alarm]));
  const alarms = new Map<string, (boolean | undefined)[]>();
  const mask = tasks.doc.detection.mask;
  for (const set of scoredSets(setup, mask)) {
    const a = set.windows.map((w) => byWindow.get(windowKey(w.source, w.window.start, w.window.end)));
    if (!a.some((x) => x !== undefined)) {
      notes.push(`${set.level} detection not scored: its windows are not the tasks file's (${set.windows.length} windows, none of them a ${tasks.doc.window.lengthMs / 60_000}-min window of the detector)`);
      continue;
    }
    // no folds: every window and every fault is scored once
    const whole: DetectionSet = { ...set, folds: set.windows.map(() => 0), injections: set.injections.map((f) => ({ ...f, fold: 0 })) };
    alarms.set(set.level, a);
    rows.push(...detectionRows(whole, name, a, setup.protocol));
  }
  const unscored = setup.detection.filter((s) => !s.mask.every((m) => mask.includes(m))).map((s) => s.level);
  if (unscored.length > 0) notes.push(`${unscored.join(', ')} detection not scored: the tasks detector reads ${MODALITIES.filter((m) => !mask.includes(m)).join(', ')}`);

  // localization: one `localize --at <fault start> --tasks` per fault (the query kept out of the
  // localizer's normal windows, as the command keeps it), the services it does not rank appended
  // in name order (as the evidence column appends them), pods likewise
  opts.onPhase?.(`${name}: localization (${setup.cases.length} faults)`);
  const perCase = new Map<string, { services: string[]; pods: string[]; types?: string[] }>();
  const rankings: Ranking[] = [];
  for (const c of setup.cases) {
    const loc = await localizeWithTasks(ds, tasks, c.start, { evidence: opts.evidence });
    rankings.push(loc.ranking);
    const ranked = loc.ranking.services.map((s) => s.service);
    const services = [...ranked, ...setup.services.filter((s) => !ranked.includes(s))];
    const rankedPods = loc.ranking.pods.map((p) => p.pod);
    const pods = [...rankedPods, ...services.flatMap((s) => setup.podsOf(s, c.start)).filter((p) => !rankedPods.includes(p))];
    perCase.set(c.id, { services, pods });
  }
  // classification: the fault type `localize --tasks` prints for the fault's window
  opts.onPhase?.(`${name}: classification`);
  const types = await classifyWithTasks(ds, tasks, setup.cases.map((c, i) => classifyQueryOf(c.start, rankings[i])), 'own', opts.progress, opts.encoded);
  setup.cases.forEach((c, i) => {
    const ty = types[i]?.types;
    if (ty && ty.length > 0) perCase.get(c.id)!.types = ty;
  });
  if (!tasks.doc.classification) notes.push('classification not scored: the tasks file has no classifier (fewer than two fault types at `tune`)');

  const p = setup.protocol;
  const loc = setup.cases.filter((c) => perCase.has(c.id));
  rows.push(...rankingRows('localization', 'service', name, loc.map((c) => c.service), loc.map((c) => perCase.get(c.id)!.services), p, false));
  rows.push(...rankingRows('localization', 'pod', name, loc.map((c) => c.pod), loc.map((c) => perCase.get(c.id)!.pods), p, false));
  for (const ty of [...new Set(loc.map((c) => c.type))].sort()) {
    const tc = loc.filter((c) => c.type === ty);
    rows.push(...rankingRows('localization', 'service', name, tc.map((c) => c.service), tc.map((c) => perCase.get(c.id)!.services), p, false, ty));
  }
  const cls = setup.cases.filter((c) => perCase.get(c.id)?.types !== undefined);
  if (cls.length > 0) rows.push(...rankingRows('classification', 'type', name, cls.map((c) => c.type), cls.map((c) => perCase.get(c.id)!.types as string[]), p, false));
  const d = tasks.doc;
  const fitted = d.fittedOn;
  const unseen = [...new Set(setup.cases.map((c) => c.type))].filter((ty) => d.classification && !d.classification.types.includes(ty));
  if (unseen.length > 0) notes.push(`fault type(s) ${unseen.join(', ')} of this data are not among the tasks file's (${d.classification?.types.join(', ')}): those faults are always misclassified`);
  const info: TasksColumnInfo = {
    method: name,
    tasks: t.path,
    fittedOn: fitted.data,
    protocol: `held out by run: the tasks file was fitted by \`tune\` on ${fitted.data} (${fitted.faults} faults, ${fitted.windows} windows) and applied unchanged to every labelled fault and window here, as \`detect --tasks\` and \`localize --at <fault start> --tasks\` apply it; no folds, each fault scored once; only label-free references (views, the localizer's normal windows) are refitted on this data`,
    detector: `${d.detection.input === 'evidence' ? `evidence:${d.detection.family}` : `${d.detection.family}${det.useStates ? '+states' : ''}`}${det.rise ? '+rise' : ''}; views ${det.views}${det.aligned ? `, ${det.aligned} aligned` : ''}`,
    levels: [...alarms.keys()],
    notes,
  };
  return { info, rows, perCase, alarms };
}

/**
 * The columns added to a finished report: their method names after the other columns, their rows,
 * each evaluated case's ranks and top answers under the method, the protocol in `tasksColumns`
 * and the notes.
 */
export function addTasksColumns(report: EvalReport, setup: EvalSetup, cols: readonly TasksColumnResult[]): EvalReport {
  if (cols.length === 0) return report;
  const byId = new Map(setup.cases.map((c) => [c.id, c]));
  // as run.ts ranks the other columns
  const rank = (list: string[] | undefined, x: string) => {
    if (!list) return null;
    const r = rankOf(list, x);
    return Number.isFinite(r) ? r : null;
  };
  const cases = report.cases.map((cr) => {
    if (cr.protocol !== setup.protocol) return cr;
    const c = byId.get(cr.id);
    if (!c) return cr;
    const ranks = { ...cr.ranks };
    const top = { ...cr.top };
    for (const col of cols) {
      const a = col.perCase.get(cr.id);
      if (!a) continue;
      ranks[col.info.method] = { service: rank(a.services, c.service), pod: rank(a.pods, c.pod), type: rank(a.types, c.type) };
      top[col.info.method] = { services: a.services.slice(0, 5), ...(a.types ? { type: a.types[0] } : {}) };
    }
    return { ...cr, ranks, top };
  });
  return {
    ...report,
    methods: [...report.methods, ...cols.map((c) => c.info.method)],
    rows: [...report.rows, ...cols.flatMap((c) => c.rows)],
    cases,
    notes: [...report.notes, ...cols.flatMap((c) => [`${c.info.method}: ${c.info.protocol}; detector ${c.info.detector}; detection scored at ${c.info.levels.join(', ') || 'no level'}`, ...c.info.notes.map((n) => `${c.info.method}: ${n}`)])],
    tasksColumns: cols.map((c) => c.info),
  };
}
