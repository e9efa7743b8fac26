/**
 * The microservice simulator: an Online-Boutique-style system under shifting workload regimes
 * with injected faults, emitting metrics, traces and logs block by block.
 *
 * `createSimulation` is the in-memory generator (batches per simulated block); `simulate`
 * writes its batches through the OTLP writer, plus faults.json and regimes.json.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../telemetry/index.js';
import type { Entity, FaultLabel, LogRecord, MetricSeries, Span } from '../telemetry/index.js';
import { OtlpWriter, writeFaults, OTLP_FILES } from '../sources/otlp/index.js';
import { checkOutput, isTempFileName } from '../sources/io/index.js';
import { FAULT_TYPES, planFaults } from './faults.js';
import type { FaultType, PlannedFault } from './faults.js';
import { MetricEmitter } from './metrics.js';
import { MeshEmitter } from './mesh.js';
import { buildModel } from './model.js';
import type { Model } from './model.js';
import { SeededRng } from '../telemetry/index.js';
import { SystemState } from './state.js';
import { TraceEmitter } from './traces.js';
import { LoadCurve, REGIMES, checkTimeline, regimeTimeline } from './workload.js';
import { BASE_RPS_RANGE, resolveTopology } from './topology.js';
import type { TopologySpec } from './topology.js';
import type { Regime, RegimeInterval } from './workload.js';
import { nearFaults } from './gaps.js';
import { NezhaLayoutWriter } from './nezha-layout.js';
import type { NezhaLayoutSummary } from './nezha-layout.js';
import { jsonLogLines, type LogStyle } from './log-style.js';

export { FAULT_TYPES } from './faults.js';
export { nearFaults } from './gaps.js';
export { NezhaLayoutWriter, NEZHA_FAULT_TYPE, NEZHA_METRIC_COLUMNS } from './nezha-layout.js';
export type { NezhaLayoutSummary } from './nezha-layout.js';
export type { LogStyle } from './log-style.js';
export { scaleIntensity } from './faults.js';
export type { FaultShape } from './faults.js';
export type { FaultType } from './faults.js';
export { REGIMES, REGIME_LEVEL, DAILY_SWING } from './workload.js';
export { memoryLimit, GC_ONSET } from './model.js';
export type { Regime, RegimeInterval } from './workload.js';
export { POD_METRICS, NODE_METRICS } from './metrics.js';
export { SeededRng } from '../telemetry/index.js';
export { TOPOLOGIES, compileTopology, resolveTopology } from './topology.js';
export type { Topology as SimulatorTopology, TopologySpec, TopologyServiceSpec, TopologyOpSpec, TopologyCallSpec } from './topology.js';

/** Monday 2026-01-05 08:00 UTC: a fixed start keeps output reproducible. */
export const DEFAULT_START_MS = Date.UTC(2026, 0, 5, 8, 0, 0);
export const DEFAULT_STEP_MS = 60_000;
/** Simulated time per batch of createSimulation: bounds memory whatever the run's length. */
export const BLOCK_MS = 10 * 60_000;
/**
 * simulate() writes a batch per simulated minute: the writer groups each batch's records by
 * entity, so a batch's length is how far out of time order the files are (what a reader must
 * buffer), as with a collector that flushes every minute.
 */
export const WRITE_BLOCK_MS = 60_000;

