/**
 * The span-structure family (src/encode/evidence/span-structure.ts): an exception that skips
 * the rest of a method drops its later calls; the operation's child counts per span change
 * against its reference, and spans touched by a failure are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spanStructure } from '../../src/encode/index.js';
import type { Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';
import { spanAdder } from '../helpers/spans.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 10);

const rng = seededRandom;

interface Faults {
  /** share of a's spans that stop before calling c (a caught exception) */
  skipC?: number;
  /** share of b's spans that fail (a then stops early too: not a's structure change) */
  failB?: number;
  /** no span kinds: children are the callees' spans (Nezha) */
  noKinds?: boolean;
}

/** gateway → a; a calls b 1–3 times (a loop), then c once. */
function minute(i: number, f: Faults = {}, seed = i + 1): { range: TimeRange; spans: Span[] } {
  const r = rng(seed);
  const start = T0 + i * MIN;
  const spans: Span[] = [];
  const addSpan = spanAdder(i, spans, f.noKinds);
  const add = (trace: string, parent: string | undefined, service: string, operation: string, t: number, kind: 'server' | 'client', peer?: string, error = false): Span => addSpan(trace, parent, service, operation, t, 5, kind, peer, error);
  const call = (trace: string, parent: Span, to: string, op: string, t: number, error = false) => {
    if (f.noKinds) return add(trace, parent.spanId, to, op, t, 'server', undefined, error);
    const c = add(trace, parent.spanId, parent.service, op, t, 'client', to, error);
    add(trace, c.spanId, to, op, t + 1, 'server', undefined, error);
    return c;
  };
  for (let t = start; t < start + MIN; t += 800 + r() * 800) {
    const trace = `t${i}-${spans.length}`;
    const gw = add(trace, undefined, 'gateway', '/api', t, 'server');
    const a = f.noKinds ? call(trace, gw, 'a', '/a/run', t + 1) : (() => {
      const c = add(trace, gw.spanId, 'gateway', '/a/run', t + 1, 'client', 'a');
      return add(trace, c.spanId, 'a', '/a/run', t + 2, 'server');
    })();
    let failed = false;
    for (let k = 1 + Math.floor(r() * 3); k > 0; k--) {
      const err = (f.failB ?? 0) > 0 && r() < f.failB!;
      call(trace, a, 'b', '/b/item', t + 3);
      if (err) {
        spans[spans.length - 1].status = 'error';
        if (!f.noKinds) spans[spans.length - 2].status = 'error';
        failed = true;
        break;
      }
    }
    if (failed) {
      a.status = 'error';
      continue;
    }
    if ((f.skipC ?? 0) > 0 && r() < f.skipC!) continue;
    call(trace, a, 'c', '/c/get', t + 10);
  }
  return { range: { start, end: start + MIN }, spans };
}

function scores(faults: Faults) {
  const normal = Array.from({ length: 15 }, (_, i) => spanStructure.summarize({ ...minute(i, { noKinds: faults.noKinds }), logs: [] })!);
  const ref = spanStructure.fit(normal);
  return spanStructure.score(spanStructure.summarize({ ...minute(40, faults, 77), logs: [] })!, ref);
}

test('a stops calling c in half its spans: a\'s structure changes, the item names the vanished child', () => {
  for (const noKinds of [false, true]) {
    const s = scores({ skipC: 0.5, noKinds });
    const a = s.get('a');
    assert.ok(a && a.score > 5, `noKinds ${noKinds}: a ${a?.score}`);
    assert.match(a.items[0].subject, /^\/a\/run → c \/c\/get/);
    assert.ok(a.items[0].value < 0.7 && a.items[0].reference === 1, `${a.items[0].value} vs ${a.items[0].reference}`);
    for (const [svc, r] of s) if (svc !== 'a') assert.ok(r.score < 3, `${svc} ${r.score}`);
  }
});

test('a variable loop count is no change by itself (pooled variance)', () => {
  const s = scores({});
  for (const [svc, r] of s) assert.ok(r.score < 3, `${svc} ${r.score}`);
});

test('spans touched by a failed call are left out: b failing does not change a\'s structure', () => {
  const s = scores({ failB: 0.3 });
  assert.ok((s.get('a')?.score ?? 0) < 3, `a ${s.get('a')?.score}`);
});

test('parts per (operation, child) for the localizer\'s calibration; leaf operations are not scored', () => {
  const s = scores({ skipC: 0.5 });
  assert.ok(s.get('a')!.parts!.has('/a/run|c /c/get'));
  assert.ok(s.get('a')!.parts!.has('/a/run|b /b/item'));
  assert.equal(s.has('c'), false, 'c calls nothing, then or now');
  assert.equal(spanStructure.summarize({ range: { start: T0, end: T0 + MIN }, spans: [], logs: [] }), undefined);
});

test('a collector that writes every span twice changes no structure (each span id counts once)', () => {
  const normal = Array.from({ length: 15 }, (_, i) => spanStructure.summarize({ ...minute(i), logs: [] })!);
  const ref = spanStructure.fit(normal);
  const q = minute(40, {}, 77);
  const doubled = spanStructure.score(spanStructure.summarize({ range: q.range, spans: [...q.spans, ...q.spans.map((s) => ({ ...s }))], logs: [] })!, ref);
  for (const [svc, r] of doubled) assert.ok(r.score < 3, `${svc} ${r.score}`);
});
