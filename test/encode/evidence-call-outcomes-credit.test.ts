/**
 * Call outcomes (src/encode/evidence/call-outcomes.ts): an edge a lossy caller explains (its own
 * incoming calls go as bad) is the caller's — it counts among the caller's edges, not the
 * callee's — and a service's score is the median over its edges, so one caller whose calls all
 * go bad does not convict a service its other callers find normal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOutcomes, outcomeZ, type OutcomeEdge, type OutcomeReference, type OutcomeSummary } from '../../src/encode/index.js';

const edge = (caller: string, callee: string, calls: number, failed: number): OutcomeEdge => ({ caller, callee, calls, failed, complained: 0, gaps: [] });

function summary(edges: OutcomeEdge[]): OutcomeSummary {
  return new Map(edges.map((e) => [`${e.caller}\t${e.callee}`, e]));
}

/** every edge normally fails 1 call in 100 (no overdispersion) */
function reference(s: OutcomeSummary): OutcomeReference {
  return new Map([...s.keys()].map((k) => [k, { slowMs: Infinity, calls: 10_000, bad: 100, windows: 100, dispersion: 1 }]));
}

const P0 = (100 + 0.5) / (10_000 + 1);

test('a lossy service is credited with the outgoing calls its network explains; their callee is not blamed', () => {
  // a's incoming and outgoing calls go bad alike; b's other caller finds b normal
  const s = summary([edge('gw', 'a', 40, 8), edge('a', 'b', 40, 9), edge('other', 'b', 40, 0), edge('gw', 'other', 40, 0)]);
  const scores = callOutcomes.score(s, reference(s));
  const a = scores.get('a')!;
  assert.ok(a.items.some((it) => it.subject.startsWith('a → b') && it.subject.includes('its own network')), a.items.map((it) => it.subject).join(' | '));
  // the median of its two edges: the one in and the one out
  assert.ok(Math.abs(a.score - (outcomeZ(8, 40, P0) + outcomeZ(9, 40, P0)) / 2) < 1e-9);
  assert.ok(!a.incoming!.has('a') && a.incoming!.size === 1, 'the credited edge is not one of a\'s incoming edges');
  assert.ok((scores.get('b')?.score ?? 0) < 1, `b ${scores.get('b')?.score}`);
});

test('a callee that fails for every caller while its callers\' own calls in are normal stays the callee\'s', () => {
  const s = summary([edge('gw', 'a', 40, 0), edge('a', 'b', 40, 9), edge('gw', 'b', 30, 7)]);
  const scores = callOutcomes.score(s, reference(s));
  assert.ok(scores.get('b')!.score > 5);
  assert.ok(!scores.get('a')!.items.some((it) => it.subject.startsWith('a → b')));
});

test('one caller whose calls all go bad does not convict a callee its other callers find normal', () => {
  const s = summary([edge('a', 'x', 40, 20), edge('b', 'x', 40, 0), edge('c', 'x', 40, 0), edge('gw', 'a', 40, 0), edge('gw', 'b', 40, 0), edge('gw', 'c', 40, 0)]);
  const x = callOutcomes.score(s, reference(s)).get('x')!;
  assert.ok(x.score < 1, `x ${x.score}`);
  assert.ok(x.incoming!.get('a')! > 8, 'the bad edge stays visible (for the starved-caller rule and the items)');
});

test('an entry service without traced callers whose calls into every callee go bad is the lossy one', () => {
  // no edge into fe (an untraced ingress): only its calls into b, c and d witness its network
  const s = summary([edge('fe', 'b', 40, 9), edge('fe', 'c', 40, 8), edge('fe', 'd', 40, 10), edge('other', 'b', 40, 0)]);
  const scores = callOutcomes.score(s, reference(s));
  const fe = scores.get('fe')!;
  assert.ok(fe && fe.score > 5, `fe ${fe?.score}`);
  assert.ok(fe.items.every((it) => it.subject.includes('calls into its other callees go as bad')), fe.items.map((it) => it.subject).join(' | '));
  for (const c of ['b', 'c', 'd']) assert.ok((scores.get(c)?.score ?? 0) < 1, `${c} ${scores.get(c)?.score}`);
});

test("a callee's fault leaves the caller's calls into its other callees as they were: the edge stays the callee's", () => {
  const s = summary([edge('fe', 'b', 40, 9), edge('fe', 'c', 40, 0), edge('fe', 'd', 40, 1)]);
  const scores = callOutcomes.score(s, reference(s));
  assert.ok(scores.get('b')!.score > 5);
  assert.equal(scores.has('fe'), false);
});
