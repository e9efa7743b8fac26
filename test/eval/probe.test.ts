import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { knnWithExclusion, majorityShare, randomPurity, referenceChance, cosineDistances } from '../../src/stats/index.js';
import {
  faultWindows,
  probeDataset,
  rawBackboneEmbedder,
  readRegimes,
  regimeOf,
  timeEmbedder,
  type Embedder,
  type NamedEmbedder,
  type ProbeMeasure,
  type ProbeReport,
  type RegimeSpan,
} from '../../src/eval/index.js';
import { UserError, type FaultLabel, type Modality } from '../../src/telemetry/index.js';
import type { EncodedWindow } from '../../src/model/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 8);
const DIM = 8;
const FEATS = 3;

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

/** A unit-ish direction for a label, as backbone values, followed by feature values. */
function input(dir: number, noise: number, r: () => number): Float32Array {
  const x = new Float32Array(DIM + FEATS);
  for (let i = 0; i < DIM; i++) x[i] = (i === dir % DIM ? 1 : 0) + noise * (r() - 0.5);
  for (let i = DIM; i < DIM + FEATS; i++) x[i] = 100 * r(); // features must not reach the raw baseline
  return x;
}

/** A measure with figures (these fixtures are all large enough to be measurable). */
type Measured = ProbeMeasure & { chance: number; values: Record<string, number> };

function measure(r: ProbeReport, id: string): Measured {
  const m = r.measures.find((x) => x.id === id);
  assert.ok(m, `measure ${id} missing; have ${r.measures.map((x) => x.id).join(', ')}`);
  assert.equal(m.notMeasurable, undefined, `measure ${id} is not measurable: ${JSON.stringify(m.notMeasurable)}`);
  return m as Measured;
}

function win(source: string, index: number, start: number, label: EncodedWindow['label'], inputs: EncodedWindow['inputs'], extra: Partial<EncodedWindow> = {}): EncodedWindow {
  return { source, window: { index, start, end: start + 5 * MIN }, label, inputs, ...extra };
}

const raw: NamedEmbedder = { name: 'raw', embed: rawBackboneEmbedder(DIM) };

/** Random vectors: knows nothing. */
function noise(seed: number): NamedEmbedder {
  return {
    name: 'noise',
    embed: (ws) => {
      const r = lcg(seed);
      return ws.map(() => Float32Array.from({ length: 16 }, () => r() - 0.5));
    },
  };
}

test('kNN with exclusion: separated labels score 1, excluded neighbours are never used', () => {
  const rows = [0, 0, 0, 1, 1, 1].map((c) => Float32Array.of(c === 0 ? 1 : 0, c === 1 ? 1 : 0));
  const labels = ['a', 'a', 'a', 'b', 'b', 'b'];
  const d = cosineDistances(rows);
  const all = [0, 1, 2, 3, 4, 5];
  const r = knnWithExclusion(d, 6, labels, 2, all, () => true);
  assert.deepEqual(r.predicted, labels);
  assert.deepEqual(r.purity, [1, 1, 1, 1, 1, 1]);
  // Only the other label admissible: every prediction is wrong, purity 0.
  const r2 = knnWithExclusion(d, 6, labels, 2, all, (i, j) => labels[i] !== labels[j]);
  assert.deepEqual(r2.predicted, ['b', 'b', 'b', 'a', 'a', 'a']);
  assert.deepEqual(r2.purity, [0, 0, 0, 0, 0, 0]);
  // A query without admissible neighbours is not scored.
  const r3 = knnWithExclusion(d, 6, labels, 2, all, (i) => i !== 0);
  assert.deepEqual(r3.scored, [1, 2, 3, 4, 5]);
  assert.throws(() => knnWithExclusion(d, 6, labels, 0, all, () => true), RangeError);
});

test('chance levels: majority share and random-neighbour purity', () => {
  assert.equal(majorityShare(['a', 'a', 'a', 'b']), 0.75);
  // a: 3/4 · 2/3, b: 1/4 · 0
  assert.equal(randomPurity(['a', 'a', 'a', 'b']), 0.5);
});

test('reference chance follows the rows a query may use as neighbours', () => {
  const labels = ['a', 'a', 'a', 'b', 'b'];
  // Nothing excluded: majority of the others, and the random-neighbour share.
  const all = referenceChance(labels, [0, 3], () => true, 5);
  assert.deepEqual(all.hit, [0.5, 0]); // a sees a,a,b,b (a tie: half a hit); b sees a,a,a,b
  assert.deepEqual(all.share, [0.5, 0.25]);
  // Only the b rows admissible (as a train split of b's): guessing their majority hits b only.
  const only = referenceChance(labels, [0, 1, 3], (_i, j) => j >= 3, 5);
  assert.deepEqual(only.hit, [0, 0, 1]);
  assert.deepEqual(only.share, [0, 0, 1]);
});

