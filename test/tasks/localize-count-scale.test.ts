/**
 * `countScale` (src/tasks/localize/localizer.ts): how the log-template and span-structure
 * families score a Welch t of per-span counts — as it is (`t`, default) or through its Student
 * tail at the Welch–Satterthwaite degrees of freedom (`student`, docs/localize.md "Small-sample t").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { prepareLocalizer, LOCALIZER_DEFAULTS } from '../../src/tasks/index.js';
import { welchT, welchZ, type LogReference, type LogSummary, type StructureReference, type StructureSummary } from '../../src/encode/index.js';
import { MIN, T0, fixture } from './fixture.js';

const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

// 3 spans that log a template 4, 4 and 9 times against ≈ 1 per span: the t uses their own variance
const W = { n: 3, sum: 17, sumSq: 113 };
const R = { n: 900, sum: 900, sumSq: 1800 };
const logWindow: LogSummary = { ops: new Map([['s\top', { service: 's', operation: 'op', n: W.n, pods: new Map([['s-0', 3]]), templates: new Map([[7, { sum: W.sum, sumSq: W.sumSq }]]) }]]), text: new Map() };
const logRef: LogReference = { ops: new Map([['s\top', { n: R.n, templates: new Map([[7, { sum: R.sum, sumSq: R.sumSq }]]) }]]), text: new Map() };
const structWindow: StructureSummary = new Map([['s\top', { service: 's', operation: 'op', n: W.n, children: new Map([['t get', { sum: W.sum, sumSq: W.sumSq }]]) }]]);
const structRef: StructureReference = new Map([['s\top', { n: R.n, children: new Map([['t get', { sum: R.sum, sumSq: R.sumSq }]]) }]]);

test("countScale: 't' by default; 'student' scores both count families through welchZ", async () => {
  assert.equal(LOCALIZER_DEFAULTS.countScale, 't');
  const ds = memoryDataset(fixture(64, { silenceB: QUERY }));
  for (const [scale, expect] of [['t', welchT(W, R)], ['student', welchZ(W, R)]] as const) {
    const prep = await prepareLocalizer(ds, [QUERY], { countScale: scale });
    const fams = prep.localizer.families;
    const logs = fams.find((f) => f.name === 'log-template')!;
    const struct = fams.find((f) => f.name === 'span-structure')!;
    assert.equal(logs.score(logWindow, logRef).get('s')!.parts!.get('op|7'), Math.abs(expect), scale);
    assert.equal(struct.score(structWindow, structRef).get('s')!.parts!.get('op|t get'), Math.abs(expect), scale);
    // the vanished template at b still ranks b first under either scale
    assert.equal(prep.rank(QUERY).services[0].service, 'b', scale);
  }
  assert.ok(welchZ(W, R) < 0.8 * welchT(W, R));
});
