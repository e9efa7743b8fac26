/**
 * Pooled call outcomes (docs/localize.md "Pooled counts"): the call-outcome family's slice
 * summaries are summed over a query and scored once (`pool.ts`); the localizer keeps the
 * stronger of that and the slices' combination (`LocalizerOptions.pooling`, `eitherZ`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { callOutcomes, type OutcomeSummary } from '../../src/encode/index.js';
import { prepareLocalizer } from '../../src/tasks/index.js';
import { eitherZ } from '../../src/tasks/localize/localizer.js';
import { poolOutcomes, poolSummaries } from '../../src/tasks/localize/pool.js';
import { MIN, T0, fixture } from './fixture.js';

/** one edge a → c in one slice: `calls` calls, `slow` of them 50 ms on the edge (normal 1 ms), `failed` refused */
const edge = (calls: number, slow: number, failed = 0): OutcomeSummary =>
  new Map([['a\tc', { caller: 'a', callee: 'c', calls, failed, complained: 0, gaps: [...Array(calls - slow - failed).fill(1), ...Array(slow).fill(50)], errored: failed, durations: Array(calls - failed).fill(5) }]]);
/** 40 normal slices of 20 calls, one slow call in every fifth */
const reference = () => callOutcomes.fit(Array.from({ length: 40 }, (_, i) => edge(20, i % 5 === 0 ? 1 : 0)));

test('pooled call outcomes are the sums of the slices', () => {
  const slices = [edge(2, 0, 1), edge(4, 1)];
  const o = poolOutcomes(slices).get('a\tc')!;
  assert.deepEqual([o.calls, o.failed, o.errored, o.gaps.length, o.durations?.length], [6, 1, 1, 5, 5]);
  // the inputs are not changed
  assert.equal(slices[0].get('a\tc')!.gaps.length, 1);
  assert.equal(slices[0].get('a\tc')!.calls, 2);
  assert.equal(poolSummaries('edge-gap', [new Map()]), undefined);
  assert.equal(poolSummaries('call-outcome', []), undefined);
});

test('an edge too quiet for the minimum in any one slice is judged over the sum', () => {
  const ref = reference();
  // two calls a minute, one of them refused in two of three minutes
  const slices = [edge(2, 0, 1), edge(2, 0), edge(2, 0, 1)];
  for (const s of slices) assert.equal(callOutcomes.score(s, ref).get('c'), undefined, 'under OUTCOME_MIN_CALLS in one slice');
  const pooled = callOutcomes.score(poolOutcomes(slices), ref).get('c');
  assert.ok(pooled && pooled.score > 3, `pooled ${pooled?.score}`);
});

test('one slow call among the few of a quiet slice is diluted by the query\'s other calls', () => {
  const ref = reference();
  const lucky = callOutcomes.score(edge(3, 1), ref).get('c')!.score;
  const pooled = callOutcomes.score(poolOutcomes([edge(3, 1), edge(2, 0), edge(2, 0), edge(4, 0), edge(3, 0)]), ref).get('c')!.score;
  assert.ok(lucky > 1.5, `one of three ${lucky}`);
  assert.ok(pooled < lucky - 0.5, `pooled ${pooled} vs ${lucky}`);
});

test('a few slow calls in every slice: the pooled test beats the slices combined, and c leads', async () => {
  // about one call in eight from a into c waits 300 ms more on the edge during the query (a small
  // delay or loss at c): one or two slow calls per slice
  const query: TimeRange = { start: T0 + 60 * MIN, end: T0 + 65 * MIN };
  const data = fixture(66);
  const byId = new Map(data.spans.map((s) => [s.spanId, s]));
  let k = 0;
  for (const s of data.spans) {
    const p = s.parentId ? byId.get(s.parentId) : undefined;
    if (s.service !== 'c' || !p || s.start < query.start || s.start >= query.end || k++ % 8 !== 3) continue;
    p.duration += 300;
  }
  const ds = memoryDataset(data);
  const prep = await prepareLocalizer(ds, [query], { families: ['call-outcome'] });
  const rank = (pooling: 'none' | 'either') => {
    (prep.localizer as unknown as { opt: { pooling: string } }).opt.pooling = pooling;
    const r = prep.rank(query);
    const e = r.services.find((s) => s.service === 'c')!.evidence.find((x) => x.family === 'call-outcome')!;
    return { e, first: r.services[0].service };
  };
  const none = rank('none');
  const either = rank('either');
  assert.equal(either.first, 'c');
  assert.equal(either.e.correction, 'pooled');
  assert.ok(either.e.z > none.e.z + 1, `pooled ${either.e.z} vs slices ${none.e.z}`);
  // a one-slice query has nothing to pool
  const one: TimeRange = { start: query.start, end: query.start + MIN };
  const single = (await prepareLocalizer(ds, [one], { families: ['call-outcome'] })).rank(one);
  for (const s of single.services) for (const e of s.evidence) assert.notEqual(e.correction, 'pooled');
});

test('eitherZ: the stronger test, corrected for having two; smooth past the quantile\'s precision', () => {
  assert.ok(Math.abs(eitherZ(2.2, 1) - 1.917) < 0.01);
  assert.equal(eitherZ(1, 2.2), eitherZ(2.2, 1));
  assert.ok(Math.abs(eitherZ(0, -1) + 0.674) < 0.01);
  assert.ok(Math.abs(eitherZ(4.999, 0) - eitherZ(5.001, 0)) < 0.02);
  assert.ok(eitherZ(37, 1) > 36.9 && eitherZ(37, 1) < 37);
});