test('raw backbone baseline: averages present, unmasked backbone parts only (features ignored)', () => {
  const w = win('s', 0, T0, { abnormal: false }, {
    metrics: Float32Array.from([3, 0, 0, 0, 0, 0, 0, 0, 9, 9, 9]),
    traces: Float32Array.from([0, 4, 0, 0, 0, 0, 0, 0, 9, 9, 9]),
  });
  const [v] = rawBackboneEmbedder(DIM)([w], []);
  assert.equal(v.length, DIM);
  assert.ok(Math.abs(v[0] - Math.SQRT1_2) < 1e-6 && Math.abs(v[1] - Math.SQRT1_2) < 1e-6);
  const [m] = rawBackboneEmbedder(DIM)([w], ['traces']);
  assert.deepEqual([...m], [1, 0, 0, 0, 0, 0, 0, 0]);
});

/**
 * A Nezha-like day: 1-minute stride, 5-minute windows; metrics everywhere, traces and logs only
 * in the three minutes from each fault's start. Fault types and services are encoded in the
 * trace/log backbone vectors (types perfectly separable), metrics are pure noise, and the
 * trace vector of every fault window points one way (a presence signal the probe must mask).
 */
function nezhaLike(seed = 1) {
  const r = lcg(seed);
  const types = ['return', 'exception', 'cpu', 'delay'];
  const services = ['s0', 's1', 's2'];
  const faults: FaultLabel[] = [];
  // Types interleaved in time so the clock cannot give them away.
  for (let f = 0; f < 24; f++) {
    const start = T0 + (30 + f * 20) * MIN + 17_000;
    faults.push({ id: `f${f}`, start, end: start + 3 * MIN, rootCause: services[f % 3], rootCauseService: services[f % 3], type: types[f % 4] });
  }
  const windows: EncodedWindow[] = [];
  for (let i = 0; i < 30 + 24 * 20 + 30; i++) {
    const start = T0 + i * MIN;
    const end = start + 5 * MIN;
    const hit = faults.filter((f) => f.start < end && start < f.end);
    const near = faults.find((f) => start <= f.start + 2 * MIN && f.start - MIN < end);
    const inputs: EncodedWindow['inputs'] = { metrics: input(Math.floor(r() * DIM), 3, r) };
    if (near) {
      const t = types.indexOf(near.type);
      inputs.traces = input(t, 0.1, r);
      inputs.logs = input(t, 0.1, r);
    }
    const top = hit[0];
    windows.push(win('nezha', i, start, { abnormal: hit.length > 0, type: top?.type, rootCause: top?.rootCause, rootCauseService: top?.rootCauseService }, inputs));
  }
  return { windows, faults };
}

test('nezha (a): one window per fault; separable types score 1, random embeddings near chance', () => {
  const { windows, faults } = nezhaLike();
  const fw = faultWindows(windows, faults);
  assert.equal(fw.picked.length, 24);
  for (const p of fw.picked) {
    assert.ok(p.window.window.start <= p.fault.start && p.fault.start < p.window.window.end);
    assert.equal(p.window.window.start, Math.floor(p.fault.start / MIN) * MIN);
  }
  const rep = probeDataset({ name: 'n', kind: 'nezha', windows, faults }, [raw, noise(3), { name: 'time', embed: timeEmbedder }]);
  const a = measure(rep, 'a.type.acc');
  assert.equal(a.n, 24);
  assert.equal(a.classes, 4);
  assert.equal(a.chance, 0.25);
  assert.equal(a.values.raw, 1);
  assert.ok(a.values.noise < 0.5, `noise scored ${a.values.noise}`);
  // Services are not in the vectors: raw knows nothing about them beyond what types imply.
  const s = measure(rep, 'a.service.acc');
  assert.ok(Math.abs(s.chance - 1 / 3) < 1e-9);
  assert.ok(measure(rep, 'a.type.far.acc').values.raw === 1);
  assert.equal(rep.samples['a.faults'], 24);
});

