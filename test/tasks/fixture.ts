/**
 * A small generated system for the localizer tests: gateway → a → {b, c}, one pod each, a
 * request every few seconds, client spans with a 2–4 ms network gap, per-span logs at b, and
 * a CPU metric per pod every 15 s; d is an idle pod (metrics only, ≈ 0.02 m of CPU). Faults are
 * applied by time range.
 */
import type { Entity, FaultLabel, LogRecord, MetricSeries, Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';

export const T0 = Date.UTC(2024, 0, 1, 10, 0, 0);
export const MIN = 60_000;

export interface FixtureFaults {
  /** extra ms on every call into c */
  delayIntoC?: TimeRange;
  /** how many ms `delayIntoC` adds (default 1000) */
  delayIntoCMs?: number;
  /** b's spans stop logging "step two" */
  silenceB?: TimeRange;
  /** b's pod CPU ×6 */
  cpuB?: TimeRange;
  /** the idle pod d's CPU jumps from ≈ 0.02 m to 0.3 m (15×, but a third of a millicore) */
  bumpD?: TimeRange;
  /** a is starved: its pod's CPU ×6 and its outgoing calls 300 ms slower */
  starveA?: TimeRange;
  /** the collector writes every log record twice */
  duplicateLogs?: TimeRange;
  /**
   * a logs per span (an INFO line always; in this range also a WARN "slow call to c" line): a
   * caller that inherits its callee's fault in its logs
   */
  logsAtA?: { slowC: TimeRange };
  /** the gateway logs per span too (INFO always; WARN "slow call to a" in this range): two hops above c */
  logsAtGateway?: { slowA: TimeRange };
  /** anything goes: scramble every record in these ranges (for the reference test) */
  scramble?: TimeRange[];
  /**
   * c's code throws here: its spans (and a's client spans into it) end in error at their usual
   * latency, and a spends `ms` more of its own time on each request (handling the exception):
   * a caller's self time that inherits a callee's fault
   */
  exceptionAtC?: { range: TimeRange; ms: number };
  /** only about one request in five is kept here (the traces thin out: few spans per slice) */
  thin?: TimeRange;
}

const rng = seededRandom;

const within = (t: number, r?: TimeRange) => !!r && t >= r.start && t < r.end;

export const PODS: Record<string, string> = { gateway: 'gateway-1', a: 'a-1', b: 'b-1', c: 'c-1', d: 'd-1' };

export function fixture(minutes: number, faults: FixtureFaults = {}, labels: FaultLabel[] = [], seed = 7) {
  const r = rng(seed);
  // scrambling draws from its own generator, so the data outside the scrambled ranges is the
  // same with and without it
  const wild = rng(seed + 1);
  // thinning too: the kept requests are the same with and without it
  const thinning = rng(seed + 2);
  const dropped = new Set<string>();
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  const scrambled = (t: number) => faults.scramble?.some((x) => within(t, x)) ?? false;
  let n = 0;
  const span = (trace: string, parent: string | undefined, svc: string, op: string, start: number, duration: number): Span => {
    const s: Span = { traceId: trace, spanId: `s${n++}`, parentId: parent, entity: PODS[svc], service: svc, operation: op, start, duration, status: 'unset' };
    spans.push(s);
    return s;
  };
  for (let t = T0; t < T0 + minutes * MIN; t += 2000 + r() * 2000) {
    const trace = `t${n}`;
    if (within(t, faults.thin) && thinning() < 0.8) dropped.add(trace);
    // a trace is scrambled when all of it lies inside a scrambled range (records carry their own times)
    const sc = scrambled(t) && scrambled(t + 10_000);
    const gap = () => {
      const g = 2 + r() * 2;
      return sc ? 500 + wild() * 3000 : g;
    };
    const delayC = within(t, faults.delayIntoC) ? (faults.delayIntoCMs ?? 1000) : 0;
    const starved = within(t, faults.starveA) ? 300 : 0;
    const bDur = (sc ? 40 : 5) + r() * 3;
    const cDur = 4 + r() * 3;
    const gB = gap() + starved;
    const gC = gap() + delayC + starved;
    const thrown = within(t, faults.exceptionAtC?.range);
    const aSelf = 3 + r() * 2 + (thrown ? faults.exceptionAtC!.ms : 0);
    const aDur = aSelf + bDur + gB + cDur + gC;
    const gA = gap();
    const gw = span(trace, undefined, 'gateway', '/api', t, aDur + gA + 1);
    const gwClient = span(trace, gw.spanId, 'gateway', 'HTTP GET', t + 0.5, aDur + gA);
    const a = span(trace, gwClient.spanId, 'a', '/a/run', t + 0.5 + gA / 2, aDur);
    const aToB = span(trace, a.spanId, 'a', 'HTTP POST', a.start + aSelf / 2, bDur + gB);
    const b = span(trace, aToB.spanId, 'b', '/b/work', aToB.start + gB / 2, bDur);
    const aToC = span(trace, a.spanId, 'a', 'HTTP GET', aToB.start + aToB.duration, cDur + gC);
    const c = span(trace, aToC.spanId, 'c', '/c/get', aToC.start + gC / 2, cDur);
    if (thrown) aToC.status = c.status = 'error';
    const log = (body: string, at: number) => {
      const rec: LogRecord = { time: at, entity: PODS.b, service: 'b', severity: 'info', body, traceId: trace, spanId: b.spanId };
      logs.push(rec);
      if (within(t, faults.duplicateLogs)) logs.push({ ...rec });
    };
    if (faults.logsAtA) {
      // no draws from r(): the rest of the data stays as it is without this option
      logs.push({ time: a.start + 1, entity: PODS.a, service: 'a', severity: 'info', body: `INFO a.Handler#7 run started for ${trace}`, traceId: trace, spanId: a.spanId });
      if (within(t, faults.logsAtA.slowC)) logs.push({ time: a.start + a.duration - 1, entity: PODS.a, service: 'a', severity: 'warn', body: `WARN a.Client#31 slow call to c took ${Math.round(aToC.duration)} ms`, traceId: trace, spanId: a.spanId });
    }
    if (faults.logsAtGateway) {
      logs.push({ time: gw.start + 0.2, entity: PODS.gateway, service: 'gateway', severity: 'info', body: `INFO gw.Router#3 routing ${trace}`, traceId: trace, spanId: gw.spanId });
      if (within(t, faults.logsAtGateway.slowA)) logs.push({ time: gw.start + gw.duration - 0.2, entity: PODS.gateway, service: 'gateway', severity: 'warn', body: `WARN gw.Router#9 slow upstream a took ${Math.round(gwClient.duration)} ms`, traceId: trace, spanId: gw.spanId });
    }
    log(`INFO b.Worker#12 step one done for order ${Math.floor(r() * 1e6)}`, b.start + 1);
    const took = Math.floor(r() * 90);
    if (!within(t, faults.silenceB) && !sc) log(`INFO b.Worker#40 step two finished in ${took} ms`, b.start + 3);
    if (sc) log(`ERROR b.Worker#99 scrambled ${Math.floor(wild() * 1e6)}`, b.start + 2);
  }
  const metrics: MetricSeries[] = [];
  for (const [svc, pod] of Object.entries(PODS)) {
    const times: number[] = [];
    const values: number[] = [];
    for (let t = T0; t < T0 + minutes * MIN; t += 15_000) {
      times.push(t);
      let v = svc === 'd' ? 0.02 + r() * 0.01 : 20 + r() * 4;
      if (svc === 'b' && within(t, faults.cpuB)) v *= 6;
      if (svc === 'a' && within(t, faults.starveA)) v *= 6;
      if (svc === 'd' && within(t, faults.bumpD)) v = 0.3;
      if (scrambled(t)) v = 500 * wild();
      values.push(v);
    }
    metrics.push({ entity: pod, name: 'CpuUsage(m)', unit: 'm', times: Float64Array.from(times), values: Float64Array.from(values) });
  }
  const entities: Entity[] = [
    ...Object.keys(PODS).map((s) => ({ id: s, kind: 'service' as const, service: s })),
    ...Object.entries(PODS).map(([s, p]) => ({ id: p, kind: 'pod' as const, service: s })),
  ];
  const kept = <T extends { traceId?: string }>(x: T) => !x.traceId || !dropped.has(x.traceId);
  return { entities, spans: spans.filter(kept), logs: logs.filter(kept), metrics, labels };
}
