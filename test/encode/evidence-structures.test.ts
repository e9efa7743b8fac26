// The bookkeeping of the evidence pass that replaced per-span and per-window allocations
// (docs/views.md, "Less to allocate"): pairs of names numbered once (evidence-ids.ts), each
// span's children kept on the span (copies of a span share one list; children read before
// their parent wait in the trace's orphans), and each pod's strongest resource deviations kept
// as they come instead of all of them sorted (evidence-resources.ts). Each is held to the
// plain definition it replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PairIds } from '../../src/encode/views/evidence-ids.js';
import { EvidenceSpanIndex } from '../../src/encode/views/evidence-spans.js';
import { ResourceHistory } from '../../src/encode/views/evidence-resources.js';
import { ITEM_MIN } from '../../src/encode/views/evidence-util.js';
import type { MetricSeries, Span } from '../../src/telemetry/index.js';
import { lcgUniform } from '../helpers/rng.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

test('pair ids: one number per (a, b), in first-come order, with its names and key', () => {
  const ids = new PairIds();
  const pairs = [['a', 'x'], ['b', 'x'], ['a', 'y'], ['a', 'x'], ['a\tx', ''], ['b', 'x']] as const;
  const got = pairs.map(([a, b]) => ids.id(a, b));
  assert.deepEqual(got, [0, 1, 2, 0, 3, 1]);
  assert.equal(ids.size, 4);
  for (const [a, b] of pairs) {
    const id = ids.id(a, b);
    assert.equal(ids.a[id], a);
    assert.equal(ids.b[id], b);
    assert.equal(ids.keys[id], `${a}\t${b}`);
  }
});

/** Traces whose children sometimes come before their parent, and spans the collector wrote twice (some of them parents). */
function spans(seed: number): Span[] {
  const rnd = lcgUniform(seed);
  const out: Span[] = [];
  for (let t = 0; t < 40; t++) {
    const trace = `t${t}`;
    const at = T0 + t * 1000;
    const root: Span = { traceId: trace, spanId: 'r', entity: 'front-1', service: 'front', operation: 'home', start: at, duration: 100, status: 'ok' };
    const list: Span[] = [root];
    let n = 0;
    const grow = (parent: Span, depth: number): void => {
      const kids = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < kids; k++) {
        const svc = ['order', 'pay', 'stock'][Math.floor(rnd() * 3)];
        // a child may start a little before its parent (clocks of two hosts)
        const c: Span = { traceId: trace, spanId: `s${n++}`, parentId: parent.spanId, entity: `${svc}-1`, service: svc, operation: 'op', start: parent.start + Math.floor(rnd() * 20) - 3, duration: 10, status: 'ok' };
        list.push(c);
        if (rnd() < 0.15) list.push({ ...c }); // written twice
        if (depth < 2) grow(c, depth + 1);
      }
    };
    grow(root, 0);
    if (rnd() < 0.3) list.push({ ...root });
    out.push(...list.sort((a, b) => a.start - b.start));
  }
  return out;
}

test('span index: children kept on the span equal the children by parent id, for copies and for children read first', () => {
  let orphans = 0;
  let copiedParents = 0;
  for (const seed of [1, 2, 3]) {
    const all = spans(seed);
    const idx = new EvidenceSpanIndex();
    // windows of 5 s stepped by 1 s: spans come in the stream's order, parents and children in different windows
    const seen: Span[] = [];
    for (let w = T0 - 5000; w < T0 + 45_000; w += 1000) {
      const range = { start: w, end: w + 5000 };
      const inWin = all.filter((s) => s.start >= range.start && s.start < range.end);
      const v = idx.summarize(inWin, range);
      for (const s of inWin) if (!seen.includes(s)) seen.push(s);
      for (let i = 0; i < v.nInRange; i++) {
        const e = v.inRange[i];
        // the plain definition: every span read so far whose trace and parent id are this span's
        const want = seen.filter((c) => c.traceId === e.span.traceId && c.parentId === e.span.spanId);
        const got = EvidenceSpanIndex.childrenOf(idx, e).map((c) => c.span);
        assert.deepEqual(got, want, `${e.span.traceId}/${e.span.spanId} at ${(w - T0) / 1000} s`);
        if (e.dup && want.length) copiedParents++;
        if (want.some((c) => c.start < e.span.start)) orphans++;
      }
    }
  }
  assert.ok(orphans > 10, `${orphans} parents with a child read first`);
  assert.ok(copiedParents > 5, `${copiedParents} copies of parents`);
});

test('resource items: each pod keeps its three strongest deviations, equals in the order they came (as a stable sort would)', () => {
  // one pod, eight metrics: four share one series (equal deviations), the others differ; and a
  // second pod with the same pattern shifted, so pods are kept apart
  const names = ['cpu_a', 'cpu_b', 'mem_a', 'mem_b', 'cpu_c', 'mem_c', 'fs_a', 'fs_b'];
  const series: MetricSeries[] = [];
  for (const pod of ['p1', 'p2']) {
    names.forEach((name, i) => {
      const times: number[] = [];
      const values: number[] = [];
      for (let t = T0; t < T0 + 40 * MIN; t += 30_000) {
        times.push(t);
        const jump = t >= T0 + 35 * MIN ? (i < 4 ? 100 : 20 + 10 * i) * (pod === 'p2' ? -1 : 1) : 0;
        values.push(100 + ((t / 30_000) % 3) + jump);
      }
      series.push({ entity: pod, name, unit: '', times: Float64Array.from(times), values: Float64Array.from(values) });
    });
  }
  const hist = new ResourceHistory(30 * MIN);
  const range = { start: T0 + 35 * MIN, end: T0 + 40 * MIN };
  hist.add(series, { start: T0, end: T0 + 35 * MIN });
  hist.add(series, range);
  const res = hist.deviations(range, (p) => p, () => undefined, true);
  let ties = 0;
  for (const [pod, r] of res) {
    const own = [...r.own!].filter(([, d]) => Math.abs(d) >= ITEM_MIN);
    const want = own.slice().sort((a, b) => Math.abs(b[1]) - Math.abs(a[1])).slice(0, 3);
    assert.deepEqual(r.items.map((i) => i.dev), want.map(([, d]) => d), pod);
    r.items.forEach((it, k) => assert.match(it.text(), new RegExp(`^resource ${pod} ${want[k][0]} `)));
    ties += new Set(want.map(([, d]) => d)).size < want.length ? 1 : 0;
  }
  assert.equal(ties, 2, "both pods have equal deviations among their strongest");
});
