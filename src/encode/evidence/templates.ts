import type { LogRecord } from '../../telemetry/index.js';
import { TemplateMiner } from '../templates/index.js';
import type { TemplatedLog } from './types.js';

export interface TemplatedLogs {
  logs: TemplatedLog[];
  text: (id: number) => string | undefined;
}

/**
 * A log statement's source location as logging layouts print it (`package.Class#123`, as
 * TrainTicket's logback layout does). The miner masks the line number like any number, which
 * merges two statements of similar text; the location tells them apart, and "which statement
 * ran" is exactly what a caught exception changes.
 */
const SOURCE_LOCATION = /\b([A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+#\d+)\b/;

/**
 * Mines templates over all the given logs (normal and query windows together, no labels
 * involved), then resolves merged ids, so a template keeps one id across windows. With
 * `sourceLocation` (default true) a template is split by the source location in the line.
 */
export function assignTemplates(records: readonly LogRecord[], miner = new TemplateMiner({ params: false }), sourceLocation = true): TemplatedLogs {
  const ids = new Int32Array(records.length);
  for (let i = 0; i < records.length; i++) ids[i] = miner.add(records[i].body).templateId;
  const keys = new Map<string, number>();
  const texts = new Map<number, string>();
  const logs: TemplatedLog[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const tid = miner.resolve(ids[i]);
    const loc = sourceLocation ? SOURCE_LOCATION.exec(records[i].body.slice(0, 200))?.[1] : undefined;
    const key = loc ? `${tid}@${loc}` : String(tid);
    let id = keys.get(key);
    if (id === undefined) {
      keys.set(key, (id = keys.size + 1));
      texts.set(id, loc ? `${miner.template(tid) ?? `#${tid}`} @${loc}` : (miner.template(tid) ?? `#${tid}`));
    }
    logs[i] = { record: records[i], template: id };
  }
  return { logs, text: (id) => texts.get(id) };
}
