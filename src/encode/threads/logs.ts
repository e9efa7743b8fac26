import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ProblemLog, guessKind, type Dataset, type LogRecord, type ProblemKind, type TimeRange } from '../../telemetry/index.js';
import { loadLogReader, threadLogReaderOf, type LogReaderDescriptor } from '../../sources/threadlogs.js';
import { windowStream, type WindowSpec } from '../../windows/index.js';
import type { ForeignLogs } from '../views/builder.js';
import { ServiceNumbers, ShapeTable, ownCopy, summarizeLogs } from '../views/logs.js';
import { packForeignRecords } from '../views/foreign-records.js';
import { SliceMemo } from '../views/memo.js';
import { WorkerChannel, failureOf, startModuleWorker } from './worker.js';

/**
 * Log summaries of a fitting pass made in a worker thread, while the main thread reads metrics
 * and traces: the thread reads and parses the log files, cuts them into the pass's windows,
 * and works out each line's shape and counts per (service, shape). Only the summaries, the new
 * shapes and the first training line of each shape cross over; the main thread's template
 * miner learns from those exactly as from the records themselves. (The miner stays on the
 * main thread: with it, this thread would be the slower of the two.)
 *
 * Sources that can be read in a thread are those that describe their log stream as plain data
 * (src/sources/threadlogs.ts: Nezha exports and OTLP folders, whose logs are files on disk).
 * Any other dataset reads its logs on the main thread.
 */

const KIND = 'runtimeslicer:log-summaries';

interface Settings {
  logs: LogReaderDescriptor;
  /** the dataset's ordering bound: windowStream cuts the same windows with it */
  disorderMs: number;
  format: Dataset['format'];
  timeRange: TimeRange;
  spec: WindowSpec;
  range?: TimeRange;
  /** per window position: 1 for a training window */
  train: Uint8Array;
  /** entity → service, for records that name no service */
  services: [string, string][];
  /** send the records themselves too (the views' evidence joins them to spans) */
  records: boolean;
}

/** A window's logs (windows without logs have no part). */
interface Part {
  index: number;
  logs: ForeignLogs;
}

type Problem = [string, number, string, ProblemKind];

type Out =
  | { type: 'parts'; parts: Part[]; upTo: number; problems: Problem[] }
  | { type: 'end'; windows: number; problems: Problem[] };

/** The main thread's side: each window's log summary, in window order. */
export class LogSummaryThread {
  private parts: Part[] = [];
  private upTo = -1;
  private ended = false;

  private constructor(
    private readonly ch: WorkerChannel<never, Out>,
    private readonly problems: ProblemLog,
  ) {}

  /**
   * Starts the thread for a pass over `ds` cut by `spec` (within `range`), or returns
   * undefined when `ds` cannot be read from another thread. `train[i]` says whether window i
   * (position in the pass) is a training window.
   */
  static start(ds: Dataset, spec: WindowSpec, range: TimeRange | undefined, train: Uint8Array, records = false): LogSummaryThread | undefined {
    // case-based datasets cut windows per case, which this thread does not do
    if (ds.cases?.length) return undefined;
    const logs = threadLogReaderOf(ds);
    if (!logs) return undefined;
    const settings: Settings = {
      logs,
      disorderMs: ds.disorderMs,
      format: ds.format,
      timeRange: { start: ds.timeRange.start, end: ds.timeRange.end },
      spec: { lengthMs: spec.lengthMs, strideMs: spec.strideMs },
      range: range ? { start: range.start, end: range.end } : undefined,
      train,
      services: ds.entities.map((e) => [e.id, e.service || e.id]),
      records,
    };
    const worker = startModuleWorker(import.meta.url, { kind: KIND, settings });
    return worker ? new LogSummaryThread(new WorkerChannel<never, Out>(worker), ds.problems) : undefined;
  }

  /** The logs of window `index` (windows asked for in increasing order); undefined: none. */
  async logsOf(index: number): Promise<ForeignLogs | undefined> {
    for (;;) {
      while (this.parts.length > 0 && this.parts[0].index < index) this.parts.shift();
      if (this.parts.length > 0) return this.parts[0].index === index ? this.parts.shift()!.logs : undefined;
      if (this.ended || this.upTo >= index) return undefined;
      await this.receive();
    }
  }

  /** Waits for the thread's end (its last problems). */
  async finish(): Promise<void> {
    while (!this.ended) await this.receive();
  }

  private async receive(): Promise<void> {
    const m = await this.ch.next();
    for (const [file, line, reason, kind] of m.problems) this.problems.add(file, line, reason, kind);
    if (m.type === 'end') this.ended = true;
    else {
      for (const p of m.parts) this.parts.push(p);
      this.upTo = m.upTo;
    }
  }

