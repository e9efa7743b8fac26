/**
 * Metric emission: one column per (entity, metric) for a block of steps, filled step by step
 * from the system state, with measurement noise and the odd missed scrape (NaN).
 */
import type { MetricSeries } from '../telemetry/index.js';
import type { Model } from './model.js';
import type { SeededRng } from '../telemetry/index.js';
import { BASE_SIGMA } from './state.js';
import type { SystemState } from './state.js';

export interface MetricDef {
  name: string;
  unit: string;
}

export const POD_METRICS: readonly MetricDef[] = [
  { name: 'container.cpu.usage', unit: '{cpu}' },
  { name: 'container.cpu.utilization', unit: '%' },
  { name: 'container.memory.usage', unit: 'By' },
  { name: 'container.network.receive', unit: 'By/s' },
  { name: 'container.network.transmit', unit: 'By/s' },
  { name: 'container.restarts', unit: '1' },
  { name: 'request.rate', unit: '{req}/s' },
  { name: 'request.error_rate', unit: '1' },
  { name: 'request.latency.p50', unit: 'ms' },
  { name: 'request.latency.p90', unit: 'ms' },
  { name: 'request.latency.p99', unit: 'ms' },
];

export const NODE_METRICS: readonly MetricDef[] = [
  { name: 'node.cpu.utilization', unit: '%' },
  { name: 'node.memory.utilization', unit: '%' },
];

/** A whole scrape of a pod fails this often... */
const MISSED_SCRAPE = 0.002;
/** ...and a single value this often. */
const MISSED_VALUE = 0.0008;

const Z90 = 1.2815516;
const Z99 = 2.3263479;

export class MetricEmitter {
  /** bytes per second each pod receives / sends at load 1 */
  private readonly rxUnit: Float64Array;
  private readonly txUnit: Float64Array;
  private readonly podCpu: Float64Array;
  private columns: Float64Array[] = [];
  private times: Float64Array = new Float64Array(0);
  points = 0;
  missing = 0;

  constructor(private readonly model: Model, private readonly rng: SeededRng) {
    const P = model.pods.length;
    this.rxUnit = new Float64Array(P);
    this.txUnit = new Float64Array(P);
    this.podCpu = new Float64Array(P);
    for (const s of model.services) {
      let rx = 0;
      let tx = 0;
      for (const o of s.ops) {
        const op = model.ops[o];
        let inB = op.def.reqBytes;
        let outB = op.def.respBytes;
        for (const c of op.calls) {
          const callee = model.ops[c.callee].def;
          inB += c.meanCount * callee.respBytes;
          outB += c.meanCount * callee.reqBytes;
        }
        rx += (op.unitRate / s.pods.length) * inB;
        tx += (op.unitRate / s.pods.length) * outB;
      }
      for (const p of s.pods) {
        this.rxUnit[p] = rx;
        this.txUnit[p] = tx;
      }
    }
  }

  get seriesCount(): number {
    return this.model.pods.length * POD_METRICS.length + this.model.nodes.length * NODE_METRICS.length;
  }

  /** Starts a block of `n` steps beginning at time `t0`. */
  begin(n: number, t0: number, stepMs: number): void {
    this.times = new Float64Array(n);
    for (let i = 0; i < n; i++) this.times[i] = t0 + i * stepMs;
    this.columns = Array.from({ length: this.seriesCount }, () => new Float64Array(n));
  }

