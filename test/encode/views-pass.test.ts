// One reading per fitting pass (beginFit / add / finish / render), metric windows as parts,
// summaries made elsewhere (ForeignLogs), and the fast number texts: each must give what the
// straightforward path gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetricWindows, SeededRandom, ViewBuilder, datasetServiceOf, type MetricParts, type View, type WindowViews } from '../../src/encode/views/index.js';
import { fmt, fmtZ } from '../../src/encode/views/stats.js';
import { ServiceNumbers, ShapeTable, summarizeLogs } from '../../src/encode/views/logs.js';
import { SliceMemo } from '../../src/encode/views/memo.js';
import { memoryDataset } from '../../src/sources/index.js';
import { datasetWindows, windowStream, type WindowSlice } from '../../src/windows/index.js';
import type { Dataset, LogRecord, MetricSeries } from '../../src/telemetry/index.js';
import { MIN, SPEC, T0, fixture, isTrain } from './views-fixture.js';

function flat(v: WindowViews): [string, string, string, number[]][] {
  const out: [string, string, string, number[]][] = [];
  for (const [e, mv] of [['__system__', v.system] as const, ...v.entities]) {
    for (const m of ['metrics', 'traces', 'logs'] as const) {
      const x: View | undefined = mv[m];
      if (x) out.push([e, m, x.text, [...x.features]]);
    }
  }
  return out;
}

async function slices(ds: Dataset): Promise<WindowSlice[]> {
  const out: WindowSlice[] = [];
  for await (const s of windowStream(ds, SPEC)) out.push(s);
  return out;
}

test('one reading (beginFit, add, finish, render) gives the baselines and views of fit + transform', async () => {
  const ds = fixture({ minutes: 180, testTwist: 1 });
  const serviceOf = datasetServiceOf(ds);
  const two = new ViewBuilder({ serviceOf });
  await two.fit(windowStream(ds, SPEC), isTrain);
  const one = new ViewBuilder({ serviceOf });
  const pass = one.beginFit();
  const summaries = (await slices(ds)).map((s) => pass.add(s, isTrain(s.window)));
  pass.finish();
  assert.equal(JSON.stringify(one.toJSON()), JSON.stringify(two.toJSON()));
  assert.equal(one.trainWindows, 116);
  const all = await slices(ds);
  assert.equal(summaries.length, all.length);
  let logViews = 0;
  for (let i = 0; i < all.length; i++) {
    const a = flat(two.transform(all[i]));
    const b = flat(one.render(summaries[i], all[i]));
    assert.deepEqual(b, a, `window ${i}`);
    logViews += b.filter(([, m]) => m === 'logs').length;
  }
  assert.ok(logViews > 0, 'log views were compared');
  // the fault's error lines are unknown to the training templates: NEW lines, grouped per window
  const fault = all.findIndex((s) => s.label.abnormal);
  assert.match(flat(one.render(summaries[fault + 2], all[fault + 2])).find(([e, m]) => e === '__system__' && m === 'logs')![2], /NEW x\d+ \[error \d+\] cart: ERROR connection refused/);
});

