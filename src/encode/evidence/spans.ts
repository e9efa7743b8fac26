import type { Span, TimeRange } from '../../telemetry/index.js';

/** Parent and child look-ups over a window's spans (with context beyond the window). */
export interface SpanIndex {
  byId: Map<string, Span>;
  children: Map<string, Span[]>;
}

export function indexSpans(spans: readonly Span[]): SpanIndex {
  const byId = new Map<string, Span>();
  const children = new Map<string, Span[]>();
  for (const s of spans) byId.set(key(s.traceId, s.spanId), s);
  for (const s of spans) {
    if (!s.parentId) continue;
    const k = key(s.traceId, s.parentId);
    const list = children.get(k);
    if (list) list.push(s);
    else children.set(k, [s]);
  }
  return { byId, children };
}

export function key(traceId: string, spanId: string): string {
  return `${traceId}/${spanId}`;
}

export function parentOf(idx: SpanIndex, s: Span): Span | undefined {
  return s.parentId ? idx.byId.get(key(s.traceId, s.parentId)) : undefined;
}

export function childrenOf(idx: SpanIndex, s: Span): Span[] {
  return idx.children.get(key(s.traceId, s.spanId)) ?? [];
}

export function inRange(t: number, r: TimeRange): boolean {
  return t >= r.start && t < r.end;
}

/** The span kind where the source states one (OTLP); Nezha's CSV has none. */
export function spanKind(s: Span): string | undefined {
  const k = (s as { kind?: unknown }).kind ?? s.attributes?.['span.kind'];
  return typeof k === 'string' ? k.toLowerCase() : undefined;
}

/** A call leaves `parent`'s service into `child`'s: the parent is the caller's client side. */
export function isRemoteCall(parent: Span, child: Span): boolean {
  if (parent.service === child.service) return false;
  const k = spanKind(parent);
  return k === undefined || k === 'client' || k === 'producer';
}
