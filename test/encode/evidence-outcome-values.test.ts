// The evidence pass's per-window call outcomes (src/encode/views/evidence-spans.ts `outcomes`:
// each span's call worked out in the edge walk, complaints charged once the window's records
// are joined) against the call-outcome family's own `summarize` (call-outcomes.ts) over every
// span and record read up to the window's end, its `fit` against the pass's references, and the
// rows' `out_*` features against the family's per-edge `outcomeZ`. Generated traces with span
// kinds (client → server, refused calls without a server span, the callee's own errors and
// errors passed on from deeper down, ERROR lines naming the callee) and without (Nezha's CSV).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_FEATURES, EvidencePass, evidenceRows } from '../../src/encode/views/evidence.js';
import { OUTCOME_MIN_CALLS, callOutcomes, outcomeZ, type OutcomeSummary } from '../../src/encode/evidence/index.js';
import type { LogRecord, Span, TimeRange } from '../../src/telemetry/index.js';
import { seededRandom } from '../helpers/rng.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const SERVICES = ['front', 'order', 'pay', 'stock'];
const F = (n: string) => EVIDENCE_FEATURES.indexOf(n);

/** Traces and their records over `minutes`, in stream order; `kinds`: OTLP-like client/server spans, else Nezha-like spans without kinds. */
function fixture(minutes: number, seed: number, kinds: boolean): { spans: Span[]; logs: LogRecord[] } {
  const rnd = seededRandom(seed);
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  let id = 0;
  const pod = (svc: string) => `${svc}-${1 + Math.floor(rnd() * 2)}`;
  const span = (trace: string, parent: string | undefined, service: string, entity: string, operation: string, start: number, duration: number, kind?: string): Span => {
    const s: Span = { traceId: trace, spanId: `s${id++}`, entity, service, operation, start, duration, status: 'ok' };
    if (parent) s.parentId = parent;
    if (kind) s.kind = kind as Span['kind'];
    spans.push(s);
    return s;
  };
  // `pay` fails often in the second half (a fault), `stock` is sometimes refused
  const serve = (trace: string, caller: Span, depth: number, at: number): void => {
    const n = 1 + Math.floor(rnd() * 3);
    let t = at;
    for (let k = 0; k < n; k++) {
      const callee = SERVICES[1 + Math.floor(rnd() * (SERVICES.length - 1))];
      if (callee === caller.service) continue;
      const late = t - T0 > (minutes / 2) * MIN;
      const dur = 5 + Math.floor(rnd() * 40);
      const gap = 1 + Math.floor(rnd() * (rnd() < 0.03 ? 200 : 4));
      if (kinds) {
        const client = span(trace, caller.spanId, caller.service, caller.entity, `call ${callee}`, t, dur + gap, 'client');
        client.attributes = { 'peer.service': callee };
        if (callee === 'stock' && rnd() < 0.1) {
          // refused: no server span behind the attempt
          client.status = 'error';
          client.duration = 2;
        } else {
          const server = span(trace, client.spanId, callee, pod(callee), `${callee}-op${Math.floor(rnd() * 2)}`, t + gap / 2, dur, 'server');
          if (depth < 1 && rnd() < 0.4) serve(trace, server, depth + 1, server.start + 1);
          // passed on: a failing child makes the server fail too
          if (spans.some((c) => c.parentId === server.spanId && c.status === 'error') && rnd() < 0.5) server.status = 'error';
          if (callee === 'pay' && rnd() < (late ? 0.3 : 0.02)) server.status = 'error';
          if (server.status === 'error') client.status = 'error';
        }
      } else {
        const s = span(trace, caller.spanId, callee, pod(callee), `${callee}-op${Math.floor(rnd() * 2)}`, t + gap, dur);
        if (depth < 1 && rnd() < 0.4) serve(trace, s, depth + 1, s.start + 1);
        if (callee === 'pay' && rnd() < (late ? 0.3 : 0.02)) s.status = 'error';
      }
      const end = t + dur + gap;
      // the caller complains about the answer (names the callee), or logs an error of its own
      const r = rnd();
      if (r < (late && callee === 'order' ? 0.4 : 0.05)) {
        logs.push({ time: end + 1, entity: caller.entity, service: caller.service, severity: 'error', body: `bad answer from ${callee} for request ${id}`, traceId: trace, spanId: caller.spanId });
      } else if (r < 0.5) {
        logs.push({ time: end, entity: caller.entity, service: caller.service, severity: r < 0.1 ? 'error' : 'info', body: `step done in ${dur} ms`, traceId: trace, spanId: caller.spanId });
      }
      t = end + 1;
    }
    caller.duration = Math.max(caller.duration, t - caller.start + 2);
  };
  for (let t = 0; t < minutes * 60; t += 3) {
    const tr = `t${t}`;
    const root = span(tr, undefined, 'front', pod('front'), `front-op${t % 2}`, T0 + t * 1000 + Math.floor(rnd() * 1000), 1, kinds ? 'server' : undefined);
    serve(tr, root, 0, root.start + 1);
  }
  spans.sort((a, b) => a.start - b.start);
  logs.sort((a, b) => a.time - b.time);
  return { spans, logs };
}

