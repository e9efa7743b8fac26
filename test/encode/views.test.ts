import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LOG_FEATURES,
  METRIC_FEATURES,
  TRACE_FEATURES,
  Reservoir,
  SeededRandom,
  ViewBuilder,
  Z_CLIP,
  datasetServiceOf,
  metricCategory,
  previewViews,
  formatPreview,
  type WindowViews,
  type View,
} from '../../src/encode/views/index.js';
import { memoryDataset } from '../../src/sources/index.js';
import { TemplateMiner } from '../../src/encode/templates/index.js';
import { ShapeTable, lineShape, shapeKey } from '../../src/encode/views/logs.js';
import { fmt, quantileSorted, selectQuantiles } from '../../src/encode/views/stats.js';
import { SliceMemo } from '../../src/encode/views/memo.js';
import { windowStream, type WindowSlice } from '../../src/windows/index.js';
import type { Modality } from '../../src/telemetry/index.js';
import { FAULT_START, MIN, PODS, SPEC, T0, TRAIN_END, fixture, isTrain } from './views-fixture.js';

async function fitted(ds = fixture(), opts: ConstructorParameters<typeof ViewBuilder>[0] = {}): Promise<ViewBuilder> {
  const vb = new ViewBuilder({ serviceOf: datasetServiceOf(ds), ...opts });
  return vb.fit(windowStream(ds, SPEC), isTrain);
}

async function windowAt(ds: ReturnType<typeof fixture>, start: number): Promise<WindowSlice> {
  for await (const s of windowStream(ds, SPEC)) if (s.window.start === start) return s;
  throw new Error('no window at ' + new Date(start).toISOString());
}

function allViews(v: WindowViews): [string, Modality, View][] {
  const out: [string, Modality, View][] = [];
  for (const [e, mv] of [['__system__', v.system] as const, ...v.entities]) {
    for (const m of ['metrics', 'traces', 'logs'] as const) {
      const x = mv[m];
      if (x) out.push([e, m, x]);
    }
  }
  return out;
}

const FAULT_WINDOW = FAULT_START - MIN; // overlaps the fault's first four minutes

test('text and features are deterministic across builders and runs', async () => {
  const a = await fitted();
  const b = await fitted();
  assert.equal(JSON.stringify(a.toJSON()), JSON.stringify(b.toJSON()));
  const ds = fixture();
  const slice = await windowAt(ds, FAULT_WINDOW);
  const va = allViews(a.transform(slice));
  const vb = allViews(b.transform(slice));
  const again = allViews(a.transform(slice));
  assert.equal(va.length, 12, 'system + 3 services, 3 modalities each');
  assert.deepEqual(
    va.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
    vb.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
  );
  assert.deepEqual(
    va.map(([, , v]) => v.text),
    again.map(([, , v]) => v.text),
  );
});

test('every text respects the length budget, most important lines first', async () => {
  for (const budget of [120, 300, 1500]) {
    const vb = await fitted(fixture(), { textBudget: budget });
    const slice = await windowAt(fixture(), FAULT_WINDOW);
    for (const [e, m, v] of allViews(vb.transform(slice))) {
      assert.ok(v.text.length <= budget, `${e}/${m} has ${v.text.length} > ${budget} chars`);
      assert.ok(v.text.startsWith(`${m} `), `${e}/${m} starts with its header`);
    }
  }
  // a small budget keeps a prefix of what a large one shows
  const big = (await fitted(fixture(), { textBudget: 1500 })).transform(await windowAt(fixture(), FAULT_WINDOW));
  const small = (await fitted(fixture(), { textBudget: 300 })).transform(await windowAt(fixture(), FAULT_WINDOW));
  const bigLines = big.system.logs!.text.split('\n');
  const smallLines = small.system.logs!.text.split('\n').filter((l) => !l.startsWith('(+'));
  assert.deepEqual(smallLines, bigLines.slice(0, smallLines.length));
});

