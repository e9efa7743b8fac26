// Log records as the threads hand them over (src/encode/views/foreign-records.ts): packed into
// columns and back, with a body only where the evidence reads one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignRecords, packForeignRecords } from '../../src/encode/views/foreign-records.js';
import type { LogRecord } from '../../src/telemetry/index.js';

const logs: LogRecord[] = [
  { time: 1000, entity: 'a-1', service: 'a', severity: 'info', body: 'hello', traceId: 't1', spanId: 's1' },
  { time: 2000, entity: 'b-1', service: 'b', severity: 'error', body: 'call to c failed', traceId: 't1', spanId: 's2' },
  { time: 3000, entity: 'b-1', service: 'b', severity: 'fatal', body: 'no span here' },
  { time: 4000, entity: 'c-1', service: 'c', severity: 'fatal', body: 'crashed', traceId: 't2', spanId: 's3' },
];

test('packForeignRecords keeps the picked records in order, a body only for ERROR/FATAL records with a span', () => {
  const r = packForeignRecords(logs, [1, 2, 3], [7, 8, 9, 10]);
  assert.deepEqual([...r.time], [2000, 3000, 4000]);
  assert.deepEqual(r.entity, ['b-1', 'b-1', 'c-1']);
  assert.deepEqual(r.service, ['b', 'b', 'c']);
  assert.deepEqual(r.traceId, ['t1', null, 't2']);
  assert.deepEqual(r.spanId, ['s2', null, 's3']);
  assert.deepEqual([...r.shape], [8, 9, 10]);
  assert.deepEqual(r.errorBody, ['call to c failed', null, 'crashed']);
});

test('foreignRecords undoes the packing for what the evidence reads, shapes mapped to this side', () => {
  const packed = structuredClone(packForeignRecords(logs, [0, 1, 2, 3], Int32Array.from([5, 6, 5, 7])));
  const { logs: back, shapes } = foreignRecords(packed, (s) => s * 10);
  assert.deepEqual(shapes, [50, 60, 50, 70]);
  assert.deepEqual(
    back.map((l) => [l.time, l.entity, l.service, l.traceId, l.spanId]),
    logs.map((l) => [l.time, l.entity, l.service, l.traceId, l.spanId]),
  );
  // only complaints (ERROR/FATAL with a span id) keep a severity and a body
  assert.deepEqual(back.map((l) => [l.severity, l.body]), [['unknown', ''], ['error', 'call to c failed'], ['unknown', ''], ['error', 'crashed']]);
});

test('an empty pick gives empty columns', () => {
  const r = packForeignRecords(logs, [], []);
  assert.equal(r.time.length, 0);
  assert.equal(r.shape.length, 0);
  assert.deepEqual(foreignRecords(r, (s) => s), { logs: [], shapes: [] });
});
