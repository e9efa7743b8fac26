// A small three-service system (front → cart → db) for the views and pipeline tests: three
// hours of metrics, traces and logs at a steady load, and one fault on `cart` near the end.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
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

/**
 * The same kind of system written as a Nezha export (rca_data/<day>/ with metric, trace and log
 * CSVs, some gzipped, and a fault list), for paths that only Nezha sources take (the log
 * thread). One hour of metrics; traces and logs for the 20 minutes around the fault, with a
 * malformed log line and spans whose parent lies outside the files.
 */
export function writeNezhaFixture(root: string): { start: number; trainEnd: number } {
  const day = '2024-03-05';
  const start = Date.UTC(2024, 2, 5, 10, 0, 0);
  const fault = start + 40 * MIN;
  const rca = join(root, 'rca_data', day);
  const pods = { front: 'front-7c9d8f6b5-x2k4q', cart: 'cart-5f6d7c8b9-p9z8w', db: 'db-6d5c4b3a2-h7j6k' };
  const rng = new SeededRandom(21);
  const noise = (s: number) => (rng.next() - 0.5) * 2 * s;
  const put = (path: string, text: string, gz: boolean) => {
    mkdirSync(join(path, '..'), { recursive: true });
    writeFileSync(gz ? path + '.gz' : path, gz ? gzipSync(text) : text);
  };
  writeFileSync(join(mkdirp(rca), `${day}-fault_list.json`), JSON.stringify({ '10': [{ inject_time: '2024-03-05 10:40:00', inject_timestamp: '0', inject_pod: pods.cart, inject_type: 'exception' }] }));
  for (const [svc, pod] of Object.entries(pods)) {
    const rows = ['Time,TimeStamp,PodName,CpuUsageRate(%),MemoryUsage(Mi),PodClientLatencyP90(s)'];
    for (let i = 0; i < 60; i++) {
      const t = start + i * MIN;
      const hot = svc === 'cart' && t >= fault && t < fault + 3 * MIN;
      rows.push(`x,${t / 1000},${pod},${i % 13 === 5 ? 'NaN' : (20 + noise(2) + (hot ? 50 : 0)).toFixed(3)},${(300 + noise(5)).toFixed(1)},${hot ? 16 : 0.005}`);
    }
    put(join(rca, 'metric', `${pod}_metric.csv`), rows.join('\n') + '\n', svc !== 'db');
  }
  const ns = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
  for (let m = 30; m < 50; m++) {
    const minute = start + m * MIN;
    const spans = ['TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration'];
    const logs = ['Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log'];
    const log = (ms: number, pod: string, trace: string, text: string) =>
      `${new Date(ms).toISOString()},${ns(ms)},10.0.0.1,${pod},app,${trace},,"${JSON.stringify({ log: text + '\n', stream: 'stdout' }).replaceAll('"', '""')}"`;
    for (let k = 0; k < 12; k++) {
      const t = minute - 50_000 + k * 4_000 + Math.floor(rng.next() * 1000);
      const hot = t >= fault && t < fault + 3 * MIN;
      const tid = `${m.toString(16)}${k.toString(16)}${'ab'.repeat(15)}`;
      const dur = (x: number) => Math.round(x * 1000);
      spans.push(`${tid},s1,root,${pods.front},GET /cart,${ns(t)},${ns(t + 50)},${dur(50 + noise(5))}`);
      spans.push(`${tid},s2,s1,${pods.cart},getCart,${ns(t + 2)},${ns(t + 32)},${dur((30 + noise(3)) * (hot ? 10 : 1))}`);
      spans.push(`${tid},s3,${k % 5 === 0 ? 'gone' : 's2'},${pods.db},SELECT,${ns(t + 4)},${ns(t + 9)},${dur(5 + noise(1))}`);
      const user = Math.floor(rng.next() * 1000);
      logs.push(log(t, pods.front, tid, `10:${m}:00.000 INFO  GET /api/cart user=${user} status 200 in ${Math.round(45 + noise(5))} ms`));
      logs.push(log(t + 1, pods.cart, tid, `10:${m}:00.001 INFO  cart loaded for user ${user} with ${1 + (user % 5)} items`));
      if (k % 3 === 0) logs.push(log(t + 2, pods.db, tid, `10:${m}:00.002 INFO  query executed in ${Math.round(3 + noise(1))} ms rows ${user % 7}`));
      if (hot) logs.push(log(t + 3, pods.cart, tid, `10:${m}:00.003 ERROR connection refused to db at 10.0.0.${user % 9}:5432 after ${user % 3} retries`));
      if (m === 44 && k === 3) logs.push(`${new Date(t).toISOString()},${ns(t)},10.0.0.1,${pods.cart},app,${tid},,"{""log"":""x""}"tail, with, commas"`);
    }
    const name = `10_${String(m).padStart(2, '0')}`;
    put(join(rca, 'trace', `${name}_trace.csv`), spans.join('\n') + '\n', m % 2 === 0);
    put(join(rca, 'log', `${name}_log.csv`), logs.join('\n') + '\n', m % 2 === 1);
  }
  return { start, trainEnd: start + 38 * MIN };
}

function mkdirp(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
