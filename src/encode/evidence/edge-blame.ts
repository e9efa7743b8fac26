import { median } from './stats.js';

/**
 * Edges a failing caller explains. A fault in a pod's network (packet loss) hits its outgoing
 * calls as hard as the calls into it, so the callee of such a call looks as bad as the caller;
 * a fault at the callee (a delay on its ingress, a dead pod) leaves the caller's own incoming
 * edges as they were. So an edge is the caller's when the caller's incoming edges (median) are
 * off by at least half as much as this edge: half-way between the two cases' expectations
 * (equal, and none). `excess` is each edge's deviation in a unit comparable across edges.
 */
export function explainedByCaller<E extends { caller: string; callee: string }>(excess: ReadonlyMap<string, number>, edge: (k: string) => E): Set<string> {
  const into = new Map<string, number[]>();
  for (const [k, x] of excess) {
    const c = edge(k).callee;
    const l = into.get(c);
    if (l) l.push(x);
    else into.set(c, [x]);
  }
  const out = new Set<string>();
  for (const [k, x] of excess) {
    const own = into.get(edge(k).caller);
    if (x > 0 && own && median(own) >= x / 2) out.add(k);
  }
  return out;
}
