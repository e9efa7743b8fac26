/**
 * Fault schedule: N non-overlapping faults spread over the run, 3-10 minutes each, each on a
 * seeded random pod of a service the fault type makes sense for, with its own intensity.
 */
import { UserError } from '../telemetry/index.js';
import type { FaultLabel } from '../telemetry/index.js';
import type { Model } from './model.js';
import type { SeededRng } from '../telemetry/index.js';

export const FAULT_TYPES = [
  'cpu-contention',
  'memory-leak',
  'network-delay',
  'packet-loss',
  'pod-kill',
  'code-exception',
  'wrong-return-value',
] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

export interface PlannedFault {
  label: FaultLabel;
  type: FaultType;
  pod: number;
  /** step index of the first affected step, and one past the last */
  fromStep: number;
  toStep: number;
  /**
   * Intensity, by type: cpu-contention the app's share of its CPU limit; memory-leak the share
   * of the limit reached at the end; network-delay ms added on every call into the pod; packet-loss the loss rate;
   * code-exception / wrong-return-value the share of requests affected; pod-kill unused.
   */
  intensity: number;
  /**
   * A second draw in [0, 1) for how the fault shows (where an exception is thrown, whether the
   * faulty service logs an error itself): derived from the intensity, not from the generator,
   * so that adding it left every seed's fault plan as it was.
   */
  variant: number;
}

const MIN_GAP_MS = 2 * 60_000;
const MIN_FAULT_MS = 3 * 60_000;
const MAX_FAULT_MS = 10 * 60_000;

function eligible(type: FaultType, model: Model, service: number): boolean {
  if (model.clients.has(service)) return false;
  // A key-value store has no application code to throw or to return wrong values.
  if (model.services[service].def.lang === 'redis' && (type === 'code-exception' || type === 'wrong-return-value')) return false;
  return true;
}

function intensity(type: FaultType, rng: SeededRng): number {
  switch (type) {
    case 'cpu-contention':
      return rng.uniform(0.2, 0.45);
    case 'memory-leak':
      return rng.uniform(0.96, 1.02);
    case 'network-delay':
      return rng.uniform(100, 600);
    case 'packet-loss':
      return rng.uniform(0.1, 0.35);
    case 'code-exception':
      return rng.uniform(0.3, 0.9);
    case 'wrong-return-value':
      return rng.uniform(0.4, 1);
    case 'pod-kill':
      return 1;
  }
}

/** How strong and how long faults are (defaults: full effect, 3–10 minutes). */
export interface FaultShape {
  /**
   * Multiplies each fault's departure from normal after it is drawn (so the plan's draws, and
   * with them every pod, type and time of a seed, stay the same): the delay in ms, the loss
   * rate, the share of requests that throw or return wrong values, the CPU the stressor takes
   * and the memory the leak adds. A pod kill is a kill at any scale. Default 1.
   */
  effectScale?: number;
  /** each fault's duration is drawn in [min, max] minutes (default [3, 10]) */
  minutes?: [number, number];
}

/** Scales a drawn intensity towards "no fault" (scale < 1) or beyond it (scale > 1). */
export function scaleIntensity(type: FaultType, intensity: number, scale: number, memBaseShare: number): number {
  if (scale === 1) return intensity;
  switch (type) {
    case 'cpu-contention':
      // the intensity is the share of its CPU limit the app keeps: the stressor takes the rest
      return Math.min(1, Math.max(0.02, 1 - scale * (1 - intensity)));
    case 'memory-leak':
      // the share of the limit reached at the end: the leak is what lies above the pod's base
      return memBaseShare + scale * Math.max(0, intensity - memBaseShare);
    case 'packet-loss':
    case 'code-exception':
    case 'wrong-return-value':
      return Math.min(1, intensity * scale);
    case 'network-delay':
      return intensity * scale;
    case 'pod-kill':
      return intensity;
  }
}

export function planFaults(
  model: Model,
  rng: SeededRng,
  count: number,
  start: number,
  steps: number,
  stepMs: number,
  types: readonly FaultType[] = FAULT_TYPES,
  shape: FaultShape = {},
): PlannedFault[] {
  const scale = shape.effectScale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale))) throw new UserError(`effectScale: expected a positive number, got ${scale}`);
  const [minMin, maxMin] = shape.minutes ?? [MIN_FAULT_MS / 60_000, MAX_FAULT_MS / 60_000];
  if (!(minMin > 0 && maxMin >= minMin && Number.isFinite(maxMin))) throw new UserError(`fault minutes: expected 0 < min ≤ max, got ${minMin}–${maxMin}`);
  if (count === 0) return [];
  if (types.length === 0) throw new UserError('faultTypes: expected at least one fault type');
  for (const t of types) if (!FAULT_TYPES.includes(t)) throw new UserError(`unknown fault type "${t}" (expected one of ${FAULT_TYPES.join(', ')})`);
  const totalMs = steps * stepMs;
  // A quiet lead-in gives every run a fault-free reference period.
  const leadSteps = Math.min(Math.round(Math.min(10 * 60_000, totalMs * 0.05) / stepMs), Math.floor(steps / 4));
  const slotSteps = Math.floor((steps - leadSteps) / count);
  const minFaultSteps = Math.max(1, Math.ceil((minMin * 60_000) / stepMs));
  const gapSteps = Math.max(1, Math.ceil(MIN_GAP_MS / stepMs));
  if (slotSteps < minFaultSteps + gapSteps) {
    const needMin = Math.ceil(((minFaultSteps + gapSteps) * stepMs) / 60_000);
    throw new UserError(
      `too many faults: ${count} faults over ${(totalMs / 3_600_000).toFixed(2)} h leave ${Math.floor((slotSteps * stepMs) / 60_000)} min each; expected at least ${needMin} min per fault (fewer faults or more hours)`,
    );
  }
  // Every type gets its share: a shuffled round-robin rather than independent draws.
  const order: FaultType[] = [];
  while (order.length < count) order.push(...rng.shuffle([...types]));
  order.length = count;
  rng.shuffle(order);

  const out: PlannedFault[] = [];
  for (let k = 0; k < count; k++) {
    const type = order[k];
    const slot0 = leadSteps + k * slotSteps;
    const maxSteps = Math.min(Math.round((maxMin * 60_000) / stepMs), slotSteps - gapSteps);
    const durSteps = rng.intBetween(minFaultSteps, Math.max(minFaultSteps, maxSteps));
    const from = slot0 + rng.int(slotSteps - gapSteps - durSteps + 1);
    const candidates = model.pods.filter((p) => eligible(type, model, p.service));
    if (candidates.length === 0) throw new UserError(`fault type ${type}: no pod of topology ${model.topology} can take it (load drivers and key-value stores cannot)`);
    const pod = rng.pick(candidates);
    const svc = model.services[pod.service].def.name;
    out.push({
      label: {
        id: `fault-${String(k + 1).padStart(3, '0')}`,
        start: start + from * stepMs,
        end: start + (from + durSteps) * stepMs,
        rootCause: pod.id,
        rootCauseService: svc,
        type,
        level: 'pod',
      },
      type,
      pod: pod.idx,
      fromStep: from,
      toStep: from + durSteps,
      intensity: 0,
      variant: 0,
    });
    const f = out[out.length - 1];
    f.intensity = scaleIntensity(type, intensity(type, rng), scale, pod.memBase / pod.memLimit);
    f.variant = (f.intensity * 7919 + k * 0.618) % 1;
  }
  return out;
}
