/**
 * OTLP read as the SDKs send it: cumulative temporality turned into per-interval amounts (with
 * resets), span kinds for caller → callee edges, span events and status messages kept.
 * Fixtures are generated here in a temp dir.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOtlp, writeOtlpDataset } from '../../src/sources/otlp/index.js';
import type { OtlpDataset } from '../../src/sources/otlp/index.js';
import { MAX_EVENT_TEXT } from '../../src/sources/otlp/decode.js';
import { DeltaConverter } from '../../src/sources/otlp/temporality.js';
import type { RawPoint } from '../../src/sources/otlp/temporality.js';
import { SpanIndex, traceWindow } from '../../src/encode/views/traces.js';
import type { Span, TimeRange } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const STEP = 10_000; // export interval, ms
const POINTS = 180; // 30 minutes
const FAULT = { from: 60, to: 78 }; // points 60..77: minutes 10..13
const RESET_AT = 120; // the process restarts here: start time changes, totals begin again

const ns = (ms: number) => `${BigInt(Math.round(ms)) * 1_000_000n}`;
const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rs-otlp-sem-'));
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

async function seriesOf(ds: OtlpDataset, range?: TimeRange): Promise<Map<string, { times: number[]; values: number[]; unit?: string; temporality?: string }>> {
  const out = new Map<string, { times: number[]; values: number[]; unit?: string; temporality?: string }>();
  for await (const batch of ds.metrics(range)) {
    for (const s of batch) {
      let g = out.get(s.name);
      if (!g) out.set(s.name, (g = { times: [], values: [], unit: s.unit, temporality: s.temporality }));
      g.times.push(...s.times);
      g.values.push(...s.values);
    }
  }
  return out;
}

/** Per interval: requests, their latency sum and max (a fault makes them slow). */
function interval(i: number): { count: number; sum: number; max: number } {
  const count = 10;
  const lat = i >= FAULT.from && i < FAULT.to ? 1000 : 100;
  return { count, sum: count * lat, max: i >= FAULT.from && i < FAULT.to ? 5000 : 150 };
}

/**
 * One request per line (the collector file exporter's layout), as cumulative or delta. With
 * `fromStart`, a gauge at the streams' start time shows the capture began with the process.
 */
function metricLines(temporality: 'cumulative' | 'delta', fromStart = true): string {
  const lines: string[] = [];
  if (fromStart) {
    lines.push(
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [attr('service.name', 'payment')] },
            scopeMetrics: [{ metrics: [{ name: 'up', gauge: { dataPoints: [{ timeUnixNano: ns(T0 - STEP), asInt: '1' }] } }] }],
          },
        ],
      }),
    );
  }
  let count = 0;
  let sum = 0;
  let max = 0;
  let start = T0 - STEP;
  for (let i = 0; i < POINTS; i++) {
    const t = T0 + i * STEP;
    if (i === RESET_AT) {
      start = t - STEP;
      count = 0;
      sum = 0;
      max = 0;
    }
    const iv = interval(i);
    count += iv.count;
    sum += iv.sum;
    max = Math.max(max, iv.max);
    const cum = temporality === 'cumulative';
    const startNs = ns(cum ? start : t - STEP);
    const req = {
      resourceMetrics: [
        {
          resource: { attributes: [attr('service.name', 'payment')] },
          scopeMetrics: [
            {
              scope: { name: 'test' },
              metrics: [
                {
                  name: 'http.server.duration',
                  unit: 'ms',
                  histogram: {
                    aggregationTemporality: cum ? 2 : 1,
                    dataPoints: [
                      {
                        attributes: [attr('http.route', '/pay')],
                        startTimeUnixNano: startNs,
                        timeUnixNano: ns(t),
                        count: String(cum ? count : iv.count),
                        sum: cum ? sum : iv.sum,
                        max: cum ? max : iv.max,
                        bucketCounts: [],
                        explicitBounds: [],
                      },
                    ],
                  },
                },
                {
                  name: 'requests',
                  unit: '1',
                  sum: {
                    aggregationTemporality: cum ? 'AGGREGATION_TEMPORALITY_CUMULATIVE' : 'AGGREGATION_TEMPORALITY_DELTA',
                    isMonotonic: true,
                    dataPoints: [{ startTimeUnixNano: startNs, timeUnixNano: ns(t), asInt: String(cum ? count : iv.count) }],
                  },
                },
                {
                  name: 'queue.depth',
                  unit: '1',
                  sum: { aggregationTemporality: cum ? 2 : 1, isMonotonic: false, dataPoints: [{ startTimeUnixNano: startNs, timeUnixNano: ns(t), asInt: String(cum ? i % 7 : i % 7 === 0 ? -6 : 1) }] },
                },
              ],
            },
          ],
        },
      ],
    };
    lines.push(JSON.stringify(req));
  }
  return lines.join('\n') + '\n';
}