test('nezha (b): traces and logs are masked for normal and abnormal windows alike', () => {
  const { windows, faults } = nezhaLike(2);
  const calls: { mask: readonly Modality[]; abnormal: number; normal: number }[] = [];
  const spy: Embedder = (ws, mask) => {
    calls.push({ mask, abnormal: ws.filter((w) => w.label.abnormal).length, normal: ws.filter((w) => !w.label.abnormal).length });
    return rawBackboneEmbedder(DIM)(ws, mask);
  };
  // The unmasked view would separate faults by presence alone: a trace/log vector only there.
  const leaky: Embedder = (ws) => ws.map((w) => Float32Array.of(w.inputs.traces ? 1 : 0, w.inputs.traces ? 0 : 1));
  const rep = probeDataset({ name: 'n', kind: 'nezha', windows, faults }, [{ name: 'spy', embed: spy }, { name: 'presence', embed: leaky }, raw]);
  // (b) over all windows and (b) restricted to the injection hours: both masked, both classes.
  const b = calls.filter((c) => c.mask.length > 0);
  assert.equal(b.length, 2);
  for (const c of b) {
    assert.deepEqual([...c.mask].sort(), ['logs', 'traces']);
    assert.ok(c.abnormal > 0 && c.normal > 0);
  }
  assert.equal(calls.length, 3); // and (a), unmasked
  assert.ok(rep.samples['b.sched.windows'] < rep.samples['b.windows']);
  assert.equal(rep.samples['b.sched.fault'], rep.samples['b.fault']);
  const purity = measure(rep, 'b.fault.purity.fault');
  // Metrics are noise: the masked raw view is near chance for fault windows.
  assert.ok(purity.values.raw < purity.chance + 0.15, `raw fault purity ${purity.values.raw} vs chance ${purity.chance}`);
  // The presence embedder ignores the mask, and it shows: it is what (b) exists to rule out.
  assert.ok(purity.values.presence > purity.chance + 0.3, `presence ${purity.values.presence}`);
  const bacc = measure(rep, 'b.fault.bacc');
  assert.equal(bacc.chance, 0.5);
  assert.ok(Number.isFinite(measure(rep, 'b.fault.silhouette').values.raw));
});

test('temporal neighbours are excluded: a pure clock cannot recognise faults by their own overlapping windows', () => {
  const { windows, faults } = nezhaLike(4);
  const rep = probeDataset({ name: 'n', kind: 'nezha', windows, faults }, [{ name: 'time', embed: timeEmbedder }]);
  // Without exclusion each fault window's 4 nearest in time would be its own fault's windows.
  const p = measure(rep, 'b.fault.purity.fault');
  assert.ok(p.values.time < 0.2, `time-only fault purity ${p.values.time}`);
});

