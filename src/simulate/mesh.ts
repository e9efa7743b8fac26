/**
 * Service-mesh metrics (optional, `meshMetrics`): request latency per (source, destination)
 * pair as a sidecar proxy exports it — measured once by the caller's proxy (network, the
 * callee's ingress and the callee's work) and once by the callee's (its work only), Istio
 * style: `mesh.request.duration.p50{destination_workload=…,reporter=source|destination,
 * source_workload=…}` on the reporting pod. Their difference is the edge gap the trace
 * families measure, so a run without traces still shows a network delay at the right pod.
 * Drawn from a generator of its own: turning them on changes no other record of a seed.
 */
import { MESH_REQUEST_DURATION, meshSeriesName, type MetricSeries } from '../telemetry/index.js';
import type { SeededRng } from '../telemetry/index.js';
import type { Model } from './model.js';
import { BASE_SIGMA, HOP_MS, RTO_MS } from './state.js';
import type { SystemState } from './state.js';

/**
 * name, standard normal quantile z, and sqrt(p(1 − p)) / φ(z): the large-sample standard
 * deviation of a sample p-quantile of a normal, in units of σ/√n — what turns the log-normal
 * call spread and the number of calls into the estimate's noise
 */
const PERCENTILES: readonly [string, number, number][] = [
  ['p50', 0, 1.2533141],
  ['p90', 1.2815516, 1.7094002],
];
/**
 * Floor of a proxy's percentile noise (log scale): histogram buckets and scraping add some
 * however many calls there were.
 */
const MESH_NOISE = 0.03;

interface Edge {
  caller: number;
  callee: number;
  /** (caller operation, callee operation, calls per invocation) */
  calls: { op: number; calleeOp: number; count: number }[];
}

export class MeshEmitter {
  private readonly edges: Edge[] = [];
  /** per series: entity (pod index), edge, side, percentile index */
  private readonly series: { pod: number; edge: number; callerSide: boolean; pct: number; name: string }[] = [];
  private columns: Float64Array[] = [];
  private times: Float64Array = new Float64Array(0);
  private stepS = 60;

  constructor(private readonly model: Model, private readonly rng: SeededRng) {
    const byPair = new Map<string, Edge>();
    for (const op of model.ops) {
      for (const c of op.calls) {
        const k = `${op.service}>${c.calleeService}`;
        let e = byPair.get(k);
        if (!e) {
          byPair.set(k, (e = { caller: op.service, callee: c.calleeService, calls: [] }));
          this.edges.push(e);
        }
        e.calls.push({ op: op.idx, calleeOp: c.callee, count: c.meanCount });
      }
    }
    this.edges.forEach((e, i) => {
      const [caller, callee] = [model.services[e.caller].def.name, model.services[e.callee].def.name];
      for (let pct = 0; pct < PERCENTILES.length; pct++) {
        const metric = `${MESH_REQUEST_DURATION}.${PERCENTILES[pct][0]}`;
        for (const p of model.services[e.caller].pods) this.series.push({ pod: p, edge: i, callerSide: true, pct, name: meshSeriesName(metric, caller, callee, true) });
        for (const q of model.services[e.callee].pods) this.series.push({ pod: q, edge: i, callerSide: false, pct, name: meshSeriesName(metric, caller, callee, false) });
      }
    });
  }

  begin(n: number, t0: number, stepMs: number): void {
    this.times = new Float64Array(n);
    this.stepS = stepMs / 1000;
    for (let i = 0; i < n; i++) this.times[i] = t0 + i * stepMs;
    this.columns = this.series.map(() => new Float64Array(n));
  }

  record(i: number, st: SystemState): void {
    const m = this.model;
    const O = st.nOps;
    const r = this.rng;
    const median = Math.exp((-BASE_SIGMA * BASE_SIGMA) / 2);
    this.series.forEach((s, k) => {
      const e = this.edges[s.edge];
      if (st.down[s.pod]) {
        this.columns[k][i] = NaN;
        return;
      }
      let sum = 0;
      let w = 0;
      let sig = 0;
      for (const c of e.calls) {
        const weight = st.opRate[c.op] * c.count;
        if (weight <= 0) continue;
        if (s.callerSide) {
          // what the caller's proxy sees: the callee's work plus the way there and back
          let d = 0;
          let sq = 0;
          let live = 0;
          for (const q of m.services[e.callee].pods) {
            if (st.down[q]) continue;
            const l = Math.max(st.loss[s.pod], st.loss[q]);
            const j = q * O + c.calleeOp;
            d += st.dur[j] + 2 * HOP_MS + st.delay[q] + l * RTO_MS * (1 + 2 * l);
            sq += st.sigma[j];
            live++;
          }
          if (!live) continue;
          sum += (weight * d) / live;
          sig += (weight * sq) / live;
        } else {
          const j = s.pod * O + c.calleeOp;
          sum += weight * st.dur[j];
          sig += weight * st.sigma[j];
        }
        w += weight;
      }
      if (w <= 0) {
        this.columns[k][i] = NaN;
        return;
      }
      const [, z, spread] = PERCENTILES[s.pct];
      const sigma = sig / w;
      const x = (sum / w) * median * Math.exp(z * sigma);
      // a percentile of the step's calls through this pod's proxy: the fewer the calls, the
      // noisier (a quiet edge's minute holds a handful of calls)
      const pods = s.callerSide ? m.services[e.caller].pods.length : m.services[e.callee].pods.length;
      const calls = Math.max(1, (w * this.stepS) / pods);
      const noise = Math.max(MESH_NOISE, (spread * sigma) / Math.sqrt(calls));
      this.columns[k][i] = x * Math.exp(noise * r.normal());
    });
  }

  finish(): MetricSeries[] {
    return this.series.map((s, k) => ({ entity: this.model.pods[s.pod].id, name: s.name, unit: 'ms', times: this.times, values: this.columns[k] }));
  }
}
