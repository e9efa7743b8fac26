import { Worker, type Transferable } from 'node:worker_threads';

/**
 * The generic plumbing of this package's worker threads: start a module of the package in a
 * thread, carry its messages and its failures back. The encode stage's workers sit beside this
 * file (logs.ts: the log reader of the fitting pass; evidence.ts: the span and log evidence;
 * sink.ts: the embedding and Arrow-writing sink of the second pass), so both cores work; the
 * CLI's real-data demo (cli/demo-real.ts) runs its evaluation in a thread through it too.
 */

/**
 * Starts a module of this package in a worker thread, or returns undefined where it cannot
 * (callers then do the work on the main thread). From the compiled package the module is the
 * worker's entry. From the TypeScript sources (tests and benchmarks run under tsx) a worker
 * does not inherit tsx's loader for its entry, so a small bootstrap registers tsx first; under
 * any other TypeScript loader there are no threads.
 */
export function startModuleWorker(moduleUrl: string, workerData: unknown): Worker | undefined {
  if (moduleUrl.endsWith('.ts')) {
    let tsx: string;
    try {
      tsx = import.meta.resolve('tsx/esm/api');
    } catch {
      return undefined;
    }
    const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(moduleUrl)}); });`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL(moduleUrl), { workerData });
}

/** An error from a worker, as sent in a message (errors do not survive structured clone whole). */
export interface WorkerFailure {
  type: 'error';
  message: string;
  name?: string;
  stack?: string;
}

export function failureOf(e: unknown): WorkerFailure {
  const err = e instanceof Error ? e : new Error(String(e));
  return { type: 'error', message: err.message, name: err.name, stack: err.stack };
}

function errorOf(f: WorkerFailure): Error {
  const e = new Error(f.message);
  if (f.name) e.name = f.name;
  if (f.stack) e.stack = f.stack;
  return e;
}

/**
 * The main thread's side of a worker: messages in arrival order through `next()`; a failure
 * message, an error event or an early exit rejects the waiting and every later `next()`.
 */
export class WorkerChannel<Out, In extends { type: string }> {
  private queue: In[] = [];
  private waiting: { resolve: (m: In) => void; reject: (e: Error) => void }[] = [];
  private failed: Error | undefined;
  private exited = false;

  constructor(readonly worker: Worker) {
    worker.on('message', (m: In | WorkerFailure) => {
      if (m.type === 'error') this.fail(errorOf(m as WorkerFailure));
      else {
        const w = this.waiting.shift();
        if (w) w.resolve(m as In);
        else this.queue.push(m as In);
      }
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new Error(`worker thread exited (code ${code}) before its work was done`));
    });
  }

  private fail(e: Error): void {
    this.failed ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.failed);
  }

  post(message: Out, transfer?: readonly Transferable[]): void {
    if (this.failed) throw this.failed;
    this.worker.postMessage(message, transfer as Transferable[] | undefined);
  }

  /** A message that has arrived, without waiting (undefined: none yet); a failure throws. */
  poll(): In | undefined {
    const m = this.queue.shift();
    if (m) return m;
    if (this.failed) throw this.failed;
    return undefined;
  }

  next(): Promise<In> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  /** Ends the thread (whatever it was doing); safe to call twice. */
  async stop(): Promise<void> {
    this.failed ??= new Error('worker thread stopped');
    if (!this.exited) await this.worker.terminate();
  }
}
