/**
 * The Nezha export layout (IntelligentDDS/Nezha, FSE 2023; datasets/README.md), written from a
 * simulation: what a Nezha export of another system looks like, gaps included, so the whole
 * pipeline can be run on that layout with known ground truth.
 *
 *   rca_data/<day>/<day>-fault_list.json        { "<HH>": [{ inject_time, inject_timestamp, inject_pod, inject_type }] }
 *   rca_data/<day>/metric/<pod>_metric.csv      one row a minute per pod, whole run, the real columns
 *   rca_data/<day>/metric/front_service.csv     the entry service's success rate and latency
 *   rca_data/<day>/{trace,log,traceid}/HH_MM_*  only the 3 minute files from each injection
 *   construct_data/<day>/...                    the same metric files, and a few fault-free minute files
 *
 * The helpers below (headers, time texts, row formats, the fault list, minute names) are the
 * one definition of the layout: scripts/make-nezha-fixture.ts uses them for its synthetic
 * values. What the layout cannot carry, by design of the real exports: a fault's duration (the
 * reader takes a fixed active period), span status and kind, the load driver's own view, and
 * traces and logs outside the minutes around injections.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseMeshSeries, type LogRecord, type MetricSeries, type Span } from '../telemetry/index.js';
import type { Model } from './model.js';
import { jsonLogLines, type LogStyle } from './log-style.js';
import type { FaultType } from './faults.js';

// ---- the layout's formats --------------------------------------------------------------------

/** The per-pod metric columns of the real export, in its order. */
export const NEZHA_METRIC_COLUMNS = [
  'Time', 'TimeStamp', 'PodName', 'CpuUsage(m)', 'CpuUsageRate(%)', 'MemoryUsage(Mi)', 'MemoryUsageRate(%)', 'SyscallRead', 'SyscallWrite',
  'NetworkReceiveBytes', 'NetworkTransmitBytes', 'PodClientLatencyP90(s)', 'PodServerLatencyP90(s)', 'PodClientLatencyP95(s)', 'PodServerLatencyP95(s)',
  'PodClientLatencyP99(s)', 'PodServerLatencyP99(s)', 'PodWorkload(Ops)', 'PodSuccessRate(%)', 'NodeCpuUsageRate(%)', 'NodeMemoryUsageRate(%)', 'NodeNetworkReceiveBytes',
] as const;
export const NEZHA_FRONT_HEADER = 'Time,TimeStamp,ServiceName,SuccessRate(%),LatencyP50(s),LatencyP90(s),LatencyP95(s),LatencyP99(s)';
export const NEZHA_TRACE_HEADER = 'TraceID,SpanID,ParentID,PodName,OperationName,StartTimeUnixNano,EndTimeUnixNano,Duration';
export const NEZHA_LOG_HEADER = 'Timestamp,TimeUnixNano,Node,PodName,Container,TraceID,SpanID,Log';
/** Minute file HH_MM holds records in [HH:MM − 51 s, HH:MM + 9 s) (measured on the real export). */
export const MINUTE_FILE_BEFORE_MS = 51_000;
export const MINUTE_FILE_AFTER_MS = 9_000;
/** The real exports hold traces and logs for the three minute files from each injection. */
export const NEZHA_FAULT_MINUTES = 3;

/** The simulator's fault types under Nezha's names where they are the same fault; the others keep their own. */
export const NEZHA_FAULT_TYPE: Record<FaultType, string> = {
  'cpu-contention': 'cpu_contention',
  'network-delay': 'network_delay',
  'code-exception': 'exception',
  'wrong-return-value': 'return',
  'memory-leak': 'memory-leak',
  'packet-loss': 'packet-loss',
  'pod-kill': 'pod-kill',
};

export const pad2 = (n: number, w = 2) => String(n).padStart(w, '0');

