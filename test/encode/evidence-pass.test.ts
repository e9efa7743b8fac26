// Records joined to their spans in the views' evidence pass (src/encode/views/evidence.ts):
// a span's records are kept in flat arrays (few per span) and by time once there are many.
// Either way a duplicate (same span, time and line shape) counts once, every other record
// counts, and the per-(operation, shape) moments are those of the per-span counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvidencePass } from '../../src/encode/views/evidence.js';
import { SeededRandom } from '../../src/encode/views/stats.js';
import type { LogRecord, Span } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

test('evidence pass: per-span record counts drop duplicates, for spans with few and with many records', () => {
  const rng = new SeededRandom(9);
  // three spans of one operation: 5, 40 and 300 records (the last two past the flat limit)
  const sizes = [5, 40, 300];
  const spans: Span[] = sizes.map((_, i) => ({ traceId: `t${i}`, spanId: `s${i}`, entity: 'a-1', service: 'a', operation: 'op', start: T0 + 10_000 * i, duration: 50, status: 'ok' }));
  const logs: LogRecord[] = [];
  const shapes: number[] = [];
  const expected: Map<number, number>[] = [];
  for (let i = 0; i < sizes.length; i++) {
    const seen = new Set<string>();
    const counts = new Map<number, number>();
    for (let k = 0; k < sizes[i]; k++) {
      // few distinct times and shapes: many exact duplicates
      const time = spans[i].start + Math.floor(rng.next() * 12);
      const shape = Math.floor(rng.next() * 6);
      logs.push({ time, entity: 'a-1', service: 'a', severity: 'info', body: '', traceId: `t${i}`, spanId: `s${i}` });
      shapes.push(shape);
      const key = `${time}/${shape}`;
      if (seen.has(key)) continue;
      seen.add(key);
      counts.set(shape, (counts.get(shape) ?? 0) + 1);
    }
    expected.push(counts);
  }
  const want = new Map<number, { sum: number; sumSq: number }>();
  for (const counts of expected) {
    for (const [shape, c] of counts) {
      const m = want.get(shape) ?? { sum: 0, sumSq: 0 };
      m.sum += c;
      m.sumSq += c * c;
      want.set(shape, m);
    }
  }
  const byShape = (m: Map<number, { sum: number; sumSq: number }>) => new Map([...m].sort((x, y) => x[0] - y[0]));
  // records in time order, as a window hands them out
  const order = [...logs.keys()].sort((x, y) => logs[x].time - logs[y].time);
  const pass = new EvidencePass(1);
  const w = pass.add({ start: T0, end: T0 + 5 * MIN }, spans, order.map((i) => logs[i]), order.map((i) => shapes[i]), false);
  const op = w?.templates?.ops.get('a\top');
  assert.ok(op, 'the operation has a template summary');
  assert.equal(op.n, 3);
  assert.deepEqual(byShape(op.templates), byShape(want));
  // the same records handed out again (windows overlap) count once
  const again = pass.add({ start: T0, end: T0 + 5 * MIN }, spans, order.map((i) => logs[i]), order.map((i) => shapes[i]), false);
  const op2 = again?.templates?.ops.get('a\top');
  assert.ok(op2);
  assert.deepEqual(byShape(op2.templates), byShape(want));
});
