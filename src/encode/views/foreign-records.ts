import type { LogRecord } from '../../telemetry/index.js';
import type { ForeignRecords } from './builder.js';

/*
 * Log records as the threads hand them over (`ForeignRecords`: columns, not objects, so that a
 * message is cheap to clone) and back. A module of its own so that the log thread need not load
 * the evidence code.
 */

/**
 * Records `pick` of `logs` in the form the threads hand them over (the inverse of
 * `foreignRecords`): a body only where the evidence reads one, ERROR / FATAL records with a span
 * id (a caller's complaint); `shapes[i]` is record i's shape number.
 */
export function packForeignRecords(logs: readonly LogRecord[], pick: readonly number[], shapes: ArrayLike<number>): ForeignRecords {
  return {
    time: Float64Array.from(pick, (i) => logs[i].time),
    traceId: pick.map((i) => logs[i].traceId ?? null),
    spanId: pick.map((i) => logs[i].spanId ?? null),
    entity: pick.map((i) => logs[i].entity),
    service: pick.map((i) => logs[i].service),
    shape: Int32Array.from(pick, (i) => shapes[i]),
    errorBody: pick.map((i) => (logs[i].spanId && (logs[i].severity === 'error' || logs[i].severity === 'fatal') ? logs[i].body : null)),
  };
}

/**
 * Records handed over by the log thread (`ForeignLogs.records`: each record once, with the
 * first window whose end is after it), as `EvidencePass.add` takes them; `localShape` maps the
 * thread's line shapes to this side's.
 */
export function foreignRecords(r: ForeignRecords, localShape: (shape: number) => number): { logs: LogRecord[]; shapes: number[] } {
  const logs: LogRecord[] = new Array(r.time.length);
  const shapes: number[] = new Array(r.time.length);
  for (let i = 0; i < r.time.length; i++) {
    // only the call-outcome complaints read a severity and a body: of ERROR records with a span id
    const err = r.errorBody?.[i];
    logs[i] = { time: r.time[i], entity: r.entity[i], service: r.service[i], severity: err != null ? 'error' : 'unknown', body: err ?? '', traceId: r.traceId[i] ?? undefined, spanId: r.spanId[i] ?? undefined };
    shapes[i] = localShape(r.shape[i]);
  }
  return { logs, shapes };
}
