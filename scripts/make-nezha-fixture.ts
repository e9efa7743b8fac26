/**
 * Writes a small Nezha-layout export of a second system (Online Boutique service names) with
 * the damage real exports have, for tests and for trying the CLI by hand:
 *
 *   node --import tsx scripts/make-nezha-fixture.ts OUTDIR [--seed N] [--faults N] [--clean]
 *
 * Layout: rca_data/<day>/{metric,trace,log,traceid}/, <day>-fault_list.json, and
 * construct_data/<day>/ with one fault-free minute. What it holds on purpose (unless --clean):
 * - minute files missing for some fault minutes (a trace file, a log file);
 * - one metric file whose every TimeStamp is 200,000,000 s ahead of its Time column;
 * - one truncated .csv.gz (a metric file cut in half);
 * - derived tables in metric/: a long source/destination latency table and a dependency table,
 *   both skipped by the reader (Online Boutique's real edge-latency tables are wide,
 *   `source_50.csv` / `destination_50.csv`, and are read: test/sources/nezha-edge-latency.test.ts);
 * - a second, differently cased front-end table (Frontend_service.csv next to front_service.csv).
 * Deterministic for a seed (SeededRng); about 0.3 MB. The formats (headers, time texts, rows, the
 * fault list, minute names) come from src/simulate/nezha-layout.ts, which `simulate --layout
 * nezha` writes a whole simulated run with; this script keeps its own synthetic values and damage.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeededRng } from '../src/telemetry/random.js';
// The layout's formats are defined once, in the simulator's Nezha writer (`simulate --layout nezha`).
import { LayoutFiles, NEZHA_FRONT_HEADER, NEZHA_LOG_HEADER, NEZHA_TRACE_HEADER, faultListJson, fixed as fix, goTime, logRow, minuteName, pad2 as pad, traceRow } from '../src/simulate/nezha-layout.js';

export interface NezhaFixtureOptions {
  /** default 7 */
  seed?: number;
  /** no damage: no shifted clock, no truncated file, no missing minutes (derived tables stay) */
  clean?: boolean;
  /**
   * Faults injected, default 4 (at most 40). Each adds three minutes of traces and logs; beyond
   * 4 the timeline grows by 10 minutes a fault, so per-fault measures (probe needs ≥ 10 faults)
   * get enough samples.
   */
  faults?: number;
}

export interface NezhaFixtureFault {
  pod: string;
  service: string;
  type: string;
  /** inject_time, ms since the epoch */
  start: number;
}

/** What was written, for tests to check a reader against. Paths are relative to `root`. */
export interface NezhaFixture {
  root: string;
  day: string;
  /** the services that emit telemetry, sorted (exactly what a reader should list) */
  services: string[];
  pods: string[];
  faults: NezhaFixtureFault[];
  /** [first metric row, last metric row + 1 min), ms */
  range: { start: number; end: number };
  /** metric rows per pod */
  metricRows: number;
  /** the metric file whose TimeStamp column is shifted (undefined when clean) */
  shiftedFile?: string;
  shiftSeconds: number;
  /** the truncated .csv.gz and how many data rows it had before cutting */
  damagedFile?: string;
  damagedRows: number;
  /** metric/ tables that are not per-pod telemetry */
  derivedFiles: string[];
  /** the two front-end tables (same data, differently cased names) */
  frontendFiles: string[];
  /** minute files that a complete export would have but this one lacks */
  missingFiles: string[];
  /** the trace and log minute files written (rca and construct) */
  traceFiles: string[];
  logFiles: string[];
  spans: number;
  logs: number;
}

const DAY = '2022-08-24';
const DAY_START = Date.UTC(2022, 7, 24);
const METRIC_START = DAY_START + 3 * 3_600_000; // 03:00
const MIN_METRIC_ROWS = 120; // one a minute, 03:00 to 05:00 at least
const SHIFT_S = 200_000_000;
const NODES = ['10.1.0.11', '10.1.0.12', '10.1.0.13'];

/** service → replicas (0 = StatefulSet with one pod `<name>-0`) */
const SYSTEM: [string, number][] = [
  ['frontend', 2],
  ['cartservice', 1],
  ['checkoutservice', 1],
  ['currencyservice', 1],
  ['paymentservice', 1],
  ['productcatalogservice', 1],
  ['redis-cart', 0],
];

const FIRST_FAULTS: { service: string; type: string; minute: number; second: number }[] = [
  { service: 'cartservice', type: 'cpu_contention', minute: 20, second: 7 },
  { service: 'paymentservice', type: 'network_delay', minute: 42, second: 31 },
  { service: 'frontend', type: 'exception', minute: 65, second: 12 },
  { service: 'currencyservice', type: 'return', minute: 88, second: 45 },
];
const TYPES = ['cpu_contention', 'network_delay', 'exception', 'return'];

