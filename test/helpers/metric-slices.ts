import type { MetricSeries, TimeRange } from '../../src/telemetry/index.js';

/** A metric series over a whole test timeline, to be cut into windows (`sliceOf`). */
export interface FullSeries {
  entity: string;
  name: string;
  times: Float64Array;
  values: Float64Array;
}

/** The points of each series inside `range` ([start, end)), copied; series with none left out. */
export function sliceOf(all: readonly FullSeries[], range: TimeRange): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const s of all) {
    const idx = [...s.times.keys()].filter((i) => s.times[i] >= range.start && s.times[i] < range.end);
    if (idx.length) out.push({ entity: s.entity, name: s.name, unit: '', times: Float64Array.from(idx, (i) => s.times[i]), values: Float64Array.from(idx, (i) => s.values[i]) });
  }
  return out;
}
