/**
 * Where runtime states helped: each tuned column (`tuned`, `tuned:<model>`) against the same
 * models without states (`tuned-global`, `tuned-global:<model>`), measure by measure, from the
 * rows of one `evaluate` run. Issue 12 asks that the state-conditioned models at least match
 * their global versions on every task and that the report say where states helped; this is
 * that comparison, read off the rows (no new fit), so the Markdown and the HTML page say the
 * same thing.
 */
import type { ProtocolName } from '../../windows/index.js';
import type { EvalRow, LevelName, MetricName, TaskName } from './types.js';

const measures = (task: TaskName, level: LevelName, metrics: readonly MetricName[]) => metrics.map((metric) => ({ task, level, metric }));
/** The measures compared: each task's headline figures, at the levels `evaluate` reports. */
export const STATES_EFFECT_MEASURES: readonly { task: TaskName; level: LevelName; metric: MetricName }[] = [
  ...measures('detection', 'metrics-only', ['event-f1', 'f1']),
  ...measures('detection', 'all-modalities', ['event-f1', 'f1']),
  ...measures('localization', 'service', ['ac@1', 'ac@3', 'mrr']),
  ...measures('localization', 'pod', ['ac@1', 'mrr']),
  ...measures('classification', 'type', ['macro-f1', 'weighted-f1', 'mrr']),
];

export type StatesVerdict = 'helped' | 'cost' | 'same';

export interface StatesEffect {
  /** the state-aware column (`tuned` or `tuned:<model>`) */
  method: string;
  /** its global twin */
  global: string;
  task: TaskName;
  level: LevelName;
  metric: MetricName;
  states: number;
  noStates: number;
  /** states − no states */
  delta: number;
  verdict: StatesVerdict;
  /** cases or windows the figures rest on */
  n: number;
}

/** The global twin of a state-aware tuned column, or undefined for any other column. */
function globalTwin(method: string): string | undefined {
  if (method === 'tuned') return 'tuned-global';
  if (method.startsWith('tuned:')) return `tuned-global:${method.slice('tuned:'.length)}`;
  return undefined;
}

/**
 * Every measure both columns have on `protocol` (whole-run rows only, not the per-fault-type
 * breakdown). Equal to 1e-9 is "same": both columns are scored on the same cases and windows,
 * so any difference is a real difference in what they answered, however small.
 */
export function statesEffects(rows: readonly EvalRow[], protocol: ProtocolName): StatesEffect[] {
  const key = (m: string, t: TaskName, l: LevelName, x: MetricName) => `${m}|${t}|${l}|${x}`;
  const byKey = new Map<string, EvalRow>();
  for (const r of rows) if (r.protocol === protocol && r.faultType === undefined && r.value !== null) byKey.set(key(r.method, r.task, r.level, r.metric), r);
  const methods = [...new Set(rows.filter((r) => r.protocol === protocol).map((r) => r.method))];
  const out: StatesEffect[] = [];
  for (const method of methods) {
    const global = globalTwin(method);
    if (global === undefined) continue;
    for (const { task, level, metric } of STATES_EFFECT_MEASURES) {
      const a = byKey.get(key(method, task, level, metric));
      const b = byKey.get(key(global, task, level, metric));
      if (!a || !b || a.value === null || b.value === null) continue;
      const delta = a.value - b.value;
      out.push({ method, global, task, level, metric, states: a.value, noStates: b.value, delta, verdict: Math.abs(delta) <= 1e-9 ? 'same' : delta > 0 ? 'helped' : 'cost', n: a.n });
    }
  }
  return out;
}

/** One sentence per state-aware column: where states helped, where they cost, and whether they at least matched everywhere. */
export function statesEffectSummary(effects: readonly StatesEffect[]): string[] {
  const out: string[] = [];
  const name = (e: StatesEffect) => `${e.task} ${e.level} ${e.metric}`;
  // three decimals, more where three would print a difference as a tie
  const fmt = (e: StatesEffect) => {
    let d = 3;
    while (d < 6 && e.states.toFixed(d) === e.noStates.toFixed(d)) d++;
    return `${name(e)} ${e.states.toFixed(d)} vs ${e.noStates.toFixed(d)}`;
  };
  for (const method of [...new Set(effects.map((e) => e.method))]) {
    const mine = effects.filter((e) => e.method === method);
    const helped = mine.filter((e) => e.verdict === 'helped');
    const cost = mine.filter((e) => e.verdict === 'cost');
    const head = `${method} against ${mine[0].global}`;
    if (helped.length === 0 && cost.length === 0) out.push(`${head}: the same on all ${mine.length} measures (every figure equal).`);
    else
      out.push(
        `${head}: states helped on ${helped.length === 0 ? 'nothing' : helped.map(fmt).join('; ')}; ` +
          `cost on ${cost.length === 0 ? 'nothing (they at least match everywhere)' : cost.map(fmt).join('; ')}; the same on ${mine.length - helped.length - cost.length} of ${mine.length}.`,
      );
  }
  return out;
}