test('scale floor: a series constant in training that jumps gets a finite, clipped z', () => {
  const r = new Reservoir(64, new SeededRandom(1));
  for (let i = 0; i < 500; i++) r.add(0.005);
  const b = r.summarize({ rel: 0.02, abs: 1e-6 });
  assert.equal(b.median, 0.005);
  assert.ok(b.scale > 0, 'MAD is 0 but the scale is not');
  assert.ok(Math.abs(b.scale - 0.0001) < 1e-12, 'floor = 2% of the median');
  const zero = new Reservoir(64, new SeededRandom(1));
  for (let i = 0; i < 100; i++) zero.add(0);
  assert.equal(zero.summarize({ rel: 0.02, abs: 1e-6 }).scale, 1e-6, 'a constant 0 falls back to the absolute epsilon');
  // spiky in training (≥1% of the time): the tail spread widens the scale
  const spiky = new Reservoir(256, new SeededRandom(1));
  for (let i = 0; i < 1000; i++) spiky.add(i % 20 === 0 ? 16 : 0.005);
  assert.ok(spiky.summarize({ rel: 0.02, abs: 1e-6 }).scale > 1, 'frequent spikes are not surprising');
});

test('a constant latency that jumps to 16 s never explodes in features or text', async () => {
  const vb = await fitted();
  const v = vb.transform(await windowAt(fixture(), FAULT_WINDOW));
  const text = v.system.metrics!.text;
  const m = /cart PodLatencyP99\(s\) \S+ \(base 0.005, z \+(\d+\.\d)/.exec(text);
  assert.ok(m, text);
  assert.equal(Number(m[1]), Z_CLIP);
  for (const [e, mod, view] of allViews(v)) {
    for (const x of view.features) assert.ok(Number.isFinite(x) && Math.abs(x) <= Math.log1p(1000), `${e}/${mod}: feature ${x}`);
  }
});

test('a fault-like deviation ranks first in each modality', async () => {
  const vb = await fitted();
  const v = vb.transform(await windowAt(fixture(), FAULT_WINDOW));
  const second = (t: string) => t.split('\n')[1];
  assert.match(second(v.system.metrics!.text), /^cart (PodLatencyP99|CpuUsageRate)/);
  assert.match(second(v.system.traces!.text), /^front -> cart: .*err 80%/);
  assert.match(second(v.system.logs!.text), /^NEW x\d+ \[error \d+\] cart: ERROR connection refused/);
  assert.match(v.system.metrics!.text.split('\n')[0], /strongest: latency \+50\.0, cpu \+\d/);
  // the same window seen per service: only cart's metrics deviate
  const idx = METRIC_FEATURES.indexOf('absz_max');
  const cart = v.entities.get('cart')!.metrics!.features[idx];
  const front = v.entities.get('front')!.metrics!.features[idx];
  assert.ok(cart > 3 && front < 1.5, `absz_max cart ${cart} front ${front}`);
  // a calm window has no |z|>3 series
  const calm = vb.transform(await windowAt(fixture(), TRAIN_END + 5 * MIN));
  assert.match(calm.system.metrics!.text, /\|z\|>3: 0/);
  assert.doesNotMatch(calm.system.logs!.text, /NEW/);
});

test('feature layouts are fixed and equal for system and entity views', async () => {
  const vb = await fitted();
  const expected: Record<Modality, number> = { metrics: METRIC_FEATURES.length, traces: TRACE_FEATURES.length, logs: LOG_FEATURES.length };
  assert.equal(new Set(METRIC_FEATURES).size, METRIC_FEATURES.length);
  assert.equal(new Set(TRACE_FEATURES).size, TRACE_FEATURES.length);
  assert.equal(new Set(LOG_FEATURES).size, LOG_FEATURES.length);
  for (const start of [T0, FAULT_WINDOW, TRAIN_END]) {
    for (const [e, m, v] of allViews(vb.transform(await windowAt(fixture(), start)))) assert.equal(v.features.length, expected[m], `${e}/${m}`);
  }
  // and independent of the data: an unfitted builder on a one-series dataset gives the same lengths
  const tiny = memoryDataset({ entities: [{ id: 'x', kind: 'service' }], metrics: [{ entity: 'x', name: 'weird_metric', times: Float64Array.of(T0), values: Float64Array.of(1) }] });
  for await (const s of windowStream(tiny, SPEC)) {
    const v = new ViewBuilder().transform(s);
    assert.equal(v.system.metrics!.features.length, METRIC_FEATURES.length);
    assert.equal(v.entities.get('x')!.metrics!.features.length, METRIC_FEATURES.length);
  }
});

test('baselines come from training windows only', async () => {
  const plain = await fitted(fixture({ testTwist: 0 }));
  const twisted = await fitted(fixture({ testTwist: 3, faulty: 'db' }));
  assert.equal(JSON.stringify(plain.toJSON()), JSON.stringify(twisted.toJSON()));
  assert.equal(plain.trainWindows, 116);
  // while fitting on everything does see the test period
  const ds = fixture({ testTwist: 3 });
  const all = await new ViewBuilder({ serviceOf: datasetServiceOf(ds) }).fit(windowStream(ds, SPEC));
  assert.notEqual(JSON.stringify(all.toJSON()), JSON.stringify(plain.toJSON()));
});

test('fit never reads labels', async () => {
  const ds = fixture();
  const vb = new ViewBuilder({ serviceOf: datasetServiceOf(ds) });
  async function* guarded() {
    for await (const s of windowStream(ds, SPEC)) {
      const label = s.label;
      yield Object.defineProperty({ ...s }, 'label', {
        get() {
          throw new Error(`label of window ${label ? s.window.index : ''} was read`);
        },
      }) as WindowSlice;
    }
  }
  await vb.fit(guarded(), isTrain);
  assert.ok(vb.fitted);
});

test('a modality without data is undefined, for the system and per service', async () => {
  const ds = fixture({ modalities: { traces: false, logs: false } });
  const vb = await fitted(ds);
  const v = vb.transform(await windowAt(ds, FAULT_WINDOW));
  assert.ok(v.system.metrics);
  assert.equal(v.system.traces, undefined);
  assert.equal(v.system.logs, undefined);
  assert.deepEqual([...v.entities.keys()], ['cart', 'db', 'front']);
  for (const mv of v.entities.values()) assert.deepEqual(Object.keys(mv), ['metrics']);
  // a service that logs but has no metric series
  const mixed = memoryDataset({
    entities: [{ id: 'p', kind: 'pod', service: 'svc' }],
    logs: [{ time: T0 + 1000, entity: 'p', service: 'svc', severity: 'info', body: 'hello world' }],
    metrics: [{ entity: 'other', name: 'cpu', times: Float64Array.of(T0), values: Float64Array.of(1) }],
  });
  for await (const s of windowStream(mixed, SPEC)) {
    const x = new ViewBuilder().transform(s);
    assert.deepEqual(Object.keys(x.entities.get('svc')!), ['logs']);
    assert.deepEqual(Object.keys(x.entities.get('other')!), ['metrics']);
  }
});

test('toJSON/fromJSON: the restored builder gives the same views', async () => {
  const ds = fixture();
  const vb = await fitted(ds);
  const json = JSON.parse(JSON.stringify(vb.toJSON()));
  const back = ViewBuilder.fromJSON(json, { serviceOf: datasetServiceOf(ds) });
  assert.equal(JSON.stringify(back.toJSON()), JSON.stringify(vb.toJSON()));
  const slice = await windowAt(ds, FAULT_WINDOW);
  const a = allViews(vb.transform(slice));
  const b = allViews(back.transform(slice));
  assert.deepEqual(
    a.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
    b.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
  );
  assert.throws(() => ViewBuilder.fromJSON({ ...json, version: 999 }), /version/);
});

test('entities are keyed by service: replicas share baselines and are named in text', async () => {
  const times = Float64Array.from({ length: 60 }, (_, i) => T0 + i * MIN);
  const flat = (v: number) => Float64Array.from(times, () => v);
  const ds = memoryDataset({
    entities: [
      { id: 'cart-aaaaa11-bbbbb', kind: 'pod', service: 'cart' },
      { id: 'cart-ccccc22-ddddd', kind: 'pod', service: 'cart' },
    ],
    metrics: [
      { entity: 'cart-aaaaa11-bbbbb', name: 'cpu', times, values: flat(10) },
      { entity: 'cart-ccccc22-ddddd', name: 'cpu', times, values: Float64Array.from(times, (t, i) => (i >= 50 ? 50 : 10)) },
    ],
  });
  const vb = new ViewBuilder({ serviceOf: datasetServiceOf(ds) });
  await vb.fit(windowStream(ds, SPEC), (w) => w.end <= T0 + 40 * MIN);
  assert.deepEqual(
    vb.toJSON().metrics.map((m) => m[0]),
    ['cart\u0000cpu'],
  );
  const v = vb.transform(await windowAt(ds as ReturnType<typeof fixture>, T0 + 52 * MIN));
  assert.deepEqual([...v.entities.keys()], ['cart']);
  assert.match(v.entities.get('cart')!.metrics!.text.split('\n')[1], /^\(cart-ccccc22-ddddd\) cpu 50 \(base 10, z \+50\.0/);
});

test('metric categories from names', () => {
  const cases: [string, string][] = [
    ['CpuUsageRate(%)', 'cpu'],
    ['NodeCpuUsageRate(%)', 'cpu'],
    ['MemoryUsage(Mi)', 'memory'],
    ['SyscallRead', 'io'],
    ['NetworkReceiveBytes', 'network'],
    ['PodClientLatencyP90(s)', 'latency'],
    ['LatencyP50(s)', 'latency'],
    ['PodWorkload(Ops)', 'traffic'],
    ['PodSuccessRate(%)', 'errors'],
    ['kpi_container_fs_reads_MB', 'io'],
    ['kpi_container_network_receive_packets', 'network'],
    ['kpi_container_memory_failcnt', 'errors'],
    ['kpi_container_threads', 'other'],
    ['http_server_requests_total', 'traffic'],
  ];
  for (const [name, cat] of cases) assert.equal(metricCategory(name), cat, name);
});

test('previewViews returns the texts of the first windows with data', async () => {
  const ds = fixture({ minutes: 30 });
  const p = await previewViews(ds, SPEC, 2);
  assert.equal(p.length, 2);
  assert.equal(p[0].window.start, T0);
  assert.equal(p[0].texts[0].entity, '__system__');
  assert.deepEqual(
    p[0].texts.map((t) => `${t.entity}/${t.modality}`).slice(0, 3),
    ['__system__/metrics', '__system__/traces', '__system__/logs'],
  );
  const out = formatPreview(p);
  assert.match(out, /=== window 0 2024-01-01T00:00:00.000Z/);
  assert.match(out, /--- cart \/ logs\nlogs cart: /);
  assert.ok(PODS.cart);
});

test('line shapes: digit runs and long hex ids collapse, and a shape maps to the miner\'s template', () => {
  assert.equal(lineShape('GET /api/v1/cart/42 took 13 ms'), 'GET /api/0/cart/0 took 0 ms');
  assert.equal(lineShape('TraceID: 7f3a9c0d1e2fab SpanID: deadbeefcafe'), 'TraceID: 0 SpanID: 0');
  assert.equal(lineShape('orderId: 5ad7750b-a68b-49c0-a8c0-32776b067703 at 10.0.0.1:80'), 'orderId: 0 at 0.0.0.0:0');
  assert.equal(lineShape('no variables here'), 'no variables here');
  assert.equal(lineShape('face bead'), 'face bead', 'short hex-looking words stay');
  // the memo keys on a hash of the shape: equal shapes, equal keys; different shapes, different keys
  assert.equal(shapeKey('user 12 logged in from 10.1.2.3'), shapeKey('user 7 logged in from 192.168.0.77'));
  assert.equal(shapeKey('TraceID: 7f3a9c0d1e2fab'), shapeKey('TraceID: 0'));
  for (const l of ['a b', 'x=1;y=[2]', 'ts-order-service GET /api/v1/x', 'ab12-cd 9', '']) assert.equal(shapeKey(l), shapeKey(lineShape(l)), l);
  const distinct = ['a', 'b', 'ab', 'ba', 'user 1 in', 'user 1 out', 'user x in', '', ' '].map(shapeKey);
  assert.equal(new Set(distinct).size, distinct.length);
  for (const k of distinct) assert.ok(Number.isSafeInteger(k) && k >= 0);
  const lines = [
    '2023-01-30 11:39:52.123 INFO order 1234 created for user 77 trace 0a1b2c3d4e5f',
    '2023-01-30 11:40:01.999 INFO order 98 created for user 12345 trace ffeeddccbbaa99',
    '2023-01-30 11:40:02.000 WARN payment 5 failed after 3 retries',
    '2023-01-30 11:40:03.500 WARN payment 77 failed after 1 retries',
    'connection to 10.0.0.7:5432 refused',
  ];
  // the builder's way: the miner learns the first line of each shape, every line of a shape
  // gets that template
  const direct = new TemplateMiner({ params: false });
  const viaShapes = new TemplateMiner({ params: false });
  const table = new ShapeTable();
  const idOfShape: number[] = [];
  for (const l of lines) direct.add(l);
  const ids = lines.map((l) => {
    const k = table.idOf(l);
    idOfShape[k] ??= viaShapes.add(l).templateId;
    return idOfShape[k];
  });
  assert.equal(table.size, 3);
  assert.equal(table.bodies[0], lines[0], 'a shape keeps its first line');
  for (let i = 0; i < lines.length; i++) assert.equal(ids[i], direct.match(lines[i])!.templateId, lines[i]);
  assert.equal(ids[0], ids[1]);
  assert.equal(ids[2], ids[3]);
  assert.notEqual(ids[0], ids[2]);
});

test('transform does not depend on which windows were transformed before', async () => {
  const ds = fixture();
  const state = JSON.stringify((await fitted(ds)).toJSON());
  const fresh = ViewBuilder.fromJSON(JSON.parse(state), { serviceOf: datasetServiceOf(ds) });
  const used = ViewBuilder.fromJSON(JSON.parse(state), { serviceOf: datasetServiceOf(ds) });
  for await (const s of windowStream(ds, SPEC)) used.transform(s);
  const slice = await windowAt(ds, FAULT_WINDOW);
  const a = allViews(fresh.transform(slice));
  const b = allViews(used.transform(slice));
  assert.deepEqual(
    a.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
    b.map(([e, m, v]) => [e, m, v.text, [...v.features]]),
  );
});

test('quantiles by selection equal quantiles of the sorted values', () => {
  const rng = new SeededRandom(3);
  for (const n of [1, 2, 3, 7, 16, 17, 18, 100, 1001, 5000]) {
    for (const dup of [false, true]) {
      const a = Float64Array.from({ length: n }, () => (dup ? Math.floor(rng.next() * 5) : rng.next() * 1000));
      const sorted = a.slice().sort();
      const qs = [0.5, 0.9, 0.99];
      assert.deepEqual(selectQuantiles(a.slice(), qs), qs.map((q) => quantileSorted(sorted, q)), `n=${n} dup=${dup}`);
    }
  }
  assert.deepEqual(selectQuantiles(new Float64Array(0), [0.5]), [NaN]);
});

test('numbers in text: 3 significant digits, no exponent below 1e5', () => {
  const cases: [number, string][] = [
    [59012, '59000'],
    [999.96, '1000'],
    [123456, '1.23e5'],
    [0.004999, '0.005'],
    [0.0001, '1e-4'],
    [-4567.8, '-4570'],
    [0, '0'],
    [NaN, 'NaN'],
  ];
  for (const [x, t] of cases) assert.equal(fmt(x), t, String(x));
});

test('SliceMemo computes only what the previous slice did not hold, and is right for any sequence', () => {
  const items = Array.from({ length: 10 }, (_, i) => ({ i }));
  let calls = 0;
  const memo = new SliceMemo<{ i: number }, number>((x) => {
    calls++;
    return x.i * 10;
  });
  assert.deepEqual(memo.map(items.slice(0, 5)), [0, 10, 20, 30, 40]);
  assert.equal(calls, 5);
  assert.deepEqual(memo.map(items.slice(2, 7)), [20, 30, 40, 50, 60]);
  assert.equal(calls, 7, 'two new items');
  assert.deepEqual(memo.map([items[9], items[3], items[4]]), [90, 30, 40], 'unrelated order: all computed');
  assert.deepEqual(memo.map([]), []);
  assert.deepEqual(memo.map(items.slice(0, 3)), [0, 10, 20]);
});

test('series with one point in the window (no trend) rank by z and count as calm', async () => {
  const step = 5 * MIN;
  const times = Float64Array.from({ length: 48 }, (_, i) => T0 + i * step);
  const metrics = ['a', 'b', 'c', 'd', 'e', 'f'].map((name, k) => ({
    entity: 'svc',
    name,
    times,
    values: Float64Array.from(times, (_, i) => 10 + (i % 3) + (k === 5 && i === 45 ? 100 : 0)),
  }));
  const ds = memoryDataset({ entities: [{ id: 'svc', kind: 'service' }], metrics });
  const spec = { lengthMs: step, strideMs: step };
  const vb = new ViewBuilder();
  await vb.fit(windowStream(ds, spec), (w) => w.end <= T0 + 40 * step);
  let seen = 0;
  for await (const s of windowStream(ds, spec)) {
    if (s.window.start !== T0 + 45 * step) continue;
    seen++;
    const lines = vb.transform(s).system.metrics!.text.split('\n');
    assert.match(lines[1], /^svc f 110 \(base 11, z \+\d/);
    assert.equal(lines.at(-1), '3 calm series (|z|<2)');
    assert.equal(lines.length, 1 + 3 + 1);
  }
  assert.equal(seen, 1);
});
