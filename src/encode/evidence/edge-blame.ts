import { median } from './stats.js';

/**
 * Edges a failing caller explains. A fault in a pod's network (packet loss, an egress delay)
 * hits its outgoing calls as hard as the calls into it, so the callee of such a call looks as
 * bad as the caller; a fault at the callee (a delay on its ingress, a dead pod) leaves the
 * caller's own incoming edges as they were, and the caller's calls into its other callees too.
 * So an edge is the caller's when either
 * - the caller's incoming edges (median) are off by at least half as much as this edge, or
 * - the caller's edges into its other callees (median) are: one callee's fault does not move
 *   the gaps of calls into another (a gap leaves the callee's own work out), one caller's
 *   network moves them all. This is what tells a lossy entry service, whose only incoming edge
 *   comes from a load driver (calls of tens of ms, ms of noise a minute), from its callees.
 * Half-way between the two cases' expectations (equal, and none). `excess` is each edge's
 * deviation in a unit comparable across edges.
 */
export function explainedByCaller<E extends { caller: string; callee: string }>(excess: ReadonlyMap<string, number>, edge: (k: string) => E): Map<string, number> {
  const into = new Map<string, number[]>();
  const from = new Map<string, { callee: string; x: number }[]>();
  for (const [k, x] of excess) {
    const e = edge(k);
    push(into, e.callee, x);
    push(from, e.caller, { callee: e.callee, x });
  }
  /** edge → the caller's level that explains it (the median that passed) */
  const out = new Map<string, number>();
  for (const [k, x] of excess) {
    if (!(x > 0)) continue;
    const e = edge(k);
    const own = into.get(e.caller);
    const inLevel = own ? median(own) : -Infinity;
    if (inLevel >= x / 2) {
      out.set(k, inLevel);
      continue;
    }
    const others = (from.get(e.caller) ?? []).filter((o) => o.callee !== e.callee).map((o) => o.x);
    const outLevel = others.length ? median(others) : -Infinity;
    if (outLevel >= x / 2) out.set(k, outLevel);
  }
  return out;
}

function push<V>(m: Map<string, V[]>, k: string, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}
