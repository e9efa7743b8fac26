// A small three-service system (front → cart → db) for the views and pipeline tests: three
// hours of metrics, traces and logs at a steady load, and one fault on `cart` near the end.
import { memoryDataset } from '../../src/sources/index.js';
import { SeededRandom } from '../../src/encode/views/index.js';
import type { Dataset, Entity, FaultLabel, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';

export const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
export const MIN = 60_000;
/** the first two hours are training */
export const TRAIN_END = T0 + 120 * MIN;
export const FAULT_START = T0 + 150 * MIN;
export const FAULT_END = T0 + 155 * MIN;

export const PODS: Record<string, string> = { front: 'front-7c9d8f6b5-x2k4q', cart: 'cart-5f6d7c8b9-p9z8w', db: 'db-0' };

export interface FixtureOptions {
  minutes?: number;
  /** the faulty service (default cart); '' for none */
  faulty?: string;
  /** change anything after TRAIN_END (to check that fit ignores it) */
  testTwist?: number;
  seed?: number;
  modalities?: { metrics?: boolean; traces?: boolean; logs?: boolean };
}

export function fixture(opts: FixtureOptions = {}): Dataset {
  const minutes = opts.minutes ?? 180;
  const faulty = opts.faulty ?? 'cart';
  const twist = opts.testTwist ?? 0;
  const rng = new SeededRandom(opts.seed ?? 7);
  const noise = (s: number) => (rng.next() - 0.5) * 2 * s;
  const inFault = (t: number, svc: string) => svc === faulty && t >= FAULT_START && t < FAULT_END;
  const afterTrain = (t: number) => t >= TRAIN_END;
  const entities: Entity[] = Object.entries(PODS).map(([service, id]) => ({ id, kind: 'pod', service }));
  const metrics: MetricSeries[] = [];
  const mod = { metrics: true, traces: true, logs: true, ...opts.modalities };
  if (mod.metrics) {
    for (const [svc, pod] of Object.entries(PODS)) {
      const times = Float64Array.from({ length: minutes }, (_, i) => T0 + i * MIN);
      const cpu = new Float64Array(minutes);
      const lat = new Float64Array(minutes);
      const mem = new Float64Array(minutes);
      const net = new Float64Array(minutes);
      for (let i = 0; i < minutes; i++) {
        const t = times[i];
        cpu[i] = 30 + noise(3) + (inFault(t, svc) ? 60 : 0) + (afterTrain(t) ? twist * 7 : 0);
        // quantised and constant in training: MAD 0
        lat[i] = inFault(t, svc) ? 16 : 0.005;
        mem[i] = 500 + noise(5);
        net[i] = i % 17 === 3 ? NaN : 1e6 + noise(5e4);
      }
      metrics.push({ entity: pod, name: 'CpuUsageRate(%)', times, values: cpu });
      metrics.push({ entity: pod, name: 'PodLatencyP99(s)', times, values: lat });
      metrics.push({ entity: pod, name: 'MemoryUsage(Mi)', times, values: mem });
      metrics.push({ entity: pod, name: 'NetworkReceiveBytes', times, values: net });
    }
  }
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  let traceNo = 0;
  for (let t = T0; t < T0 + minutes * MIN; t += 15_000) {
    const tid = `t${traceNo++}`;
    const slow = inFault(t, 'cart') ? 10 : 1;
    const twisted = afterTrain(t) ? 1 + twist : 1;
    if (mod.traces) {
      spans.push({ traceId: tid, spanId: 's1', entity: PODS.front, service: 'front', operation: 'GET /cart', start: t, duration: (50 + noise(5)) * twisted, status: 'ok' });
      spans.push({ traceId: tid, spanId: 's2', parentId: 's1', entity: PODS.cart, service: 'cart', operation: 'getCart', start: t + 2, duration: (30 + noise(3)) * slow * twisted, status: inFault(t, 'cart') ? 'error' : 'ok' });
      spans.push({ traceId: tid, spanId: 's3', parentId: 's2', entity: PODS.db, service: 'db', operation: 'SELECT', start: t + 4, duration: 5 + noise(1), status: 'ok' });
    }
    if (mod.logs) {
      const user = Math.floor(rng.next() * 1000);
      logs.push({ time: t, entity: PODS.front, service: 'front', severity: 'info', body: `GET /api/cart user=${user} status 200 in ${Math.round(45 + noise(5))} ms` });
      logs.push({ time: t + 1, entity: PODS.cart, service: 'cart', severity: 'info', body: `cart loaded for user ${user} with ${1 + (user % 5)} items` });
      logs.push({ time: t + 2, entity: PODS.db, service: 'db', severity: 'info', body: `query executed in ${Math.round(3 + noise(1))} ms rows ${user % 7}` });
      if (inFault(t, 'cart')) logs.push({ time: t + 3, entity: PODS.cart, service: 'cart', severity: 'error', body: `ERROR connection refused to db at 10.0.0.${user % 9}:5432 after ${user % 3} retries` });
      if (afterTrain(t) && twist) logs.push({ time: t + 3, entity: PODS.front, service: 'front', severity: 'warn', body: `twist ${twist} happened ${user}` });
    }
  }
  const labels: FaultLabel[] = faulty ? [{ id: 'f1', start: FAULT_START, end: FAULT_END, rootCause: PODS[faulty], rootCauseService: faulty, type: 'cpu_contention' }] : [];
  return memoryDataset({ entities, metrics, spans, logs, labels, batchSize: 97 });
}

export const SPEC = { lengthMs: 5 * MIN, strideMs: MIN };
export const isTrain = (w: { end: number }) => w.end <= TRAIN_END;
