import type { MetricSeries, TimeRange } from '../../telemetry/index.js';
import { lowerBound } from '../../stats/index.js';

interface Series {
  times: number[];
  values: number[];
}

/**
 * Metric points of the whole dataset kept per (entity, metric), time-sorted, for windows and
 * their rolling history. Chunks of the same series are concatenated.
 */
export class MetricStore {
  private readonly series = new Map<string, Map<string, Series>>();

  /** entity → name → unit, for the series that state one */
  private readonly units = new Map<string, Map<string, string>>();

  add(batch: readonly MetricSeries[]): void {
    for (const m of batch) {
      if (m.unit) {
        let u = this.units.get(m.entity);
        if (!u) this.units.set(m.entity, (u = new Map()));
        u.set(m.name, m.unit);
      }
      let byName = this.series.get(m.entity);
      if (!byName) this.series.set(m.entity, (byName = new Map()));
      let s = byName.get(m.name);
      if (!s) byName.set(m.name, (s = { times: [], values: [] }));
      for (let i = 0; i < m.times.length; i++) {
        s.times.push(m.times[i]);
        s.values.push(m.values[i]);
      }
    }
  }

  /** Sorts every series by time; call once after the last `add`. */
  seal(): this {
    for (const byName of this.series.values()) for (const [name, s] of byName) {
      let sorted = true;
      for (let i = 1; i < s.times.length; i++) if (s.times[i] < s.times[i - 1]) sorted = false;
      if (sorted) continue;
      const idx = s.times.map((_, i) => i).sort((a, b) => s.times[a] - s.times[b]);
      byName.set(name, { times: idx.map((i) => s.times[i]), values: idx.map((i) => s.values[i]) });
    }
    return this;
  }

  entities(): string[] {
    return [...this.series.keys()];
  }

  names(entity: string): string[] {
    return [...(this.series.get(entity)?.keys() ?? [])];
  }

  /** The unit a series was given, if any. */
  unit(entity: string, name: string): string | undefined {
    return this.units.get(entity)?.get(name);
  }

  /** Finite values of one series in [start, end), leaving out points inside `skip`. */
  values(entity: string, name: string, range: TimeRange, skip?: readonly TimeRange[]): number[] {
    const s = this.series.get(entity)?.get(name);
    if (!s) return [];
    const out: number[] = [];
    for (let i = lowerBound(s.times, range.start); i < s.times.length && s.times[i] < range.end; i++) {
      if (!Number.isFinite(s.values[i])) continue;
      if (skip && skip.some((r) => s.times[i] >= r.start && s.times[i] < r.end)) continue;
      out.push(s.values[i]);
    }
    return out;
  }

  /** Time range with any point, or undefined when empty. */
  extent(): TimeRange | undefined {
    let lo = Infinity;
    let hi = -Infinity;
    for (const byName of this.series.values()) for (const s of byName.values()) {
      if (!s.times.length) continue;
      lo = Math.min(lo, s.times[0]);
      hi = Math.max(hi, s.times[s.times.length - 1]);
    }
    return lo <= hi ? { start: lo, end: hi + 1 } : undefined;
  }
}