test('logs summarised elsewhere (ForeignLogs) give the same builder and views', async () => {
  const ds = fixture({ minutes: 150, testTwist: 2 });
  const serviceOf = datasetServiceOf(ds);
  // evidence off: these foreign logs come without their records (views-evidence.test.ts covers those)
  const local = new ViewBuilder({ serviceOf, evidence: false });
  const localPass = local.beginFit();
  const foreign = new ViewBuilder({ serviceOf, evidence: false });
  const foreignPass = foreign.beginFit();
  // what the log thread does, in this thread
  const table = new ShapeTable();
  // a shape the other side never hears of: numbers are mapped, not assumed equal
  table.idOf('warm-up line 1');
  let announced = 1;
  const memo = new SliceMemo<LogRecord, number>((r) => table.idOf(r.body));
  const numbers = new ServiceNumbers();
  const trained = new Set<number>();
  const all = await slices(ds);
  const a = [];
  const b = [];
  for (const s of all) {
    const train = isTrain(s.window);
    a.push(localPass.add(s, train));
    const sh = memo.map(s.logs);
    const newShapes: [number, string][] = [];
    for (; announced < table.size; announced++) newShapes.push([table.keyOf(announced), table.bodies[announced]]);
    const summary = summarizeLogs(s.logs, s.window, serviceOf, sh, numbers);
    let trainLines: [number, string | null][] | undefined;
    if (train) {
      trainLines = [];
      for (let i = 0; i < sh.length; i++) {
        if (trained.has(sh[i])) continue;
        trained.add(sh[i]);
        trainLines.push([sh[i] - 1, s.logs[i].body === table.bodies[sh[i]] ? null : s.logs[i].body]);
      }
    }
    const shifted = { ...summary, shapes: summary.shapes.map((k) => k - 1) };
    b.push(foreignPass.add({ ...s, logs: [] }, train, s.logs.length ? { summary: shifted, newShapes, trainLines } : undefined));
  }
  localPass.finish();
  foreignPass.finish();
  assert.equal(JSON.stringify(foreign.toJSON()), JSON.stringify(local.toJSON()));
  for (let i = 0; i < all.length; i++) assert.deepEqual(flat(foreign.render(b[i], all[i])), flat(local.render(a[i], all[i])), `window ${i}`);
  // a training window's foreign logs must come with their training lines
  const other = new ViewBuilder({ serviceOf }).beginFit();
  const s0 = all.find((s) => s.logs.length > 0)!;
  const summary = summarizeLogs(s0.logs, s0.window, serviceOf, s0.logs.map((r) => table.idOf(r.body)), numbers);
  assert.throws(() => other.add({ ...s0, logs: [] }, true, { summary, newShapes: [] }), /without their training lines/);
});

/** A window's metric points per series, as [entity, name, times, values]. */
function fromParts(p: MetricParts): [string, string, number[], number[]][] {
  const out: [string, string, number[], number[]][] = [];
  for (let j = 0; j < p.count; j++) {
    const c0 = p.chunks[p.chunk[p.first[j]]];
    const times: number[] = [];
    const values: number[] = [];
    for (let q = p.first[j]; q < p.first[j + 1]; q++) {
      const c = p.chunks[p.chunk[q]];
      for (let i = p.lo[q]; i < p.hi[q]; i++) {
        times.push(c.times[i]);
        values.push(c.values[i]);
      }
    }
    out.push([c0.entity, c0.name, times, values]);
  }
  return out;
}

const fromSeries = (series: readonly MetricSeries[]) => series.map((s): [string, string, number[], number[]] => [s.entity, s.name, [...s.times], [...s.values]]);

