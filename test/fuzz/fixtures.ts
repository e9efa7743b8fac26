import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { simulate } from '../../src/simulate/index.js';

/*
 * Small clean inputs, one per reader, that the fuzz suite damages one file at a time. Each has
 * several files of its kind so that "the readable rest" is something to check, and at least
 * one gzipped file so the gzip damage cases have a target.
 */

/** OTLP JSON from the simulator: 6 minutes of metrics, traces and logs (gzipped), faults.json. */
export async function makeOtlpFixture(dir: string): Promise<void> {
  await simulate({ outDir: dir, hours: 0.1, seed: 7, faults: 1, traceScale: 0.3 });
  // a gzipped collector file too: the reader takes .jsonl.gz as it comes from the file exporter
  writeFileSync(join(dir, 'logs.jsonl.gz'), gzipSync(readFileSync(join(dir, 'logs.jsonl'))));
  rmSync(join(dir, 'logs.jsonl'));
  rmSync(join(dir, 'regimes.json'));
}

export const NEZHA_DAY = '2024-03-05';
const T0 = Date.UTC(2024, 2, 5, 10, 0, 0);
export const NEZHA_PODS = ['cart-api-7d9f8c6b5d-x2k4p', 'pay-svc-5c4b3a2d1e-q9w8e', 'stock-db-6b7c8d9e0f-a1b2c'];
const ns = (ms: number) => `${BigInt(Math.round(ms * 1000)) * 1000n}`;
const two = (n: number) => String(n).padStart(2, '0');

function put(path: string, text: string, gz = false): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, gz ? gzipSync(text) : text);
}

/**
 * A Nezha layout of one day: three pod metric files of an hour (one gzipped) and a service front file,
 * trace and log minute files 10:01..10:04 (10:02 gzipped), a fault list.
 */
export function makeNezhaFixture(root: string): void {
  const day = join(root, 'rca_data', NEZHA_DAY);
  put(
    join(day, `${NEZHA_DAY}-fault_list.json`),
    JSON.stringify({ '10': [{ inject_time: `${NEZHA_DAY} 10:02:00`, inject_timestamp: String(T0 / 1000 + 120), inject_pod: NEZHA_PODS[1], inject_type: 'cpu_contention' }] }),
  );
  NEZHA_PODS.forEach((pod, p) => {
    const rows = ['Time,TimeStamp,PodName,CpuUsage(m),MemoryUsage(Mi),PodLatencyP90(s)'];
    for (let i = 0; i < 60; i++) {
      const t = T0 / 1000 - 3300 + i * 60; // 09:05 .. 10:04, one row a minute
      const d = new Date(t * 1000);
      rows.push(`${NEZHA_DAY} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:00.5 +0000 UTC m=+${i}.0,${t},${pod},${10 + (i % 7) + p},${200 + i},${0.01 * ((i % 5) + 1)}`);
    }
    put(join(day, 'metric', `${pod}_metric.csv${p === 0 ? '.gz' : ''}`), rows.join('\n') + '\n', p === 0);
  });
  put(
    join(day, 'metric', 'front_service.csv'),
    'Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s)\n' + Array.from({ length: 60 }, (_, i) => `x,${T0 / 1000 - 3300 + i * 60 + 5},Front,99,${0.1 + (i % 9) / 100}`).join('\n') + '\n',
  );
  for (let m = 1; m <= 4; m++) {
    const gz = m === 2;
    const base = T0 + (m - 1) * 60_000;
    const spans = ['TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration'];
    const logs = ['Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log'];
    for (let k = 0; k < 6; k++) {
      const start = base + k * 7_000;
      const dur = 1000 + 37 * k; // µs
      const tid = `t${m}${k}`;
      spans.push(`${tid},${tid}a,root,${NEZHA_PODS[0]},POST /cart,${ns(start)},${ns(start + dur / 1000)},${dur}`);
      spans.push(`${tid},${tid}b,${tid}a,${NEZHA_PODS[1]},charge,${ns(start + 0.2)},${ns(start + 0.2 + dur / 2000)},${dur / 2}`);
      const text = JSON.stringify({ log: `${new Date(start).toISOString().slice(11, 23)} INFO charged ${k}\n`, stream: 'stdout' }).replaceAll('"', '""');
      logs.push(`${new Date(start + 1).toISOString()},${ns(start + 1)},10.0.0.${k % 2},${NEZHA_PODS[k % 3]},app,${tid},${tid}a,"${text}"`);
    }
    put(join(day, 'trace', `10_${two(m)}_trace.csv${gz ? '.gz' : ''}`), spans.join('\n') + '\n', gz);
    put(join(day, 'log', `10_${two(m)}_log.csv${gz ? '.gz' : ''}`), logs.join('\n') + '\n', gz);
  }
}

const A_T1 = 1_647_738_546; // epoch s of a failure injection

/** An AIOps 2022 events folder (TVDiag layout): case CSV, raw labels, node list, metric/log/trace events. */
export function makeAiops22Fixture(dir: string): void {
  mkdirSync(dir, { recursive: true });
  const ms = (s: number) => s * 1000;
  writeFileSync(
    join(dir, 'cases.csv'),
    ['index,level,instance,anomaly_type,data_type,service', '1_0_1,pod,cartservice2-0,k8s容器cpu负载,train,cartservice', '1_0_2,pod,cartservice2-0,k8s容器cpu负载,test,cartservice', ''].join('\n'),
  );
  writeFileSync(join(dir, 'raw_label.csv'), ['timestamp,level,cmdb_id,failure_type,index', `${A_T1},pod,cartservice2-0,k8s容器cpu负载,1_0`, ''].join('\n'));
  writeFileSync(join(dir, 'nodes.json'), JSON.stringify(['frontend-0', 'cartservice-0', 'cartservice2-0']));
  writeFileSync(join(dir, 'edges.json'), JSON.stringify({ src: [0, 0], dst: [1, 2] }));
  const w = (k: number) => ms(A_T1) + k * 60_000; // case 1_0_k covers [w(k−1), w(k))
  const metric: Record<string, unknown[]> = {};
  const logs: Record<string, unknown[]> = {};
  const trace: Record<string, unknown[]> = {};
  for (const k of [1, 2]) {
    metric[`1_0_${k}`] = Array.from({ length: 6 }, (_, i) => [w(k - 1) + 5_000 + i * 9_000, `node-6.${['frontend-0', 'cartservice-0', 'cartservice2-0'][i % 3]}`, 'kpi_container_cpu_usage_seconds', 4 + i / 10]);
    logs[`1_0_${k}`] = Array.from({ length: 5 }, (_, i) => [w(k - 1) + 3_000 + i * 11_000, ['frontend-0', 'cartservice2-0'][i % 2], `tmpl${i % 3}`]);
    trace[`1_0_${k}`] = Array.from({ length: 5 }, (_, i) => [w(k - 1) + 2_000 + i * 10_000, 'frontend-0', ['cartservice-0', 'cartservice2-0'][i % 2], 1.5 + i]);
  }
  writeFileSync(join(dir, 'metric.json'), JSON.stringify(metric));
  writeFileSync(join(dir, 'log.json.gz'), gzipSync(JSON.stringify(logs)));
  writeFileSync(join(dir, 'trace.json'), JSON.stringify(trace));
}
