/**
 * A dataset without traces whose network delays only per-edge latency metrics show: checks
 * there is no span, ranks each fault's first five minutes with the label-free localizer and
 * counts the root causes ranked first, each of which must lead with mesh-edge evidence.
 */
import assert from 'node:assert/strict';
import { prepareLocalizer, type Ranking } from '../../src/tasks/index.js';
import type { Dataset, FaultLabel } from '../../src/telemetry/index.js';

export async function meshFirsts(ds: Dataset, onFirst?: (r: Ranking, l: FaultLabel) => void): Promise<number> {
  let spans = 0;
  for await (const b of ds.spans()) spans += b.length;
  assert.equal(spans, 0, 'no traces');
  const queries = ds.labels.map((l) => ({ start: l.start, end: l.start + 5 * 60_000 }));
  const p = await prepareLocalizer(ds, queries);
  let first = 0;
  ds.labels.forEach((l, i) => {
    const r = p.rank(queries[i]);
    if (r.services[0]?.service !== l.rootCauseService) return;
    first++;
    assert.equal(r.services[0].evidence[0].family, 'mesh-edge');
    onFirst?.(r, l);
  });
  return first;
}
