// The evidence pass's per-window span structure (src/encode/views/evidence-spans.ts `signature`,
// counted per operation in the edge walk; evidence.ts `compactStructure`) against the
// span-structure family's own `summarize` (span-structure.ts) over every span read up to the
// window's end, its `fit` against the pass's references, and the rows' `struct_*` features
// against the family's Welch t per (operation, child operation) and its per-service `score`.
// Generated traces with span kinds (client → server, peer.service) and without (Nezha's CSV),
// with repeated calls, failures (spans touched by them are left out), copies of spans written
// twice, and a caught exception in the second half that skips the calls after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_FEATURES, EvidencePass, evidenceRows } from '../../src/encode/views/evidence.js';
import { STRUCTURE_MIN_SPANS, spanStructure, welchT, type StructureReference, type StructureSummary } from '../../src/encode/evidence/index.js';
import type { Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const F = (n: string) => EVIDENCE_FEATURES.indexOf(n);

/** What each operation calls: [callee service, operation, min, max calls]. */
const CALLS: Record<string, [string, string, number, number][]> = {
  'front home': [['order', 'list', 1, 1], ['stock', 'get', 1, 3]],
  'front buy': [['order', 'create', 1, 1], ['pay', 'charge', 1, 1]],
  'order list': [['stock', 'get', 0, 2]],
  'order create': [['stock', 'reserve', 1, 1], ['pay', 'check', 1, 1]],
  'pay charge': [['stock', 'get', 1, 1]],
};

function fixture(minutes: number, seed: number, kinds: boolean): Span[] {
  const rnd = seededRandom(seed);
  const spans: Span[] = [];
  let id = 0;
  const pod = (svc: string) => `${svc}-${1 + Math.floor(rnd() * 2)}`;
  const span = (trace: string, parent: string | undefined, service: string, operation: string, start: number, kind?: string): Span => {
    const s: Span = { traceId: trace, spanId: `s${id++}`, entity: pod(service), service, operation, start, duration: 1, status: 'ok' };
    if (parent) s.parentId = parent;
    if (kind) s.kind = kind as Span['kind'];
    spans.push(s);
    return s;
  };
  const serve = (trace: string, s: Span, at: number): number => {
    let t = at + 1;
    const late = at - T0 > (minutes / 2) * MIN;
    // the fault: `order create` throws in the second half before calling `pay`
    const throws = late && s.service === 'order' && s.operation === 'create' && rnd() < 0.6;
    for (const [svc, op, lo, hi] of CALLS[`${s.service} ${s.operation}`] ?? []) {
      if (throws && svc === 'pay') break;
      const n = lo + Math.floor(rnd() * (hi - lo + 1));
      for (let k = 0; k < n; k++) {
        let callee: Span;
        if (kinds) {
          const client = span(trace, s.spanId, s.service, `call ${op}`, t, 'client');
          client.attributes = { 'peer.service': svc };
          callee = span(trace, client.spanId, svc, op, t + 1, 'server');
          const end = serve(trace, callee, t + 1);
          client.duration = end + 1 - client.start;
          if (rnd() < 0.03) callee.status = client.status = 'error';
          t = end + 2;
        } else {
          callee = span(trace, s.spanId, svc, op, t + 1);
          t = serve(trace, callee, t + 1) + 2;
          if (rnd() < 0.03) callee.status = 'error';
        }
        // the collector writes some spans twice
        if (rnd() < 0.05) spans.push({ ...callee });
      }
    }
    s.duration = t + 3 - s.start;
    return s.start + s.duration;
  };
  for (let t = 0; t < minutes * 60; t += 2) {
    const tr = `t${t}`;
    const root = span(tr, undefined, 'front', t % 3 ? 'home' : 'buy', T0 + t * 1000 + Math.floor(rnd() * 1000), kinds ? 'server' : undefined);
    serve(tr, root, root.start);
  }
  // stream order (stable: a copy comes after its first record)
  return spans.sort((a, b) => a.start - b.start);
}

const canon = (s: StructureSummary | StructureReference) =>
  [...s]
    .map(([k, o]) => [k, o.n, [...o.children].map(([c, m]) => [c, m.sum, m.sumSq]).sort((a, b) => String(a[0]).localeCompare(String(b[0])))] as const)
    .sort((a, b) => a[0].localeCompare(b[0]));

function check(kinds: boolean): void {
  const minutes = 24;
  const spans = fixture(minutes, kinds ? 11 : 12, kinds);
  const pass = new EvidencePass(3, 1000);
  const sums: StructureSummary[] = [];
  const windows = [];
  for (let m = 0; m + 5 <= minutes; m++) {
    const range: TimeRange = { start: T0 + m * MIN, end: T0 + (m + 5) * MIN };
    const ew = pass.add(range, spans.filter((s) => s.start >= range.start && s.start < range.end), [], [], true);
    // the pass has read every span up to the window's end; so is the family's context
    const fam = spanStructure.summarize({ range, spans: spans.filter((s) => s.start < range.end), logs: [] });
    assert.ok(fam && ew?.structure, `window ${m} has structure`);
    sums.push(fam);
    const got: StructureSummary = new Map(ew.structure.map((o) => [`${o.service}\t${o.operation}`, { service: o.service, operation: o.operation, n: o.n, children: new Map(o.kids.map((k, i) => [k, { sum: o.sum[i], sumSq: o.sumSq[i] }])) }]));
    assert.deepEqual(canon(got), canon(fam), `window ${m}: structure per operation`);
    windows.push({ ew, fam });
  }
  // every window is in the sample: the references are the family's fit of them all
  const refs = pass.finish((s) => s);
  const fit = spanStructure.fit(sums);
  assert.deepEqual(canon(refs.structure!), canon(fit));
  let judged = 0;
  let low = Infinity;
  for (const { ew, fam } of windows) {
    const rows = evidenceRows(ew, undefined, refs, (s) => s, () => '');
    const scores = spanStructure.score(fam, fit);
    const ts = new Map<string, number[]>();
    for (const [k, o] of fam) {
      const r = fit.get(k)!;
      if (o.n < STRUCTURE_MIN_SPANS || r.n < STRUCTURE_MIN_SPANS || (!o.children.size && !r.children.size)) continue;
      for (const c of new Set([...o.children.keys(), ...r.children.keys()])) {
        const t = welchT({ n: o.n, ...(o.children.get(c) ?? { sum: 0, sumSq: 0 }) }, { n: r.n, ...(r.children.get(c) ?? { sum: 0, sumSq: 0 }) });
        ts.set(o.service, [...(ts.get(o.service) ?? []), t]);
      }
    }
    for (const row of rows) {
      if (row.pod !== undefined) {
        assert.ok(EVIDENCE_FEATURES.every((n, i) => !n.startsWith('struct_') || Number.isNaN(row.features[i])), 'structure is per service only');
        continue;
      }
      const t = ts.get(row.entity);
      if (!t) {
        assert.ok(Number.isNaN(row.features[F('struct_t_max')]), `${row.entity}: nothing compared`);
        continue;
      }
      const max = Math.max(...t);
      const min = Math.min(...t);
      assert.equal(row.features[F('struct_t_max')], Math.fround(max), `${row.entity}: t max`);
      assert.equal(row.features[F('struct_t_min')], Math.fround(min), `${row.entity}: t min`);
      // the family's per-service score is the largest |t| of the two
      assert.ok(Math.abs(scores.get(row.entity)!.score - Math.max(Math.abs(max), Math.abs(min))) < 1e-9, `${row.entity}: family score`);
      if (row.entity === 'order') low = Math.min(low, min);
      judged++;
    }
  }
  assert.ok(judged > 20, `${judged} service rows judged`);
  // the caught exception: `order create` calls `pay check` less often than it normally does
  assert.ok(low < -3, `order's calls vanish (t ${low})`);
}

test('evidence pass: span structure per window is the family summary (span kinds)', () => check(true));
test('evidence pass: span structure per window is the family summary (no span kinds)', () => check(false));
