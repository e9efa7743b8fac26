import { csvField, csvFieldBounds, lineBatches, splitCsvLine } from '../io/index.js';
import { MESH_REQUEST_DURATION, meshSeriesName, type MetricSeries, type ProblemLog, type TimeRange } from '../../telemetry/index.js';
import type { MetricFile } from './layout.js';
import { epochToMs, floatField } from './numbers.js';
import { detach, reportDamage } from './minutes.js';
import { CLOCK_TOLERANCE_MS, ClockTally, dayBounds, textTimeMs } from './clocks.js';
import { lowerBound } from '../../stats/index.js';

/**
 * Metric files: `<pod>_metric.csv` (column PodName: one row per pod and minute) and
 * service-level files such as `front_service.csv` (column ServiceName). The entity of a row is
 * the value of that column, never the file name. Time is the `TimeStamp` column (epoch
 * seconds), cross-checked against the `Time` text of the same row (see clocks.ts); every other
 * numeric column becomes a series named as its header.
 *
 * Per-edge latency tables, as the Nezha export of Online Boutique holds them:
 * `source_<p>.csv` and `destination_<p>.csv`, columns `time,timestamp,<caller>_<callee>,…`,
 * each cell the p-th percentile latency of that pair's calls in seconds, measured by the
 * caller's side (source) or the callee's (destination) — a service mesh's request latency. They
 * become mesh series (`mesh.request.duration.p<p>{destination_workload=…,reporter=…,source_workload=…}`,
 * ms) on the measuring side's service, the names the mesh-edge evidence family reads
 * (src/encode/evidence/mesh-edges.ts): their difference is the edge gap without traces.
 *
 * Other tables in metric/ are derived views, not telemetry of one entity: a table with
 * source/destination (or Source/Target) columns describes calls between services and is
 * skipped with a note; any other table that names no pod or service is skipped and reported.
 */

const TIME_COLUMNS = ['TimeStamp', 'Timestamp', 'timestamp'];
/** Text columns that are never series even where a row happens to hold a number. */
const TEXT_COLUMNS = new Set(['Time', 'time', 'TimeStamp', 'Timestamp', 'timestamp', 'PodName', 'ServiceName', 'NodeName', 'Node']);
/** `source_50`, `destination_90`: which side measured, and the percentile. */
const EDGE_LATENCY_STEM = /^(source|destination)_(\d{1,2})$/;
/** `<caller>_<callee>`: service names hold no underscore in either export. */
const EDGE_COLUMN = /^([^_\s]+)_([^_\s]+)$/;
const EDGE_FROM = ['source', 'src', 'caller', 'from'];
const EDGE_TO = ['destination', 'dest', 'target', 'callee', 'to'];

export type MetricEntityKind = 'pod' | 'service';

interface Header {
  timeCol: number;
  /** the `Time` text column, -1 when absent */
  textCol: number;
  /** -1 for an edge-latency table, whose columns name the entities */
  entityCol: number;
  entityKind: MetricEntityKind;
  width: number;
  names: string[];
  /** set for a per-edge latency table (`source_50.csv`, `destination_50.csv`) */
  edges?: { callerSide: boolean; percentile: number };
}

/** What a metric file turned out to be. */
export interface MetricFileRead {
  tables: MetricTable[];
  /** set when the file is a derived table that is deliberately not read (said once, as a note) */
  skipped?: string;
}

/** A table of calls between services (derived from traces), recognised by its header. */
export function isEdgeTable(names: string[]): boolean {
  const lower = names.map((n) => n.trim().toLowerCase());
  return lower.some((n) => EDGE_FROM.includes(n)) && lower.some((n) => EDGE_TO.includes(n));
}

function readHeader(line: string, file: MetricFile, problems: ProblemLog): Header | string | null {
  const names = splitCsvLine(line.replace(/^\uFEFF/, ''));
  if (!names) {
    problems.add(file.rel, 1, 'malformed CSV header; file skipped', 'layout');
    return null;
  }
  if (isEdgeTable(names)) return 'a source/destination table of calls between services, derived from traces, not per pod';
  const timeCol = names.findIndex((n) => TIME_COLUMNS.includes(n));
  if (timeCol < 0) {
    problems.add(file.rel, 1, `no TimeStamp column (expected epoch seconds in "TimeStamp"); file skipped`, 'layout');
    return null;
  }
  let entityCol = names.indexOf('PodName');
  let entityKind: MetricEntityKind = 'pod';
  if (entityCol < 0) {
    entityCol = names.indexOf('ServiceName');
    entityKind = 'service';
  }
  const textCol = names.includes('Time') ? names.indexOf('Time') : names.indexOf('time');
  if (entityCol < 0) {
    const edge = EDGE_LATENCY_STEM.exec(file.stem);
    const pairs = names.filter((n, c) => c !== timeCol && c !== textCol && !TEXT_COLUMNS.has(n));
    if (edge && pairs.length > 0 && pairs.every((n) => EDGE_COLUMN.test(n))) {
      return { timeCol, textCol, entityCol: -1, entityKind: 'service', width: names.length, names, edges: { callerSide: edge[1] === 'source', percentile: Number(edge[2]) } };
    }
    // Naming the entity after the file would invent services (the issue of item 8).
    problems.add(file.rel, 1, 'no PodName or ServiceName column: the rows name no pod or service; file skipped', 'layout');
    return null;
  }
  return { timeCol, textCol, entityCol, entityKind, width: names.length, names };
}