/** The first four faults as above, then one every 10 minutes from 110 min, cycling services and types. */
function faultPlan(n: number): typeof FIRST_FAULTS {
  const out = FIRST_FAULTS.slice(0, n);
  const services = SYSTEM.map(([s]) => s);
  for (let k = FIRST_FAULTS.length; k < n; k++) {
    out.push({ service: services[k % services.length], type: TYPES[(k * 3) % TYPES.length], minute: 110 + (k - FIRST_FAULTS.length) * 10, second: (k * 17) % 60 });
  }
  return out;
}

/** A subset of the real columns (the simulator's writer has them all): what these tests need. */
const METRIC_HEADER =
  'Time,TimeStamp,PodName,CpuUsage(m),CpuUsageRate(%),MemoryUsage(Mi),MemoryUsageRate(%),NetworkReceiveBytes,NetworkTransmitBytes,PodClientLatencyP90(s),PodServerLatencyP90(s),PodWorkload(Ops),PodSuccessRate(%),NodeCpuUsageRate(%)';

function podName(rng: SeededRng, service: string, replicas: number, i: number, hash: string): string {
  if (replicas === 0) return `${service}-${i}`;
  return `${service}-${hash}-${rng.chars('bcdfghjklmnpqrstvwxz2456789', 5)}`;
}

