/**
 * OTLP data points to series points, with one meaning per series name whatever the producer's
 * aggregation temporality: SDKs default to cumulative (lifetime totals since `start`), and a
 * lifetime mean or count never comes back to normal after a fault. Cumulative sums and
 * histograms are turned into per-interval amounts (the difference to the previous point of the
 * same stream), with resets detected by a changed start time or a decreasing total. The rules
 * are documented in docs/formats/otlp-mapping.md ("Temporality"); keep the two in step.
 */

export type Temporality = 'delta' | 'cumulative' | 'unspecified';
export type PointKind = 'gauge' | 'sum' | 'histogram' | 'summary';

/** One OTLP data point as decoded, before it is split into series. */
export interface RawPoint {
  entity: string;
  /** the metric name */
  metric: string;
  /** `metric{k=v,...}`: the stream (with `entity`) and the base of every derived series name */
  series: string;
  unit: string;
  kind: PointKind;
  temporality: Temporality;
  /** sums only */
  monotonic?: boolean;
  /** ms */
  time: number;
  /** ms; null when the point has no (or a zero) startTimeUnixNano */
  start: number | null;
  /** gauges and sums; NaN when the point has no recorded value */
  value?: number;
  /** histograms and summaries */
  count?: number;
  sum?: number;
  min?: number;
  max?: number;
  quantiles?: [number, number][];
}

/** Receives a converted series point. */
export type EmitPoint = (series: string, unit: string, time: number, value: number, temporality?: 'delta' | 'cumulative') => void;

interface StreamState {
  time: number;
  start: number | null;
  /** the totals last seen (value; or count and sum) */
  totals: number[];
}

/** `metric{attrs}` → `metric<suffix>{attrs}`. */
function derived(p: RawPoint, suffix: string): string {
  return p.metric + suffix + p.series.slice(p.metric.length);
}

/**
 * Stateful: feed the points of a read in time order (per stream). A stream is entity + metric
 * + attributes (the scope is not part of it: the data model has no place for it).
 *
 * `knownFrom` is where the read's knowledge begins (the data's first record, or a range read's
 * look-back start, whichever is later). A stream's first cumulative point counts from its start
 * time: its total is its amount when at least half of [start, time] lies after `knownFrom` (a
 * process whose capture began with it: meter created, first record a moment later). A stream
 * that started long before may have had points we do not have: its amount is unknown (NaN),
 * never a lifetime total passed off as one interval's.
 */
export class DeltaConverter {
  private readonly state = new Map<string, StreamState>();

  constructor(private readonly knownFrom = -Infinity) {}

  convert(p: RawPoint, emit: EmitPoint): void {
    const temporality = p.temporality === 'unspecified' ? undefined : p.temporality;
    switch (p.kind) {
      case 'gauge':
        emit(p.series, p.unit, p.time, p.value ?? NaN);
        return;
      case 'sum': {
        const v = p.value ?? NaN;
        // A non-monotonic sum (UpDownCounter) is a level when cumulative: kept as it is, like a
        // gauge. A delta one is a change over its interval, which only a read from the stream's
        // very start could sum into a level: it gets a name of its own, so `<name>` is a level
        // whatever the temporality. Unspecified temporality (invalid OTLP): as sent.
        if (!p.monotonic || temporality === undefined) {
          const name = !p.monotonic && temporality === 'delta' ? derived(p, '.delta') : p.series;
          emit(name, p.unit, p.time, v, temporality);
          return;
        }
        const step = this.step(p, [v], temporality);
        const d = step.deltas[0];
        emit(p.series, p.unit, p.time, d, temporality);
        emit(derived(p, '.rate'), p.unit ? `${p.unit}/s` : '1/s', p.time, d / (step.intervalMs / 1000), temporality);
        return;
      }
      case 'histogram':
      case 'summary': {
        const count = p.count ?? NaN;
        const hasSum = p.sum !== undefined;
        // Summaries have no temporality field: their count and sum are cumulative (OTLP spec).
        const t: 'delta' | 'cumulative' | undefined = p.kind === 'summary' ? 'cumulative' : temporality;
        let dc = count;
        let ds = p.sum ?? NaN;
        if (t !== undefined) {
          const step = this.step(p, hasSum ? [count, ds] : [count], t);
          dc = step.deltas[0];
          ds = hasSum ? step.deltas[1] : NaN;
        }
        emit(derived(p, '.count'), '1', p.time, dc, t);
        if (hasSum) {
          emit(derived(p, '.sum'), p.unit, p.time, ds, t);
          emit(derived(p, '.mean'), p.unit, p.time, dc > 0 ? ds / dc : NaN, t);
        }
        // min and max of a cumulative histogram are lifetime extremes in most SDKs: a fault's
        // max would stay forever. They are kept only where they describe one interval.
        if (t !== 'cumulative') {
          if (p.min !== undefined) emit(derived(p, '.min'), p.unit, p.time, p.min, t);
          if (p.max !== undefined) emit(derived(p, '.max'), p.unit, p.time, p.max, t);
        }
        for (const [q, v] of p.quantiles ?? []) emit(derived(p, `.q${q}`), p.unit, p.time, v);
        return;
      }
    }
  }

  /**
   * Per-interval amounts of `totals` (for delta points: the totals themselves) and the length
   * of the interval they cover (NaN when unknown). Unknown amounts are NaN.
   */
  private step(p: RawPoint, totals: number[], temporality: 'delta' | 'cumulative'): { deltas: number[]; intervalMs: number } {
    const key = p.entity + '\u0000' + p.series;
    const prev = this.state.get(key);
    const unknown = { deltas: totals.map(() => NaN), intervalMs: NaN };
    const sinceStart = p.start !== null && p.start < p.time ? p.time - p.start : NaN;
    // A point at or before the stream's last one (duplicate, or out of order beyond the reorder
    // buffer) cannot be placed: unknown, and the state stays.
    if (prev && p.time <= prev.time) return unknown;
    if (totals.some((v) => Number.isNaN(v))) return unknown; // no recorded value: state stays
    this.state.set(key, { time: p.time, start: p.start, totals });
    if (temporality === 'delta') {
      return { deltas: totals, intervalMs: Number.isNaN(sinceStart) && prev ? p.time - prev.time : sinceStart };
    }
    let reset: boolean;
    if (!prev) {
      // The first point of a stream: its total counts from its start time, which must lie
      // (mostly) within what this read has seen, or the amount before the read is unknown.
      if (p.start === null || this.knownFrom - p.start > p.time - this.knownFrom) return unknown;
      reset = true;
    } else {
      reset = (p.start !== null && prev.start !== null && p.start !== prev.start) || totals[0] < prev.totals[0];
    }
    if (reset) return { deltas: totals, intervalMs: Number.isNaN(sinceStart) && prev ? p.time - prev.time : sinceStart };
    return { deltas: totals.map((v, i) => v - prev!.totals[i]), intervalMs: p.time - prev!.time };
  }
}
