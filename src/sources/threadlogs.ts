import type { Dataset, LogRecord, ProblemLog, TimeRange } from '../telemetry/index.js';

/**
 * Log streams that another thread can read. The encode stage reads and summarises the logs of
 * its fitting pass in a worker thread (src/encode/threads/logs.ts); a worker cannot be
 * handed a dataset object, so a source that can read its logs elsewhere describes that reading
 * as plain data (a descriptor), and the worker turns the descriptor back into records through
 * this registry. The thread depends on this contract only, not on any source.
 *
 * A source takes part by (1) registering a reader under a name when its module loads, and (2)
 * giving its datasets a `threadLogReader()` method that returns a descriptor naming that reader
 * and its module. The worker imports the module (which registers the reader in the worker's
 * own registry) and calls the reader. A dataset without the method, or whose method returns
 * undefined, reads its logs on the main thread.
 */

/** How to read a dataset's log stream in another thread. Plain data: it survives structured clone. */
export interface LogReaderDescriptor<A = unknown> {
  /** the name the reader is registered under */
  reader: string;
  /** URL of the module that registers the reader (its `import.meta.url`); the worker imports it */
  module: string;
  /** the reader's arguments (plain data: file lists, ordering bounds) */
  args: A;
}

/**
 * Reads the records of `range` (all when undefined): the same records, in the same order, as
 * the described dataset's `logs(range)`; problems go to `problems`.
 */
export type LogReader<A = unknown> = (args: A, range: TimeRange | undefined, problems: ProblemLog) => AsyncIterable<LogRecord[]>;

/** A dataset that can hand its log reading to another thread. */
export interface ThreadLogSource {
  threadLogReader(): LogReaderDescriptor | undefined;
}

const readers = new Map<string, LogReader>();

/** Registers `read` under `name` (a source module does this when it loads); a second registration of a name replaces the first. */
export function registerLogReader<A>(name: string, read: LogReader<A>): void {
  readers.set(name, read as LogReader);
}

/** The reader registered under `name`; throws when there is none. */
export function logReader(name: string): LogReader {
  const read = readers.get(name);
  if (!read) {
    const known = [...readers.keys()].sort();
    throw new Error(`no log reader named "${name}" is registered (registered: ${known.length ? known.join(', ') : 'none'})`);
  }
  return read;
}

/** In the reading thread: loads the descriptor's module (which registers its reader) and returns a reader of its stream. */
export async function loadLogReader<A>(d: LogReaderDescriptor<A>): Promise<(range: TimeRange | undefined, problems: ProblemLog) => AsyncIterable<LogRecord[]>> {
  if (!readers.has(d.reader)) await import(d.module);
  const read = logReader(d.reader);
  return (range, problems) => read(d.args, range, problems);
}

/** The descriptor of `ds`'s log stream, or undefined when its logs can only be read where it was opened. */
export function threadLogReaderOf(ds: Dataset): LogReaderDescriptor | undefined {
  const describe = (ds as Partial<ThreadLogSource>).threadLogReader;
  return typeof describe === 'function' ? describe.call(ds) : undefined;
}
