import { isMainThread, parentPort, workerData, type Worker } from 'node:worker_threads';
import { basename } from 'node:path';
import { loadDataset } from '../sources/index.js';
import { createBackbone, type EncodeProgress } from '../encode/index.js';
import { failureOf, startModuleWorker, type WorkerFailure } from '../encode/threads/index.js';
import { evaluateDataset, type EvalReport } from '../eval/index.js';
import type { ReportTimeline } from '../eval/report/index.js';
import type { Dataset } from '../telemetry/index.js';
import type { WindowSpec } from '../windows/index.js';

/**
 * The demo's real-data step (evaluate on the Nezha TrainTicket export) in a worker thread,
 * started when the demo starts: the simulator steps before it are mostly one core's work, so on
 * two cores the real-data evaluation runs beside them instead of after them (the demo's ≤ 3 min
 * budget). The same `evaluateDataset` call with the same options as in the main thread, so the
 * report is the same; where no worker can be started the demo runs it in-line, as before.
 */

const KIND = 'runtimeslicer-demo-real';

export interface RealDataResult {
  report: EvalReport;
  /** data problems reported while reading */
  problems: number;
  faults: NonNullable<ReportTimeline['faults']>;
}

interface Settings {
  path: string;
  seed: number;
  spec: WindowSpec;
}

export function faultSpans(ds: Dataset): NonNullable<ReportTimeline['faults']> {
  return ds.labels.map((f) => ({ id: f.id, start: f.start, end: f.end, type: f.type, rootCause: f.rootCause }));
}

/** The evaluation itself (5 grouped folds, the hash backbone, no model column). */
export async function evaluateRealData(path: string, seed: number, spec: WindowSpec, onProgress?: (p: EncodeProgress) => void): Promise<RealDataResult> {
  const ds = await loadDataset(path);
  const backbone = await createBackbone('hash');
  const report = (await evaluateDataset(ds, { backbone, spec, folds: 5, seed, models: [], name: basename(path), onProgress })).report;
  return { report, problems: ds.problems.total, faults: faultSpans(ds) };
}

/** A real-data evaluation running in a worker thread; `result()` waits for it. */
export class RealDataThread {
  private readonly done: Promise<RealDataResult>;

  private constructor(worker: Worker) {
    this.done = new Promise<RealDataResult>((resolve, reject) => {
      worker.once('message', (m: { type: 'done'; result: RealDataResult } | WorkerFailure) => {
        if (m.type === 'done') resolve(m.result);
        else reject(Object.assign(new Error(m.message), { name: m.name ?? 'Error', stack: m.stack }));
        void worker.terminate();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`the real-data evaluation thread exited with code ${code} before it finished`)));
    });
    // nothing waits on it until the demo's last step: an early failure must not be unhandled
    this.done.catch(() => undefined);
  }

  /** Starts the evaluation of `path` in a thread, or undefined where no thread can start. */
  static start(path: string, seed: number, spec: WindowSpec): RealDataThread | undefined {
    const settings: Settings = { path, seed, spec: { lengthMs: spec.lengthMs, strideMs: spec.strideMs } };
    const worker = startModuleWorker(import.meta.url, { kind: KIND, settings });
    return worker ? new RealDataThread(worker) : undefined;
  }

  result(): Promise<RealDataResult> {
    return this.done;
  }
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === KIND) {
  const s = (workerData as { settings: Settings }).settings;
  evaluateRealData(s.path, s.seed, s.spec)
    .then((result) => parentPort!.postMessage({ type: 'done', result }))
    .catch((e: unknown) => parentPort!.postMessage(failureOf(e)));
}
