/**
 * Detection over several fold seeds (`evaluate --fold-seeds`). On a dataset with few fault groups
 * the seed decides which normal hour blocks train which fold, and a single seed's event-F1 can be
 * a lucky or unlucky draw (Nezha metrics-only read 0.30–0.71 over five seeds before the warm-up
 * rule; docs/tasks.md, "Nezha detection over fold seeds"). This reruns every detection column —
 * the same code as `runEvaluation`, `detectionColumns` — on the setup each seed builds from the
 * same encoded windows, and reports each seed's figure with the mean. Each seed's figures equal
 * what `evaluate --seed S` prints for that seed.
 */
import type { EncodedWindow } from '../../model/index.js';
import type { Dataset } from '../../telemetry/index.js';
import { buildSetup, type EvalSetup, type SetupOptions } from './setup.js';
import type { Representation } from './represent.js';
import { detectionColumns, type RunOptions } from './run.js';
import { detectionRows } from './rows.js';
import { tunedReps } from './tuned.js';
import type { FoldSeedsTable, LevelName } from './types.js';

export interface FoldSeedsInput {
  ds: Dataset;
  windows: EncodedWindow[];
  name: string;
  setupOptions: Omit<SetupOptions, 'seed'>;
  reps: readonly Representation[];
  tuned: boolean;
  evidenceOf?: RunOptions['evidenceOf'];
  /** the seeds, in order; the headline seed may be among them */
  seeds: readonly number[];
  /** the headline run (its seed, setup and detection alarms): reused, not recomputed, for its seed */
  headline?: { seed: number; setup: EvalSetup; alarms: Map<string, Map<string, (boolean | undefined)[]>> };
  onSeed?: (seed: number, i: number) => void;
}

export function detectionOverSeeds(x: FoldSeedsInput): FoldSeedsTable {
  const values = new Map<string, { level: LevelName; method: string; metric: 'event-f1' | 'f1'; values: (number | null)[] }>();
  x.seeds.forEach((seed, si) => {
    x.onSeed?.(seed, si);
    const known = x.headline?.seed === seed ? x.headline : undefined;
    const setup = known?.setup ?? buildSetup(x.ds, x.windows, x.name, { ...x.setupOptions, seed });
    const { alarms } = known ?? detectionColumns(setup, x.reps, x.tuned ? tunedReps(x.reps) : [], { seed, evidenceOf: x.evidenceOf });
    for (const set of setup.detection) {
      for (const [method, a] of alarms.get(set.level) ?? []) {
        for (const r of detectionRows(set, method, a, setup.protocol)) {
          if (r.metric !== 'event-f1' && r.metric !== 'f1') continue;
          const key = `${set.level}\u0000${method}\u0000${r.metric}`;
          let e = values.get(key);
          if (!e) values.set(key, (e = { level: set.level, method, metric: r.metric, values: x.seeds.map(() => null) }));
          e.values[si] = r.value;
        }
      }
    }
  });
  const rows = [...values.values()].map((e) => {
    const ok = e.values.filter((v): v is number => v !== null && Number.isFinite(v));
    return { ...e, mean: ok.length === e.values.length && ok.length > 0 ? ok.reduce((a, b) => a + b, 0) / ok.length : null, min: ok.length > 0 ? Math.min(...ok) : null, max: ok.length > 0 ? Math.max(...ok) : null };
  });
  return { seeds: [...x.seeds], rows };
}

/** Parses `0-4`, `0,1,2` or `3` into distinct non-negative integer seeds in the order given. */
export function parseFoldSeeds(spec: string): number[] {
  const out: number[] = [];
  for (const part of spec.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new RangeError(`--fold-seeds: "${part}" is not a seed or a range like 0-4`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new RangeError(`--fold-seeds: the range "${part}" runs backwards`);
    if (b - a > 99) throw new RangeError(`--fold-seeds: "${part}" is more than 100 seeds`);
    for (let s = a; s <= b; s++) if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new RangeError('--fold-seeds: no seed given');
  return out;
}
