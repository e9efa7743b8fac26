import type { Entity, Span, CallEdge } from './types.js';

/**
 * Kubernetes pod name to its workload (service): `<deployment>-<replicaset hash>-<suffix>`
 * (Deployment pods) or `<statefulset>-<ordinal>` (StatefulSet pods). Used by readers whose
 * source names pods but not services; a reader with an explicit service keeps that instead.
 */
export function serviceOfPod(pod: string): string {
  const deploy = /^(.*)-[a-z0-9]{5,10}-[a-z0-9]{5}$/.exec(pod);
  if (deploy) return deploy[1];
  const stateful = /^(.*)-\d+$/.exec(pod);
  if (stateful) return stateful[1];
  return pod;
}

/** Call edges between span entities, derived from parent/child links of the given spans. */
export function edgesFromSpans(spans: Iterable<Span>, into = new Map<string, CallEdge>()): Map<string, CallEdge> {
  const byId = new Map<string, Span>();
  const list: Span[] = [];
  for (const s of spans) {
    byId.set(s.traceId + '/' + s.spanId, s);
    list.push(s);
  }
  for (const s of list) {
    if (!s.parentId) continue;
    const p = byId.get(s.traceId + '/' + s.parentId);
    if (!p || p.entity === s.entity) continue;
    const key = p.entity + '\u0000' + s.entity;
    const e = into.get(key);
    if (e) e.count++;
    else into.set(key, { caller: p.entity, callee: s.entity, count: 1 });
  }
  return into;
}

export function sortEntities(entities: Iterable<Entity>): Entity[] {
  return [...entities].sort((a, b) => (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind.localeCompare(b.kind)));
}
