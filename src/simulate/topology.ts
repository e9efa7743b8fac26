/**
 * Topologies: which services exist, their operations and the calls between them. `boutique`
 * (the Online-Boutique catalog, the default) plus two built-in shapes with other names — a deep
 * `chain` and a fan-in `mesh` — and any system described in a JSON file (docs/simulator.md), so
 * that an evaluation on a second topology shows whether anything was tuned to one system.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UserError } from '../telemetry/index.js';
import { BASE_RPS, ENTRIES, OPS, SERVICES, opKey } from './catalog.js';
import type { CallDef, EntryDef, Lang, OpDef, ServiceDef, Tpl } from './catalog.js';

export interface Topology {
  name: string;
  services: ServiceDef[];
  ops: OpDef[];
  entries: EntryDef[];
  /** user requests per second at load 1 */
  baseRps: number;
  /** services that only drive load: never a fault's root cause */
  clients: string[];
}

// ---- the JSON schema -------------------------------------------------------------------------

export interface TopologyCallSpec {
  /** callee operation: `service operation` */
  to: string;
  /** calls per invocation, drawn uniformly in [min, max] (default 1, 1) */
  min?: number;
  max?: number;
  /** the caller carries on when the call fails (default false) */
  optional?: boolean;
  /** ms (default 2500) */
  timeoutMs?: number;
}

export interface TopologyOpSpec {
  name: string;
  /** own work at zero load, ms (default 2) */
  ownMs?: number;
  calls?: TopologyCallSpec[];
}

export interface TopologyServiceSpec {
  name: string;
  /** log dialect (default java); `redis` is a key-value store: no exceptions or wrong values */
  lang?: Lang;
  /** replicas: a fixed count or [min, max] (default [1, 2]) */
  replicas?: number | [number, number];
  /** working set at rest, MiB (default 64) */
  memMiB?: number;
  /** share of the CPU limit used at normal load (default [0.2, 0.3]) */
  util?: [number, number];
  /** a load driver: roots traces, never a fault's root cause (default false) */
  client?: boolean;
  operations: TopologyOpSpec[];
}

export interface TopologySpec {
  name: string;
  /** user requests per second at load 1 (default 40) */
  baseRps?: number;
  services: TopologyServiceSpec[];
  /** where traces start: an operation key, its share of the load and sampled traces per minute */
  entries: { op: string; weight: number; tracesPerMin: number }[];
}

// ---- templates of generic services ------------------------------------------------------------

const javaExc: Tpl = (r, c) => `java.lang.NullPointerException: null at ${c.op}(Handler.java:${r.intBetween(40, 400)})`;
const javaOom: Tpl = () => 'java.lang.OutOfMemoryError: Java heap space';
const javaMemWarn: Tpl = (r, c) => `[GC (Allocation Failure) ${Math.round(c.memFrac * c.memLimitMiB * 1024)}K->${Math.round(c.memFrac * c.memLimitMiB * 900)}K, ${r.uniform(0.01, 0.3).toFixed(7)} secs]`;
const goExc: Tpl = (r, c) => `panic recovered in ${c.op}: runtime error: index out of range [${r.intBetween(1, 9)}] with length ${r.intBetween(0, 1)}`;
const goOom: Tpl = (r) => `runtime: out of memory: cannot allocate ${r.intBetween(1, 64) * 8192}-byte block`;
const goMemWarn: Tpl = (_r, c) => `memory usage high: heap ${Math.round(c.memFrac * c.memLimitMiB)}MiB of ${c.memLimitMiB}MiB`;
const pyExc: Tpl = (r, c) => `Exception in ${c.op}: KeyError: '${r.pick(['id', 'items', 'user', 'context'])}'`;
const pyOom: Tpl = (_r, c) => `MemoryError while handling ${c.op}`;
const pyMemWarn: Tpl = (_r, c) => `resident memory ${Math.round(c.memFrac * c.memLimitMiB)}MiB close to the limit`;

function dialect(lang: Lang): Pick<ServiceDef, 'exception' | 'oom' | 'memWarn'> {
  if (lang === 'go') return { exception: goExc, oom: goOom, memWarn: goMemWarn };
  if (lang === 'python' || lang === 'locust') return { exception: pyExc, oom: pyOom, memWarn: pyMemWarn };
  return { exception: javaExc, oom: javaOom, memWarn: javaMemWarn };
}

const LANGS: readonly Lang[] = ['go', 'csharp', 'node', 'python', 'java', 'redis', 'locust'];
const NAME_RE = /^[a-z][a-z0-9-]{0,40}$/;

function bad(where: string, what: string): never {
  throw new UserError(`topology ${where}: ${what}`);
}

const isNum = (x: unknown, lo: number, hi: number): x is number => typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;

