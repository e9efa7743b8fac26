/**
 * Call outcomes (src/encode/evidence/call-outcomes.ts): a call that succeeded but whose answer
 * the caller then logged an error about — naming the callee — is a bad call of that edge (a
 * wrong return value fails no span; the callee's own spans and logs can look normal). An error
 * naming nobody (the caller's own exception) charges no callee, and the error line of a failed
 * call is not counted twice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callOutcomes } from '../../src/encode/index.js';
import { namesPeer } from '../../src/encode/evidence/call-outcomes.js';
import type { LogRecord, Span, TimeRange } from '../../src/telemetry/index.js';
import type { TemplatedLog } from '../../src/encode/index.js';
import { seededRandom } from '../helpers/rng.js';
import { spanAdder } from '../helpers/spans.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 10);

interface Opts {
  /** share of calls a → c whose answer a logs an error about, naming c's operation */
  complainC?: number;
  /** share of a's spans that log an error of their own (an exception) after calling c */
  ownErrorA?: number;
  /** share of calls a → c that fail (the callee's error), each followed by a's error line naming c */
  failC?: number;
  /** no span kinds (Nezha): server spans only */
  noKinds?: boolean;
}

const rng = seededRandom;

/** One minute of gateway → a → {b, c} requests; a logs a line after each call. */
function minute(i: number, o: Opts = {}, seed = i + 1): { range: TimeRange; spans: Span[]; logs: TemplatedLog[] } {
  const r = rng(seed);
  const start = T0 + i * MIN;
  const spans: Span[] = [];
  const logs: TemplatedLog[] = [];
  const add = spanAdder(i, spans, o.noKinds);
  const log = (span: Span, time: number, severity: LogRecord['severity'], body: string, template: number) =>
    logs.push({ record: { time, entity: span.entity, service: span.service, severity, body, traceId: span.traceId, spanId: span.spanId }, template });
  /** a call from `parent` into `to`; returns when the caller has the answer */
  const call = (trace: string, parent: Span, to: string, op: string, t: number, own: number, fail: boolean): number => {
    const gap = 1 + r();
    if (o.noKinds) add(trace, parent.spanId, to, op, t + gap / 2, own, 'server', undefined, fail);
    else {
      const client = add(trace, parent.spanId, parent.service, op, t, own + gap, 'client', to, fail);
      add(trace, client.spanId, to, op, t + gap / 2, own, 'server', undefined, fail);
    }
    return t + own + gap;
  };
  for (let t = start; t < start + MIN; t += 1000 + r() * 1000) {
    const trace = `t${i}-${spans.length}`;
    const gw = add(trace, undefined, 'gateway', '/api', t, 40, 'server');
    add(trace, gw.spanId, 'gateway', '/a/run', t + 0.5, 31, 'client', 'a');
    const a = add(trace, o.noKinds ? gw.spanId : spans[spans.length - 1].spanId, 'a', '/a/run', t + 1, 30, 'server');
    const afterB = call(trace, a, 'b', 'getStock', a.start + 1, 5 + r() * 3, false);
    log(a, afterB, 'info', 'stock looked up', 1);
    const failC = (o.failC ?? 0) > 0 && r() < o.failC!;
    const afterC = call(trace, a, 'c', 'getPrice', afterB + 1, 4 + r() * 3, failC);
    if (failC) log(a, afterC, 'error', 'failed to call c getPrice: internal error', 2);
    else if ((o.complainC ?? 0) > 0 && r() < o.complainC!) log(a, afterC, 'error', 'unexpected response from getPrice: field amount is invalid', 3);
    if ((o.ownErrorA ?? 0) > 0 && r() < o.ownErrorA!) log(a, afterC + 0.2, 'error', 'java.lang.NullPointerException at shop.Cart.total(Cart.java:88)', 4);
    log(a, afterC + 0.5, 'info', 'run done', 5);
  }
  return { range: { start, end: start + MIN }, spans, logs };
}

function scored(o: Opts) {
  const normal = Array.from({ length: 20 }, (_, i) => callOutcomes.summarize(minute(i, { noKinds: o.noKinds }))!);
  const ref = callOutcomes.fit(normal);
  const q = callOutcomes.summarize(minute(30, o, 99))!;
  return { summary: q, scores: callOutcomes.score(q, ref) };
}

const score = (s: ReturnType<typeof scored>['scores'], svc: string) => s.get(svc)?.score ?? 0;

test('a caller\'s error naming what it called marks that call bad: the callee is blamed (with and without span kinds)', () => {
  for (const noKinds of [false, true]) {
    const { summary, scores } = scored({ complainC: 0.4, noKinds });
    const e = summary.get('a\tc')!;
    assert.ok(e.complained > 5 && e.failed === 0, `noKinds ${noKinds}: ${e.complained} complained, ${e.failed} failed`);
    assert.equal(summary.get('a\tb')!.complained, 0, 'the call before it is not charged');
    assert.ok(score(scores, 'c') > 5, `noKinds ${noKinds}: c ${score(scores, 'c')}`);
    assert.ok(score(scores, 'b') < 2, `b ${score(scores, 'b')}`);
    assert.ok(score(scores, 'a') < 2, `a ${score(scores, 'a')}`);
    if (!noKinds) assert.match(scores.get('c')!.items[0].subject, /^a → c \(0 of \d+ calls failed, \d+ complained about/);
    // the same split as numbers, for the fault-type classifier (src/tasks/tuned/suspect.ts)
    const k = scores.get('c')!.items[0].kinds!;
    assert.ok(k.complained > 0.2 && k.failed === 0, JSON.stringify(k));
  }
});

test('the caller\'s own exception (naming no callee) charges nobody', () => {
  const { summary, scores } = scored({ ownErrorA: 0.5 });
  for (const e of summary.values()) assert.equal(e.complained, 0, `${e.caller} → ${e.callee}`);
  for (const [svc, r] of scores) assert.ok(r.score < 2, `${svc} ${r.score}`);
});

test('the error line of a failed call is not a second bad call', () => {
  const { summary } = scored({ failC: 0.3 });
  const e = summary.get('a\tc')!;
  assert.ok(e.failed > 3, `${e.failed} failed`);
  assert.equal(e.complained, 0);
});

test('namesPeer: whole words only, names too short to tell say nothing', () => {
  assert.ok(namesPeer('unexpected response from getPrice: field x', 'getPrice'));
  assert.ok(namesPeer('failed to call ts-order-service (10.0.0.3:8080)', 'ts-order-service'));
  assert.ok(namesPeer('unexpected response from GET /api/v1/trips: bad', 'GET /api/v1/trips'));
  assert.ok(!namesPeer('getPrices returned', 'getPrice'));
  assert.ok(!namesPeer('the order was late', 'ord'));
  assert.ok(!namesPeer('GET /cart failed', 'GET /'));
  assert.ok(!namesPeer('id 12 is bad', 'id'));
});