test('regimes: regimes.json read from a folder, a window takes the regime covering most of it', async () => {
  const regimes: RegimeSpan[] = [
    { start: T0, end: T0 + 62 * MIN, regime: 'low' },
    { start: T0 + 62 * MIN, end: T0 + 120 * MIN, regime: 'peak' },
    { start: T0 + 120 * MIN, end: T0 + 121 * MIN, regime: 'low' },
  ];
  assert.deepEqual(regimeOf({ start: T0 + 60 * MIN, end: T0 + 65 * MIN }, regimes), { regime: 'peak', interval: 1 });
  assert.deepEqual(regimeOf({ start: T0 + 59 * MIN, end: T0 + 64 * MIN }, regimes), { regime: 'low', interval: 0 });
  assert.equal(regimeOf({ start: T0 + 117 * MIN, end: T0 + 122 * MIN }, regimes)?.regime, 'peak');
  // Overlap is summed per regime: 1.5 + 1.5 min of low beat 2 min of peak, the largest interval;
  // the interval reported is the regime's own largest (the first on a tie).
  const split: RegimeSpan[] = [
    { start: T0, end: T0 + 1.5 * MIN, regime: 'low' },
    { start: T0 + 1.5 * MIN, end: T0 + 3.5 * MIN, regime: 'peak' },
    { start: T0 + 3.5 * MIN, end: T0 + 5 * MIN, regime: 'low' },
  ];
  assert.deepEqual(regimeOf({ start: T0, end: T0 + 5 * MIN }, split), { regime: 'low', interval: 0 });
  assert.equal(regimeOf({ start: T0 - 10 * MIN, end: T0 - 5 * MIN }, regimes), undefined);
  const dir = await mkdtemp(join(tmpdir(), 'rs-probe-'));
  try {
    assert.equal(await readRegimes(dir), undefined);
    await writeFile(join(dir, 'regimes.json'), JSON.stringify(regimes));
    assert.deepEqual(await readRegimes(dir), regimes);
    await writeFile(join(dir, 'regimes.json'), JSON.stringify([{ start: 5, end: 1, regime: 'x' }]));
    await assert.rejects(readRegimes(dir), UserError);
    await writeFile(join(dir, 'regimes.json'), '{nope');
    await assert.rejects(readRegimes(dir), (e: Error) => e instanceof UserError && !e.message.includes('\n'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function simulatorLike(seed = 5) {
  const r = lcg(seed);
  const regimeNames = ['low', 'normal', 'peak'];
  const regimes: RegimeSpan[] = [];
  for (let k = 0; k < 6; k++) regimes.push({ start: T0 + k * 60 * MIN, end: T0 + (k + 1) * 60 * MIN, regime: regimeNames[k % 3] });
  const faults: FaultLabel[] = [0, 1, 2, 3, 4].map((f) => ({ id: `f${f}`, start: T0 + (20 + f * 70) * MIN, end: T0 + (30 + f * 70) * MIN, rootCause: 'x', rootCauseService: 'x', type: 'cpu' }));
  const windows: EncodedWindow[] = [];
  for (let i = 0; i + 5 <= 360; i++) {
    const start = T0 + i * MIN;
    const rg = regimeOf({ start, end: start + 5 * MIN }, regimes) as { regime: string };
    const abnormal = faults.some((f) => f.start < start + 5 * MIN && start < f.end);
    const d = regimeNames.indexOf(rg.regime);
    const inputs = { metrics: input(d, 0.2, r), traces: input(d, 0.2, r), logs: input(d, 0.2, r) };
    const w = win('sim', i, start, { abnormal }, inputs);
    if (i % 50 === 7) delete w.inputs.logs; // a few windows lack a modality: left out
    windows.push(w);
  }
  return { windows, faults, regimes };
}

test('simulator (c): regime-separating embeddings score purity 1, noise near chance; partial windows left out', () => {
  const { windows, faults, regimes } = simulatorLike();
  const rep = probeDataset({ name: 'sim', kind: 'simulator', windows, faults, regimes }, [raw, noise(9)]);
  const p = measure(rep, 'c.regime.purity');
  assert.equal(p.values.raw, 1);
  assert.ok(Math.abs(p.values.noise - p.chance) < 0.1, `noise ${p.values.noise} vs chance ${p.chance}`);
  assert.equal(measure(rep, 'c.regime.other.purity').values.raw, 1);
  assert.ok(measure(rep, 'c.regime.silhouette').values.raw > 0.5);
  assert.equal(rep.samples['c.windows'], windows.filter((w) => w.inputs.logs).length);
  assert.ok(rep.samples['c.windows'] < windows.length);
  assert.equal(rep.samples['c.regime.intervals'], 6);
  // Faults are not in the vectors: fault purity stays near its chance for both.
  const f = measure(rep, 'c.fault.purity.fault');
  assert.ok(f.values.raw < f.chance + 0.25);
  // Without regimes.json the regime is not scored, and the report says so.
  const rep2 = probeDataset({ name: 'sim', kind: 'simulator', windows, faults }, [raw]);
  assert.ok(!rep2.measures.some((m) => m.id.startsWith('c.regime')));
  assert.ok(rep2.notes.some((n) => n.includes('regimes.json')));
});

test('cases: neighbours from the same failure are excluded; the leaky split is reported apart', () => {
  const r = lcg(11);
  const windows: EncodedWindow[] = [];
  const types = ['cpu', 'memory', 'io', 'loss'];
  let index = 0;
  for (let g = 0; g < 40; g++) {
    // Every failure has its own direction; its type is unrelated to any other failure's.
    const type = types[Math.floor(r() * types.length)];
    const dir = g;
    for (let c = 1; c <= 5; c++) {
      const x = new Float32Array(64 + FEATS);
      x[dir] = 1;
      x[(dir + 1) % 64] = 0.05 * r();
      windows.push(win('ai', index++, T0 + g * 10 * MIN + c * MIN, { abnormal: true, type, rootCauseService: `svc${g % 3}` }, { metrics: x }, { caseId: `cb1_${g}_${c}`, split: c <= 4 ? 'train' : 'test' }));
    }
  }
  const rep = probeDataset({ name: 'ai', kind: 'aiops22', windows, faults: [] }, [{ name: 'raw', embed: rawBackboneEmbedder(64) }]);
  const grouped = measure(rep, 'cases.type.acc');
  assert.equal(grouped.n, 200);
  assert.ok(grouped.values.raw < 0.6, `grouped ${grouped.values.raw}`);
  const leaky = measure(rep, 'cases.type.authors.acc');
  assert.equal(leaky.n, 40);
  assert.equal(leaky.values.raw, 1);
  assert.equal(rep.samples['cases.failures'], 40);
  assert.ok(rep.notes.some((n) => n.includes('leaks')));
});

test('probeDataset refuses duplicate embedder names', () => {
  const { windows, faults } = nezhaLike();
  assert.throws(() => probeDataset({ name: 'n', kind: 'nezha', windows, faults }, [raw, raw]), RangeError);
});