/** Load a topology (or `simulate --base-rps`) may set, user requests per second at load 1. */
export const BASE_RPS_RANGE = [0.01, 100_000] as const;

/** Checks a spec and compiles it into the simulator's catalog shape; errors are UserErrors. */
export function compileTopology(spec: TopologySpec): Topology {
  if (typeof spec !== 'object' || spec === null) bad('', 'expected a JSON object');
  const name = typeof spec.name === 'string' && spec.name.length > 0 ? spec.name : bad('name', 'expected a non-empty string');
  const baseRps = spec.baseRps ?? BASE_RPS;
  if (!isNum(baseRps, ...BASE_RPS_RANGE)) bad('baseRps', `expected a positive number, got ${String(baseRps)}`);
  if (!Array.isArray(spec.services) || spec.services.length === 0) bad('services', 'expected a non-empty array');
  const services: ServiceDef[] = [];
  const ops: OpDef[] = [];
  const clients: string[] = [];
  const seen = new Set<string>();
  let port = 8080;
  for (const [i, s] of spec.services.entries()) {
    const at = `services[${i}]`;
    if (typeof s?.name !== 'string' || !NAME_RE.test(s.name)) bad(`${at}.name`, `expected a lower-case DNS-style name, got ${JSON.stringify(s?.name)}`);
    if (seen.has(s.name)) bad(`${at}.name`, `duplicate service ${s.name}`);
    seen.add(s.name);
    const lang = s.lang ?? 'java';
    if (!LANGS.includes(lang)) bad(`${at}.lang`, `expected one of ${LANGS.join(', ')}, got ${String(lang)}`);
    const rep = s.replicas ?? [1, 2];
    const replicas: [number, number] = typeof rep === 'number' ? [rep, rep] : rep;
    if (!Array.isArray(replicas) || replicas.length !== 2 || !replicas.every((x) => Number.isInteger(x) && x >= 1 && x <= 20) || replicas[0] > replicas[1]) {
      bad(`${at}.replicas`, 'expected an integer 1-20 or [min, max]');
    }
    const memMiB = s.memMiB ?? 64;
    if (!isNum(memMiB, 1, 65_536)) bad(`${at}.memMiB`, 'expected MiB, 1-65536');
    const util = s.util ?? [0.2, 0.3];
    if (!Array.isArray(util) || util.length !== 2 || !util.every((x) => isNum(x, 0.01, 0.95)) || util[0] > util[1]) bad(`${at}.util`, 'expected [min, max] shares in (0, 0.95]');
    if (s.client) clients.push(s.name);
    services.push({
      name: s.name, lang, port: port++, replicas, memMiB, memPerRps: 0.3, memLimitX: 2.4, idleCpu: 0.004, util,
      bgPerMin: 0, background: [], startup: [() => `${s.name} started on port ${port - 1}`],
      ...dialect(lang),
    });
    if (!Array.isArray(s.operations) || s.operations.length === 0) bad(`${at}.operations`, 'expected a non-empty array');
    for (const [j, o] of s.operations.entries()) {
      const oat = `${at}.operations[${j}]`;
      if (typeof o?.name !== 'string' || o.name.length === 0 || o.name.length > 120) bad(`${oat}.name`, 'expected a non-empty string');
      const ownMs = o.ownMs ?? 2;
      if (!isNum(ownMs, 0.01, 60_000)) bad(`${oat}.ownMs`, 'expected ms, 0.01-60000');
      const calls: CallDef[] = (o.calls ?? []).map((c, k): CallDef => {
        const cat = `${oat}.calls[${k}]`;
        if (typeof c?.to !== 'string') bad(`${cat}.to`, 'expected "service operation"');
        const min = c.min ?? 1;
        const max = c.max ?? min;
        if (!Number.isInteger(min) || !Number.isInteger(max) || min < 0 || max < min || max > 50) bad(cat, 'expected integers 0 <= min <= max <= 50');
        const timeoutMs = c.timeoutMs ?? 2500;
        if (!isNum(timeoutMs, 1, 600_000)) bad(`${cat}.timeoutMs`, 'expected ms');
        return { to: c.to, min, max, optional: c.optional === true, timeoutMs, action: `call ${c.to}` };
      });
      ops.push({
        service: s.name, name: o.name, kind: s.client ? 'client' : lang === 'redis' ? 'redis' : 'http', ownMs, reqBytes: 400, respBytes: 1_200, calls,
        info: [], infoP: 0,
        wrongData: (r) => `unexpected response from ${o.name}: field ${r.pick(['id', 'status', 'amount', 'items'])} is invalid`,
      });
    }
  }
  const keys = new Set(ops.map(opKey));
  if (keys.size !== ops.length) bad('operations', 'duplicate operation within a service');
  for (const o of ops) for (const c of o.calls) if (!keys.has(c.to)) bad(`${o.service} ${o.name}`, `calls unknown operation "${c.to}"`);
  checkAcyclic(ops);
  if (!Array.isArray(spec.entries) || spec.entries.length === 0) bad('entries', 'expected a non-empty array');
  const entries: EntryDef[] = spec.entries.map((e, i) => {
    if (typeof e?.op !== 'string' || !keys.has(e.op)) bad(`entries[${i}].op`, `unknown operation ${JSON.stringify(e?.op)}`);
    if (!isNum(e.weight, 0, 1e6) || !isNum(e.tracesPerMin, 0, 1e5)) bad(`entries[${i}]`, 'expected a weight and tracesPerMin >= 0');
    return { op: e.op, weight: e.weight, tracesPerMin: e.tracesPerMin };
  });
  if (services.every((s) => clients.includes(s.name))) bad('services', 'every service is a client: nothing to inject faults into');
  return { name, services, ops, entries, baseRps, clients };
}

