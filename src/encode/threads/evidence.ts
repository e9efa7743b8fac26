import { isMainThread, parentPort, workerData, type Transferable } from 'node:worker_threads';
import type { LogRecord, Span, SpanStatus, TimeRange } from '../../telemetry/index.js';
import type { ForeignRecords } from '../views/builder.js';
import { EvidencePass, describeTemplate, evidenceRows, type EvidenceReferences, type EvidenceRow, type EvidenceWindow } from '../views/evidence.js';
import type { PodResources } from '../views/evidence-resources.js';
import { foreignRecords, packForeignRecords } from '../views/foreign-records.js';
import { SliceMemo } from '../views/memo.js';
import { WorkerChannel, failureOf, startModuleWorker } from './worker.js';

/**
 * The span and log evidence of an encode made in a worker thread (docs/views.md, "Evidence in a
 * thread"): the fitting pass's `EvidencePass` (summaries, then references) and the views pass's
 * rows. The main thread hands over each span once, as columns, and each window's spans as span
 * numbers; the thread builds span objects with the same identities window to window (the pass's
 * slice memo compares a window's spans with the previous window's by identity), so its evidence
 * is that of the same pass on the main thread, to the bit. Records go over as the log thread
 * sends them (`ForeignRecords`, with the main thread's shape numbers). The window summaries stay
 * in the thread; in the views pass the main thread sends each window's resource deviations (it
 * reads the metrics) and gets the window's rows back, later: the thread can still be working
 * through the fitting pass's windows while the main thread renders the first views.
 */

const KIND = 'runtimeslicer:evidence';

/** Windows sent together (one message each way). */
const WINDOWS_PER_MESSAGE = 16;

/** Spans first met in a batch of windows, as columns; names are numbers into the pass's name table. */
interface SpanColumns {
  start: Float64Array;
  duration: Float64Array;
  traceId: string[];
  spanId: string[];
  /** null: a root span (no parent id) */
  parentId: (string | null)[];
  entity: Int32Array;
  service: Int32Array;
  operation: Int32Array;
  status: Int32Array;
  /** [position, fields] of spans with any of the optional fields (kind, status message, events, attributes) */
  extra: [number, Partial<Span>][];
}

interface WindowPart {
  index: number;
  start: number;
  end: number;
  train: boolean;
  /** the window's spans, in slice order, as span numbers */
  ids: Int32Array;
  records?: ForeignRecords;
}

/** A pod's resource deviations with its items' texts made (items are few: |dev| ≥ ITEM_MIN, three at most) */
type SentResources = Omit<PodResources, 'items'> & { items: { dev: number; text: string }[] };

type In =
  | { type: 'windows'; names: string[]; spans: SpanColumns; windows: WindowPart[] }
  | { type: 'finish'; templates: Int32Array; texts: [number, string][]; bodies: string[] }
  | { type: 'rows'; windows: { index: number; res: [string, SentResources][] | null }[] };

/** Rows of windows, in request order: `rows[i]` rows each, features `w` floats a row, one after another. */
interface RowColumns {
  index: Int32Array;
  rows: Int32Array;
  entity: string[];
  pod: (string | null)[];
  items: string[];
  features: Float32Array;
  w: number;
}

type Out = { type: 'refs'; refs: EvidenceReferences } | { type: 'rows'; rows: RowColumns };

const NO_IDS = new Int32Array(0);

/** The main thread's side. */
export class EvidenceThread {
  private names = new Map<string, number>();
  private newNames: string[] = [];
  private nextId = 0;
  private fresh: Span[] = [];
  private readonly ids = new SliceMemo<Span, number>((s) => {
    this.fresh.push(s);
    return this.nextId++;
  });
  private parts: WindowPart[] = [];
  private transfer: Transferable[] = [];
  private asked: { index: number; res: [string, SentResources][] | null }[] = [];
  /** row batches asked for and not received yet */
  private inFlight = 0;
  private refs: EvidenceReferences | undefined;
  /** records before this time went with an earlier window (records read on the main thread) */
  private logsUpTo = -Infinity;

