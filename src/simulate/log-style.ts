/**
 * How the simulator writes log lines (`--log-style`): `text`, or `json` — one JSON object per
 * line, as the Go, Node and Python services of Online Boutique write them.
 */
import type { LogRecord } from '../telemetry/index.js';
import type { Model } from './model.js';

export type LogStyle = 'text' | 'json';

const PINO_LEVEL: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, unknown: 30 };

/**
 * One log record as a JSON line, in one of three shapes real services print (chosen by the
 * service's place in the model, so a run mixes them as Online Boutique does): Go's (keys
 * sorted, no spaces, a request id beside the message, the level in lower case), pino's (the
 * level a number, the message under `msg`) and Python's (`json.dumps` spacing, the level in
 * capitals). The message starts with the trace and span ids, as Online Boutique's services
 * write them.
 */
export function structuredLine(l: LogRecord, serviceIdx: number): string {
  const message = `TraceID: ${l.traceId ?? ''} SpanID: ${l.spanId ?? ''} ${l.body}`;
  const iso = new Date(Math.floor(l.time)).toISOString();
  const level = l.severity === 'unknown' ? 'info' : l.severity;
  switch (serviceIdx % 3) {
    case 0:
      return JSON.stringify({ 'http.req.id': `${(l.traceId ?? '').slice(0, 8)}-${(l.spanId ?? '').slice(0, 4)}`, message, severity: level, timestamp: iso });
    case 1:
      return JSON.stringify({ level: PINO_LEVEL[l.severity], time: Math.floor(l.time), pid: 1, hostname: l.entity, name: `${l.service}-server`, msg: message, v: 1 });
    default:
      return '{' + Object.entries({ timestamp: iso, severity: level.toUpperCase(), name: `${l.service}-server`, message }).map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`).join(', ') + '}';
  }
}

/** `structuredLine` with each service's shape fixed by its place in the model. */
export function jsonLogLines(model: Model): (l: LogRecord) => string {
  const idx = new Map(model.services.map((sv, i) => [sv.def.name, i]));
  return (l) => structuredLine(l, idx.get(l.service) ?? 0);
}
