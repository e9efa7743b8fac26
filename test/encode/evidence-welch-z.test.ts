/**
 * The Welch t of records per span (log templates) and calls per child (span structure) on the
 * normal scale (src/encode/evidence/stats.ts `welchZ`): over a few spans that use their own
 * variance the t has few degrees of freedom and is no z; where the variance comes from a large
 * reference it is left almost as it is.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logTemplateFamily, logTemplates, spanStructure, spanStructureFamily, studentLogUpperTail, studentToZ, welchDf, welchT, welchZ, type LogReference, type LogSummary } from '../../src/encode/evidence/index.js';

const close = (a: number, b: number, tol: number, what: string) => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test("studentLogUpperTail: textbook quantiles of Student's t", () => {
  // one-sided 5 % points: t(1) 6.314, t(2) 2.920, t(10) 1.812; 0.5 % point of t(3) 5.841
  close(Math.exp(studentLogUpperTail(6.314, 1)), 0.05, 1e-4, 'df 1');
  close(Math.exp(studentLogUpperTail(2.92, 2)), 0.05, 1e-4, 'df 2');
  close(Math.exp(studentLogUpperTail(1.812, 10)), 0.05, 1e-4, 'df 10');
  close(Math.exp(studentLogUpperTail(5.841, 3)), 0.005, 1e-5, 'df 3');
  // P(T > 1) for df 1 is 1/4 exactly (Cauchy); negative t: the complement
  close(Math.exp(studentLogUpperTail(1, 1)), 0.25, 1e-10, 'Cauchy');
  close(Math.exp(studentLogUpperTail(-1, 1)), 0.75, 1e-10, 'Cauchy, negative');
  close(Math.exp(studentLogUpperTail(0, 4)), 0.5, 1e-12, 'zero');
});

test('studentToZ: a few degrees of freedom shrink a t, many leave it, the far tail stays finite', () => {
  close(studentToZ(6.4, 2), 2.26, 0.01, 't 6.4 on 2 df');
  close(studentToZ(-6.4, 2), -studentToZ(6.4, 2), 1e-12, 'sign');
  close(studentToZ(2.5, 1e6), 2.5, 1e-3, 'large df');
  assert.equal(studentToZ(2.5, Infinity), 2.5);
  assert.equal(studentToZ(0, 3), 0);
  const far = studentToZ(1e4, 3);
  assert.ok(Number.isFinite(far) && far > 6.5, `far tail ${far}`);
  // monotone in t and in df, never beyond |t|
  let prev = 0;
  for (const t of [0.5, 1, 2, 4, 8, 16, 32]) {
    const z = studentToZ(t, 4);
    assert.ok(z > prev && z < t, `t ${t}: z ${z}`);
    prev = z;
  }
  assert.ok(studentToZ(4, 3) < studentToZ(4, 10) && studentToZ(4, 10) < studentToZ(4, 100));
});

test('welchDf / welchZ: the window own variance rests on n − 1, the reference floor is known', () => {
  const ref = { n: 1000, sum: 1000, sumSq: 1200 }; // ≈ 1 per span, variance 0.2
  // 4 spans that vary far more than the reference: welchT uses their own variance
  const wild = { n: 4, sum: 18, sumSq: 9 + 9 + 9 + 81 }; // 3, 3, 3, 9
  const df = welchDf(wild, ref);
  assert.ok(df > 3 && df < 3.2, `df ${df}`);
  const t = welchT(wild, ref);
  const z = welchZ(wild, ref);
  assert.ok(t > 2 && z < t * 0.8, `t ${t} z ${z}`);
  close(z, studentToZ(t, df), 1e-12, 'welchZ is the t through its df');
  // a window that vanishes: its variance is the reference's, known from 999 df — t ≈ z
  const gone = { n: 3, sum: 0, sumSq: 0 };
  assert.ok(welchDf(gone, ref) > 900);
  close(welchZ(gone, ref), welchT(gone, ref), 0.05 * Math.abs(welchT(gone, ref)), 'vanished');
  // a template logged exactly once per span on both sides (variance at the integer floor): no change
  assert.equal(welchZ({ n: 5, sum: 5, sumSq: 5 }, { n: 100, sum: 100, sumSq: 100 }), 0);
  assert.equal(welchZ({ n: 0, sum: 0, sumSq: 0 }, ref), 0);
});

test("log templates under 'student': a burst on 3 spans is judged on 2 degrees of freedom, a steady change is not", () => {
  const student = logTemplateFamily('student');
  const op = (n: number, sum: number, sumSq: number, present: number) => ({ service: 's', operation: 'op', n, pods: new Map([['s-0', n]]), templates: new Map([[7, { sum, sumSq, present }]]) });
  const ref: LogReference = { ops: new Map([['s\top', { n: 900, templates: new Map([[7, { sum: 900, sumSq: 1800, present: 600 }]]) }]]), text: new Map() };
  // 3 spans that log it 4, 4 and 9 times: the window's own variance, 2 df
  const burst: LogSummary = { ops: new Map([['s\top', op(3, 17, 16 + 16 + 81, 3)]]), text: new Map() };
  const part = student.score(burst, ref).get('s')!.parts!.get('op|7')!;
  const t = welchT({ n: 3, sum: 17, sumSq: 113 }, { n: 900, sum: 900, sumSq: 1800 });
  assert.ok(part < t * 0.8 && part > 1, `part ${part} t ${t}`);
  // the default family keeps the t
  assert.equal(logTemplates.score(burst, ref).get('s')!.parts!.get('op|7'), t);
  // the template vanishing from 30 spans: variances from the reference, the t is the z
  const gone: LogSummary = { ops: new Map([['s\top', op(30, 0, 0, 0)]]), text: new Map() };
  const g = student.score(gone, ref).get('s')!.parts!.get('op|7')!;
  assert.ok(g >= Math.abs(welchT({ n: 30, sum: 0, sumSq: 0 }, { n: 900, sum: 900, sumSq: 1800 })) * 0.99, `vanished ${g}`);
});

test("span structure under 'student': calls per child through the same small-sample correction", () => {
  const ref = new Map([['s\top', { n: 900, children: new Map([['t get', { sum: 900, sumSq: 1800 }]]) }]]);
  const win = new Map([['s\top', { service: 's', operation: 'op', n: 3, children: new Map([['t get', { sum: 11, sumSq: 83 }]]) }]]);
  const part = spanStructureFamily('student').score(win, ref).get('s')!.parts!.get('op|t get')!;
  const t = welchT({ n: 3, sum: 11, sumSq: 83 }, { n: 900, sum: 900, sumSq: 1800 });
  close(part, studentToZ(t, welchDf({ n: 3, sum: 11, sumSq: 83 }, { n: 900, sum: 900, sumSq: 1800 })), 1e-12, 'part');
  assert.ok(part < t);
  assert.equal(spanStructure.score(win, ref).get('s')!.parts!.get('op|t get'), t);
});
