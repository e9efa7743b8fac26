import { createSimulation } from '../../src/simulate/index.js';
import type { SimulationOptions, Simulation } from '../../src/simulate/index.js';
import type { LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';

export interface Collected {
  sim: Simulation;
  spans: Span[];
  logs: LogRecord[];
  /** `${entity}|${metric}` → whole-run column */
  series: Map<string, { times: number[]; values: number[] }>;
  /** metric name → unit */
  units: Map<string, string | undefined>;
}

/** Runs a simulation in memory and keeps everything (tests simulate an hour or two only). */
export function collect(opts: SimulationOptions): Collected {
  const sim = createSimulation(opts);
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  const series = new Map<string, { times: number[]; values: number[] }>();
  const units = new Map<string, string | undefined>();
  for (const b of sim.batches()) {
    for (const s of b.spans) spans.push(s);
    for (const l of b.logs) logs.push(l);
    for (const m of b.metrics as MetricSeries[]) {
      units.set(m.name, m.unit);
      const k = `${m.entity}|${m.name}`;
      let c = series.get(k);
      if (!c) series.set(k, (c = { times: [], values: [] }));
      for (let i = 0; i < m.times.length; i++) {
        c.times.push(m.times[i]);
        c.values.push(m.values[i]);
      }
    }
  }
  return { sim, spans, logs, series, units };
}

export function mean(xs: number[]): number {
  const v = xs.filter((x) => !Number.isNaN(x));
  return v.length === 0 ? NaN : v.reduce((a, b) => a + b, 0) / v.length;
}

/** Values of a column with times in [from, to). */
export function between(c: { times: number[]; values: number[] }, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < c.times.length; i++) if (c.times[i] >= from && c.times[i] < to) out.push(c.values[i]);
  return out;
}
