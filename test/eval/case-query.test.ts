import { test } from 'node:test';
import assert from 'node:assert/strict';
import { caseQuery } from '../../src/eval/index.js';

const MIN = 60_000;

test('a case query is the case window when no other fault starts inside it', () => {
  assert.deepEqual(caseQuery(0, 5 * MIN, [0, 5 * MIN, 9 * MIN, -2 * MIN]), { start: 0, end: 5 * MIN });
});

test('a case query stops at the last whole slice before the next injection', () => {
  // Nezha 29#7: the next fault 4.5 min later; a slice counts once half of it is inside, so
  // ending at 4.5 min would still read the minute [4, 5) — the query ends at 4 min
  assert.deepEqual(caseQuery(10 * MIN, 5 * MIN, [10 * MIN, 14.5 * MIN, 30 * MIN]), { start: 10 * MIN, end: 14 * MIN });
  assert.deepEqual(caseQuery(10 * MIN, 5 * MIN, [14 * MIN]), { start: 10 * MIN, end: 14 * MIN });
  // the nearest of several later faults decides
  assert.deepEqual(caseQuery(0, 5 * MIN, [4.2 * MIN, 2.5 * MIN]), { start: 0, end: 2 * MIN });
});

test('a case query keeps at least one slice', () => {
  assert.deepEqual(caseQuery(0, 5 * MIN, [20_000]), { start: 0, end: MIN });
  assert.deepEqual(caseQuery(0, 5 * MIN, [3 * MIN], 2 * MIN), { start: 0, end: 2 * MIN });
});