export function unitOf(column: string): string {
  const m = /\(([^()]*)\)\s*$/.exec(column);
  return m ? m[1] : '';
}

/** One entity's rows of one file, columnar and ascending in time. */
export interface MetricTable {
  entity: string;
  kind: MetricEntityKind;
  times: Float64Array;
  columns: { name: string; unit: string; values: Float64Array }[];
}

class Growable {
  data: Float64Array;
  length = 0;
  constructor(cap: number) {
    this.data = new Float64Array(cap);
  }
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/**
 * Parses a metric file into one table per entity. Bad rows are reported and skipped; a damaged
 * file keeps the rows read before the damage, and the damage is reported.
 */
export async function readMetricFile(file: MetricFile, problems: ProblemLog): Promise<MetricFileRead> {
  let header: Header | null = null;
  const valueCols: number[] = [];
  let decided = false;
  const times = new Growable(1024);
  let cols: Growable[] = [];
  const rowEntity: number[] = [];
  const rowLine: number[] = [];
  const entityIds: string[] = [];
  const entityIndex = new Map<string, number>();
  let lastEntity = '';
  let lastEntityIdx = 0;
  let starts = new Int32Array(64);
  let ends = new Int32Array(64);
  const clock = new ClockTally(dayBounds(file.day), 'TimeStamp', 'Time');
  // Rows whose TimeStamp and Time disagree: row index, line, and the Time reading. Whether they
  // are repaired or dropped is decided once the whole file is read (one offset for all?).
  const odd: { row: number; text: number }[] = [];
  for await (const { lines, firstLine } of lineBatches(file.path, { onError: reportDamage(problems, file.rel) })) {
    let i = 0;
    if (!header) {
      const h = readHeader(lines[0], file, problems);
      if (typeof h === 'string') return { tables: [], skipped: h };
      if (!h) return { tables: [] };
      header = h;
      if (header.width > starts.length) {
        starts = new Int32Array(header.width + 1);
        ends = new Int32Array(header.width + 1);
      }
      i = 1;
    }
    const h = header;
    for (; i < lines.length; i++) {
      const line = lines[i];
      if (line.length === 0) continue;
      const n = csvFieldBounds(line, starts, ends);
      if (n !== h.width) {
        problems.add(file.rel, firstLine + i, n < 0 ? 'malformed CSV quoting' : `expected ${h.width} fields, found ${n}`, 'malformed-record');
        continue;
      }
      const stamp = floatField(line, starts[h.timeCol], ends[h.timeCol]);
      if (!Number.isFinite(stamp)) {
        problems.add(file.rel, firstLine + i, 'no time in the TimeStamp column', 'malformed-record');
        continue;
      }
      if (!decided) {
        decided = true;
        // Numeric columns are judged on the first data row: text there (e.g. the `Time`
        // column) excludes a column; a missing cell (NaN, empty) does not.
        for (let c = 0; c < h.width; c++) {
          if (c === h.timeCol || c === h.entityCol || TEXT_COLUMNS.has(h.names[c])) continue;
          const raw = line.slice(starts[c], ends[c]).trim();
          if (raw === '' || /^[+-]?nan$/i.test(raw) || raw === 'null' || !Number.isNaN(Number(raw))) valueCols.push(c);
        }
        cols = valueCols.map(() => new Growable(1024));
      }
      const t = epochToMs(stamp);
      if (h.textCol >= 0) {
        const text = textTimeMs(line, starts[h.textCol], ends[h.textCol]);
        // A Time that does not parse leaves TimeStamp unchecked rather than the row dropped.
        if (text === text && Math.abs(t - text) > CLOCK_TOLERANCE_MS) {
          clock.noteDisagree(t - text, firstLine + i);
          odd.push({ row: times.length, text });
        }
      }
      times.push(t);
      rowLine.push(firstLine + i);
      for (let k = 0; k < valueCols.length; k++) {
        const c = valueCols[k];
        cols[k].push(floatField(line, starts[c], ends[c]));
      }
      if (h.entityCol < 0) {
        // an edge-latency table: one row per minute, its columns are the entities (below)
        if (entityIds.length === 0) entityIds.push('');
        rowEntity.push(0);
        continue;
      }
      const s = starts[h.entityCol];
      const e = ends[h.entityCol];
      if (lastEntity.length !== e - s || !line.startsWith(lastEntity, s) || entityIds.length === 0) {
        lastEntity = csvField(line, s, e);
        let idx = entityIndex.get(lastEntity);
        if (idx === undefined) lastEntity = detach(lastEntity);
        if (idx === undefined) {
          idx = entityIds.length;
          entityIds.push(lastEntity);
          entityIndex.set(lastEntity, idx);
        }
        lastEntityIdx = idx;
      }
      rowEntity.push(lastEntityIdx);
    }
  }
  if (!header || times.length === 0) return { tables: [] };
  const h = header;
  const all = times.view();
  // Rows dropped by the clock checks; null while every row is kept (the usual case).
  let drop: Uint8Array | null = null;
  const dropRow = (r: number) => {
    drop ??= new Uint8Array(all.length);
    drop[r] = 1;
  };
  if (odd.length > 0) {
    // One offset on every disagreeing row: TimeStamp was shifted and Time is right. Otherwise
    // neither clock can be trusted for those rows.
    const repair = clock.consistent();
    for (const o of odd) {
      if (repair && clock.inDay(o.text)) {
        all[o.row] = o.text;
        clock.repaired++;
      } else {
        dropRow(o.row);
        clock.dropped++;
      }
    }
  }
  for (let r = 0; r < all.length; r++) {
    if (!clock.inDay(all[r]) && !(drop && drop[r])) {
      clock.noteOutside(all[r], rowLine[r]);
      dropRow(r);
    }
  }
  clock.report(problems, file.rel);
  const tables: MetricTable[] = [];
  for (let ei = 0; ei < entityIds.length; ei++) {
    // Rows of one entity, in time order (stable for equal times).
    let idx: number[] | null = null;
    if (entityIds.length > 1 || drop) {
      idx = [];
      for (let r = 0; r < rowEntity.length; r++) if (rowEntity[r] === ei && !(drop && drop[r])) idx.push(r);
      if (idx.length === 0) continue;
    }
    const pick = (src: Float64Array): Float64Array => {
      if (!idx) return src.slice();
      const out = new Float64Array(idx.length);
      for (let r = 0; r < idx.length; r++) out[r] = src[idx[r]];
      return out;
    };
    let t = pick(all);
    let columns = valueCols.map((c, k) => ({ name: h.names[c], unit: unitOf(h.names[c]), values: pick(cols[k].view()) }));
    let sorted = true;
    for (let r = 1; r < t.length; r++) if (t[r] < t[r - 1]) { sorted = false; break; }
    if (!sorted) {
      const order = Array.from(t.keys()).sort((a, b) => t[a] - t[b] || a - b);
      const reorder = (src: Float64Array) => Float64Array.from(order, (o) => src[o]);
      t = reorder(t);
      columns = columns.map((c) => ({ ...c, values: reorder(c.values) }));
    }
    tables.push({ entity: entityIds[ei], kind: h.entityKind, times: t, columns });
  }
  return { tables: h.edges ? edgeTables(tables, h.edges) : tables };
}

/**
 * An edge-latency table's columns as mesh series on the measuring side's service (the caller
 * for `source_*`, the callee for `destination_*`), seconds to ms; one table per service.
 */
function edgeTables(read: MetricTable[], edges: { callerSide: boolean; percentile: number }): MetricTable[] {
  const byService = new Map<string, MetricTable>();
  for (const tb of read) {
    for (const c of tb.columns) {
      const m = EDGE_COLUMN.exec(c.name);
      if (!m || m[1] === m[2]) continue;
      const [, caller, callee] = m;
      const service = edges.callerSide ? caller : callee;
      let out = byService.get(service);
      if (!out) byService.set(service, (out = { entity: service, kind: 'service', times: tb.times, columns: [] }));
      const name = meshSeriesName(`${MESH_REQUEST_DURATION}.p${edges.percentile}`, caller, callee, edges.callerSide);
      out.columns.push({ name, unit: 'ms', values: c.values.map((v) => v * 1000) });
    }
  }
  return [...byService.values()];
}


/** The series of `tables` within [range.start, range.end), as views (no copy). */
export function sliceTables(tables: MetricTable[], range: TimeRange): MetricSeries[] {
  const out: MetricSeries[] = [];
  for (const tb of tables) {
    const a = lowerBound(tb.times, range.start);
    const b = lowerBound(tb.times, range.end);
    if (b <= a) continue;
    const times = tb.times.subarray(a, b);
    for (const c of tb.columns) out.push({ entity: tb.entity, name: c.name, unit: c.unit, times, values: c.values.subarray(a, b) });
  }
  return out;
}
