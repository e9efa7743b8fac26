import type { Span } from '../../src/telemetry/index.js';

/** Adds one span to `spans` and returns it (ids `s<window>-<n>`, pod `<service>-1`). */
export type SpanAdder = (trace: string, parent: string | undefined, service: string, operation: string, t: number, duration: number, kind: 'server' | 'client', peer?: string, error?: boolean) => Span;

/**
 * The span builder of the evidence tests' generated minutes: with kinds (OTLP: `kind`, and
 * `peer.service` on client spans) or without (`noKinds`: Nezha's CSV has neither).
 */
export function spanAdder(window: number, spans: Span[], noKinds = false): SpanAdder {
  let n = 0;
  return (trace, parent, service, operation, t, duration, kind, peer, error = false) => {
    const s: Span = { traceId: trace, spanId: `s${window}-${n++}`, entity: `${service}-1`, service, operation, start: t, duration, status: error ? 'error' : 'ok' };
    if (parent) s.parentId = parent;
    if (!noKinds) {
      s.kind = kind;
      if (peer) s.attributes = { 'peer.service': peer };
    }
    spans.push(s);
    return s;
  };
}