  private constructor(private readonly ch: WorkerChannel<In, Out>) {}

  /** Starts the thread, or returns undefined where no thread can run (the caller keeps the pass). */
  static start(seed: number): EvidenceThread | undefined {
    const worker = startModuleWorker(import.meta.url, { kind: KIND, seed });
    return worker ? new EvidenceThread(new WorkerChannel<In, Out>(worker)) : undefined;
  }

  /**
   * Hands over a window of the fitting pass (windows in stream order). `records`: the window's
   * records as the log thread sends them, with this thread's shape numbers (`recordsOf` makes
   * them from records read here).
   */
  add(range: TimeRange & { index: number }, spans: readonly Span[], records: ForeignRecords | undefined, train: boolean): void {
    // the pass indexes only windows with spans: the memo skips the others as the pass's does
    const ids = spans.length ? Int32Array.from(this.ids.map(spans)) : NO_IDS;
    const part: WindowPart = { index: range.index, start: range.start, end: range.end, train, ids };
    if (records && records.time.length) {
      part.records = records;
      this.transfer.push(records.time.buffer as ArrayBuffer, records.shape.buffer as ArrayBuffer);
    }
    if (ids.length) this.transfer.push(ids.buffer as ArrayBuffer);
    this.parts.push(part);
    if (this.parts.length >= WINDOWS_PER_MESSAGE) this.send();
  }

  /**
   * A window's records read on the main thread, in the form the log thread sends: those from
   * the previous window's end on (as `EvidencePass` takes them in), a body only where the
   * evidence reads one (ERROR / FATAL records with a span id).
   */
  recordsOf(logs: readonly LogRecord[], shapes: readonly number[], range: TimeRange): ForeignRecords | undefined {
    const from = this.logsUpTo;
    this.logsUpTo = Math.max(this.logsUpTo, range.end);
    const pick: number[] = [];
    for (let i = 0; i < logs.length; i++) if (logs[i].time >= from && logs[i].time < range.end) pick.push(i);
    if (logs.length === 0) return undefined;
    // a window with records but none new still takes records in (the pass then retries records
    // waiting for their span): one old record, which the pass skips, makes it do so
    if (pick.length === 0) pick.push(0);
    return packForeignRecords(logs, pick, shapes);
  }

  private name(s: string): number {
    let k = this.names.get(s);
    if (k === undefined) {
      k = this.names.size;
      this.names.set(s, k);
      this.newNames.push(s);
    }
    return k;
  }

  private send(): void {
    if (this.parts.length === 0) return;
    const f = this.fresh;
    const n = f.length;
    const cols: SpanColumns = {
      start: new Float64Array(n),
      duration: new Float64Array(n),
      traceId: new Array<string>(n),
      spanId: new Array<string>(n),
      parentId: new Array<string | null>(n),
      entity: new Int32Array(n),
      service: new Int32Array(n),
      operation: new Int32Array(n),
      status: new Int32Array(n),
      extra: [],
    };
    for (let i = 0; i < n; i++) {
      const s = f[i];
      cols.start[i] = s.start;
      cols.duration[i] = s.duration;
      cols.traceId[i] = s.traceId;
      cols.spanId[i] = s.spanId;
      cols.parentId[i] = s.parentId ?? null;
      cols.entity[i] = this.name(s.entity);
      cols.service[i] = this.name(s.service);
      cols.operation[i] = this.name(s.operation);
      cols.status[i] = this.name(s.status);
      if (s.kind !== undefined || s.statusMessage !== undefined || s.events !== undefined || s.attributes !== undefined) {
        const x: Partial<Span> = {};
        if (s.kind !== undefined) x.kind = s.kind;
        if (s.statusMessage !== undefined) x.statusMessage = s.statusMessage;
        if (s.events !== undefined) x.events = s.events;
        if (s.attributes !== undefined) x.attributes = s.attributes;
        cols.extra.push([i, x]);
      }
    }
    this.transfer.push(cols.start.buffer as ArrayBuffer, cols.duration.buffer as ArrayBuffer, cols.entity.buffer as ArrayBuffer, cols.service.buffer as ArrayBuffer, cols.operation.buffer as ArrayBuffer, cols.status.buffer as ArrayBuffer);
    this.ch.post({ type: 'windows', names: this.newNames, spans: cols, windows: this.parts }, this.transfer);
    this.fresh = [];
    this.newNames = [];
    this.parts = [];
    this.transfer = [];
  }

