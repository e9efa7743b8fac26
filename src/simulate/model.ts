/**
 * The catalog compiled for one seed: pods with k8s-style names placed on nodes, operations by
 * index with their callees resolved, request rates per operation at load 1, and capacities
 * sized so that the normal regime runs each service at a plausible utilisation.
 */
import { sortEntities } from '../telemetry/index.js';
import type { Entity } from '../telemetry/index.js';
import { opKey } from './catalog.js';
import type { CallDef, EntryDef, OpDef, ServiceDef } from './catalog.js';
import type { SeededRng } from '../telemetry/index.js';
import { opLogs } from './steps.js';
import type { OpLogs } from './steps.js';
import { BOUTIQUE } from './topology.js';
import type { Topology } from './topology.js';
import { DAILY_SWING, REGIME_LEVEL } from './workload.js';

export interface ServiceRt {
  idx: number;
  def: ServiceDef;
  pods: number[];
  ops: number[];
  /** cluster IP, for connection errors */
  ip: string;
}

export interface CallRt {
  def: CallDef;
  callee: number;
  calleeService: number;
  meanCount: number;
}

export interface OpRt {
  idx: number;
  def: OpDef;
  service: number;
  calls: CallRt[];
  /** invocations/s at load 1 */
  unitRate: number;
  /** core-seconds per invocation */
  cpuPerReq: number;
  /** a span longer than this logs a warning, ms */
  slowMs: number;
  /** the lines its spans write as they run */
  logs: OpLogs;
}

export interface PodRt {
  idx: number;
  id: string;
  service: number;
  node: number;
  cpuLimit: number;
  memBase: number;
  memLimit: number;
  ip: string;
}

export interface NodeRt {
  idx: number;
  id: string;
  cores: number;
  memBytes: number;
  systemCpu: number;
  systemMem: number;
  pods: number[];
}

export interface EntryRt {
  def: EntryDef;
  op: number;
}

export interface Model {
  services: ServiceRt[];
  ops: OpRt[];
  pods: PodRt[];
  nodes: NodeRt[];
  entries: EntryRt[];
  /** operations, callees before callers */
  order: number[];
  entities: Entity[];
  serviceByName: Map<string, number>;
  /** the topology's name and user requests/s at load 1 */
  topology: string;
  baseRps: number;
  /** load drivers: never a fault's root cause */
  clients: Set<number>;
}

const MiB = 1024 * 1024;
/** Share of its memory limit beyond which a pod's garbage collection slows it (src/simulate/state.ts). */
export const GC_ONSET = 0.8;
/**
 * A memory limit leaves the working set at the busiest load a run can draw (a burst at the
 * daily peak) this share of the limit: below GC_ONSET with room for the load's noise, as people
 * size limits from observed peak usage. Without it a hot single-pod service sat above its limit
 * at every burst, slowed and failing with no fault labelled (chain-store in the chain topology).
 */
const PEAK_WORKING_SET_SHARE = 0.75;

/**
 * A service's memory limit: the catalog's multiple of its base memory, raised where the
 * traffic-driven working set at the busiest load would otherwise reach garbage collection.
 * `ratePerPod` is requests per second per pod at load 1.
 */
export function memoryLimit(def: Pick<ServiceDef, 'memMiB' | 'memLimitX' | 'memPerRps'>, ratePerPod: number): number {
  const peakLoad = REGIME_LEVEL.burst * (1 + DAILY_SWING);
  // memBase is drawn up to 10 % above memMiB per pod (below)
  const peakWorkingSet = def.memMiB * 1.1 + def.memPerRps * ratePerPod * peakLoad;
  const mib = Math.max(def.memMiB * def.memLimitX, peakWorkingSet / PEAK_WORKING_SET_SHARE);
  return Math.ceil(mib / 16) * 16 * MiB;
}

