import type { LogRecord, MetricSeries, Span } from '../telemetry/index.js';
import type { WindowSlice } from './stream.js';

export interface EntitySlice {
  entity: string;
  metrics: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
}

/** Splits a window's data by the entity that emitted it (pod, service or node). */
export function entitySlices(slice: Pick<WindowSlice, 'metrics' | 'spans' | 'logs'>): Map<string, EntitySlice> {
  const out = new Map<string, EntitySlice>();
  const get = (id: string) => {
    let e = out.get(id);
    if (!e) out.set(id, (e = { entity: id, metrics: [], spans: [], logs: [] }));
    return e;
  };
  for (const m of slice.metrics) get(m.entity).metrics.push(m);
  for (const s of slice.spans) get(s.entity).spans.push(s);
  for (const l of slice.logs) get(l.entity).logs.push(l);
  return out;
}

/**
 * Same split keyed by service: pod names change between deployments (Nezha's two days), so
 * anything learned per entity across periods keys on the service.
 */
export function serviceSlices(slice: Pick<WindowSlice, 'metrics' | 'spans' | 'logs'>, serviceOf: (entity: string) => string | undefined): Map<string, EntitySlice> {
  const out = new Map<string, EntitySlice>();
  const get = (id: string) => {
    let e = out.get(id);
    if (!e) out.set(id, (e = { entity: id, metrics: [], spans: [], logs: [] }));
    return e;
  };
  for (const m of slice.metrics) get(serviceOf(m.entity) ?? m.entity).metrics.push(m);
  for (const s of slice.spans) get(s.service || (serviceOf(s.entity) ?? s.entity)).spans.push(s);
  for (const l of slice.logs) get(l.service || (serviceOf(l.entity) ?? l.entity)).logs.push(l);
  return out;
}