export function makeNezhaFixture(dir: string, opts: NezhaFixtureOptions = {}): NezhaFixture {
  const seed = opts.seed ?? 7;
  const plan = faultPlan(Math.max(1, Math.min(40, Math.floor(opts.faults ?? 4))));
  const METRIC_ROWS = Math.max(MIN_METRIC_ROWS, plan[plan.length - 1].minute + 15);
  const damaged = !opts.clean;
  const root = resolve(dir);
  const rng = new SeededRng(seed, 'nezha-fixture');
  const names = rng.fork('names');
  const rca = join(root, 'rca_data', DAY);
  const cons = join(root, 'construct_data', DAY);
  const files = new LayoutFiles(root);
  const put = (rel: string, text: string, gz: boolean, cut = false): string => files.put(rel, text, gz, cut);
  const rcaRel = `rca_data/${DAY}`;
  const consRel = `construct_data/${DAY}`;

  // Pods: a replicaset hash per service, a random suffix per pod.
  const pods: { pod: string; service: string; node: string }[] = [];
  for (const [service, replicas] of SYSTEM) {
    const hash = names.chars('0123456789abcdef', names.intBetween(8, 10));
    for (let i = 0; i < Math.max(1, replicas); i++) pods.push({ pod: podName(names, service, replicas, i, hash), service, node: NODES[pods.length % NODES.length] });
  }
  const podOf = (service: string) => pods.find((p) => p.service === service)!.pod;
  const faults: NezhaFixtureFault[] = plan.map((f) => ({
    pod: podOf(f.service),
    service: f.service,
    type: f.type,
    start: METRIC_START + f.minute * 60_000 + f.second * 1000,
  }));
  /** The fault active on `service` at `t` (3 minutes from injection), if any. */
  const faultAt = (service: string, t: number) => faults.find((f) => f.service === service && t >= f.start && t < f.start + 180_000);

  // Fault list, grouped by hour as Nezha writes it; inject_timestamp is off by 8 h there too.
  mkdirSync(rca, { recursive: true });
  writeFileSync(join(rca, `${DAY}-fault_list.json`), faultListJson(faults));

  // Metrics: one row a minute per pod; the root cause's pod shows its fault.
  const mrng = rng.fork('metrics');
  const shiftedPod = podOf('currencyservice');
  const damagedPod = podOf('productcatalogservice');
  let shiftedFile: string | undefined;
  let damagedFile: string | undefined;
  for (const [k, p] of pods.entries()) {
    const rows = [METRIC_HEADER];
    const offset = 1000 + k * 37 + mrng.int(400); // each pod's scrape lands at its own second
    for (let i = 0; i < METRIC_ROWS; i++) {
      const t = METRIC_START + i * 60_000 + offset;
      const f = faultAt(p.service, t);
      const cpu = 40 + mrng.normal() * 4 + (f?.type === 'cpu_contention' ? 300 : 0) + (p.service === 'frontend' ? 30 : 0);
      const mem = 120 + mrng.normal() * 3 + i * 0.05;
      const lat = Math.max(0.001, 0.02 + mrng.normal() * 0.002 + (f?.type === 'network_delay' ? 0.4 : 0));
      const ok = f && (f.type === 'exception' || f.type === 'return') ? 60 + mrng.normal() * 5 : 100;
      const work = Math.max(0, 20 + mrng.normal() * 2);
      const stamp = Math.floor(t / 1000) + (damaged && p.pod === shiftedPod ? SHIFT_S : 0);
      const cells = [
        goTime(t, t - METRIC_START),
        String(stamp),
        p.pod,
        fix(cpu),
        fix(cpu / 10),
        fix(mem),
        fix(mem / 20),
        fix(8000 + mrng.normal() * 300, 1),
        fix(12000 + mrng.normal() * 400, 1),
        i === 5 ? 'NaN' : fix(lat * 1.2),
        fix(lat),
        fix(work, 2),
        fix(ok, 2),
        fix(30 + mrng.normal() * 2),
      ];
      rows.push(cells.join(','));
    }
    const rel = `${rcaRel}/metric/${p.pod}_metric.csv`;
    const cut = damaged && p.pod === damagedPod;
    const name = put(rel, rows.join('\n') + '\n', k % 3 !== 2 || cut, cut);
    if (damaged && p.pod === shiftedPod) shiftedFile = name;
    if (cut) damagedFile = name;
  }

  // Service-level front-end tables: the usual one, and a second, differently cased copy.
  const frng = rng.fork('front');
  const front = [NEZHA_FRONT_HEADER];
  const frontCopy = [front[0]];
  for (let i = 0; i < METRIC_ROWS; i++) {
    const t = METRIC_START + i * 60_000 + 19_573;
    const anyFault = faults.some((f) => t >= f.start && t < f.start + 180_000);
    const p50 = 0.15 + frng.float() * 0.05 + (anyFault ? 0.5 : 0);
    const tail = [fix(anyFault ? 92 : 100, 2), fix(p50), fix(p50 * 3), fix(p50 * 4), fix(p50 * 6)].join(',');
    front.push(`${goTime(t, t - METRIC_START)},${Math.floor(t / 1000)},Frontend,${tail}`);
    frontCopy.push(`${goTime(t, t - METRIC_START)},${Math.floor(t / 1000)},frontend,${tail}`);
  }
  const frontendFiles = [put(`${rcaRel}/metric/front_service.csv`, front.join('\n') + '\n', false), put(`${rcaRel}/metric/Frontend_service.csv`, frontCopy.join('\n') + '\n', true)];

  // Derived tables: latency between services (source/destination) and the call dependencies.
  const calls: [string, string][] = [
    ['frontend', 'cartservice'],
    ['frontend', 'checkoutservice'],
    ['frontend', 'currencyservice'],
    ['frontend', 'productcatalogservice'],
    ['cartservice', 'redis-cart'],
    ['checkoutservice', 'paymentservice'],
    ['checkoutservice', 'currencyservice'],
    ['checkoutservice', 'productcatalogservice'],
    ['checkoutservice', 'cartservice'],
  ];
  const lrng = rng.fork('latency');
  const latency = ['Time,TimeStamp,source,destination,LatencyP50(s),LatencyP90(s),LatencyP99(s)'];
  for (let i = 0; i < METRIC_ROWS; i += 5) {
    const t = METRIC_START + i * 60_000 + 21_000;
    for (const [a, b] of calls) {
      const v = 0.01 + lrng.float() * 0.01;
      latency.push(`${goTime(t, t - METRIC_START)},${Math.floor(t / 1000)},${a},${b},${fix(v)},${fix(v * 2)},${fix(v * 4)}`);
    }
  }
  const dependency = ['Source,Target,Weight', ...calls.map(([a, b]) => `${a},${b},1`), ...pods.map((p) => `${p.service},${p.node},1`)];
  const derivedFiles = [put(`${rcaRel}/metric/latency_service.csv`, latency.join('\n') + '\n', true), put(`${rcaRel}/metric/dependency.csv`, dependency.join('\n') + '\n', false)];

  // Traces and logs: the three minutes from each injection, as Nezha records them.
  const trng = rng.fork('traces');
  const missing = new Set(damaged && faults.length >= 3 ? [`${rcaRel}/trace/${minuteName(faults[1].start + 60_000)}_trace.csv`, `${rcaRel}/log/${minuteName(faults[2].start + 120_000)}_log.csv`] : []);
  const missingFiles: string[] = [];
  const traceFiles: string[] = [];
  const logFiles: string[] = [];
  let spanCount = 0;
  let logCount = 0;
  const minutes: { base: string; start: number }[] = [];
  for (const f of faults) for (let m = 0; m < 3; m++) minutes.push({ base: rcaRel, start: Math.floor(f.start / 60_000) * 60_000 + m * 60_000 });
  minutes.push({ base: consRel, start: METRIC_START + (METRIC_ROWS - 8) * 60_000 }); // fault-free reference minute
  for (const { base, start } of minutes) {
    const spanRows = [NEZHA_TRACE_HEADER];
    const logRows = [NEZHA_LOG_HEADER];
    const ids: string[] = [];
    const traces = 12 + trng.int(6);
    for (let k = 0; k < traces; k++) {
      // Nezha's minute file HH_MM holds about [HH:MM − 51 s, HH:MM + 9 s).
      const t0 = start - 50_000 + trng.float() * 58_000;
      const traceId = trng.hex(16);
      ids.push(traceId);
      const checkout = trng.chance(0.4);
      const chain = checkout ? ['frontend', 'checkoutservice', 'paymentservice', 'currencyservice'] : ['frontend', 'cartservice', 'redis-cart'];
      let parent = 'root';
      let t = t0;
      for (const service of chain) {
        const pod = service === 'frontend' ? pods[k % 2].pod : podOf(service);
        const node = pods.find((p) => p.pod === pod)!.node;
        const f = faultAt(service, t);
        const durUs = Math.round(2000 + trng.float() * 3000 + (f?.type === 'network_delay' ? 400_000 : 0));
        const spanId = trng.hex(8);
        const op = service === 'frontend' ? (checkout ? 'POST /cart/checkout' : 'GET /cart') : `hipstershop.${service}/Call`;
        spanRows.push(traceRow(traceId, spanId, parent === 'root' ? undefined : parent, pod, op, t, durUs));
        spanCount++;
        const failed = f && (f.type === 'exception' || f.type === 'return');
        const text = `${new Date(t).toISOString().slice(11, 23)} ${failed ? 'ERROR' : 'INFO'} ${service} ${failed ? 'request failed: injected ' + f.type : 'handled ' + op}`;
        logRows.push(logRow(t + 0.25, node, pod, 'server', traceId, spanId, text, t));
        logCount++;
        parent = spanId;
        t += 0.3 + trng.float();
      }
    }
    const mm = minuteName(start);
    const gz = trng.chance(0.7);
    for (const [sub, rows, into] of [
      ['trace', spanRows, traceFiles],
      ['log', logRows, logFiles],
    ] as const) {
      const rel = `${base}/${sub}/${mm}_${sub}.csv`;
      if (missing.has(rel)) {
        missingFiles.push(rel);
        if (sub === 'trace') spanCount -= rows.length - 1;
        else logCount -= rows.length - 1;
        continue;
      }
      into.push(put(rel, rows.join('\n') + '\n', gz));
    }
    put(`${base}/traceid/${mm}_traceid.csv`, ids.join('\n') + '\n', gz);
  }
  // construct_data's metric folder repeats rca_data's in real exports; one file is enough here.
  put(`${consRel}/metric/front_service.csv`, front.join('\n') + '\n', false);

  const services = [...new Set(pods.map((p) => p.service))].sort();
  return {
    root,
    day: DAY,
    services,
    pods: pods.map((p) => p.pod).sort(),
    faults,
    range: { start: METRIC_START + 1000, end: METRIC_START + METRIC_ROWS * 60_000 },
    metricRows: METRIC_ROWS,
    shiftedFile,
    shiftSeconds: SHIFT_S,
    damagedFile,
    damagedRows: METRIC_ROWS,
    derivedFiles,
    frontendFiles,
    missingFiles,
    traceFiles,
    logFiles,
    spans: spanCount,
    logs: logCount,
  };
}


if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const valueOf = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const out = args.find((a, i) => !a.startsWith('--') && !['--seed', '--faults'].includes(args[i - 1]));
  if (!out) {
    process.stderr.write('usage: node --import tsx scripts/make-nezha-fixture.ts OUTDIR [--seed N] [--faults N] [--clean]\n');
    process.exit(2);
  }
  const fx = makeNezhaFixture(out, { seed: valueOf('--seed'), faults: valueOf('--faults'), clean: args.includes('--clean') });
  process.stdout.write(
    `Nezha-layout fixture at ${fx.root}: ${fx.services.length} services, ${fx.pods.length} pods, ${fx.faults.length} faults, ${fx.spans} spans, ${fx.logs} logs` +
      (fx.shiftedFile ? `; shifted clock in ${fx.shiftedFile}; truncated ${fx.damagedFile}; missing ${fx.missingFiles.join(', ')}` : '') +
      '\n',
  );
}
