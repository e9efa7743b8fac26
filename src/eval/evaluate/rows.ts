/** The report rows of one method: ranking metrics (localization, classification) and detection scores. */
import { acAtK, avgAtK, classSizes, classificationScores, eventPRF, meanReciprocalRank, rankOf, windowPRF } from '../../stats/index.js';
import type { ProtocolName } from '../../windows/index.js';
import { measurability } from '../embedding-metrics.js';
import type { DetectionSet } from './setup.js';
import type { EvalRow, LevelName, MetricName, TaskName } from './types.js';

function row(task: TaskName, level: LevelName, method: string, metric: MetricName, value: number, n: number, protocol: ProtocolName, leaky: boolean, classes: Map<string, number>, faultType?: string): EvalRow {
  // A per-fault-type breakdown is k hits of n cases with n printed beside it (issue 11 asks AC@3
  // for every type, and Nezha has 7 cpu faults): only an empty type is not measurable there.
  const nm = n === 0 ? { n: 0, classes: 0, reason: 'no samples' } : faultType !== undefined ? undefined : measurability(classes.values(), n);
  return { task, level, method, metric, value: nm || !Number.isFinite(value) ? null : value, n, protocol, ...(leaky ? { leaky } : {}), ...(faultType !== undefined ? { faultType } : {}), ...(nm ? { notMeasurable: nm } : {}) };
}

export function rankingRows(task: TaskName, level: LevelName, method: string, truth: string[], rankings: string[][], protocol: ProtocolName, leaky: boolean, faultType?: string): EvalRow[] {
  const ranks = truth.map((t, i) => rankOf(rankings[i], t));
  const cls = classSizes(truth);
  const n = truth.length;
  const r = (m: MetricName, v: number) => row(task, level, method, m, v, n, protocol, leaky, cls, faultType);
  if (faultType !== undefined) return [r('ac@1', acAtK(ranks, 1)), r('ac@3', acAtK(ranks, 3)), r('mrr', meanReciprocalRank(ranks))];
  const top1 = rankings.map((x) => x[0] ?? '');
  const sc = classificationScores(truth, top1);
  const out = [r('precision', sc.macro.precision), r('recall', sc.macro.recall), r('f1', sc.macro.f1), r('mrr', meanReciprocalRank(ranks))];
  if (task === 'localization') out.push(r('ac@1', acAtK(ranks, 1)), r('ac@3', acAtK(ranks, 3)), r('ac@5', acAtK(ranks, 5)), r('avg@5', avgAtK(ranks, 5)));
  else out.push(r('macro-f1', sc.macro.f1), r('weighted-f1', sc.weighted.f1), r('weighted-precision', sc.weighted.precision), r('weighted-recall', sc.weighted.recall));
  return out;
}

export function detectionRows(set: DetectionSet, method: string, alarms: (boolean | undefined)[], protocol: ProtocolName): EvalRow[] {
  const idx = alarms.map((a, i) => (a === undefined ? -1 : i)).filter((i) => i >= 0);
  const truth = idx.map((i) => set.windows[i].label.abnormal);
  const cls = classSizes(truth.map((t) => (t ? 'abnormal' : 'normal')));
  const w = windowPRF(idx.map((i) => alarms[i] as boolean), truth);
  const scoredFolds = new Set(idx.map((i) => set.folds[i]));
  const ev = eventPRF(
    idx.map((i) => ({ start: set.windows[i].window.start, end: set.windows[i].window.end, alarm: alarms[i] as boolean })),
    set.injections.filter((f) => scoredFolds.has(f.fold)).map((f) => ({ start: f.start, end: f.end })),
  );
  const n = idx.length;
  const r = (m: MetricName, v: number) => row('detection', set.level, method, m, v, n, protocol, false, cls);
  return [r('precision', w.precision), r('recall', w.recall), r('f1', w.f1), r('event-precision', ev.precision), r('event-recall', ev.recall), r('event-f1', ev.f1)];
}
