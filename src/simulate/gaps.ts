/**
 * Nezha-like gaps: the Nezha exports hold traces and logs only around injected faults, metrics
 * all day. A simulator run written that way teaches a model not to read a modality's presence
 * as the fault signal (issue 13). `nearFaults(labels, margin)` keeps a time when it lies within
 * `margin` of some fault's active period, [start − margin, end + margin).
 */
import type { FaultLabel } from '../telemetry/index.js';

export function nearFaults(labels: readonly Pick<FaultLabel, 'start' | 'end'>[], marginMs: number): (t: number) => boolean {
  if (!(marginMs >= 0 && Number.isFinite(marginMs))) throw new RangeError(`gaps: the margin must be a duration ≥ 0, got ${marginMs}`);
  const spans = labels.map((l) => [l.start - marginMs, l.end + marginMs] as const).sort((a, b) => a[0] - b[0]);
  return (t) => spans.some(([a, b]) => t >= a && t < b);
}