export interface SimulationOptions {
  hours: number;
  seed: number;
  /** number of injected faults, spread over the run */
  faults: number;
  /** metric resolution and simulation step, ms (default 60 000) */
  stepMs?: number;
  /** start of the run, epoch ms (default DEFAULT_START_MS) */
  startMs?: number;
  /** a fixed regime timeline covering the run, instead of the seeded Markov chain */
  regimes?: RegimeInterval[];
  /** fault types to draw from (default: all seven) */
  faultTypes?: FaultType[];
  /** multiplies the number of sampled traces (default 1) */
  traceScale?: number;
  /** simulated time per batch, ms, rounded to whole steps (default BLOCK_MS; simulate() writes per WRITE_BLOCK_MS) */
  blockMs?: number;
  /** a built-in topology (boutique, chain, mesh), a JSON file's path, or a spec (default boutique) */
  topology?: string | TopologySpec;
  /**
   * user requests per second at load 1, in place of the topology's own: how many calls each
   * minute's figures rest on (a quiet system's percentiles are noisy). CPU limits are sized for
   * this load with a floor of 50 millicores, so a much quieter system also runs at a lower
   * utilisation
   */
  baseRps?: number;
  /** also emit per-edge latency as a service mesh's proxies export it (src/simulate/mesh.ts; default false) */
  meshMetrics?: boolean;
  /** emit no spans (a system without tracing; logs keep their lines, without trace ids) (default true) */
  traces?: boolean;
  /** multiplies every fault's effect (faults.ts FaultShape.effectScale; default 1) */
  effectScale?: number;
  /** fault durations are drawn in [min, max] minutes (default [3, 10]) */
  faultMinutes?: [number, number];
}

export interface SimulateOptions extends SimulationOptions {
  outDir: string;
  /** Nezha-like gaps: write spans and logs only within this margin (ms) of a fault (gaps.ts); metrics stay whole */
  gapsMarginMs?: number;
  /** `otlp` (default): an OTLP JSON folder; `nezha`: the Nezha export layout (nezha-layout.ts), which has its own gaps */
  layout?: 'otlp' | 'nezha';
  /**
   * the log lines: `text` (default) or `json` — in the Nezha layout one JSON object per line
   * (NezhaLayoutOptions.logStyle), in OTLP the same line as an unparsed body without severity
   */
  logStyle?: LogStyle;
  onProgress?: (doneMs: number, totalMs: number) => void;
}

export interface SimBatch {
  /** simulated block [start, end), ms */
  start: number;
  end: number;
  metrics: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
}

export interface SimCounts {
  metricSeries: number;
  metricPoints: number;
  /** points written as NaN (missed scrapes, killed pods) */
  metricMissing: number;
  spans: number;
  traces: number;
  logs: number;
}

export interface Simulation {
  readonly start: number;
  readonly end: number;
  readonly stepMs: number;
  readonly seed: number;
  /** the topology's name */
  readonly topology: string;
  readonly entities: Entity[];
  readonly labels: FaultLabel[];
  readonly regimes: RegimeInterval[];
  /** running totals of what batches() has produced so far */
  readonly counts: SimCounts;
  /** the compiled system (pods, nodes, limits, entry points), for writers that need more than the records */
  readonly model: Model;
  batches(): Generator<SimBatch>;
}

export interface SimulateSummary {
  outDir: string;
  seed: number;
  topology: string;
  start: number;
  end: number;
  stepMs: number;
  entities: { services: number; pods: number; nodes: number };
  counts: SimCounts;
  faults: number;
  faultsByType: Record<string, number>;
  /** simulated minutes spent in each regime */
  regimeMinutes: Record<Regime, number>;
  /** files written, relative to outDir (for the Nezha layout: the top-level entries) */
  files: string[];
  /** the Nezha layout's own account (days, minute files kept, coverage), when written that way */
  nezha?: NezhaLayoutSummary;
  wallMs: number;
}