test('cumulative histogram and counter: per-interval means come back to normal after a fault; resets by start time', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'metrics.jsonl'), metricLines('cumulative'));
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.problems.items, []);
    const s = await seriesOf(ds);
    const mean = s.get('http.server.duration.mean{http.route=/pay}')!;
    const count = s.get('http.server.duration.count{http.route=/pay}')!;
    assert.ok(mean && count, `series: ${[...s.keys()].join(' | ')}`);
    assert.equal(mean.temporality, 'cumulative');
    assert.equal(mean.values.length, POINTS);
    for (let i = 0; i < POINTS; i++) {
      const want = i >= FAULT.from && i < FAULT.to ? 1000 : 100;
      assert.equal(mean.values[i], want, `mean at point ${i}`);
      assert.equal(count.values[i], 10, `count at point ${i}`);
    }
    // lifetime max of a cumulative histogram is no per-interval figure: not emitted
    assert.equal(s.has('http.server.duration.max{http.route=/pay}'), false);
    const req = s.get('requests')!;
    const rate = s.get('requests.rate')!;
    assert.deepEqual(new Set(req.values), new Set([10]), 'counter deltas, the reset included');
    assert.deepEqual(new Set(rate.values), new Set([1]), '10 per 10 s');
    assert.equal(rate.unit, '1/s');
    // a non-monotonic cumulative sum is a level: as sent
    assert.deepEqual(s.get('queue.depth')!.values.slice(0, 8), [0, 1, 2, 3, 4, 5, 6, 0]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a cumulative stream that started before the data begins: its first amount is unknown, not a lifetime total', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'metrics.jsonl'), metricLines('cumulative', false));
    const s = await seriesOf(await openOtlp(dir));
    const count = s.get('http.server.duration.count{http.route=/pay}')!;
    assert.ok(Number.isNaN(count.values[0]));
    assert.deepEqual(new Set(count.values.slice(1)), new Set([10]));
    assert.ok(Number.isNaN(s.get('requests')!.values[0]));
    // the reset later on (a start time inside the data) is a fresh stream: known
    assert.equal(s.get('requests')!.values[RESET_AT], 10);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('delta and cumulative of the same data give the same series; a range read gives the same values', async () => {
  const a = await tmp();
  const b = await tmp();
  try {
    await writeFile(join(a, 'metrics.jsonl'), metricLines('cumulative'));
    await writeFile(join(b, 'metrics.jsonl'), metricLines('delta'));
    const cum = await seriesOf(await openOtlp(a));
    const del = await seriesOf(await openOtlp(b));
    // a delta UpDownCounter is a change, not a level: a name of its own
    assert.deepEqual(del.get('queue.depth.delta')!.values.slice(0, 8), [-6, 1, 1, 1, 1, 1, 1, -6]);
    assert.equal(del.has('queue.depth'), false);
    for (const name of ['http.server.duration.mean{http.route=/pay}', 'http.server.duration.count{http.route=/pay}', 'http.server.duration.sum{http.route=/pay}', 'requests', 'requests.rate']) {
      assert.deepEqual(cum.get(name)?.values, del.get(name)?.values, name);
      assert.deepEqual(cum.get(name)?.times, del.get(name)?.times, name);
    }
    // a delta histogram's max is per interval: kept, and back to normal after the fault
    const max = del.get('http.server.duration.max{http.route=/pay}')!;
    assert.equal(max.values[FAULT.from], 5000);
    assert.equal(max.values[FAULT.to], 150);

    // Sub-range read starting inside the fault: the look-back finds each stream's previous point.
    const range = { start: T0 + (FAULT.from + 5) * STEP, end: T0 + (RESET_AT + 10) * STEP };
    const part = await seriesOf(await openOtlp(a), range);
    const full = cum.get('http.server.duration.mean{http.route=/pay}')!;
    const got = part.get('http.server.duration.mean{http.route=/pay}')!;
    const from = full.times.indexOf(range.start);
    assert.deepEqual(got.times, full.times.slice(from, from + got.times.length));
    assert.equal(got.times.length, RESET_AT + 10 - (FAULT.from + 5));
    assert.deepEqual(got.values, full.values.slice(from, from + got.values.length));
    // without enough look-back, the first cumulative point of the range is unknown, never a lifetime total
    const short = await seriesOf(await openOtlp(a, { metricLookbackMs: 0 }), range);
    assert.ok(Number.isNaN(short.get('requests')!.values[0]));
    assert.equal(short.get('requests')!.values[1], 10);
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});

test('DeltaConverter: reset by a decreasing total without start times; out-of-order points are unknown', () => {
  const c = new DeltaConverter(T0);
  const got: number[] = [];
  const p = (time: number, value: number, start: number | null): RawPoint => ({
    entity: 'e', metric: 'm', series: 'm', unit: '1', kind: 'sum', temporality: 'cumulative', monotonic: true, time, start, value,
  });
  const points = [p(T0, 5, null), p(T0 + 1000, 8, null), p(T0 + 2000, 2, null), p(T0 + 1500, 9, null), p(T0 + 3000, 6, null)];
  // streams that started before what is known: long before (unknown), a moment before (known)
  // (T0 - 1000 .. T0 + 500: two thirds before what is known; T0 - 100 .. T0 + 500: mostly after)
  points.push({ ...p(T0 + 500, 7, T0 - 1000), series: 'm{a=1}' }, { ...p(T0 + 500, 7, T0 - 100), series: 'm{a=2}' });
  for (const x of points) {
    c.convert(x, (name, _u, _t, v) => {
      if (!name.includes('.rate')) got.push(v);
    });
  }
  // first point: no start time, amount before unknown; 8-5; reset → 2; out of order → NaN; 6-2
  assert.deepEqual(got, [NaN, 3, 2, NaN, 4, NaN, 7]);
});

// ---- span kind -------------------------------------------------------------------------------

function span(o: Partial<Span> & Pick<Span, 'spanId' | 'service'>): Span {
  return { traceId: 't1', entity: o.service, operation: 'op', start: T0, duration: 5, status: 'ok', ...o };
}

test('span kind: a client span and its server child in another service make one edge, no self edge', async () => {
  const spans: Span[] = [
    span({ spanId: 'a', service: 'frontend', kind: 'server', start: T0 }),
    span({ spanId: 'b', parentId: 'a', service: 'frontend', kind: 'client', start: T0 + 1 }),
    span({ spanId: 'c', parentId: 'b', service: 'payment', kind: 'server', start: T0 + 2 }),
    span({ spanId: 'd', parentId: 'c', service: 'payment', kind: 'internal', start: T0 + 3 }),
  ];
  const tw = traceWindow(spans, { index: 0, start: T0, end: T0 + 60_000 }, new SpanIndex((e) => e));
  assert.deepEqual([...tw.edges.keys()], ['(entry) -> frontend', 'frontend -> payment']);
  assert.equal(tw.edges.get('frontend -> payment')!.count, 1);
  // the service figures still count every span a service emitted
  assert.equal(tw.services.get('frontend')!.spans, 2);
  assert.equal(tw.services.get('payment')!.spans, 2);
  // without kinds (Nezha CSV), the parent rule as before
  const plain = spans.map(({ kind: _k, ...s }) => s);
  const tw2 = traceWindow(plain, { index: 0, start: T0, end: T0 + 60_000 }, new SpanIndex((e) => e));
  assert.deepEqual([...tw2.edges.keys()], ['(entry) -> frontend', 'frontend -> frontend', 'frontend -> payment', 'payment -> payment']);

  // the same spans through OTLP: kinds read back, topology edge caller → callee only
  const dir = await tmp();
  try {
    await writeOtlpDataset(dir, fakeDataset(spans));
    const ds = await openOtlp(dir);
    const back = await collect(ds.spans());
    assert.deepEqual(back.map((s) => s.kind), ['server', 'client', 'server', 'internal']);
    assert.deepEqual((await ds.topology()).edges, [{ caller: 'frontend', callee: 'payment', count: 1 }]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- span events and status messages -------------------------------------------------------------

test('exception events and status messages survive read and write → read', async () => {
  const stack = 'Error: card declined\n' + '    at charge (payment.js:10:5)\n'.repeat(200);
  const req = {
    resourceSpans: [
      {
        resource: { attributes: [attr('service.name', 'payment')] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: '5b8efff798038103d269b633813fc60c',
                spanId: 'eee19b7ec3c1b174',
                name: 'charge',
                kind: 'SPAN_KIND_SERVER',
                startTimeUnixNano: ns(T0),
                endTimeUnixNano: ns(T0 + 12),
                status: { code: 2, message: 'card declined' },
                events: [
                  {
                    timeUnixNano: ns(T0 + 11),
                    name: 'exception',
                    attributes: [attr('exception.type', 'CardError'), attr('exception.message', 'card declined'), attr('exception.stacktrace', stack)],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  const dir = await tmp();
  const out = await tmp();
  try {
    await writeFile(join(dir, 'traces.json'), JSON.stringify(req));
    const ds = await openOtlp(dir);
    const [s] = await collect(ds.spans());
    const check = (x: Span) => {
      assert.equal(x.kind, 'server');
      assert.equal(x.status, 'error');
      assert.equal(x.statusMessage, 'card declined');
      assert.equal(x.events?.length, 1);
      const e = x.events![0];
      assert.equal(e.name, 'exception');
      assert.equal(e.time, T0 + 11);
      assert.equal(e.attributes?.['exception.type'], 'CardError');
      assert.equal(e.attributes?.['exception.message'], 'card declined');
      const st = e.attributes?.['exception.stacktrace'] as string;
      assert.equal(st.length, MAX_EVENT_TEXT, 'long stack traces are capped');
      assert.ok(st.startsWith('Error: card declined\n') && st.endsWith('…'));
    };
    check(s);
    await writeOtlpDataset(out, ds);
    const [again] = await collect((await openOtlp(out)).spans());
    check(again);
    assert.deepEqual(again, s);
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
});

/** A minimal Dataset over spans, for the writer. */
function fakeDataset(spans: Span[]): Parameters<typeof writeOtlpDataset>[1] {
  const services = [...new Set(spans.map((s) => s.service))];
  return {
    format: 'otlp',
    root: '/nowhere',
    entities: services.map((id) => ({ id, kind: 'service' as const, service: id })),
    timeRange: { start: T0, end: T0 + 60_000 },
    labels: [],
    problems: undefined as never,
    disorderMs: 0,
    notes: [],
    topology: async () => ({ entities: [], edges: [] }),
    metrics: async function* () {},
    spans: async function* () {
      yield spans;
    },
    logs: async function* () {},
  };
}