test('metric windows as parts hold the points and series order of windowStream', async () => {
  const rng = new SeededRandom(11);
  const series = (entity: string, name: string, from: number, to: number, every: number): MetricSeries => {
    const times = Float64Array.from({ length: Math.floor((to - from) / every) }, (_, i) => from + i * every);
    return { entity, name, times, values: Float64Array.from(times, () => (rng.next() < 0.1 ? NaN : rng.next())) };
  };
  const cut = (s: MetricSeries, a: number, b: number): MetricSeries => {
    const lo = s.times.findIndex((t) => t >= a);
    let hi = s.times.findIndex((t) => t >= b);
    if (hi < 0) hi = s.times.length;
    return { ...s, times: s.times.subarray(lo, hi), values: s.values.subarray(lo, hi) };
  };
  const a = series('pod-a', 'cpu', T0, T0 + 90 * MIN, 20_000);
  const b = series('pod-b', 'cpu', T0 + 3 * MIN, T0 + 90 * MIN, 60_000);
  const c = series('pod-a', 'mem', T0, T0 + 90 * MIN, 45_000);
  // chunks that split series across windows, arrive out of order within the disorder bound,
  // and leave one series out of a batch
  const batches: MetricSeries[][] = [
    [cut(a, T0, T0 + 17 * MIN), cut(c, T0, T0 + 30 * MIN)],
    [cut(b, T0, T0 + 30 * MIN), cut(a, T0 + 23 * MIN, T0 + 40 * MIN)],
    [cut(a, T0 + 17 * MIN, T0 + 23 * MIN), cut(c, T0 + 30 * MIN, T0 + 90 * MIN)],
    [cut(b, T0 + 30 * MIN, T0 + 90 * MIN), cut(a, T0 + 40 * MIN, T0 + 90 * MIN)],
    [],
  ];
  const base = memoryDataset({ entities: [], metrics: [a, b, c] });
  const ds: Dataset = {
    ...base,
    disorderMs: 8 * MIN,
    metrics: async function* () {
      for (const x of batches) yield x;
    },
  };
  const windows = datasetWindows(ds, SPEC);
  const mw = new MetricWindows(ds.metrics(MetricWindows.readRange(windows)), ds.disorderMs);
  let k = 0;
  let joined = 0;
  for await (const s of windowStream(ds, SPEC, { modalities: ['metrics'] })) {
    assert.equal(s.window.start, windows[k].start);
    const parts = await mw.window(windows[k], k + 1 < windows.length ? windows[k + 1].start : Infinity);
    assert.deepEqual(fromParts(parts), fromSeries(s.metrics), `window ${k}`);
    for (let j = 0; j < parts.count; j++) if (parts.first[j + 1] - parts.first[j] > 1) joined++;
    k++;
  }
  await mw.close();
  assert.equal(k, windows.length);
  assert.ok(joined > 0, 'some windows join a series from several chunks');
});

test('number texts: the fast path agrees with the plain definition', () => {
  const trim = (s: string) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  const plain = (x: number): string => {
    if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
    if (x === 0) return '0';
    const r = Number(x.toPrecision(3));
    const a = Math.abs(r);
    if (a >= 1e5 || a < 1e-3) {
      const [m, e] = r.toExponential(2).split('e');
      return `${trim(m)}e${e.startsWith('+') ? e.slice(1) : e}`;
    }
    if (a >= 1000) return String(r);
    return trim(r.toPrecision(3));
  };
  const rng = new SeededRandom(5);
  const xs = [0.0009995, 0.00099949, 0.001, 999.5, 999.49, 999.96, 99999.5, 1e5, 0.5, 1, 10, 100, -0.0012345, 5e-324, 1.7e308, -0, Infinity, -Infinity, NaN];
  for (let i = 0; i < 20000; i++) {
    const x = (rng.next() - 0.5) * 2 * 10 ** (Math.floor(rng.next() * 16) - 8);
    xs.push(x, Math.round(x * 1000) / 1000);
  }
  // halfway cases and their neighbouring doubles, where rounding must follow toPrecision
  const f64 = new Float64Array(1);
  const bits = new BigInt64Array(f64.buffer);
  const step = (x: number, d: number) => {
    f64[0] = x;
    bits[0] += BigInt(d);
    return f64[0];
  };
  for (let e = -4; e <= 3; e++) {
    for (const n of [99, 100, 101, 123, 499, 500, 999, 1000]) {
      for (const d of [-1, 0, 1]) xs.push(step((n + 0.5) * 10 ** (e - 2), d), -step((n + 0.5) * 10 ** (e - 2), d));
    }
  }
  for (const x of xs) {
    assert.equal(fmt(x), plain(x), String(x));
    assert.equal(fmt(x), plain(x), `${x} (cached)`);
  }
  for (const z of [0, -0, -0.04, 0.05, -0.05, 2.25, -49.99, 50]) assert.equal(fmtZ(z), (Math.round(z * 10) / 10 >= 0 ? '+' : '') + (Math.round(z * 10) / 10).toFixed(1));
});