function check(kinds: boolean): void {
  const minutes = 24;
  const { spans, logs } = fixture(minutes, kinds ? 5 : 6, kinds);
  const pass = new EvidencePass(3, 1000);
  const sums: OutcomeSummary[] = [];
  let complained = 0;
  let failed = 0;
  let refused = 0;
  const windows = [];
  for (let m = 0; m + 5 <= minutes; m++) {
    const range: TimeRange = { start: T0 + m * MIN, end: T0 + (m + 5) * MIN };
    const inWindow = spans.filter((s) => s.start >= range.start && s.start < range.end);
    const recs = logs.filter((r) => r.time >= range.start && r.time < range.end);
    const ew = pass.add(range, inWindow, recs, recs.map(() => 0), true);
    // the pass has read every span and record up to the window's end; so is the family's context
    const fam = callOutcomes.summarize({ range, spans: spans.filter((s) => s.start < range.end), logs: logs.filter((r) => r.time < range.end).map((record) => ({ record, template: 0 })) });
    assert.ok(fam && ew?.outcomes, `window ${m} has calls`);
    sums.push(fam);
    const got = ew.outcomes.map((o) => [`${o.caller}\t${o.callee}`, o.calls, o.failed, o.complained, o.errored, Array.from(o.gaps).sort((a, b) => a - b)]);
    const want = [...fam].map(([k, e]) => [k, e.calls, e.failed, e.complained, e.errored, [...e.gaps].sort((a, b) => a - b)]);
    assert.deepEqual(got, want, `window ${m}: outcomes per edge`);
    for (const o of ew.outcomes) {
      complained += o.complained;
      failed += o.failed;
      refused += o.calls - o.pods.reduce((a, p) => a + p.calls, 0);
      // a pod's calls are the edge's calls with a callee span on that pod
      for (const p of o.pods) assert.ok(p.calls > 0 && p.failed <= o.failed && p.complained <= o.complained);
    }
    windows.push({ ew, fam });
  }
  assert.ok(complained > 0 && failed > 0, `complaints ${complained}, failures ${failed}`);
  if (kinds) assert.ok(refused > 0, 'some calls have no callee span');
  // every window is in the sample: the references are the family's fit of them all (no felt figures)
  const refs = pass.finish((s) => s);
  const fit = callOutcomes.fit(sums);
  const strip = (m: typeof fit) => [...m].map(([k, r]) => [k, r.slowMs, r.calls, r.bad, r.windows, r.dispersion]);
  assert.deepEqual(strip(refs.outcomes!), strip(fit));
  // rows: each service's z over its incoming edges, the family's `outcomeZ` per edge
  let judged = 0;
  for (const { ew, fam } of windows) {
    const rows = evidenceRows(ew, undefined, refs, (s) => s, () => '');
    const zs = new Map<string, number[]>();
    for (const e of fam.values()) {
      const r = fit.get(`${e.caller}\t${e.callee}`)!;
      if (e.calls < OUTCOME_MIN_CALLS) continue;
      const bad = e.failed + e.complained + e.gaps.filter((g) => g > r.slowMs).length;
      zs.set(e.callee, [...(zs.get(e.callee) ?? []), outcomeZ(bad, e.calls, (r.bad + 0.5) / (r.calls + 1), r.dispersion)]);
    }
    for (const row of rows) {
      if (row.pod !== undefined) continue;
      const z = zs.get(row.entity);
      const calls = [...fam.values()].filter((e) => e.callee === row.entity).reduce((a, e) => a + e.calls, 0);
      if (calls) assert.equal(row.features[F('out_in_calls_log')], Math.fround(Math.log1p(calls)), `${row.entity}: calls`);
      if (!z) {
        assert.ok(Number.isNaN(row.features[F('out_in_z_max')]));
        continue;
      }
      assert.equal(row.features[F('out_in_z_max')], Math.fround(Math.max(...z)), `${row.entity}: z max`);
      judged++;
    }
  }
  assert.ok(judged > 20, `${judged} service rows judged`);
  // the late failures of `pay` stand out against its normal share
  const last = windows.at(-1)!;
  const payRow = evidenceRows(last.ew, undefined, refs, (s) => s, () => '').find((r) => r.entity === 'pay' && r.pod === undefined)!;
  assert.ok(payRow.features[F('out_in_failed_share')] > 0.1, 'pay fails in the second half');
}

test('evidence pass: call outcomes per window are the family summaries (span kinds)', () => check(true));
test('evidence pass: call outcomes per window are the family summaries (no span kinds)', () => check(false));