  /**
   * Ends the fitting pass: the thread fits the references (with `templateOf` given for line
   * shapes 0 … `shapes.length` − 1) and renders rows from then on. Does not wait.
   */
  finish(templateOf: (shape: number) => number, texts: ReadonlyMap<number, string>, shapes: readonly string[]): void {
    this.send();
    const templates = new Int32Array(shapes.length);
    for (let s = 0; s < shapes.length; s++) templates[s] = templateOf(s);
    this.ch.post({ type: 'finish', templates, texts: [...texts], bodies: [...shapes] }, [templates.buffer as ArrayBuffer]);
  }

  /**
   * Asks for the rows of a rendered window (windows in stream order), given its resource
   * deviations; they come back through `ready` / `rest`, in the same order.
   */
  rows(index: number, res: Map<string, PodResources> | undefined): void {
    let sent: [string, SentResources][] | null = null;
    if (res) {
      sent = [];
      for (const [pod, r] of res) sent.push([pod, { ...r, items: r.items.map((x) => ({ dev: x.dev, text: x.text() })) }]);
    }
    this.asked.push({ index, res: sent });
    if (this.asked.length >= WINDOWS_PER_MESSAGE) this.ask();
  }

  private ask(): void {
    if (this.asked.length === 0) return;
    this.ch.post({ type: 'rows', windows: this.asked });
    this.asked = [];
    this.inFlight++;
  }

  /** Rows that have come back by now: [window index, rows] in window order. */
  ready(): [number, EvidenceRow[]][] {
    const out: [number, EvidenceRow[]][] = [];
    for (let m = this.ch.poll(); m; m = this.ch.poll()) this.take(m, out);
    return out;
  }

  /** The rows still to come, once every window has been asked for; then the references are in. */
  async rest(): Promise<[number, EvidenceRow[]][]> {
    this.ask();
    const out: [number, EvidenceRow[]][] = [];
    while (this.inFlight > 0 || !this.refs) this.take(await this.ch.next(), out);
    return out;
  }

  /** The references fitted in the thread (after `rest`). */
  references(): EvidenceReferences {
    if (!this.refs) throw new Error('evidence thread: references not received yet');
    return this.refs;
  }

  private take(m: Out, out: [number, EvidenceRow[]][]): void {
    if (m.type === 'refs') {
      this.refs = m.refs;
      return;
    }
    this.inFlight--;
    const c = m.rows;
    let k = 0;
    for (let i = 0; i < c.index.length; i++) {
      const rows: EvidenceRow[] = new Array(c.rows[i]);
      for (let j = 0; j < rows.length; j++, k++) {
        const r: EvidenceRow = { entity: c.entity[k], features: c.features.subarray(k * c.w, (k + 1) * c.w), items: c.items[k] };
        const pod = c.pod[k];
        if (pod !== null) r.pod = pod;
        rows[j] = r;
      }
      out.push([c.index[i], rows]);
    }
  }

  async stop(): Promise<void> {
    await this.ch.stop();
  }
}

