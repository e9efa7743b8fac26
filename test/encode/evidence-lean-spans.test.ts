// The span pass's leaner bookkeeping (src/encode/views/evidence*.ts), held to the plain
// definitions: the median of sorted values is the shared median; an operation's template
// summary with no record in its window shares one empty map, which no later record of the
// operation writes into (earlier windows' summaries are kept until the views pass); a span's
// records, edge gap and self time made on first need count as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EvidencePass, mapTemplates, type EvidenceWindow } from '../../src/encode/views/evidence.js';
import { sortedMedian } from '../../src/encode/views/evidence-util.js';
import { SeededRandom } from '../../src/encode/views/stats.js';
import { median } from '../../src/stats/index.js';
import type { LogRecord, Span } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

test('sortedMedian: the shared median of typed-array-sorted values, non-finite ones left out', () => {
  const rng = new SeededRandom(3);
  const odd = [NaN, Infinity, -Infinity];
  for (let k = 0; k < 500; k++) {
    const n = Math.floor(rng.next() * 12);
    const v: number[] = [];
    for (let i = 0; i < n; i++) {
      const r = rng.next();
      // ties and non-finite values, as durations and gaps may hold
      v.push(r < 0.15 ? odd[Math.floor(rng.next() * 3)] : Math.floor(rng.next() * 5) + (r < 0.5 ? 0 : rng.next()));
    }
    const s = Float64Array.from(v).sort();
    const got = sortedMedian(s);
    const want = median(v);
    assert.ok(Object.is(got, want), `${JSON.stringify(v)}: ${got} against ${want}`);
  }
});

test('evidence pass: operations without records share an empty template map that later records never write', () => {
  // two operations of one service; each minute three spans of each, records only on op "b" in
  // odd minutes, so windows alternate between an operation with and without records
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  const shapes: number[] = [];
  for (let m = 0; m < 12; m++) {
    for (let k = 0; k < 3; k++) {
      for (const op of ['a', 'b']) {
        const start = T0 + m * MIN + k * 10_000 + (op === 'b' ? 1 : 0);
        const id = `${op}${m}-${k}`;
        spans.push({ traceId: `t${id}`, spanId: id, entity: 's-1', service: 's', operation: op, start, duration: 100, status: 'ok' });
        if (op === 'b' && m % 2 === 1) {
          for (let r = 0; r < k + 1; r++) {
            logs.push({ time: start + 5 + r, entity: 's-1', service: 's', severity: 'info', body: '', traceId: `t${id}`, spanId: id });
            shapes.push(r % 2);
          }
        }
      }
    }
  }
  const pass = new EvidencePass(1);
  const windows: (EvidenceWindow | undefined)[] = [];
  // one-minute windows stepped by one minute: each window's spans and records are its own
  for (let m = 0; m < 12; m++) {
    const range = { start: T0 + m * MIN, end: T0 + (m + 1) * MIN };
    const inW = (t: number) => t >= range.start && t < range.end;
    const li = [...logs.keys()].filter((i) => inW(logs[i].time));
    windows.push(pass.add(range, spans.filter((s) => inW(s.start)), li.map((i) => logs[i]), li.map((i) => shapes[i]), true));
  }
  const snapshot = (w: EvidenceWindow | undefined) => w?.templates && [...w.templates.ops].map(([k, o]) => [k, o.n, [...o.templates].map(([t, x]) => [t, x.sum, x.sumSq])]);
  const before = windows.map(snapshot);
  let empty = 0;
  for (let m = 0; m < 12; m++) {
    const t = windows[m]?.templates;
    if (m % 2 === 0) {
      assert.equal(t, undefined, `minute ${m}: no record, no template summary`);
      continue;
    }
    assert.ok(t, `minute ${m}: a template summary`);
    const a = t.ops.get('s\ta')!;
    const b = t.ops.get('s\tb')!;
    assert.equal(a.n, 3);
    assert.equal(a.templates.size, 0, 'an operation without records has no templates');
    empty++;
    assert.equal(b.n, 3);
    // spans with 1, 2 and 3 records, shapes alternating: shape 0 once, once and twice, shape 1 on two spans
    assert.deepEqual([...b.templates].sort((x, y) => x[0] - y[0]), [[0, { sum: 4, sumSq: 6 }], [1, { sum: 2, sumSq: 2 }]]);
    // re-keyed by template: operations without templates come through unchanged
    const mapped = mapTemplates(t, (shape) => 7 + shape);
    assert.equal(mapped.ops.get('s\ta')!.templates.size, 0);
    assert.deepEqual([...mapped.ops.get('s\tb')!.templates], [[7, { sum: 4, sumSq: 6 }], [8, { sum: 2, sumSq: 2 }]]);
  }
  assert.equal(empty, 6);
  // nothing written afterwards into a kept summary (the shared empty map included)
  assert.deepEqual(windows.map(snapshot), before);
  const refs = pass.finish((shape) => shape);
  assert.ok(refs.templates, 'templates fitted from the training windows');
  assert.equal(refs.templates.ops.get('s\ta')?.templates.size ?? 0, 0);
});

