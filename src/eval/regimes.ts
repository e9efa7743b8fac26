/** The simulator's workload timeline (regimes.json beside its output): read it, and say which regime a window is in. */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UserError } from '../telemetry/index.js';

/** One interval of the simulator's regimes.json. */
export interface RegimeSpan {
  start: number;
  end: number;
  regime: string;
}

/**
 * The simulator's regimes.json beside a folder's OTLP output, or undefined when there is none.
 * A file that is there but malformed is a user error.
 */
export async function readRegimes(folder: string): Promise<RegimeSpan[] | undefined> {
  const st = await stat(folder).catch(() => undefined);
  if (!st?.isDirectory()) return undefined;
  const path = join(folder, 'regimes.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UserError(`${path}: not valid JSON (${(e as Error).message}); expected [{start, end, regime}]`);
  }
  if (!Array.isArray(data)) throw new UserError(`${path}: expected a JSON array of {start, end, regime}`);
  return data.map((x: unknown, i) => {
    const r = x as Partial<RegimeSpan> | null;
    if (!r || typeof r.regime !== 'string' || !Number.isFinite(r.start) || !Number.isFinite(r.end) || !((r.end as number) > (r.start as number))) {
      throw new UserError(`${path}: entry ${i} is not {start, end, regime} with epoch-ms start < end`);
    }
    return { start: r.start as number, end: r.end as number, regime: r.regime };
  });
}

/**
 * The regime covering most of `w` (overlap summed over the intervals of each regime; ties: the
 * regime met first) and, of that regime's intervals, the one covering most of `w`; undefined
 * when no interval overlaps.
 */
export function regimeOf(w: { start: number; end: number }, regimes: readonly RegimeSpan[]): { regime: string; interval: number } | undefined {
  const overlap = regimes.map((r) => Math.max(0, Math.min(w.end, r.end) - Math.max(w.start, r.start)));
  const total = new Map<string, number>();
  regimes.forEach((r, i) => {
    if (overlap[i] > 0) total.set(r.regime, (total.get(r.regime) ?? 0) + overlap[i]);
  });
  if (total.size === 0) return undefined;
  let regime = '';
  let best = -1;
  for (const [k, v] of total) {
    if (v > best) {
      best = v;
      regime = k;
    }
  }
  let interval = -1;
  regimes.forEach((r, i) => {
    if (r.regime === regime && (interval < 0 || overlap[i] > overlap[interval])) interval = i;
  });
  return { regime, interval };
}
