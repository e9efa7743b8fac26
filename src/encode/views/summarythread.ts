import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { ProblemLog, type Dataset, type LogRecord, type Span, type TimeRange } from '../../telemetry/index.js';
import { nezhaMinuteStreams, readNezhaLogs, readNezhaSpans, type NezhaMinuteStreams } from '../../sources/index.js';
import { windowStream, type WindowSpec } from '../../windows/index.js';
import { TemplateMiner, type TemplateMinerOptions } from '../templates/index.js';
import type { ForeignLogs, ForeignMiner } from './builder.js';
import { ServiceNumbers, ShapeTable, logWindowOf, summarizeLogs } from './logs.js';
import { SliceMemo } from './memo.js';
import { WorkerChannel, failureOf, startModuleWorker } from './thread.js';
import { SpanIndex, traceWindow, type TraceWindow } from './traces.js';

/**
 * Per-window summaries of one modality made in a worker thread during a fitting pass, while
 * the main thread reads the others: the thread reads and parses the files, cuts them into the
 * pass's windows and summarises each window as `ViewBuilder.beginFit` would.
 *
 * - traces: each window's `TraceWindow` (per-edge and per-service figures).
 * - logs: each line's shape, counts per (service, shape), and the template miner trained on
 *   the first training line of each shape, in stream order (as `ViewBuilder.fit` does). Only
 *   the summaries, the new shapes, the training windows' template counts and, at the end, the
 *   trained miner cross over.
 *
 * Sources that can be read in a thread: Nezha exports opened by `openNezha` (their trace and
 * log streams are plain files). Any other dataset is read on the main thread.
 */

const KIND = 'runtimeslicer:window-summaries';

export type SummaryModality = 'traces' | 'logs';

interface Settings {
  modality: SummaryModality;
  streams: NezhaMinuteStreams;
  timeRange: TimeRange;
  spec: WindowSpec;
  range?: TimeRange;
  /** per window position: 1 for a training window */
  train: Uint8Array;
  /** entity → service, for records that name no service */
  services: [string, string][];
  miner: TemplateMinerOptions;
}

/** What a window had of the thread's modality (windows without any have no part). */
export interface SummaryPart {
  index: number;
  logs?: ForeignLogs;
  traces?: TraceWindow;
}

type Problem = [string, number, string];

type Out =
  | { type: 'parts'; parts: SummaryPart[]; upTo: number; problems: Problem[] }
  | { type: 'end'; windows: number; problems: Problem[]; miner?: ForeignMiner };

/** The main thread's side: each window's part, in window order. */
export class SummaryThread {
  private parts: SummaryPart[] = [];
  private upTo = -1;
  private ended = false;
  private trained: ForeignMiner | undefined;

  private constructor(
    private readonly ch: WorkerChannel<never, Out>,
    private readonly problems: ProblemLog,
  ) {}

  /**
   * Starts a thread for one modality of a pass over `ds` cut by `spec` (within `range`), or
   * returns undefined when `ds` cannot be read from another thread. `train[i]` says whether
   * window i (position in the pass) is a training window; `miner`, the options of the template
   * miner to train (logs).
   */
  static start(ds: Dataset, modality: SummaryModality, spec: WindowSpec, range: TimeRange | undefined, train: Uint8Array, miner: TemplateMinerOptions): SummaryThread | undefined {
    const streams = nezhaMinuteStreams(ds);
    if (!streams || ds.cases?.length) return undefined;
    const settings: Settings = {
      modality,
      streams,
      timeRange: { start: ds.timeRange.start, end: ds.timeRange.end },
      spec: { lengthMs: spec.lengthMs, strideMs: spec.strideMs },
      range: range ? { start: range.start, end: range.end } : undefined,
      train,
      services: ds.entities.map((e) => [e.id, e.service || e.id]),
      miner,
    };
    return new SummaryThread(new WorkerChannel<never, Out>(startModuleWorker(import.meta.url, { kind: KIND, settings })), ds.problems);
  }

  /** The part of window `index` (windows asked for in increasing order); undefined: no data. */
  async partOf(index: number): Promise<SummaryPart | undefined> {
    for (;;) {
      while (this.parts.length > 0 && this.parts[0].index < index) this.parts.shift();
      if (this.parts.length > 0) return this.parts[0].index === index ? this.parts.shift() : undefined;
      if (this.ended || this.upTo >= index) return undefined;
      const m = await this.ch.next();
      for (const [file, line, reason] of m.problems) this.problems.add(file, line, reason);
      if (m.type === 'end') {
        this.ended = true;
        this.trained = m.miner;
      } else {
        for (const p of m.parts) this.parts.push(p);
        this.upTo = m.upTo;
      }
    }
  }

  /** Waits for the end of the pass; the trained miner of a logs thread. */
  async finish(): Promise<ForeignMiner | undefined> {
    while (!this.ended) await this.partOf(Number.MAX_SAFE_INTEGER);
    return this.trained;
  }

  async stop(): Promise<void> {
    await this.ch.stop();
  }
}