/** Calls must form no cycle: a request would never end. */
function checkAcyclic(ops: OpDef[]): void {
  const byKey = new Map(ops.map((o) => [opKey(o), o]));
  const state = new Map<string, 1 | 2>();
  const visit = (k: string, path: string[]): void => {
    const st = state.get(k);
    if (st === 2) return;
    if (st === 1) bad('calls', `call cycle: ${[...path.slice(path.indexOf(k)), k].join(' -> ')}`);
    state.set(k, 1);
    for (const c of byKey.get(k)!.calls) visit(c.to, [...path, k]);
    state.set(k, 2);
  };
  for (const k of byKey.keys()) visit(k, []);
}

// ---- built-in topologies ------------------------------------------------------------------------

export const BOUTIQUE: Topology = { name: 'boutique', services: SERVICES, ops: OPS, entries: ENTRIES, baseRps: BASE_RPS, clients: ['loadgenerator'] };

/** A deep request path: every hop adds a layer, so a delay far down is inherited by many callers. */
export const CHAIN_SPEC: TopologySpec = {
  name: 'chain',
  baseRps: 30,
  services: [
    { name: 'k6-runner', lang: 'locust', replicas: 1, client: true, operations: [{ name: 'book trip', ownMs: 0.4, calls: [{ to: 'edge-gateway POST /api/v1/trips', timeoutMs: 10_000 }] }, { name: 'view trip', ownMs: 0.4, calls: [{ to: 'edge-gateway GET /api/v1/trips', timeoutMs: 10_000 }] }] },
    {
      name: 'edge-gateway', lang: 'go', replicas: [1, 2], memMiB: 40,
      operations: [
        { name: 'POST /api/v1/trips', ownMs: 2, calls: [{ to: 'session-auth verifyToken' }, { to: 'trip-planner planTrip', timeoutMs: 6_000 }] },
        { name: 'GET /api/v1/trips', ownMs: 1.5, calls: [{ to: 'session-auth verifyToken' }, { to: 'trip-planner getTrip' }] },
      ],
    },
    { name: 'session-auth', lang: 'java', replicas: [1, 2], memMiB: 220, operations: [{ name: 'verifyToken', ownMs: 1.5 }] },
    {
      name: 'trip-planner', lang: 'java', replicas: [1, 2], memMiB: 260,
      operations: [
        { name: 'planTrip', ownMs: 3, calls: [{ to: 'fare-engine quote', timeoutMs: 4_000 }, { to: 'seat-ledger reserve', timeoutMs: 3_000 }, { to: 'notifier send', optional: true }] },
        { name: 'getTrip', ownMs: 1.5, calls: [{ to: 'seat-ledger lookup' }] },
      ],
    },
    { name: 'fare-engine', lang: 'python', replicas: [1, 2], memMiB: 90, operations: [{ name: 'quote', ownMs: 4, calls: [{ to: 'rate-table readRates', min: 1, max: 3 }] }] },
    { name: 'rate-table', lang: 'go', replicas: [1, 2], memMiB: 30, operations: [{ name: 'readRates', ownMs: 0.8, calls: [{ to: 'chain-store get' }] }] },
    {
      name: 'seat-ledger', lang: 'java', replicas: [1, 2], memMiB: 240,
      operations: [{ name: 'reserve', ownMs: 3, calls: [{ to: 'chain-store get' }, { to: 'chain-store put' }] }, { name: 'lookup', ownMs: 1.2, calls: [{ to: 'chain-store get' }] }],
    },
    { name: 'notifier', lang: 'node', replicas: 1, memMiB: 70, operations: [{ name: 'send', ownMs: 6 }] },
    { name: 'chain-store', lang: 'redis', replicas: 1, memMiB: 24, util: [0.12, 0.2], operations: [{ name: 'get', ownMs: 0.3 }, { name: 'put', ownMs: 0.35 }] },
  ],
  entries: [
    { op: 'k6-runner book trip', weight: 0.35, tracesPerMin: 10 },
    { op: 'k6-runner view trip', weight: 0.65, tracesPerMin: 14 },
  ],
};