function checkOptions(o: SimulationOptions): Required<Pick<SimulationOptions, 'stepMs' | 'startMs'>> {
  if (!(typeof o.hours === 'number' && Number.isFinite(o.hours) && o.hours > 0)) throw new UserError(`hours: expected a positive number, got ${o.hours}`);
  if (!(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new UserError(`seed: expected a non-negative integer, got ${o.seed}`);
  if (!(Number.isInteger(o.faults) && o.faults >= 0)) throw new UserError(`faults: expected a non-negative integer, got ${o.faults}`);
  const stepMs = o.stepMs ?? DEFAULT_STEP_MS;
  if (!(Number.isInteger(stepMs) && stepMs >= 1000 && stepMs <= 3_600_000)) throw new UserError(`stepMs: expected an integer between 1000 and 3600000, got ${stepMs}`);
  const startMs = o.startMs ?? DEFAULT_START_MS;
  if (!Number.isFinite(startMs)) throw new UserError(`startMs: expected epoch ms, got ${startMs}`);
  if (o.blockMs !== undefined && !(o.blockMs > 0 && Number.isFinite(o.blockMs))) throw new UserError(`blockMs: expected a positive number of ms, got ${o.blockMs}`);
  if (o.traceScale !== undefined && !(o.traceScale >= 0 && Number.isFinite(o.traceScale))) throw new UserError(`traceScale: expected a non-negative number, got ${o.traceScale}`);
  if (o.baseRps !== undefined && !(o.baseRps >= BASE_RPS_RANGE[0] && o.baseRps <= BASE_RPS_RANGE[1])) throw new UserError(`baseRps: expected a number between ${BASE_RPS_RANGE[0]} and ${BASE_RPS_RANGE[1]}, got ${o.baseRps}`);
  return { stepMs, startMs };
}

/** Sets each operation's slow-request threshold from its duration in a calm, normal minute. */
function calibrate(model: Model, rng: SeededRng, start: number, stepMs: number): void {
  const calm = new LoadCurve([{ start, end: start + stepMs, regime: 'normal' }], stepMs, rng);
  const st = new SystemState(model, [], calm, rng, start, stepMs);
  st.advance(0);
  for (const op of model.ops) {
    const pods = model.services[op.service].pods;
    let d = 0;
    for (const p of pods) d += st.dur[p * st.nOps + op.idx];
    d /= pods.length;
    const thr = Math.max(20, d * 6);
    const mag = Math.pow(10, Math.floor(Math.log10(thr)));
    op.slowMs = Math.ceil(thr / mag) * mag;
  }
}

export function createSimulation(opts: SimulationOptions): Simulation {
  const { stepMs, startMs } = checkOptions(opts);
  const root = new SeededRng(opts.seed, 'runtimeslicer-sim');
  const topology = resolveTopology(opts.topology);
  const model = buildModel(root.fork('topology'), opts.baseRps !== undefined ? { ...topology, baseRps: opts.baseRps } : topology);
  const steps = Math.max(1, Math.round((opts.hours * 3_600_000) / stepMs));
  const start = startMs;
  const end = start + steps * stepMs;
  calibrate(model, root.fork('calibrate'), start, stepMs);
  const regimes = opts.regimes ? checkTimeline(opts.regimes, start, end) : regimeTimeline(root.fork('regimes'), start, end, stepMs);
  const planned: PlannedFault[] = planFaults(model, root.fork('faults'), opts.faults, start, steps, stepMs, opts.faultTypes ?? FAULT_TYPES, {
    ...(opts.effectScale !== undefined ? { effectScale: opts.effectScale } : {}),
    ...(opts.faultMinutes !== undefined ? { minutes: opts.faultMinutes } : {}),
  });
  const counts: SimCounts = { metricSeries: 0, metricPoints: 0, metricMissing: 0, spans: 0, traces: 0, logs: 0 };
  const blockSteps = Math.max(1, Math.round((opts.blockMs ?? BLOCK_MS) / stepMs));

  function* batches(): Generator<SimBatch> {
    const curve = new LoadCurve(regimes, stepMs, root.fork('load'));
    const state = new SystemState(model, planned, curve, root.fork('state'), start, stepMs);
    const metrics = new MetricEmitter(model, root.fork('metrics'));
    const traces = new TraceEmitter(model, root.fork('traffic'), opts.traceScale ?? 1);
    const mesh = opts.meshMetrics ? new MeshEmitter(model, root.fork('mesh')) : undefined;
    // Each walk starts from scratch (same seed, same batches), and so do its totals.
    Object.assign(counts, { metricSeries: metrics.seriesCount, metricPoints: 0, metricMissing: 0, spans: 0, traces: 0, logs: 0 });
    for (let b0 = 0; b0 < steps; b0 += blockSteps) {
      const n = Math.min(blockSteps, steps - b0);
      metrics.begin(n, start + b0 * stepMs, stepMs);
      mesh?.begin(n, start + b0 * stepMs, stepMs);
      for (let i = 0; i < n; i++) {
        state.advance(b0 + i);
        metrics.record(i, state);
        mesh?.record(i, state);
        traces.emitStep(state);
      }
      const series = mesh ? [...metrics.finish(), ...mesh.finish()] : metrics.finish();
      const taken = traces.take();
      // without tracing the requests still happen (same draws): their spans are not kept
      const spans = opts.traces === false ? [] : taken.spans;
      const logs = opts.traces === false ? taken.logs.map(({ traceId: _t, spanId: _s, ...l }) => l) : taken.logs;
      counts.metricPoints = metrics.points;
      counts.metricMissing = metrics.missing;
      counts.spans += spans.length;
      counts.logs += logs.length;
      counts.traces = traces.traces;
      yield { start: start + b0 * stepMs, end: start + (b0 + n) * stepMs, metrics: series, spans, logs };
    }
  }

  return {
    start,
    end,
    stepMs,
    seed: opts.seed,
    topology: model.topology,
    entities: model.entities,
    labels: planned.map((f) => f.label),
    regimes,
    counts,
    model,
    batches,
  };
}

export const REGIMES_FILE = 'regimes.json';

/** Every name `simulate` writes into its folder (the OTLP files plain or gzipped). */
/** The true labels of a run written in the Nezha layout (whose fault list has no durations and Nezha's type names). */
export const SIMULATED_FAULTS_FILE = 'simulated-faults.json';
const NEZHA_FOLDERS = ['rca_data', 'construct_data'];
const SIMULATOR_FILES = new Set([...Object.values(OTLP_FILES).flatMap((f) => [f, `${f}.gz`]), 'faults.json', REGIMES_FILE, SIMULATED_FAULTS_FILE, ...NEZHA_FOLDERS]);

/**
 * The output folder must be new, empty, or a previous simulator output (whose files are
 * replaced): a folder with anything else in it is refused, naming one foreign file, so a typo
 * in --out cannot mix simulated telemetry into (or overwrite) someone's data.
 */
async function prepareOutDir(dir: string): Promise<void> {
  checkOutput(dir, [], { folder: true, label: 'the simulator output folder' });
  let names: string[] = [];
  try {
    names = await readdir(dir);
  } catch {
    // created below
  }
  // leftovers of a killed writer (today's naming, or the older `.name.<pid>-<hex>.tmp`) are ours
  const foreign = names.find((n) => !SIMULATOR_FILES.has(n) && !isTempFileName(n) && !/^\..+\.\d+-[0-9a-f]+\.tmp$/.test(n));
  if (foreign !== undefined) throw new UserError(`the simulator output folder ${dir} holds ${foreign}, which the simulator does not write: refusing to write there (choose a new or empty folder)`);
  await mkdir(dir, { recursive: true });
}

/**
 * Simulates and writes an OTLP JSON folder: metrics, traces and logs (through OtlpWriter),
 * faults.json and regimes.json ([{start, end, regime}], epoch ms).
 */
export async function simulate(opts: SimulateOptions): Promise<SimulateSummary> {
  const t0 = performance.now();
  const layout = opts.layout ?? 'otlp';
  if (layout !== 'otlp' && layout !== 'nezha') throw new UserError(`layout: expected otlp or nezha, got ${String(layout)}`);
  if (opts.logStyle !== undefined && opts.logStyle !== 'text' && opts.logStyle !== 'json') throw new UserError(`log style: expected text or json, got ${String(opts.logStyle)}`);
  if (layout === 'nezha' && opts.gapsMarginMs !== undefined) throw new UserError('--gaps applies to the OTLP layout: the Nezha layout has its own gaps (traces and logs for the 3 minutes from each injection)');
  const sim = createSimulation({ ...opts, blockMs: opts.blockMs ?? WRITE_BLOCK_MS });
  await prepareOutDir(opts.outDir);
  if (layout === 'nezha') return simulateNezha(opts, sim, t0);
  const writer = new OtlpWriter(opts.outDir);
  const total = sim.end - sim.start;
  const keep = opts.gapsMarginMs !== undefined ? nearFaults(sim.labels, opts.gapsMarginMs) : undefined;
  // `json`: each record as a collector's filelog receiver forwards a JSON line it did not
  // parse — the whole line as the body, no severity
  const jsonLine = jsonLogLines(sim.model);
  const styled = (logs: LogRecord[]): LogRecord[] => (opts.logStyle === 'json' ? logs.map((l) => ({ ...l, body: jsonLine(l), severity: 'unknown' })) : logs);
  let ok = false;
  try {
    for (const b of sim.batches()) {
      await writer.writeMetrics(b.metrics, sim.entities);
      const spans = keep ? b.spans.filter((x) => keep(x.start)) : b.spans;
      const logs = styled(keep ? b.logs.filter((x) => keep(x.time)) : b.logs);
      if (spans.length > 0) await writer.writeSpans(spans, sim.entities);
      if (logs.length > 0) await writer.writeLogs(logs, sim.entities);
      opts.onProgress?.(b.end - sim.start, total);
    }
    ok = true;
  } finally {
    if (ok) await writer.close();
    else await writer.abort().catch(() => undefined); // leave no partial files behind
  }
  await writeFaults(opts.outDir, sim.labels);
  await writeFile(join(opts.outDir, REGIMES_FILE), JSON.stringify(sim.regimes.map((r) => ({ start: r.start, end: r.end, regime: r.regime }))) + '\n');
  return summarize(opts, sim, t0);
}

/** Writes the run in the Nezha export layout (nezha-layout.ts), plus regimes.json and the true labels. */
async function simulateNezha(opts: SimulateOptions, sim: Simulation, t0: number): Promise<SimulateSummary> {
  // a previous run's minute files would mix with this one's
  for (const f of NEZHA_FOLDERS) await rm(join(opts.outDir, f), { recursive: true, force: true });
  const pods = sim.model.pods;
  const faults = sim.labels.map((l) => ({ start: l.start, end: l.end, pod: l.rootCause, type: l.type as FaultType }));
  for (const f of faults) if (!pods.some((p) => p.id === f.pod)) throw new Error(`fault on unknown pod ${f.pod}`);
  const writer = new NezhaLayoutWriter(opts.outDir, sim.model, faults, sim.start, sim.end, opts.logStyle ? { logStyle: opts.logStyle } : {});
  const total = sim.end - sim.start;
  for (const b of sim.batches()) {
    writer.add(b, sim.stepMs);
    opts.onProgress?.(b.end - sim.start, total);
  }
  writer.finish();
  await writeFile(join(opts.outDir, SIMULATED_FAULTS_FILE), JSON.stringify(sim.labels, null, 1) + '\n');
  await writeFile(join(opts.outDir, REGIMES_FILE), JSON.stringify(sim.regimes.map((r) => ({ start: r.start, end: r.end, regime: r.regime }))) + '\n');
  const summary = await summarize(opts, sim, t0);
  summary.nezha = writer.summary;
  return summary;
}

async function summarize(opts: SimulateOptions, sim: Simulation, t0: number): Promise<SimulateSummary> {

  const faultsByType: Record<string, number> = {};
  for (const t of FAULT_TYPES) faultsByType[t] = 0;
  for (const l of sim.labels) faultsByType[l.type]++;
  const regimeMinutes = Object.fromEntries(REGIMES.map((r) => [r, 0])) as Record<Regime, number>;
  for (const r of sim.regimes) regimeMinutes[r.regime] += (Math.min(r.end, sim.end) - Math.max(r.start, sim.start)) / 60_000;
  const kinds = { services: 0, pods: 0, nodes: 0 };
  for (const e of sim.entities) kinds[`${e.kind}s`]++;
  return {
    outDir: opts.outDir,
    seed: sim.seed,
    topology: sim.topology,
    start: sim.start,
    end: sim.end,
    stepMs: sim.stepMs,
    entities: kinds,
    counts: { ...sim.counts },
    faults: sim.labels.length,
    faultsByType,
    regimeMinutes,
    files: (await readdir(opts.outDir)).filter((f) => !f.startsWith('.')).sort(),
    wallMs: Math.round(performance.now() - t0),
  };
}