const HASH_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function buildModel(rng: SeededRng, topo: Topology = BOUTIQUE): Model {
  const services: ServiceRt[] = topo.services.map((def, idx) => ({ idx, def, pods: [], ops: [], ip: `10.96.${rng.intBetween(0, 255)}.${rng.intBetween(1, 254)}` }));
  const serviceByName = new Map(services.map((s) => [s.def.name, s.idx]));
  const opByKey = new Map<string, number>();
  const ops: OpRt[] = topo.ops.map((def, idx) => {
    const service = serviceByName.get(def.service);
    if (service === undefined) throw new Error(`catalog: unknown service ${def.service}`);
    opByKey.set(opKey(def), idx);
    services[service].ops.push(idx);
    return { idx, def, service, calls: [], unitRate: 0, cpuPerReq: (def.ownMs / 1000) * 0.85, slowMs: 0, logs: opLogs(def, services[service].def) };
  });
  for (const op of ops) {
    op.calls = op.def.calls.map((c) => {
      const callee = opByKey.get(c.to);
      if (callee === undefined) throw new Error(`catalog: unknown callee ${c.to}`);
      return { def: c, callee, calleeService: ops[callee].service, meanCount: (c.min + c.max) / 2 };
    });
  }
  const order = topoOrder(ops);
  const entries: EntryRt[] = topo.entries.map((def) => {
    const op = opByKey.get(def.op);
    if (op === undefined) throw new Error(`catalog: unknown entry ${def.op}`);
    return { def, op };
  });

  // Rates at load 1: entries by weight, then down the call graph (callers before callees).
  for (const e of entries) ops[e.op].unitRate += topo.baseRps * e.def.weight;
  for (let i = order.length - 1; i >= 0; i--) {
    const op = ops[order[i]];
    for (const c of op.calls) ops[c.callee].unitRate += op.unitRate * c.meanCount;
  }

  const nodeCount = 3 + rng.int(2);
  const nodes: NodeRt[] = Array.from({ length: nodeCount }, (_, idx) => ({
    idx,
    id: `node-${idx + 1}`,
    cores: 2,
    memBytes: 8 * 1024 * MiB,
    systemCpu: rng.uniform(0.2, 0.4),
    systemMem: rng.uniform(1.8, 2.8) * 1024 * MiB,
    pods: [],
  }));

  const pods: PodRt[] = [];
  for (const s of services) {
    const n = rng.intBetween(s.def.replicas[0], s.def.replicas[1]);
    const hash = rng.chars(HASH_ALPHABET, 9 + rng.int(2));
    let demand = 0;
    let rate = 0;
    for (const o of s.ops) {
      demand += ops[o].unitRate * ops[o].cpuPerReq;
      rate += ops[o].unitRate;
    }
    const util = rng.uniform(s.def.util[0], s.def.util[1]);
    // Limits in whole millicores of 10, as people write them in manifests.
    const cpuLimit = Math.max(0.05, Math.ceil(((demand / n) / util) * 100) / 100);
    const memLimit = memoryLimit(s.def, rate / n);
    const usedSuffixes = new Set<string>();
    for (let k = 0; k < n; k++) {
      let suffix = rng.chars(HASH_ALPHABET, 5);
      while (usedSuffixes.has(suffix)) suffix = rng.chars(HASH_ALPHABET, 5);
      usedSuffixes.add(suffix);
      const idx = pods.length;
      pods.push({
        idx,
        id: `${s.def.name}-${hash}-${suffix}`,
        service: s.idx,
        node: -1,
        cpuLimit,
        memBase: s.def.memMiB * MiB * rng.uniform(0.9, 1.1),
        memLimit,
        ip: `10.244.${rng.intBetween(0, 3)}.${rng.intBetween(2, 254)}`,
      });
      s.pods.push(idx);
    }
  }
  // Spread replicas of a service over nodes (anti-affinity), fewest pods first.
  for (const s of services) {
    const used = new Set<number>();
    for (const p of s.pods) {
      let best = -1;
      let bestScore = Infinity;
      for (const nd of nodes) {
        const score = nd.pods.length + (used.has(nd.idx) ? 100 : 0) + rng.next() * 0.5;
        if (score < bestScore) {
          bestScore = score;
          best = nd.idx;
        }
      }
      used.add(best);
      pods[p].node = best;
      nodes[best].pods.push(p);
    }
  }

  const clients = new Set(topo.clients.map((c) => serviceByName.get(c)).filter((i): i is number => i !== undefined));
  const model: Model = { services, ops, pods, nodes, entries, order, entities: [], serviceByName, topology: topo.name, baseRps: topo.baseRps, clients };
  model.entities = sortEntities([
    ...services.map((s): Entity => ({ id: s.def.name, kind: 'service', service: s.def.name })),
    ...pods.map((p): Entity => ({ id: p.id, kind: 'pod', service: services[p.service].def.name, node: nodes[p.node].id })),
    ...nodes.map((n): Entity => ({ id: n.id, kind: 'node' })),
  ]);
  return model;
}

function topoOrder(ops: OpRt[]): number[] {
  const out: number[] = [];
  const state = new Uint8Array(ops.length);
  const visit = (i: number) => {
    if (state[i] === 2) return;
    if (state[i] === 1) throw new Error(`catalog: call cycle through ${opKey(ops[i].def)}`);
    state[i] = 1;
    for (const c of ops[i].calls) visit(c.callee);
    state[i] = 2;
    out.push(i);
  };
  for (let i = 0; i < ops.length; i++) visit(i);
  return out;
}
