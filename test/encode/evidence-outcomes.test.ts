/**
 * The call-outcome family (src/encode/evidence/call-outcomes.ts): failures and slow calls on
 * the edges into a service are the callee's, a failure passed on from deeper down is not the
 * caller's, and packet loss at a caller (its outgoing calls fail too) stays with the caller.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOutcomes, outcomeZ, type RawScores } from '../../src/encode/index.js';
import type { Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';
import { spanAdder } from '../helpers/spans.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 10);

interface Faults {
  /** share of calls into c refused (no server span) */
  refuseC?: number;
  /** share of c's spans failing on their own */
  failC?: number;
  /** share of a's calls (in and out) reset by packet loss */
  lossA?: number;
  /** ms added on a share (0.3) of the calls into c */
  slowC?: number;
  /** no span kinds (Nezha): server spans only, parent/child across services */
  noKinds?: boolean;
}

const rng = seededRandom;

/** One minute of gateway → a → {b, c} requests, one every ~1.5 s. */
function minute(i: number, f: Faults = {}, seed = i + 1): { range: TimeRange; spans: Span[] } {
  const r = rng(seed);
  const start = T0 + i * MIN;
  const spans: Span[] = [];
  const add = spanAdder(i, spans, f.noKinds);
  /** a call from `from` (its span `parent`) into `to`: client span (with kinds) and server span */
  const call = (trace: string, parent: Span, to: string, op: string, t: number, own: number, opts: { refuse?: boolean; fail?: boolean; extra?: number; reset?: boolean }): { client: Span | undefined; server?: Span; failed: boolean } => {
    const gap = 1 + r() + (opts.extra ?? 0);
    if (f.noKinds) {
      if (opts.refuse || opts.reset) return { client: undefined, failed: true };
      const server = add(trace, parent.spanId, to, op, t + gap / 2, own, 'server', undefined, opts.fail);
      return { client: undefined, server, failed: !!opts.fail };
    }
    if (opts.refuse || opts.reset) return { client: add(trace, parent.spanId, parent.service, op, t, 1 + r(), 'client', to, true), failed: true };
    const client = add(trace, parent.spanId, parent.service, op, t, own + gap, 'client', to, opts.fail);
    const server = add(trace, client.spanId, to, op, t + gap / 2, own, 'server', undefined, opts.fail);
    return { client, server, failed: !!opts.fail };
  };
  for (let t = start; t < start + MIN; t += 1000 + r() * 1000) {
    const trace = `t${i}-${spans.length}`;
    const gw = add(trace, undefined, 'gateway', '/api', t, 40, 'server');
    const lossA = (f.lossA ?? 0) > 0 && r() < f.lossA!;
    const intoA = call(trace, gw, 'a', '/a/run', t + 0.5, 30, { reset: lossA });
    if (intoA.failed && !intoA.server) {
      gw.status = 'error';
      continue;
    }
    const a = intoA.server!;
    const toB = call(trace, a, 'b', '/b/work', a.start + 1, 5 + r() * 3, { reset: (f.lossA ?? 0) > 0 && r() < f.lossA! });
    const toC = call(trace, a, 'c', '/c/get', a.start + 10, 4 + r() * 3, {
      refuse: (f.refuseC ?? 0) > 0 && r() < f.refuseC!,
      fail: (f.failC ?? 0) > 0 && r() < f.failC!,
      extra: (f.slowC ?? 0) > 0 && r() < 0.3 ? f.slowC : 0,
    });
    // a passes a failed call on: its own span fails, and so does the gateway's call into it
    if (toB.failed || toC.failed) {
      a.status = 'error';
      if (intoA.client) intoA.client.status = 'error';
      gw.status = 'error';
    }
  }
  return { range: { start, end: start + MIN }, spans };
}

function ranked(faults: Faults): { scores: RawScores; top: string } {
  const normal = Array.from({ length: 20 }, (_, i) => callOutcomes.summarize({ ...minute(i, { noKinds: faults.noKinds }), logs: [] })!);
  const ref = callOutcomes.fit(normal);
  const q = callOutcomes.summarize({ ...minute(30, faults, 99), logs: [] })!;
  const scores = callOutcomes.score(q, ref);
  const top = [...scores].sort((x, y) => y[1].score - x[1].score)[0][0];
  return { scores, top };
}

const score = (s: RawScores, svc: string) => s.get(svc)?.score ?? 0;

test('refused calls into c are c\'s, not its caller\'s (which passes the failure on)', () => {
  const { scores, top } = ranked({ refuseC: 0.4 });
  assert.equal(top, 'c');
  assert.ok(score(scores, 'c') > 5, `c ${score(scores, 'c')}`);
  // a's own spans fail (it passes the failure on) but its incoming edge counts them as successes
  assert.ok(score(scores, 'a') < 1, `a ${score(scores, 'a')}`);
  const item = scores.get('c')!.items[0];
  assert.match(item.subject, /^a → c \(\d+ of \d+ calls failed/);
  assert.ok(item.value > 0.2 && item.reference < 0.05, `value ${item.value} reference ${item.reference}`);
});

test('c failing on its own is c\'s; a failure inherited from c is not a\'s (no span kinds either)', () => {
  for (const noKinds of [false, true]) {
    const { scores, top } = ranked({ failC: 0.4, noKinds });
    assert.equal(top, 'c', `noKinds ${noKinds}`);
    assert.ok(score(scores, 'a') < 1, `noKinds ${noKinds}: a ${score(scores, 'a')}`);
  }
});

test('slow calls into c (a share of them past the edge\'s normal p99 gap) are c\'s', () => {
  const { scores, top } = ranked({ slowC: 300 });
  assert.equal(top, 'c');
  assert.ok(score(scores, 'c') > 5);
  assert.ok(scores.get('c')!.items[0].subject.includes('slower than'));
});

test('packet loss at a: its incoming and outgoing calls fail alike, and a is blamed, not b', () => {
  const { scores, top } = ranked({ lossA: 0.3 });
  assert.equal(top, 'a');
  // a → b fails as often as gateway → a: the caller explains it, so b has no outcome evidence
  assert.ok(score(scores, 'b') < 1, `b ${score(scores, 'b')}`);
});

test('a normal window against a reference of other normal windows scores low everywhere', () => {
  const { scores } = ranked({});
  for (const [svc, r] of scores) assert.ok(r.score < 2, `${svc} ${r.score}`);
});

test('no spans, no summary; an edge without a reference is not scored', () => {
  assert.equal(callOutcomes.summarize({ range: { start: T0, end: T0 + MIN }, spans: [], logs: [] }), undefined);
  const q = callOutcomes.summarize({ ...minute(3, { refuseC: 0.5 }), logs: [] })!;
  assert.equal(callOutcomes.score(q, new Map()).size, 0);
});

test('outcomeZ: an exact mid-p tail, so one bad call among few is a modest event, many are extreme', () => {
  assert.ok(outcomeZ(0, 7, 0.01) < 0.5);
  const few = outcomeZ(1, 7, 0.01);
  assert.ok(few > 1.5 && few < 2.2, `1 of 7: ${few}`);
  assert.ok(outcomeZ(1, 30, 0.01) < few, 'the same one bad call among more calls is less surprising');
  assert.ok(outcomeZ(16, 46, 0.01) > 8, 'a third of the calls bad');
  // overdispersion shrinks the evidence of the same counts
  assert.ok(outcomeZ(5, 100, 0.01, 3) < outcomeZ(5, 100, 0.01));
});