  async stop(): Promise<void> {
    await this.ch.stop();
  }
}

/** Problems of the thread's reading, handed to the main thread's log with the next message. */
class ForwardedProblems extends ProblemLog {
  pending: Problem[] = [];
  override add(file: string, line: number, reason: string, kind: ProblemKind = guessKind(reason)): void {
    super.add(file, line, reason, kind);
    this.pending.push([file, line, reason, kind]);
  }
  take(): Problem[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }
}

/** Windows with logs sent together, and windows passed between messages at most. */
const PARTS_PER_MESSAGE = 8;
const WINDOWS_PER_MESSAGE = 64;

async function run(s: Settings): Promise<void> {
  const port = parentPort!;
  const problems = new ForwardedProblems(0);
  const empty = async function* <T>(): AsyncGenerator<T[]> {};
  const read = await loadLogReader(s.logs);
  // Only what windowStream reads: the main thread's time range (hence the same windows) and the log stream.
  const source: Dataset = {
    format: s.format,
    root: '',
    entities: [],
    timeRange: s.timeRange,
    labels: [],
    problems,
    disorderMs: s.disorderMs,
    notes: [],
    topology: async () => ({ entities: [], edges: [] }),
    metrics: () => empty(),
    spans: () => empty(),
    logs: (range) => read(range, problems),
  };
  const serviceMap = new Map(s.services);
  const serviceOf = (e: string) => serviceMap.get(e) ?? e;
  const summarize = logSummaries(s, serviceOf);
  let parts: Part[] = [];
  let sinceMessage = 0;
  let windows = 0;
  let last = -1;
  const send = (upTo: number) => {
    port.postMessage({ type: 'parts', parts, upTo, problems: problems.take() } satisfies Out);
    parts = [];
    sinceMessage = 0;
  };
  for await (const slice of windowStream(source, s.spec, { range: s.range, modalities: ['logs'] })) {
    windows++;
    sinceMessage++;
    last = slice.window.index;
    const part = summarize.window(slice);
    if (part) parts.push(part);
    if (parts.length >= PARTS_PER_MESSAGE || sinceMessage >= WINDOWS_PER_MESSAGE) send(slice.window.index);
  }
  if (parts.length > 0) send(last);
  port.postMessage({ type: 'end', windows, problems: problems.take() } satisfies Out);
}

interface Summarizer {
  window(slice: { window: { index: number; start: number; end: number }; logs: readonly LogRecord[] }): Part | undefined;
}

function logSummaries(s: Settings, serviceOf: (e: string) => string): Summarizer {
  const table = new ShapeTable();
  const memo = new SliceMemo<LogRecord, number>((r) => table.idOf(r.body));
  const numbers = new ServiceNumbers();
  /** per shape: seen in a training window yet */
  let trained = new Uint8Array(0);
  let announced = 0;
  /** records before this time were sent with an earlier window */
  let sentUpTo = -Infinity;
  return {
    window: (slice) => {
      const logs = slice.logs;
      if (logs.length === 0) return undefined;
      const w = slice.window;
      const sh = memo.map(logs);
      const newShapes: [number, string][] = [];
      for (; announced < table.size; announced++) newShapes.push([table.keyOf(announced), table.bodies[announced]]);
      const part: Part = { index: w.index, logs: { summary: summarizeLogs(logs, w, serviceOf, sh, numbers), newShapes } };
      if (s.records) {
        // each record once: those after the previous window sent (windows overlap)
        const pick: number[] = [];
        for (let i = 0; i < logs.length; i++) if (logs[i].time >= sentUpTo && logs[i].time < w.end) pick.push(i);
        sentUpTo = Math.max(sentUpTo, w.end);
        part.logs.records = packForeignRecords(logs, pick, sh);
      }
      if (s.train[w.index]) {
        if (trained.length < table.size) {
          const grown = new Uint8Array(Math.max(table.size, 2 * trained.length));
          grown.set(trained);
          trained = grown;
        }
        // the miner learns the first training line of each shape (lines of a shape mask alike)
        const lines: [number, string | null][] = [];
        for (let i = 0; i < logs.length; i++) {
          const k = sh[i];
          if (trained[k]) continue;
          trained[k] = 1;
          const body = logs[i].body;
          lines.push([k, body === table.bodies[k] ? null : ownCopy(body)]);
        }
        part.logs.trainLines = lines;
      }
      return part;
    },
  };
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === KIND) {
  run((workerData as { settings: Settings }).settings).catch((e: unknown) => parentPort!.postMessage(failureOf(e)));
}
