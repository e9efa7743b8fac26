import { csvField, csvFieldBounds, lineBatches, splitCsvLine } from '../io/index.js';
import type { MetricSeries, ProblemLog, TimeRange } from '../../telemetry/index.js';
import type { MetricFile } from './layout.js';
import { epochToMs, floatField } from './numbers.js';
import { detach } from './minutes.js';

/**
 * Metric files: `<pod>_metric.csv` (one pod, column PodName) and service-level files such as
 * `front_service.csv` (column ServiceName). Time is the `TimeStamp` column (epoch seconds);
 * every other numeric column becomes a series named as its header.
 */

const TIME_COLUMNS = ['TimeStamp', 'Timestamp', 'timestamp'];
/** Text columns that are never series even where a row happens to hold a number. */
const TEXT_COLUMNS = new Set(['Time', 'TimeStamp', 'Timestamp', 'timestamp', 'PodName', 'ServiceName', 'NodeName', 'Node']);

export type MetricEntityKind = 'pod' | 'service';

interface Header {
  timeCol: number;
  entityCol: number;
  entityKind: MetricEntityKind;
  width: number;
  names: string[];
}

function readHeader(line: string, file: MetricFile, problems: ProblemLog): Header | null {
  const names = splitCsvLine(line);
  if (!names) {
    problems.add(file.rel, 1, 'malformed CSV header');
    return null;
  }
  const timeCol = names.findIndex((n) => TIME_COLUMNS.includes(n));
  if (timeCol < 0) {
    problems.add(file.rel, 1, `no TimeStamp column (expected epoch seconds in "TimeStamp"); file skipped`);
    return null;
  }
  let entityCol = names.indexOf('PodName');
  let entityKind: MetricEntityKind = 'pod';
  if (entityCol < 0) {
    entityCol = names.indexOf('ServiceName');
    entityKind = 'service';
  }
  if (entityCol < 0) entityKind = file.stem.endsWith('_metric') ? 'pod' : 'service';
  return { timeCol, entityCol, entityKind, width: names.length, names };
}

/** The entity a row without an entity column belongs to: `<pod>_metric` → pod, else the stem. */
export function entityOfFile(file: MetricFile): string {
  return file.stem.endsWith('_metric') ? file.stem.slice(0, -'_metric'.length) : file.stem;
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

/** Parses a metric file into one table per entity. Bad rows are reported and skipped. */
export async function readMetricFile(file: MetricFile, problems: ProblemLog): Promise<MetricTable[]> {
  let header: Header | null = null;
  const valueCols: number[] = [];
  let decided = false;
  const times = new Growable(1024);
  let cols: Growable[] = [];
  const rowEntity: number[] = [];
  const entityIds: string[] = [];
  const entityIndex = new Map<string, number>();
  let lastEntity = '';
  let lastEntityIdx = 0;
  let starts = new Int32Array(64);
  let ends = new Int32Array(64);
  for await (const { lines, firstLine } of lineBatches(file.path)) {
    let i = 0;
    if (!header) {
      header = readHeader(lines[0], file, problems);
      if (!header) return [];
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
        problems.add(file.rel, firstLine + i, n < 0 ? 'malformed CSV quoting' : `expected ${h.width} fields, found ${n}`);
        continue;
      }
      const t = floatField(line, starts[h.timeCol], ends[h.timeCol]);
      if (!Number.isFinite(t)) {
        problems.add(file.rel, firstLine + i, 'no time in the TimeStamp column');
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
      times.push(epochToMs(t));
      for (let k = 0; k < valueCols.length; k++) {
        const c = valueCols[k];
        cols[k].push(floatField(line, starts[c], ends[c]));
      }
      if (h.entityCol >= 0) {
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
  }
  if (!header || times.length === 0) return [];
  const h = header;
  if (entityIds.length === 0) entityIds.push(entityOfFile(file));
  const tables: MetricTable[] = [];
  for (let ei = 0; ei < entityIds.length; ei++) {
    // Rows of one entity, in time order (stable for equal times).
    let idx: number[] | null = null;
    if (entityIds.length > 1) {
      idx = [];
      for (let r = 0; r < rowEntity.length; r++) if (rowEntity[r] === ei) idx.push(r);
    }
    const all = times.view();
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
  return tables;
}

function lowerBound(a: Float64Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