  /** Records step `i` of the block from the state. */
  record(i: number, st: SystemState): void {
    const m = this.model;
    const r = this.rng;
    const cols = this.columns;
    const K = POD_METRICS.length;
    const O = st.nOps;
    for (const pod of m.pods) {
      const p = pod.idx;
      const base = p * K;
      const s = m.services[pod.service];
      if (st.down[p]) {
        // The container is gone: no scrape at all, and no CPU or memory on its node.
        this.podCpu[p] = 0;
        for (let k = 0; k < K; k++) cols[base + k][i] = NaN;
        continue;
      }
      const served = Math.min(st.demand[p], pod.cpuLimit * st.capFactor[p] * 0.98);
      const cpuTrue = Math.min(pod.cpuLimit, s.def.idleCpu + served + st.stress[p] + st.startupCpu[p]);
      const phi = 0.7;
      st.cpuNoise[p] = phi * st.cpuNoise[p] + 0.71 * 0.04 * r.normal();
      const cpu = Math.max(0, Math.min(pod.cpuLimit, cpuTrue * (1 + st.cpuNoise[p])));
      this.podCpu[p] = cpu;
      const rate = st.podRate[p];
      let latMean = 0;
      let sig = 0;
      let err = 0;
      let w = 0;
      for (const o of s.ops) {
        const ro = st.opRate[o];
        if (ro <= 0) continue;
        const j = p * O + o;
        latMean += ro * st.dur[j];
        sig += ro * st.sigma[j];
        err += ro * st.fail[j];
        w += ro;
      }
      if (w > 0) {
        latMean /= w;
        sig /= w;
        err /= w;
      }
      // The median follows the bulk of requests; a wider spread (loss, timeouts) lifts the tail only.
      const p50 = latMean * Math.exp((-BASE_SIGMA * BASE_SIGMA) / 2);
      const lossX = 1 + 1.5 * st.loss[p];
      const noisy = (x: number, rel: number) => Math.max(0, x * (1 + rel * r.normal()));
      const errObs = Math.min(1, Math.max(0, err + (rate > 0 ? Math.sqrt((err * (1 - err)) / Math.max(1, rate * 60)) * r.normal() : 0)));
      cols[base + 0][i] = cpu;
      cols[base + 1][i] = (cpu / pod.cpuLimit) * 100;
      cols[base + 2][i] = Math.round(st.mem[p]);
      cols[base + 3][i] = noisy(st.load * this.rxUnit[p], 0.05);
      cols[base + 4][i] = noisy(st.load * this.txUnit[p] * lossX, 0.05);
      cols[base + 5][i] = st.restarts[p];
      cols[base + 6][i] = noisy(rate, 0.03);
      cols[base + 7][i] = errObs;
      cols[base + 8][i] = noisy(p50, 0.04);
      cols[base + 9][i] = noisy(p50 * Math.exp(Z90 * sig), 0.06);
      cols[base + 10][i] = noisy(p50 * Math.exp(Z99 * sig), 0.1);
      if (r.chance(MISSED_SCRAPE)) {
        for (let k = 0; k < K; k++) cols[base + k][i] = NaN;
      } else if (r.chance(MISSED_VALUE * K)) {
        cols[base + r.int(K)][i] = NaN;
      }
    }
    const nodeBase = m.pods.length * K;
    for (const nd of m.nodes) {
      let cpu = nd.systemCpu;
      let mem = nd.systemMem;
      for (const p of nd.pods) {
        cpu += this.podCpu[p];
        if (!st.down[p]) mem += st.mem[p];
      }
      const b = nodeBase + nd.idx * NODE_METRICS.length;
      cols[b][i] = Math.min(100, (cpu / nd.cores) * 100 * (1 + 0.02 * r.normal()));
      cols[b + 1][i] = Math.min(100, (mem / nd.memBytes) * 100 * (1 + 0.003 * r.normal()));
      if (r.chance(MISSED_SCRAPE)) cols[b][i] = cols[b + 1][i] = NaN;
    }
  }

  /** The block's series (the times column is shared between them, read-only). */
  finish(): MetricSeries[] {
    const out: MetricSeries[] = [];
    const m = this.model;
    let c = 0;
    const take = (entity: string, d: MetricDef) => {
      const values = this.columns[c++];
      for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) this.missing++;
      this.points += values.length;
      out.push({ entity, name: d.name, unit: d.unit, times: this.times, values });
    };
    for (const pod of m.pods) for (const d of POD_METRICS) take(pod.id, d);
    for (const nd of m.nodes) for (const d of NODE_METRICS) take(nd.id, d);
    return out;
  }
}