/** Problems of the thread's reading, handed to the main thread's log with the next message. */
class ForwardedProblems extends ProblemLog {
  pending: Problem[] = [];
  override add(file: string, line: number, reason: string): void {
    super.add(file, line, reason);
    this.pending.push([file, line, reason]);
  }
  take(): Problem[] {
    const p = this.pending;
    this.pending = [];
    return p;
  }
}

/** Windows with data sent together, and windows passed between messages at most. */
const PARTS_PER_MESSAGE = 8;
const WINDOWS_PER_MESSAGE = 64;

async function run(s: Settings): Promise<void> {
  const port = parentPort!;
  const problems = new ForwardedProblems(0);
  const empty = async function* <T>(): AsyncGenerator<T[]> {};
  // Only what windowStream reads: the main thread's time range (hence the same windows) and one stream.
  const source: Dataset = {
    format: 'nezha',
    root: '',
    entities: [],
    timeRange: s.timeRange,
    labels: [],
    problems,
    disorderMs: s.streams.disorderMs,
    notes: [],
    topology: async () => ({ entities: [], edges: [] }),
    metrics: () => empty(),
    spans: (range) => (s.modality === 'traces' ? readNezhaSpans(s.streams, range, problems) : empty()),
    logs: (range) => (s.modality === 'logs' ? readNezhaLogs(s.streams, range, problems) : empty()),
  };
  const serviceMap = new Map(s.services);
  const serviceOf = (e: string) => serviceMap.get(e) ?? e;
  const summarize = s.modality === 'traces' ? traceSummaries(serviceOf) : logSummaries(s, serviceOf);
  let parts: SummaryPart[] = [];
  let sinceMessage = 0;
  let windows = 0;
  const send = (upTo: number) => {
    port.postMessage({ type: 'parts', parts, upTo, problems: problems.take() } satisfies Out);
    parts = [];
    sinceMessage = 0;
  };
  for await (const slice of windowStream(source, s.spec, { range: s.range, modalities: [s.modality] })) {
    windows++;
    sinceMessage++;
    const part = summarize.window(slice);
    if (part) parts.push(part);
    if (parts.length >= PARTS_PER_MESSAGE || sinceMessage >= WINDOWS_PER_MESSAGE) send(slice.window.index);
  }
  if (parts.length > 0) send(Number.MAX_SAFE_INTEGER);
  port.postMessage({ type: 'end', windows, problems: problems.take(), miner: summarize.end() } satisfies Out);
}

interface Summarizer {
  window(slice: { window: { index: number; start: number; end: number }; spans: readonly Span[]; logs: readonly LogRecord[] }): SummaryPart | undefined;
  end(): ForeignMiner | undefined;
}

function traceSummaries(serviceOf: (e: string) => string): Summarizer {
  const index = new SpanIndex(serviceOf);
  return {
    window: (slice) => (slice.spans.length > 0 ? { index: slice.window.index, traces: traceWindow(slice.spans, slice.window, index) } : undefined),
    end: () => undefined,
  };
}

function logSummaries(s: Settings, serviceOf: (e: string) => string): Summarizer {
  const table = new ShapeTable();
  const memo = new SliceMemo<LogRecord, number>((r) => table.idOf(r.body));
  const numbers = new ServiceNumbers();
  const miner = new TemplateMiner(s.miner);
  /** per shape: its template id under the miner in training (−1: not seen in training yet) */
  let trainIds = new Int32Array(0);
  const bodyOf = (k: number) => table.bodies[k];
  let announced = 0;
  return {
    window: (slice) => {
      const logs = slice.logs;
      if (logs.length === 0) return undefined;
      const w = slice.window;
      const sh = memo.map(logs);
      const newShapes: [number, string][] = [];
      for (; announced < table.size; announced++) newShapes.push([table.keyOf(announced), table.bodies[announced]]);
      const summary = summarizeLogs(logs, w, serviceOf, sh, numbers);
      const part: SummaryPart = { index: w.index, logs: { summary, newShapes } };
      if (s.train[w.index]) {
        if (trainIds.length < table.size) {
          const grown = new Int32Array(Math.max(table.size, 2 * trainIds.length)).fill(-1);
          grown.set(trainIds);
          trainIds = grown;
        }
        // the miner learns the first training line of each shape (lines of a shape mask alike)
        for (let i = 0; i < logs.length; i++) if (trainIds[sh[i]] < 0) trainIds[sh[i]] = miner.add(logs[i].body).templateId;
        part.logs!.trained = logWindowOf(summary, (k) => trainIds[k], bodyOf, s.miner);
      }
      return part;
    },
    end: () => {
      // templates of every shape under the final miner, as the builder would ask for them
      const shapeIds = new Int32Array(table.size);
      for (let k = 0; k < table.size; k++) shapeIds[k] = miner.match(table.bodies[k])?.templateId ?? -1;
      return { state: miner.toJSON(), shapeIds };
    },
  };
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === KIND) {
  run((workerData as { settings: Settings }).settings).catch((e: unknown) => parentPort!.postMessage(failureOf(e)));
}
