/**
 * Workload regimes: a timeline of low / normal / peak / burst periods drawn from a Markov chain
 * whose transitions lean on the time of day, and the load level that follows it smoothly.
 */
import { UserError } from '../telemetry/index.js';
import type { SeededRng } from '../telemetry/index.js';

export type Regime = 'low' | 'normal' | 'peak' | 'burst';
export const REGIMES: readonly Regime[] = ['low', 'normal', 'peak', 'burst'];

export interface RegimeInterval {
  /** ms, inclusive */
  start: number;
  /** ms, exclusive */
  end: number;
  regime: Regime;
}

/** Load relative to BASE_RPS that each regime settles at (before the daily shape and noise). */
export const REGIME_LEVEL: Record<Regime, number> = { low: 0.35, normal: 1, peak: 1.7, burst: 2.5 };

const NEXT: Record<Regime, Record<Regime, number>> = {
  low: { low: 0, normal: 0.75, peak: 0.1, burst: 0.15 },
  normal: { low: 0.35, normal: 0, peak: 0.45, burst: 0.2 },
  peak: { low: 0.1, normal: 0.55, peak: 0, burst: 0.35 },
  burst: { low: 0.1, normal: 0.4, peak: 0.5, burst: 0 },
};

function hourOf(ms: number): number {
  return (ms % 86_400_000) / 3_600_000;
}

/** Time-of-day preference: nights are quiet, working hours busy. */
function dayBias(hour: number, r: Regime): number {
  const night = hour < 6 || hour >= 22;
  const day = hour >= 9 && hour < 19;
  if (r === 'low') return night ? 3 : day ? 0.7 : 1;
  if (r === 'peak') return night ? 0.4 : day ? 1.2 : 1;
  if (r === 'burst') return night ? 0.6 : 1;
  return 1;
}

/** Amplitude of the daily shape of demand. */
export const DAILY_SWING = 0.12;

/** Daily shape of demand: ±12 % around the mean, highest mid-afternoon (UTC). */
export function dailyShape(ms: number): number {
  return 1 + DAILY_SWING * Math.sin((2 * Math.PI * (hourOf(ms) - 9)) / 24);
}

export function regimeTimeline(rng: SeededRng, start: number, end: number, stepMs: number): RegimeInterval[] {
  const out: RegimeInterval[] = [];
  const h0 = hourOf(start);
  let regime: Regime = h0 < 6 || h0 >= 22 ? 'low' : 'normal';
  let beforeBurst: Regime = regime;
  let t = start;
  while (t < end) {
    const minutes = regime === 'burst' ? rng.uniform(3, 10) : rng.uniform(20, 70);
    const steps = Math.max(1, Math.round((minutes * 60_000) / stepMs));
    const e = Math.min(end, t + steps * stepMs);
    out.push({ start: t, end: e, regime });
    t = e;
    if (t >= end) break;
    let next: Regime;
    if (regime === 'burst' && rng.chance(0.7)) next = beforeBurst;
    else {
      const weights = REGIMES.map((r) => NEXT[regime][r] * dayBias(hourOf(t), r));
      next = REGIMES[rng.weighted(weights)];
    }
    if (next === 'burst') beforeBurst = regime;
    regime = next;
  }
  return out;
}

/** Checks a timeline given by the user: contiguous, ordered, covering [start, end). */
export function checkTimeline(list: readonly RegimeInterval[], start: number, end: number): RegimeInterval[] {
  if (list.length === 0) throw new UserError('regimes: expected at least one {start, end, regime} interval');
  const out = list.map((x) => ({ start: x.start, end: x.end, regime: x.regime }));
  for (let i = 0; i < out.length; i++) {
    const x = out[i];
    if (!REGIMES.includes(x.regime)) throw new UserError(`regimes[${i}]: unknown regime "${x.regime}" (expected one of ${REGIMES.join(', ')})`);
    if (!(Number.isFinite(x.start) && Number.isFinite(x.end) && x.end > x.start)) throw new UserError(`regimes[${i}]: expected finite start < end (epoch ms)`);
    if (i > 0 && x.start !== out[i - 1].end) throw new UserError(`regimes[${i}]: starts at ${x.start}, expected ${out[i - 1].end} (intervals must be contiguous)`);
  }
  if (out[0].start > start || out[out.length - 1].end < end) throw new UserError(`regimes: the intervals must cover the simulated run [${start}, ${end})`);
  return out;
}

/**
 * The load multiplier step by step: approaches the regime's level exponentially (fast into and
 * out of bursts, slower otherwise), times the daily shape, with AR(1) noise on top.
 */
export class LoadCurve {
  private level = NaN;
  private noise = 0;
  private i = 0;

  constructor(private readonly timeline: RegimeInterval[], private readonly stepMs: number, private readonly rng: SeededRng) {}

  regimeAt(t: number): Regime {
    while (this.i < this.timeline.length - 1 && this.timeline[this.i].end <= t) this.i++;
    return this.timeline[this.i].regime;
  }

  /** Call once per step, in order. */
  next(t: number): { load: number; regime: Regime } {
    const regime = this.regimeAt(t);
    const target = REGIME_LEVEL[regime];
    if (Number.isNaN(this.level)) this.level = target;
    const fast = regime === 'burst' || this.level > REGIME_LEVEL.peak * 1.05;
    const tauMs = fast ? 45_000 : 5 * 60_000;
    this.level += (target - this.level) * (1 - Math.exp(-this.stepMs / tauMs));
    const phi = Math.exp(-this.stepMs / 180_000);
    this.noise = phi * this.noise + Math.sqrt(1 - phi * phi) * 0.05 * this.rng.normal();
    return { load: this.level * dailyShape(t) * Math.exp(this.noise), regime };
  }
}
