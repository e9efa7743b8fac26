import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gridWindows, overlapRatio, labelWindow, labelWindows, windowStream, entitySlices, caseWindows } from '../../src/windows/index.js';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { FaultLabel, Span, LogRecord } from '../../src/telemetry/index.js';

const MIN = 60_000;

test('grid windows are stride-aligned and cover the range', () => {
  const w = gridWindows({ start: 10 * MIN + 5000, end: 20 * MIN }, { lengthMs: 5 * MIN, strideMs: MIN });
  assert.equal(w[0].start, 10 * MIN);
  assert.equal(w[0].end, 15 * MIN);
  assert.equal(w.at(-1)!.end, 20 * MIN);
  assert.equal(w.length, 6);
  assert.deepEqual(w.map((x) => x.index), [0, 1, 2, 3, 4, 5]);
  // shorter than one window: still one window
  assert.equal(gridWindows({ start: 0, end: MIN }, { lengthMs: 5 * MIN, strideMs: MIN }).length, 1);
  assert.throws(() => gridWindows({ start: 0, end: 1 }, { lengthMs: 0, strideMs: 1 }));
});

test('overlap ratio arithmetic', () => {
  const a = { start: 0, end: 5 * MIN };
  assert.equal(overlapRatio(a, a), 1);
  assert.equal(overlapRatio(a, { start: MIN, end: 6 * MIN }), 0.8);
  assert.equal(overlapRatio(a, { start: 4 * MIN, end: 9 * MIN }), 0.2);
  assert.equal(overlapRatio(a, { start: 5 * MIN, end: 10 * MIN }), 0);
  assert.equal(overlapRatio(a, { start: 7 * MIN, end: 12 * MIN }), 0);
  // symmetric for equal lengths
  assert.equal(overlapRatio({ start: 2 * MIN, end: 7 * MIN }, a), overlapRatio(a, { start: 2 * MIN, end: 7 * MIN }));
  // ratio is measured against the first window's length
  assert.equal(overlapRatio({ start: 0, end: 2 * MIN }, { start: MIN, end: 10 * MIN }), 0.5);
});

const fault = (id: string, start: number, end: number, type = 'cpu'): FaultLabel => ({ id, start, end, rootCause: 'p-' + id, rootCauseService: 's-' + id, type });

test('window labels: overlap with a fault active period, most-overlapping wins', () => {
  const f1 = fault('a', 3 * MIN, 6 * MIN, 'cpu');
  const f2 = fault('b', 6 * MIN, 20 * MIN, 'delay');
  assert.equal(labelWindow({ start: 0, end: 3 * MIN }, [f1, f2]).abnormal, false);
  const l = labelWindow({ start: 2 * MIN, end: 7 * MIN }, [f1, f2]);
  assert.equal(l.abnormal, true);
  assert.equal(l.type, 'cpu');
  assert.equal(l.rootCause, 'p-a');
  assert.equal(l.faults.length, 2);
  const l2 = labelWindow({ start: 4 * MIN, end: 9 * MIN }, [f1, f2]);
  assert.equal(l2.type, 'delay');
  const ws = gridWindows({ start: 0, end: 30 * MIN }, { lengthMs: 5 * MIN, strideMs: MIN });
  const fast = labelWindows(ws, [f2, f1]);
  ws.forEach((w, i) => assert.deepEqual(fast[i], labelWindow(w, [f1, f2])));
});

function spansEvery(n: number, stepMs: number, entity: string): Span[] {
  return Array.from({ length: n }, (_, i) => ({
    traceId: 't' + i, spanId: 's' + i, entity, service: entity.split('-')[0], operation: 'op', start: i * stepMs, duration: 1, status: 'ok' as const,
  }));
}

test('windowStream assigns records by their own time, each to every window that covers it', async () => {
  const spans = [...spansEvery(600, 1000, 'a-1'), ...spansEvery(300, 2000, 'b-1')];
  const logs: LogRecord[] = spans.map((s) => ({ time: s.start + 500, entity: s.entity, service: s.service, severity: 'info', body: 'x' }));
  const times = Float64Array.from({ length: 10 }, (_, i) => i * MIN);
  const ds = memoryDataset({
    entities: [{ id: 'a-1', kind: 'pod', service: 'a' }, { id: 'b-1', kind: 'pod', service: 'b' }],
    spans, logs, batchSize: 37,
    metrics: [{ entity: 'a-1', name: 'cpu', times, values: times.map((t) => t / MIN) }],
    labels: [fault('x', 4 * MIN, 5 * MIN)],
  });
  const got = [];
  for await (const s of windowStream(ds, { lengthMs: 2 * MIN, strideMs: MIN })) got.push(s);
  assert.equal(got.length, 9);
  for (const g of got) {
    const expSpans = spans.filter((s) => s.start >= g.window.start && s.start < g.window.end).length;
    assert.equal(g.spans.length, expSpans);
    assert.equal(g.logs.length, logs.filter((l) => l.time >= g.window.start && l.time < g.window.end).length);
    assert.equal(g.metrics.length, 1);
    assert.deepEqual([...g.metrics[0].values], [g.window.start / MIN, g.window.start / MIN + 1]);
    assert.equal(g.label.abnormal, g.window.start < 5 * MIN && g.window.end > 4 * MIN);
  }
  const per = entitySlices(got[0]);
  assert.equal(per.get('a-1')!.spans.length, 120);
  assert.equal(per.get('b-1')!.spans.length, 60);
  assert.equal(per.get('a-1')!.metrics.length, 1);
});

test('windowStream honours a range and modality selection', async () => {
  const spans = spansEvery(600, 1000, 'a-1');
  const ds = memoryDataset({ entities: [{ id: 'a-1', kind: 'pod' }], spans });
  const got = [];
  for await (const s of windowStream(ds, { lengthMs: MIN, strideMs: MIN }, { range: { start: 2 * MIN, end: 5 * MIN }, modalities: ['logs'] })) got.push(s);
  assert.deepEqual(got.map((g) => g.window.start), [2 * MIN, 3 * MIN, 4 * MIN]);
  assert.ok(got.every((g) => g.spans.length === 0));
});

test('case windows come from cases, sorted by start', () => {
  const c = (id: string, start: number) => ({ id, start, end: start + MIN, group: id, label: fault(id, start, start + MIN) });
  const w = caseWindows([c('b', 5 * MIN), c('a', MIN)]);
  assert.deepEqual(w.map((x) => x.caseId), ['a', 'b']);
  const labels = labelWindows(w, [], [c('b', 5 * MIN), c('a', MIN)]);
  assert.equal(labels[1].rootCause, 'p-b');
});