/** Many callers per service: shared services (accounts, audit) sit under several paths at once. */
export const MESH_SPEC: TopologySpec = {
  name: 'mesh',
  baseRps: 35,
  services: [
    { name: 'user-sim', lang: 'locust', replicas: 1, client: true, operations: [{ name: 'browse', ownMs: 0.4, calls: [{ to: 'api-edge GET /browse', timeoutMs: 10_000 }] }, { name: 'buy', ownMs: 0.4, calls: [{ to: 'api-edge POST /buy', timeoutMs: 10_000 }] }, { name: 'review', ownMs: 0.4, calls: [{ to: 'api-edge POST /review', timeoutMs: 10_000 }] }] },
    {
      name: 'api-edge', lang: 'go', replicas: [2, 3], memMiB: 50,
      operations: [
        { name: 'GET /browse', ownMs: 2, calls: [{ to: 'accounts getProfile' }, { to: 'search-svc query' }, { to: 'reviews-svc listReviews', optional: true }] },
        { name: 'POST /buy', ownMs: 2.5, calls: [{ to: 'accounts getProfile' }, { to: 'orders-svc createOrder', timeoutMs: 6_000 }] },
        { name: 'POST /review', ownMs: 1.5, calls: [{ to: 'accounts getProfile' }, { to: 'reviews-svc addReview' }] },
      ],
    },
    { name: 'accounts', lang: 'java', replicas: [1, 3], memMiB: 230, operations: [{ name: 'getProfile', ownMs: 1.5, calls: [{ to: 'audit-log record', optional: true }] }, { name: 'checkCredit', ownMs: 2 }] },
    { name: 'search-svc', lang: 'python', replicas: [1, 2], memMiB: 110, operations: [{ name: 'query', ownMs: 5, calls: [{ to: 'stock-svc available', min: 1, max: 4 }] }] },
    { name: 'reviews-svc', lang: 'node', replicas: [1, 2], memMiB: 80, operations: [{ name: 'listReviews', ownMs: 2, calls: [{ to: 'accounts getProfile', min: 1, max: 2 }] }, { name: 'addReview', ownMs: 2.5, calls: [{ to: 'audit-log record' }] }] },
    {
      name: 'orders-svc', lang: 'java', replicas: [1, 2], memMiB: 260,
      operations: [{ name: 'createOrder', ownMs: 3, calls: [{ to: 'accounts checkCredit' }, { to: 'stock-svc reserve', min: 1, max: 3 }, { to: 'billing charge', timeoutMs: 3_000 }, { to: 'audit-log record' }] }],
    },
    { name: 'stock-svc', lang: 'go', replicas: [1, 2], memMiB: 35, operations: [{ name: 'available', ownMs: 0.8 }, { name: 'reserve', ownMs: 1.5, calls: [{ to: 'audit-log record', optional: true }] }] },
    { name: 'billing', lang: 'csharp', replicas: [1, 2], memMiB: 150, operations: [{ name: 'charge', ownMs: 4, calls: [{ to: 'audit-log record' }] }] },
    { name: 'audit-log', lang: 'java', replicas: [1, 2], memMiB: 200, operations: [{ name: 'record', ownMs: 0.9 }] },
  ],
  entries: [
    { op: 'user-sim browse', weight: 0.6, tracesPerMin: 14 },
    { op: 'user-sim buy', weight: 0.25, tracesPerMin: 8 },
    { op: 'user-sim review', weight: 0.15, tracesPerMin: 5 },
  ],
};

export const TOPOLOGIES = ['boutique', 'chain', 'mesh'] as const;

/**
 * A built-in topology by name, a spec, or a JSON file holding one (anything that is neither a
 * built-in name nor an existing file is a UserError naming both choices).
 */
export function resolveTopology(t: string | TopologySpec | undefined): Topology {
  if (t === undefined || t === 'boutique') return BOUTIQUE;
  if (typeof t !== 'string') return compileTopology(t);
  if (t === 'chain') return compileTopology(CHAIN_SPEC);
  if (t === 'mesh') return compileTopology(MESH_SPEC);
  if (!existsSync(t)) throw new UserError(`topology: "${t}" is neither a built-in topology (${TOPOLOGIES.join(', ')}) nor an existing JSON file`);
  let spec: unknown;
  try {
    spec = JSON.parse(readFileSync(t, 'utf8'));
  } catch (e) {
    throw new UserError(`topology ${t}: not readable JSON (${(e as Error).message.split('\n')[0]})`);
  }
  return compileTopology(spec as TopologySpec);
}