test('evidence pass: edge gaps, self times and complaints, figures and records made on first need', () => {
  // a caller "front" whose span calls "backend" twice; every fourth caller span logs an ERROR
  // record naming "backend" after both calls ended (charged to the later call)
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for (let k = 0; k < 20; k++) {
    const start = T0 + k * 3_000;
    spans.push({ traceId: `t${k}`, spanId: `p${k}`, entity: 'front-1', service: 'front', operation: 'call', start, duration: 1_000, status: 'ok' });
    spans.push({ traceId: `t${k}`, spanId: `c${k}`, parentId: `p${k}`, entity: 'backend-1', service: 'backend', operation: 'serve', start: start + 100, duration: 300 + k, status: 'ok' });
    spans.push({ traceId: `t${k}`, spanId: `d${k}`, parentId: `p${k}`, entity: 'backend-1', service: 'backend', operation: 'serve', start: start + 500, duration: 200, status: 'ok' });
    if (k % 4 === 0) logs.push({ time: start + 900, entity: 'front-1', service: 'front', severity: 'error', body: 'call to backend failed', traceId: `t${k}`, spanId: `p${k}` });
  }
  const pass = new EvidencePass(2);
  const w = pass.add({ start: T0, end: T0 + 5 * MIN }, spans, logs, logs.map(() => 0), false);
  const edge = w?.edges?.find((e) => e.caller === 'front' && e.callee === 'backend');
  assert.ok(edge, 'the edge front → backend');
  assert.equal(edge.n, 40);
  // gaps: 1000 − (300 + k) and 1000 − 200
  const gaps = [...Array.from({ length: 20 }, (_, k) => 700 - k), ...Array<number>(20).fill(800)].sort((x, y) => x - y);
  assert.equal(edge.med, (gaps[19] + gaps[20]) / 2);
  // self time of a root: 1000 − its two calls (300 + k and 200, apart); of a callee: all of it
  const self = w?.ops?.find((o) => o.service === 'front');
  assert.ok(self);
  assert.equal(self.n, 20);
  assert.equal(self.med, 1000 - (300 + 9.5) - 200);
  assert.equal(w?.ops?.find((o) => o.service === 'backend')?.n, 40);
  // the complaints: one call each of five callers
  const out = w?.outcomes?.find((o) => o.caller === 'front' && o.callee === 'backend');
  assert.ok(out);
  assert.equal(out.calls, 40);
  assert.equal(out.complained, 5);
  // the records per span of the caller's operation: five spans with one record of shape 0
  const op = w?.templates?.ops.get('front\tcall');
  assert.ok(op);
  assert.equal(op.n, 20);
  assert.deepEqual([...op.templates], [[0, { sum: 5, sumSq: 5 }]]);
  assert.equal(w?.templates?.ops.get('backend\tserve')?.templates.size, 0);
});
