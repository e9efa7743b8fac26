import { serviceOfPod } from '../../telemetry/index.js';

/**
 * Failure types of the AIOps Challenge 2022 as the source stores them (Chinese) → the English
 * names users see. The originals stay on every label as `typeOriginal`.
 */
export const AIOPS22_TYPE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  'k8s容器读io负载': 'read-io',
  'k8s容器cpu负载': 'cpu-load',
  'k8s容器内存负载': 'memory-load',
  'k8s容器网络丢包': 'packet-loss',
  'k8s容器网络延迟': 'network-delay',
  'k8s容器网络资源包损坏': 'packet-corruption',
  'k8s容器网络资源包重复发送': 'packet-duplication',
  'k8s容器写io负载': 'write-io',
  'k8s容器进程中止': 'process-kill',
});

/** English name of a failure type; an unknown type is returned verbatim. */
export function aiops22TypeName(original: string): string {
  return AIOPS22_TYPE_NAMES[original] ?? original;
}

/** Length of one case window: the authors cut each failure into 60 s windows 1..5. */
export const AIOPS22_WINDOW_MS = 60_000;
/** Windows per failure in the authors' extraction (the event files hold keys `_1`..`_5`). */
export const AIOPS22_WINDOWS_PER_FAILURE = 5;

export interface CaseIndex {
  cloudbed: string;
  failure: string;
  window: number;
  /** `<cloudbed>_<failure>`: the failure the window belongs to */
  group: string;
}

/** Parses a case index `<cloudbed>_<failure number>_<window>`; null when it is not one. */
export function parseCaseIndex(id: string): CaseIndex | null {
  const m = /^(\d+)_(\d+)_(\d+)$/.exec(id);
  if (!m) return null;
  const window = Number(m[3]);
  if (window < 1) return null;
  return { cloudbed: m[1], failure: m[2], window, group: `${m[1]}_${m[2]}` };
}

/**
 * Pod → service as the dataset's authors see it. Every cloudbed runs, next to the replicated
 * deployment of a service (`shippingservice-0..2`), a single-replica copy under a `2` suffix
 * (`shippingservice2-0`); the CSV's `service` column puts both under `shippingservice`, so we do
 * too. A workload name ending in `2` folds into its base only when the base is a workload of its
 * own among `workloads` (so a service genuinely named `…2` keeps its name).
 */
export function serviceOfAiops22Pod(pod: string, workloads: ReadonlySet<string>): string {
  const w = serviceOfPod(pod);
  if (w.length > 1 && w.endsWith('2')) {
    const base = w.slice(0, -1);
    if (workloads.has(base)) return base;
  }
  return w;
}

/** Workload names (`serviceOfPod`) of the given pods, the input of `serviceOfAiops22Pod`. */
export function workloadsOf(pods: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const p of pods) out.add(serviceOfPod(p));
  return out;
}
