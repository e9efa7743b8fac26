import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildReportHtml, parseEvalReport, table1 } from '../../src/eval/report/index.js';
import { UserError } from '../../src/telemetry/index.js';
import { fixtureReport } from './fixture.js';

test('Table 1 takes AD from metrics-only detection, FL from service localization, FD from type classification', () => {
  const t = table1(fixtureReport(), 'failure');
  assert.deepEqual(t.methods, ['evidence', 'raw-features', 'raw-backbone', 'model']);
  const model = t.cells[3];
  assert.deepEqual(model[0], { kind: 'value', value: 0.8, n: 900 }); // AD P
  assert.equal(t.cells[0][0].kind, 'absent', 'evidence does not detect');
  assert.deepEqual(model[8], { kind: 'not-measurable', reason: 'a single class', n: 3 }); // FD R
  assert.equal(t.paper, undefined, 'no paper row outside AIOps 2022');
  const a = table1(fixtureReport({ dataset: '/data/aiops22-pod' }), 'failure');
  assert.equal(a.paper?.[3], 69.57);
  assert.equal(a.paper?.[10], 83.35);
});

test('the page is self-contained, escapes what the file says and shows "not measurable" in words', async () => {
  const html = await buildReportHtml(fixtureReport({ dataset: 'aiops22-pod', evidence: true }));
  assert.doesNotMatch(html, /<script/i, 'no script at all (the note is escaped)');
  assert.match(html, /a &lt;script&gt;alert\(1\)&lt;\/script&gt; note/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, 'no external resource');
  assert.match(html, /<td class="nm" title="a single class \(n=3\)">not measurable<\/td>/);
  assert.match(html, /paper \(RuntimeSlicer, its protocol\)<\/td><td>97\.27<\/td>/);
  assert.match(html, /LEAKY/);
  assert.match(html, /cpu z=8\.1 &lt;b&gt;, latency p99 z=5\.3/);
  assert.match(html, /memory &lt;leak&gt;/);
  assert.match(html, /Not in this EVAL\.json: per-window runtime states/);
  // ids of the inlined charts do not collide
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(new Set(ids).size, ids.length);
  assert.equal(await buildReportHtml(fixtureReport({ dataset: 'aiops22-pod', evidence: true })), html, 'deterministic');
});

test('with a timeline the states and alarms lanes are drawn and the hook note is gone', async () => {
  const html = await buildReportHtml(fixtureReport({ timeline: true }));
  assert.doesNotMatch(html, /Not in this EVAL\.json/);
  assert.match(html, /alarm: model/);
  assert.match(html, /state 2/);
});

test('a file that is not an evaluate report is one UserError line', () => {
  assert.throws(() => parseEvalReport('{', 'x.json'), (e: unknown) => e instanceof UserError && /x\.json is not JSON/.test(e.message));
  assert.throws(() => parseEvalReport('{"schemaVersion":1}', 'x.json'), /no rows/);
  assert.throws(() => parseEvalReport('{"schemaVersion":9,"rows":[]}', 'x.json'), /schema version 9/);
  assert.throws(() => parseEvalReport('{"schemaVersion":1,"rows":[{"task":"detection"}]}', 'x.json'), /row 1/);
  const ok = parseEvalReport('{"schemaVersion":1,"rows":[]}', 'x.json');
  assert.equal(ok.dataset, '(unnamed dataset)');
});

test('per-type rows that are all not measurable become one sentence, not a chart of n/m labels', async () => {
  const r = fixtureReport();
  r.rows = r.rows.map((x) => (x.faultType !== undefined ? { ...x, value: null, notMeasurable: { n: x.n, classes: 1, reason: 'too few' } } : x));
  const html = await buildReportHtml(r);
  assert.match(html, /localization \(service\) ac@1 by fault type<\/b>: not measurable for any fault type/);
  assert.doesNotMatch(html, /aria-label="localization \(service\) ac@1 by fault type"/);
});
