/**
 * What callers felt through a callee (`callOutcomes`' `felt`, read only by the localizer's caps):
 * a lossy caller's felt trouble on an edge its own network explains is not reported, and the
 * felt overdispersion φ comes from the median normal window, so a few incident windows among
 * the normal ones do not silence every fault's felt trouble.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOutcomes, type OutcomeEdge, type OutcomeSummary } from '../../src/encode/index.js';

const edge = (caller: string, callee: string, calls: number, failed: number, slowMs = 5, slow = 0): OutcomeEdge => ({
  caller,
  callee,
  calls,
  failed,
  complained: 0,
  gaps: Array.from({ length: calls - failed }, () => 1),
  errored: failed,
  durations: Array.from({ length: calls - failed }, (_, i) => (i < slow ? slowMs * 20 : slowMs)),
});
const summary = (edges: OutcomeEdge[]): OutcomeSummary => new Map(edges.map((e) => [`${e.caller}\t${e.callee}`, e]));

/** 100 normal windows; `burst` of them have half their calls slow end to end on every edge */
function normals(burst: number): OutcomeSummary[] {
  return Array.from({ length: 100 }, (_, i) => {
    const slow = i < burst ? 20 : i % 10 === 0 ? 1 : 0;
    return summary([edge('gw', 'a', 40, 0, 5, slow), edge('a', 'b', 40, 0, 5, slow), edge('other', 'b', 40, 0, 5, slow), edge('gw', 'other', 40, 0, 5, slow)]);
  });
}

test("a lossy caller's felt trouble on an edge its own network explains is not reported; another caller's is", () => {
  const ref = callOutcomes.fit(normals(0));
  // a's calls in and out fail alike (its own network); other's calls into b go as usual
  const s = summary([edge('gw', 'a', 40, 8), edge('a', 'b', 40, 9), edge('other', 'b', 40, 0), edge('gw', 'other', 40, 0)]);
  const scores = callOutcomes.score(s, ref);
  // the edge a → b is a's (credited to it), and what a felt on it is not reported
  assert.ok(scores.get('a')!.items.some((it) => it.subject.startsWith('a → b') && it.subject.includes('its own network')));
  assert.equal(scores.get('b')?.felt?.has('a') ?? false, false);
  assert.ok(scores.get('b')!.felt!.has('other'), "other's felt view of b is kept");
  assert.ok(scores.get('a')!.felt!.get('gw')! > 5, 'the gateway felt a fail');
});

test('the felt φ comes from the median normal window: four incident windows of 100 leave it at 1', () => {
  const clean = callOutcomes.fit(normals(0)).get('gw\ta')!.felt!;
  const dirty = callOutcomes.fit(normals(4)).get('gw\ta')!.felt!;
  assert.equal(clean.dispersion, 1);
  assert.equal(dirty.dispersion, 1);
  // and a window with 8 errored calls of 40 stays extreme for the gateway
  const s = summary([edge('gw', 'a', 40, 8)]);
  const felt = callOutcomes.score(s, callOutcomes.fit(normals(4))).get('a')!.felt!.get('gw')!;
  assert.ok(felt > 4, `felt ${felt}`);
});