/** Go's time.Time text as the Nezha metric exporter writes it (`… +0000 UTC m=+<s since start>`). */
export function goTime(ms: number, sinceStartMs: number): string {
  const d = new Date(ms);
  const nanos = pad2(d.getUTCMilliseconds(), 3) + '417263';
  return `${d.toISOString().slice(0, 19).replace('T', ' ')}.${nanos} +0000 UTC m=+${(sinceStartMs / 1000).toFixed(9)}`;
}
/** Epoch ms (µs precision) as a decimal count of nanoseconds. */
export const unixNanos = (ms: number) => (BigInt(Math.round(ms * 1000)) * 1000n).toString();
/** ISO time with nanosecond digits, as in the log files' Timestamp column. */
export const isoNanos = (ms: number) => new Date(Math.floor(ms)).toISOString().slice(0, 23) + pad2(Math.round((ms % 1) * 1e6), 6) + 'Z';
export const csvQuote = (s: string) => '"' + s.replaceAll('"', '""') + '"';
/** A CSV cell: quoted only where it must be. */
export const csvCell = (s: string) => (/[",\n\r]/.test(s) ? csvQuote(s) : s);
/** A number with at most `digits` decimals, no trailing zeros; NaN as the exports write it. */
export const fixed = (v: number, digits = 4) => (Number.isFinite(v) ? String(Number(v.toFixed(digits))) : 'NaN');
/** `HH_MM` of the minute file named after `ms`. */
export function minuteName(ms: number): string {
  const d = new Date(ms);
  return `${pad2(d.getUTCHours())}_${pad2(d.getUTCMinutes())}`;
}
/** The nominal minute (ms) of the file that holds a record at `t`. */
export const minuteFileOf = (t: number) => Math.floor((t + MINUTE_FILE_BEFORE_MS) / 60_000) * 60_000;
export const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export interface NezhaFaultEntry {
  /** injection time, epoch ms */
  start: number;
  pod: string;
  type: string;
}

/** `<day>-fault_list.json`: grouped by UTC hour; inject_timestamp is off by 8 h, as in the real files. */
export function faultListJson(faults: readonly NezhaFaultEntry[]): string {
  const groups: Record<string, unknown[]> = {};
  for (const f of faults) {
    const d = new Date(f.start);
    (groups[pad2(d.getUTCHours())] ??= []).push({
      inject_time: d.toISOString().slice(0, 19).replace('T', ' '),
      inject_timestamp: String(Math.floor(f.start / 1000) - 8 * 3600),
      inject_pod: f.pod,
      inject_type: f.type,
    });
  }
  return JSON.stringify(groups, null, 4) + '\n';
}

/** One trace-file row. `durationUs` is the span's duration in µs (Nezha's Duration column). */
export function traceRow(traceId: string, spanId: string, parentId: string | undefined, pod: string, operation: string, startMs: number, durationUs: number): string {
  return `${traceId},${spanId},${parentId ?? 'root'},${pod},${csvCell(operation)},${unixNanos(startMs)},${unixNanos(startMs + durationUs / 1000)},${durationUs}`;
}

/**
 * One log-file row: the line wrapped in Docker's JSON envelope, as the real Log column holds it.
 * `envelopeMs` is the envelope's own time (Docker's), by default the record's.
 */
export function logRow(timeMs: number, node: string, pod: string, container: string, traceId: string, spanId: string, text: string, envelopeMs = timeMs): string {
  const envelope = JSON.stringify({ log: text + '\n', stream: 'stdout', time: new Date(Math.floor(envelopeMs)).toISOString() });
  return `${isoNanos(timeMs)},${unixNanos(timeMs)},${node},${pod},${container},${traceId},${spanId},${csvQuote(envelope)}`;
}

/** Writes files under a root, plain or gzipped (optionally cut in half), remembering their names. */
export class LayoutFiles {
  readonly written: string[] = [];
  constructor(readonly root: string) {}
  put(rel: string, text: string, gz = false, cut = false): string {
    const name = gz ? rel + '.gz' : rel;
    const path = join(this.root, name);
    mkdirSync(join(path, '..'), { recursive: true });
    let bytes: Buffer = gz ? gzipSync(text) : Buffer.from(text);
    if (cut) bytes = bytes.subarray(0, Math.floor(bytes.length / 2));
    writeFileSync(path, bytes);
    this.written.push(name);
    return name;
  }
}

// ---- a simulation in that layout ---------------------------------------------------------------

export interface NezhaLayoutFault {
  start: number;
  end: number;
  pod: string;
  type: FaultType;
}

export interface NezhaLayoutOptions {
  /** fault-free minute files written to construct_data per day (default 3; the real export has 1) */
  constructMinutes?: number;
  /**
   * How services write their log lines: `text` (default; TrainTicket's Java services,
   * `HH:MM:SS.mmm LEVEL service message`) or `json`, one JSON object per line as the Go, Node and
   * Python services of Online Boutique write them (log-style.ts).
   */
  logStyle?: LogStyle;
}


export interface NezhaLayoutSummary {
  days: string[];
  /** minute files written with traces and logs (rca, construct) */
  rcaMinutes: number;
  constructMinutes: number;
  /** share of the run's minutes that have trace files */
  traceCoverage: number;
  spansWritten: number;
  logsWritten: number;
  /** faults whose true duration differs from the reader's default active period (3 min) */
  faultsNot3Min: number;
}

const Q = (sorted: number[], q: number) => {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
};
const Z90 = 1.2815516;
const Z95 = 1.6448536;
const MiB = 1024 * 1024;
const LEVEL: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARN', error: 'ERROR', fatal: 'FATAL', unknown: 'INFO' };

/**
 * Streams a simulation's batches into the Nezha layout. Metrics are kept whole (one row per pod
 * and minute, written at the end); spans and logs are written only for the minute files of the
 * faults (NEZHA_FAULT_MINUTES from each injection) and a few fault-free construct minutes.
 * PodClientLatency comes from the pod's client spans of the minute (all of them, before the
 * gaps: a metric is scraped whether traces are kept or not), so it is NaN for a pod that calls
 * nothing, as in the real files; front_service.csv from the load driver's root spans.
 */
export class NezhaLayoutWriter {
  private readonly files: LayoutFiles;
  private readonly model: Model;
  /** per pod: the rows' cells, in time order */
  private readonly podRows: string[][];
  private readonly frontRows: string[] = [];
  /** nominal minute (ms) → where its files go ('rca' or 'construct') */
  private readonly keep = new Map<number, 'rca' | 'construct'>();
  private readonly podByEntity = new Map<string, number>();
  private readonly nodeIp: string[];
  private readonly offsetMs: number[];
  /** entry (load-driver) operation name → the front service it calls */
  private readonly frontOf = new Map<string, string>();
  private readonly clientServices = new Set<string>();
  /** spans and logs waiting for their minute file to be complete */
  private pendingSpans = new Map<number, Span[]>();
  private pendingLogs = new Map<number, LogRecord[]>();
  private readonly logStyle: LogStyle;
  /**
   * Per-edge latency tables (`source_50.csv`, `destination_90.csv`, …) from the run's mesh
   * series, when it has them: per table, its `caller_callee` columns in first-seen order and
   * per minute the cells (seconds) by column.
   */
  private readonly edgeTables = new Map<string, { columns: string[]; index: Map<string, number>; rows: { t: number; cells: number[] }[] }>();
  /** a record as a JSON line, when `logStyle` is `json` */
  private readonly jsonLine: (l: LogRecord) => string;
  readonly summary: NezhaLayoutSummary = { days: [], rcaMinutes: 0, constructMinutes: 0, traceCoverage: 0, spansWritten: 0, logsWritten: 0, faultsNot3Min: 0 };

  constructor(
    root: string,
    model: Model,
    private readonly faults: readonly NezhaLayoutFault[],
    private readonly start: number,
    private readonly end: number,
    opts: NezhaLayoutOptions = {},
  ) {
    this.files = new LayoutFiles(root);
    this.model = model;
    this.logStyle = opts.logStyle ?? 'text';
    this.jsonLine = jsonLogLines(model);
    this.podRows = model.pods.map(() => []);
    model.pods.forEach((p, i) => this.podByEntity.set(p.id, i));
    this.nodeIp = model.nodes.map((_, i) => `10.1.0.${11 + i}`);
    // each pod's scrape lands at its own second of the minute, as in the real files (1–50 s)
    this.offsetMs = model.pods.map((p) => 1000 + ((p.idx * 7919 + p.id.length * 131) % 49) * 1000 + ((p.idx * 389) % 1000));
    for (const s of model.clients) this.clientServices.add(model.services[s].def.name);
    for (const e of model.entries) {
      const op = model.ops[e.op];
      const first = op.calls[0];
      if (first) this.frontOf.set(op.def.name, model.services[first.calleeService].def.name);
    }
    for (const f of faults) {
      const m0 = Math.floor(f.start / 60_000) * 60_000;
      for (let k = 0; k < NEZHA_FAULT_MINUTES; k++) this.keep.set(m0 + k * 60_000, 'rca');
      if (Math.abs(f.end - f.start - NEZHA_FAULT_MINUTES * 60_000) > 1000) this.summary.faultsNot3Min++;
    }
    this.chooseConstructMinutes(opts.constructMinutes ?? 3);
  }

  /** Fault-free minutes for construct_data: spread over each day, ≥ 5 min from any fault. */
  private chooseConstructMinutes(perDay: number): void {
    const clear = (m: number) =>
      m - MINUTE_FILE_BEFORE_MS >= this.start && m + MINUTE_FILE_AFTER_MS <= this.end && this.faults.every((f) => m + MINUTE_FILE_AFTER_MS <= f.start - 300_000 || m - MINUTE_FILE_BEFORE_MS >= f.end + 300_000);
    const days = new Map<string, [number, number]>();
    for (let m = Math.ceil(this.start / 60_000) * 60_000; m < this.end; m += 60_000) {
      const d = dayOf(m);
      const r = days.get(d);
      if (r) r[1] = m;
      else days.set(d, [m, m]);
    }
    for (const [, [a, b]] of days) {
      for (let k = 1; k <= perDay; k++) {
        const target = Math.round((a + ((b - a) * k) / (perDay + 1)) / 60_000) * 60_000;
        for (let step = 0; step <= (b - a) / 60_000; step++) {
          const hit = [target + step * 60_000, target - step * 60_000].find((m) => m >= a && m <= b && clear(m) && !this.keep.has(m));
          if (hit !== undefined) {
            this.keep.set(hit, 'construct');
            break;
          }
        }
      }
    }
  }

  /** One batch of the simulation (whole steps, in time order). */
  add(batch: { start: number; end: number; metrics: MetricSeries[]; spans: Span[]; logs: LogRecord[] }, stepMs: number): void {
    const m = this.model;
    // client latency per pod and step, and the front's view per step, from all spans
    const steps = Math.max(1, Math.round((batch.end - batch.start) / stepMs));
    const client: number[][][] = m.pods.map(() => Array.from({ length: steps }, () => []));
    const front = new Map<string, { dur: number[]; err: number }[]>();
    for (const s of batch.spans) {
      const i = Math.min(steps - 1, Math.max(0, Math.floor((s.start - batch.start) / stepMs)));
      if (s.kind === 'client') {
        const p = this.podByEntity.get(s.entity);
        if (p !== undefined) client[p][i].push(s.duration);
      } else if (s.parentId === undefined && this.clientServices.has(s.service)) {
        const name = this.frontOf.get(s.operation) ?? s.service;
        let per = front.get(name);
        if (!per) front.set(name, (per = Array.from({ length: steps }, () => ({ dur: [], err: 0 }))));
        per[i].dur.push(s.duration);
        if (s.status === 'error') per[i].err++;
      }
    }
    this.addMetrics(batch.metrics, client);
    for (const [name, per] of front) {
      per.forEach((v, i) => {
        const t = batch.start + i * stepMs + 9_573;
        v.dur.sort((a, b) => a - b);
        const q = (x: number) => fixed(Q(v.dur, x) / 1000, 6);
        const ok = v.dur.length > 0 ? (100 * (v.dur.length - v.err)) / v.dur.length : NaN;
        this.frontRows.push(`${goTime(t, t - this.start)},${Math.floor(t / 1000)},${name},${fixed(ok, 2)},${q(0.5)},${q(0.9)},${q(0.95)},${q(0.99)}`);
      });
    }
    for (const s of batch.spans) {
      const f = minuteFileOf(s.start);
      if (this.keep.has(f)) (this.pendingSpans.get(f) ?? this.pendingSpans.set(f, []).get(f)!).push(s);
    }
    for (const l of batch.logs) {
      const f = minuteFileOf(l.time);
      if (this.keep.has(f)) (this.pendingLogs.get(f) ?? this.pendingLogs.set(f, []).get(f)!).push(l);
    }
    this.flushMinutes(batch.end);
  }

  private addMetrics(series: MetricSeries[], client: number[][][]): void {
    const m = this.model;
    const by = new Map<string, Float64Array>();
    let times: Float64Array | undefined;
    for (const s of series) {
      by.set(`${s.entity}\u0000${s.name}`, s.values);
      times ??= s.times;
    }
    if (!times) return;
    this.addEdgeLatency(series, times);
    const get = (entity: string, name: string, i: number) => by.get(`${entity}\u0000${name}`)?.[i] ?? NaN;
    for (let i = 0; i < times.length; i++) {
      const nodeRx = new Float64Array(m.nodes.length);
      for (const p of m.pods) {
        const rx = get(p.id, 'container.network.receive', i);
        if (Number.isFinite(rx)) nodeRx[p.node] += rx;
      }
      for (const p of m.pods) {
        const t = times[i] + this.offsetMs[p.idx];
        const cpu = get(p.id, 'container.cpu.usage', i);
        const mem = get(p.id, 'container.memory.usage', i);
        const p50 = get(p.id, 'request.latency.p50', i);
        const p90 = get(p.id, 'request.latency.p90', i);
        const p99 = get(p.id, 'request.latency.p99', i);
        const rate = get(p.id, 'request.rate', i);
        // p95 on the lognormal through p50 and p90
        const sig = p50 > 0 && p90 > p50 ? Math.log(p90 / p50) / Z90 : 0;
        const p95 = p50 > 0 ? p50 * Math.exp(Z95 * sig) : NaN;
        const served = rate > 0 && Number.isFinite(rate);
        const cl = client[p.idx][i] ?? [];
        cl.sort((a, b) => a - b);
        const cq = (q: number) => (cl.length > 0 ? fixed(Q(cl, q) / 1000, 6) : 'NaN');
        const node = m.nodes[p.node];
        const sec = (v: number) => (served ? fixed(v / 1000, 6) : 'NaN');
        this.podRows[p.idx].push(
          [
            goTime(t, t - this.start),
            String(Math.floor(t / 1000)),
            p.id,
            fixed(cpu * 1000, 4),
            fixed(get(p.id, 'container.cpu.utilization', i), 4),
            fixed(mem / MiB, 4),
            fixed((mem / p.memLimit) * 100, 4),
            Number.isFinite(cpu) ? '0' : 'NaN',
            Number.isFinite(cpu) ? '0' : 'NaN',
            fixed(rx(get, p.id, i), 2),
            fixed(get(p.id, 'container.network.transmit', i), 2),
            cq(0.9),
            sec(p90),
            cq(0.95),
            sec(p95),
            cq(0.99),
            sec(p99),
            fixed(rate, 4),
            fixed((1 - get(p.id, 'request.error_rate', i)) * 100, 3),
            fixed(get(node.id, 'node.cpu.utilization', i), 4),
            fixed(get(node.id, 'node.memory.utilization', i), 4),
            fixed(nodeRx[p.node], 1),
          ].join(','),
        );
      }
    }
  }

  /**
   * The mesh series (`mesh.request.duration.p50{…}` per reporting pod) as the real export's
   * edge-latency tables hold them: one row a minute, one column per caller_callee pair, the
   * mean over the measuring side's pods, in seconds; a pair without calls that minute is empty.
   */
  private addEdgeLatency(series: MetricSeries[], times: Float64Array): void {
    const acc = new Map<string, Map<string, { sum: Float64Array; n: Float64Array }>>();
    for (const s of series) {
      const e = parseMeshSeries(s.name);
      if (!e) continue;
      const table = `${e.callerSide ? 'source' : 'destination'}_${e.percentile}`;
      let cols = acc.get(table);
      if (!cols) acc.set(table, (cols = new Map()));
      const col = `${e.source}_${e.destination}`;
      let a = cols.get(col);
      if (!a) cols.set(col, (a = { sum: new Float64Array(times.length), n: new Float64Array(times.length) }));
      for (let i = 0; i < times.length; i++) {
        const v = s.values[i];
        if (Number.isFinite(v)) {
          a.sum[i] += v;
          a.n[i]++;
        }
      }
    }
    for (const [table, cols] of acc) {
      let tb = this.edgeTables.get(table);
      if (!tb) this.edgeTables.set(table, (tb = { columns: [], index: new Map(), rows: [] }));
      for (const col of cols.keys()) if (!tb.index.has(col)) tb.index.set(col, tb.columns.push(col) - 1);
      for (let i = 0; i < times.length; i++) {
        const cells = new Array<number>(tb.columns.length).fill(NaN);
        for (const [col, a] of cols) if (a.n[i] > 0) cells[tb.index.get(col)!] = a.sum[i] / a.n[i] / 1000;
        // the real tables are scraped about 20 s into the minute
        tb.rows.push({ t: times[i] + 19_978, cells });
      }
    }
  }

  /** Writes the kept minute files that can no longer receive records (their end lies before `upTo`). */
  private flushMinutes(upTo: number, all = false): void {
    const due = [...new Set([...this.pendingSpans.keys(), ...this.pendingLogs.keys()])].filter((f) => all || f + MINUTE_FILE_AFTER_MS <= upTo).sort((a, b) => a - b);
    for (const f of due) {
      const spans = this.pendingSpans.get(f) ?? [];
      const logs = this.pendingLogs.get(f) ?? [];
      this.pendingSpans.delete(f);
      this.pendingLogs.delete(f);
      this.writeMinute(f, spans, logs);
    }
  }

  private writeMinute(f: number, spans: Span[], logs: LogRecord[]): void {
    const kind = this.keep.get(f)!;
    const base = `${kind === 'rca' ? 'rca_data' : 'construct_data'}/${dayOf(f)}`;
    const mm = minuteName(f);
    const podNode = (entity: string) => {
      const p = this.podByEntity.get(entity);
      return p === undefined ? '' : this.nodeIp[this.model.pods[p].node];
    };
    const traceRows = [NEZHA_TRACE_HEADER];
    const ids = new Set<string>();
    for (const s of spans) {
      traceRows.push(traceRow(s.traceId, s.spanId, s.parentId, s.entity, s.operation, s.start, Math.round(s.duration * 1000)));
      ids.add(s.traceId);
    }
    const logRows = [NEZHA_LOG_HEADER];
    for (const l of logs) {
      const text =
        this.logStyle === 'json'
          ? this.jsonLine(l)
          : `${new Date(Math.floor(l.time)).toISOString().slice(11, 23)} ${LEVEL[l.severity] ?? 'INFO'} ${l.service ?? ''} ${l.body}`;
      logRows.push(logRow(l.time, podNode(l.entity), l.entity, 'server', l.traceId ?? '', l.spanId ?? '', text));
    }
    this.files.put(`${base}/trace/${mm}_trace.csv`, traceRows.join('\n') + '\n');
    this.files.put(`${base}/log/${mm}_log.csv`, logRows.join('\n') + '\n');
    this.files.put(`${base}/traceid/${mm}_traceid.csv`, [...ids].join('\n') + (ids.size > 0 ? '\n' : ''));
    this.summary.spansWritten += spans.length;
    this.summary.logsWritten += logs.length;
    if (kind === 'rca') this.summary.rcaMinutes++;
    else this.summary.constructMinutes++;
  }

  /** Writes what is left: the last minute files, the metric files and the fault lists. */
  finish(): string[] {
    this.flushMinutes(Infinity, true);
    const days = new Set<string>();
    const header = NEZHA_METRIC_COLUMNS.join(',');
    const rowDay = (row: string) => row.slice(0, 10); // the Time text starts with YYYY-MM-DD
    for (const [idx, rows] of this.podRows.entries()) {
      const byDay = new Map<string, string[]>();
      for (const r of rows) (byDay.get(rowDay(r)) ?? byDay.set(rowDay(r), []).get(rowDay(r))!).push(r);
      for (const [day, list] of byDay) {
        days.add(day);
        const text = [header, ...list].join('\n') + '\n';
        // construct_data's metric folder repeats rca_data's, as in the real exports
        for (const run of ['rca_data', 'construct_data']) this.files.put(`${run}/${day}/metric/${this.model.pods[idx].id}_metric.csv`, text);
      }
    }
    const frontByDay = new Map<string, string[]>();
    for (const r of this.frontRows) (frontByDay.get(rowDay(r)) ?? frontByDay.set(rowDay(r), []).get(rowDay(r))!).push(r);
    for (const [day, list] of frontByDay) {
      list.sort();
      const text = [NEZHA_FRONT_HEADER, ...list].join('\n') + '\n';
      for (const run of ['rca_data', 'construct_data']) this.files.put(`${run}/${day}/metric/front_service.csv`, text);
    }
    for (const [table, tb] of this.edgeTables) {
      const byDay = new Map<string, string[]>();
      for (const r of tb.rows) {
        const day = dayOf(r.t);
        const cells = tb.columns.map((_, c) => (Number.isFinite(r.cells[c]) ? fixed(r.cells[c], 9) : ''));
        (byDay.get(day) ?? byDay.set(day, []).get(day)!).push(`${goTime(r.t, r.t - this.start)},${Math.floor(r.t / 1000)},${cells.join(',')}`);
      }
      for (const [day, list] of byDay) {
        const text = [['time', 'timestamp', ...tb.columns].join(','), ...list].join('\n') + '\n';
        for (const run of ['rca_data', 'construct_data']) this.files.put(`${run}/${day}/metric/${table}.csv`, text);
      }
    }
    for (const day of [...days].sort()) {
      const list = this.faults.filter((f) => dayOf(f.start) === day).map((f) => ({ start: f.start, pod: f.pod, type: NEZHA_FAULT_TYPE[f.type] }));
      this.files.put(`rca_data/${day}/${day}-fault_list.json`, faultListJson(list));
    }
    this.summary.days = [...days].sort();
    const total = Math.max(1, Math.round((this.end - this.start) / 60_000));
    this.summary.traceCoverage = Number(((this.summary.rcaMinutes + this.summary.constructMinutes) / total).toFixed(4));
    return this.files.written;
  }
}

function rx(get: (e: string, n: string, i: number) => number, entity: string, i: number): number {
  return get(entity, 'container.network.receive', i);
}