/** The thread: the same pass as on the main thread, over the spans and records handed over. */
function run(seed: number): void {
  const port = parentPort!;
  const pass = new EvidencePass(seed);
  const names: string[] = [];
  /** span objects by number; numbers below the current window's least are never asked for again */
  let spans: (Span | undefined)[] = [];
  let base = 0;
  /** the fitting pass's evidence of each window, until its rows are made */
  const windows = new Map<number, EvidenceWindow>();
  let refs: EvidenceReferences | undefined;
  let templateOf: (shape: number) => number = () => -1;
  let describe: (t: number) => string = String;
  port.on('message', (m: In) => {
    try {
      if (m.type === 'finish') {
        const t = m.templates;
        const texts = new Map(m.texts);
        const bodies = m.bodies;
        templateOf = (s) => t[s];
        describe = (x) => describeTemplate(x, texts, bodies);
        refs = pass.finish(templateOf);
        port.postMessage({ type: 'refs', refs } satisfies Out);
        spans = [];
        return;
      }
      if (m.type === 'rows') {
        const out = rowsOf(m.windows, windows, refs, templateOf, describe);
        port.postMessage(out, [out.rows.features.buffer as ArrayBuffer]);
        return;
      }
      for (const x of m.names) names.push(x);
      const c = m.spans;
      const first = spans.length + base;
      for (let i = 0; i < c.start.length; i++) {
        const p = c.parentId[i];
        spans.push({
          traceId: c.traceId[i],
          spanId: c.spanId[i],
          parentId: p === null ? undefined : p,
          entity: names[c.entity[i]],
          service: names[c.service[i]],
          operation: names[c.operation[i]],
          start: c.start[i],
          duration: c.duration[i],
          status: names[c.status[i]] as SpanStatus,
        });
      }
      for (const [i, x] of c.extra) Object.assign(spans[first + i - base]!, x);
      for (const w of m.windows) {
        const ids = w.ids;
        const slice: Span[] = new Array(ids.length);
        let least = Infinity;
        for (let j = 0; j < ids.length; j++) {
          slice[j] = spans[ids[j] - base]!;
          if (ids[j] < least) least = ids[j];
        }
        const r = w.records ? foreignRecords(w.records, (s) => s) : { logs: [], shapes: [] };
        const ev = pass.add({ start: w.start, end: w.end }, slice, r.logs, r.shapes, w.train);
        if (ev) windows.set(w.index, ev);
        // drop the objects no later window can name (a window names the spans of the previous
        // window with spans, or new ones)
        if (ids.length && least - base > 4096) {
          spans = spans.slice(least - base);
          base = least;
        }
      }
    } catch (e) {
      port.postMessage(failureOf(e));
    }
  });
}

/** The rows of the windows asked for, as columns (one buffer of features for them all). */
function rowsOf(
  asked: { index: number; res: [string, SentResources][] | null }[],
  windows: Map<number, EvidenceWindow>,
  refs: EvidenceReferences | undefined,
  templateOf: (shape: number) => number,
  describe: (t: number) => string,
): Out & { type: 'rows' } {
  const all: EvidenceRow[][] = [];
  let n = 0;
  let w = 0;
  for (const a of asked) {
    let res: Map<string, PodResources> | undefined;
    if (a.res) {
      res = new Map();
      for (const [pod, r] of a.res) res.set(pod, { ...r, items: r.items.map((x) => ({ dev: x.dev, text: () => x.text })) });
    }
    const rows = evidenceRows(windows.get(a.index), res, refs, templateOf, describe);
    windows.delete(a.index);
    all.push(rows);
    n += rows.length;
    if (rows.length) w = rows[0].features.length;
  }
  const c: RowColumns = { index: Int32Array.from(asked, (a) => a.index), rows: Int32Array.from(all, (r) => r.length), entity: [], pod: [], items: [], features: new Float32Array(n * w), w };
  let k = 0;
  for (const rows of all) {
    for (const r of rows) {
      c.entity.push(r.entity);
      c.pod.push(r.pod ?? null);
      c.items.push(r.items);
      c.features.set(r.features, k * w);
      k++;
    }
  }
  return { type: 'rows', rows: c };
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === KIND) {
  run((workerData as { seed: number }).seed);
}
