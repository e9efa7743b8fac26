// The span index keeps look-ups it can reuse (a span's children list, a record's trace): a
// span that had no children when first asked, or a trace not indexed when a record came, must
// still be found once they arrive in a later window.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvidencePass } from '../../src/encode/views/evidence.js';
import { EvidenceSpanIndex } from '../../src/encode/views/evidence-spans.js';
import type { LogRecord, Span, TimeRange } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const win = (m: number): TimeRange => ({ start: T0 + m * MIN, end: T0 + (m + 5) * MIN });

function span(trace: string, id: string, service: string, start: number, duration: number, parentId?: string): Span {
  const s: Span = { traceId: trace, spanId: id, entity: `${service}-1`, service, operation: `${service}-op`, start, duration, status: 'ok' };
  if (parentId) s.parentId = parentId;
  return s;
}

test('a call read a window after its caller started still comes off the caller\'s self time', () => {
  // a's span starts 10 s before window 0 ends and lasts 30 s; its one call (to b, 4 s) starts
  // 10 s after window 0's end, so window 0 has looked for a's children and found none
  const root = span('t', 'r', 'a', T0 + 5 * MIN - 10_000, 30_000);
  const call = span('t', 'c', 'b', root.start + 20_000, 4_000, 'r');
  const idx = new EvidenceSpanIndex();
  const selfOfA = (v: ReturnType<EvidenceSpanIndex['summarize']>) => Array.from(v.self.find((k) => k.a === 'a')!.values());
  assert.deepEqual(selfOfA(idx.summarize([root], win(0))), [30_000]);
  // window 1 (the span has ended inside it): 30 s minus the call
  assert.deepEqual(selfOfA(idx.summarize([root, call], win(1))), [26_000]);
});

test('a record that comes before its trace is indexed is joined once its span comes', () => {
  const pass = new EvidencePass(1);
  const other = span('t0', 'o', 'a', T0 + 10_000, 100);
  const rec: LogRecord = { time: T0 + 4 * MIN, entity: 'b-1', service: 'b', severity: 'info', body: 'hello', traceId: 't1', spanId: 's1' };
  // window 0: another trace's span and a record of trace t1, whose span (started a second
  // before the record) is read late, in window 1
  const w0 = pass.add(win(0), [other], [rec], [7], false);
  assert.equal(w0?.templates, undefined);
  const s1 = span('t1', 's1', 'b', T0 + 4 * MIN - 1_000, 2_000);
  // window 1: the record held back is tried again, and t1 looked up anew
  const w1 = pass.add(win(1), [s1], [rec], [7], false);
  const op = w1?.templates?.ops.get('b\tb-op');
  assert.ok(op, 'b-op has records');
  assert.equal(op.n, 1);
  assert.deepEqual([...op.templates], [[7, { sum: 1, sumSq: 1 }]]);
});
