// The evidence pass's per-window edge gaps and self times (src/encode/views/evidence-spans.ts:
// values kept per key for the whole pass, refilled each window; self times worked out on
// scratch arrays) against a straightforward recomputation: the families' own `summarize`
// (edges.ts, self-time.ts) over every span read up to the window's end, sorted copies and the
// plain quantile. Generated traces over overlapping windows, with nested same-service spans,
// children that start before their parent (the parent is found a window later) and callers
// with many calls (the index sort of the union), so every path of the pass is taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvidencePass } from '../../src/encode/views/evidence.js';
import { EvidenceSpanIndex } from '../../src/encode/views/evidence-spans.js';
import { edgeGaps, selfTime, type EdgeSummary, type SelfSummary } from '../../src/encode/evidence/index.js';
import type { Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const SERVICES = ['front', 'order', 'pay', 'stock', 'user'];

function quantile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const pos = p * (s.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/** Traces over `minutes`, in stream order (by start, with a little disorder as readers give it). */
function traces(minutes: number, seed: number): Span[] {
  const rnd = seededRandom(seed);
  const spans: Span[] = [];
  let id = 0;
  const span = (trace: string, parent: string | undefined, service: string, operation: string, start: number, duration: number): Span => {
    const s: Span = { traceId: trace, spanId: `s${id++}`, entity: `${service}-${1 + Math.floor(rnd() * 3)}`, service, operation, start, duration, status: 'ok' };
    if (parent) s.parentId = parent;
    spans.push(s);
    return s;
  };
  const call = (trace: string, parent: Span, depth: number): void => {
    const calls = depth === 0 && rnd() < 0.05 ? 40 : 1 + Math.floor(rnd() * 3);
    for (let k = 0; k < calls; k++) {
      const service = SERVICES[1 + Math.floor(rnd() * (SERVICES.length - 1))];
      if (service === parent.service) continue;
      // a child may start a little before its parent (clock skew between hosts)
      const start = parent.start + (rnd() < 0.05 ? -5 : Math.floor(rnd() * parent.duration * 0.5));
      const duration = Math.max(1, Math.floor(rnd() * parent.duration * 0.6));
      const child = span(trace, parent.spanId, service, `${service}-op${Math.floor(rnd() * 2)}`, start, duration);
      // nested work in the same service, some of it calling out again
      if (rnd() < 0.3) {
        const inner = span(trace, child.spanId, service, `${service}-inner`, child.start + 1, Math.max(1, child.duration - 2));
        if (depth < 2 && rnd() < 0.5) call(trace, inner, depth + 1);
      } else if (depth < 2 && rnd() < 0.4) call(trace, child, depth + 1);
    }
  };
  for (let t = 0; t < minutes * 60; t += 2) {
    const root = span(`t${t}`, undefined, 'front', `front-op${t % 3}`, T0 + t * 1000 + Math.floor(rnd() * 1000), 50 + Math.floor(rnd() * 400));
    call(`t${t}`, root, 0);
  }
  // stream order: by start, except that a few spans come a little late
  return spans.map((s, i) => ({ s, key: s.start + (i % 17 === 0 ? 1500 : 0) })).sort((a, b) => a.key - b.key).map((x) => x.s);
}

function pooled(parts: number[][]) {
  const all = parts.flat();
  return { n: all.length, p50: quantile(all, 0.5), p90: quantile(all, 0.9) };
}

/** The window's edge figures as `EvidenceWindow` holds them, from the family's summary. */
function expectedEdges(s: EdgeSummary) {
  const byCallee = new Map<string, number[][]>();
  const byPod = new Map<string, number[][]>();
  const edges = [...s.values()].map((e) => {
    byCallee.set(e.callee, [...(byCallee.get(e.callee) ?? []), e.gaps]);
    for (const [pod, v] of e.byPod) byPod.set(`${e.callee}\t${pod}`, [...(byPod.get(`${e.callee}\t${pod}`) ?? []), v]);
    return { caller: e.caller, callee: e.callee, n: e.gaps.length, med: quantile(e.gaps, 0.5), p90: quantile(e.gaps, 0.9), pods: [...e.byPod].map(([pod, v]) => [pod, v.length, quantile(v, 0.5)]) };
  });
  return { edges, calleeGaps: [...byCallee].map(([k, v]) => [k, pooled(v)]), podGaps: [...byPod].map(([k, v]) => [k, pooled(v)]) };
}

function expectedSelf(s: SelfSummary) {
  const bySvc = new Map<string, number[][]>();
  const byPod = new Map<string, number[][]>();
  const ops = [...s.values()].map((e) => {
    bySvc.set(e.service, [...(bySvc.get(e.service) ?? []), e.selfMs]);
    for (const [pod, v] of e.byPod) byPod.set(`${e.service}\t${pod}`, [...(byPod.get(`${e.service}\t${pod}`) ?? []), v]);
    return { service: e.service, operation: e.operation, n: e.selfMs.length, med: quantile(e.selfMs, 0.5), pods: [...e.byPod].map(([pod, v]) => [pod, v.length, quantile(v, 0.5)]) };
  });
  return { ops, serviceSelf: [...bySvc].map(([k, v]) => [k, pooled(v)]), podSelf: [...byPod].map(([k, v]) => [k, pooled(v)]) };
}

test("evidence pass: each window's edge gaps and self times are the families' summaries of it", () => {
  const minutes = 30;
  const spans = traces(minutes, 11);
  const startOf = new Map(spans.map((s) => [s.spanId, s.start]));
  const pass = new EvidencePass(3, 1000);
  const edgeSums: EdgeSummary[] = [];
  const selfSums: SelfSummary[] = [];
  let windows = 0;
  let skewed = 0;
  for (let m = 0; m + 5 <= minutes; m++) {
    const range: TimeRange = { start: T0 + m * MIN, end: T0 + (m + 5) * MIN };
    const inWindow = spans.filter((s) => s.start >= range.start && s.start < range.end);
    // the pass has read every span of the windows so far; so is the family's context
    const context = spans.filter((s) => s.start < range.end);
    const ew = pass.add(range, inWindow, [], [], true);
    const edges = edgeGaps.summarize({ range, spans: context, logs: [] });
    const self = selfTime.summarize({ range, spans: context, logs: [] });
    assert.ok(edges && self && ew, `window ${m} has edges and entry spans`);
    edgeSums.push(edges);
    selfSums.push(self);
    const e = expectedEdges(edges);
    assert.deepEqual(ew.edges, e.edges, `window ${m}: edges`);
    assert.deepEqual([...ew.calleeGaps!], e.calleeGaps, `window ${m}: gaps per callee`);
    assert.deepEqual([...ew.podGaps!], e.podGaps, `window ${m}: gaps per callee pod`);
    const x = expectedSelf(self);
    assert.deepEqual(ew.ops, x.ops, `window ${m}: self time per operation`);
    assert.deepEqual([...ew.serviceSelf!], x.serviceSelf, `window ${m}: self time per service`);
    assert.deepEqual([...ew.podSelf!], x.podSelf, `window ${m}: self time per pod`);
    windows++;
    for (const s of inWindow) if (s.parentId && (startOf.get(s.parentId) ?? -Infinity) > s.start) skewed++;
  }
  assert.equal(windows, minutes - 4);
  assert.ok(skewed > 0, 'some children start before their parent');
  // every window is in the sample (cap 1000): the references are the families' fit of them all
  const refs = pass.finish((shape) => shape);
  assert.deepEqual([...refs.edges], [...edgeGaps.fit(edgeSums)]);
  assert.deepEqual([...refs.self], [...selfTime.fit(selfSums)]);
  assert.ok(refs.edges.size >= 4 && refs.self.size >= 4);
});

test('evidence span index: edges, operations and pods unused for an hour are forgotten', () => {
  const idx = new EvidenceSpanIndex();
  let n = 0;
  // one call a → b per 10 s, from a pod that changes every 20 minutes
  const window = (m: number) => {
    const range: TimeRange = { start: T0 + m * MIN, end: T0 + (m + 5) * MIN };
    const spans: Span[] = [];
    for (let t = range.start; t < range.end; t += 10_000) {
      const pod = `b-${Math.floor((t - T0) / (20 * MIN))}`;
      spans.push({ traceId: `t${t}`, spanId: `p${t}`, entity: 'a-1', service: 'a', operation: 'call', start: t, duration: 30, status: 'ok' });
      spans.push({ traceId: `t${t}`, spanId: `c${t}`, parentId: `p${t}`, entity: pod, service: 'b', operation: 'serve', start: t + 1, duration: 20 + (n++ % 5), status: 'ok' });
    }
    return idx.summarize(spans, range);
  };
  let most = 0;
  for (let m = 0; m < 180; m++) {
    const s = window(m);
    // the window's pods only: the one of its minutes (two across a change)
    assert.ok(s.edges.length === 1 && s.edges[0].pods.length >= 1 && s.edges[0].pods.length <= 2);
    assert.equal(s.edges[0].n, 30);
    most = Math.max(most, idx.retained);
  }
  // an edge and two operations (a's root, b's entry), each with the pods of the last hour or so
  assert.ok(most <= 3 + 3 * 5, `held ${most}`);
  assert.ok(idx.retained <= 3 + 3 * 5);
});
