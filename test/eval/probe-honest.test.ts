import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIN_CLASS_MEMBERS,
  MIN_MEASURE_CLASSES,
  MIN_MEASURE_SAMPLES,
  embeddingMeasures,
  formatProbeReport,
  measurability,
  probeDataset,
  rawBackboneEmbedder,
  timeEmbedder,
  type NamedEmbedder,
} from '../../src/eval/index.js';
import type { FaultLabel } from '../../src/telemetry/index.js';
import type { EncodedWindow } from '../../src/model/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1, 8);
const DIM = 4;

function win(index: number, start: number, dir: number, label: EncodedWindow['label'], extra: Partial<EncodedWindow> = {}): EncodedWindow {
  const v = () => Float32Array.from({ length: DIM }, (_, i) => (i === dir % DIM ? 1 : 0.01 * (index % 7)));
  return { source: 'src', window: { index, start, end: start + 5 * MIN }, label, inputs: { metrics: v(), traces: v(), logs: v() }, ...extra };
}

const embedders: NamedEmbedder[] = [
  { name: 'raw', embed: rawBackboneEmbedder(DIM) },
  { name: 'time', embed: timeEmbedder },
];

test('the minimums are named and applied in one place', () => {
  assert.equal(MIN_MEASURE_SAMPLES, 10);
  assert.equal(MIN_MEASURE_CLASSES, 2);
  assert.equal(MIN_CLASS_MEMBERS, 2);
  assert.deepEqual(measurability([2]), { n: 2, classes: 1, reason: 'fewer than 10 samples' });
  assert.deepEqual(measurability([12]), { n: 12, classes: 1, reason: 'a single class' });
  assert.equal(measurability([11, 1])?.reason, 'fewer than 2 classes with ≥ 2 members');
  assert.equal(measurability([8, 2]), undefined);
  assert.equal(measurability([5, 2, 1, 1, 1]), undefined, 'singleton classes are fine once two classes have members to spare');
  // A class-restricted figure passes its own n: 4 fault queries among 30 are too few.
  assert.equal(measurability([26, 4], 4)?.n, 4);
});

test('embedding measures are null with the reason on tiny or one-class samples, numbers otherwise', () => {
  const two = embeddingMeasures([Float32Array.of(1, 0), Float32Array.of(1, 0.1)], ['a', 'a']);
  for (const m of [two.knnAccuracy, two.knnPurity, two.silhouette]) {
    assert.equal(m.value, null);
    assert.deepEqual(m.notMeasurable, { n: 2, classes: 1, reason: 'fewer than 10 samples' });
  }
  const rows: Float32Array[] = [];
  const labels: string[] = [];
  for (let i = 0; i < 12; i++) {
    rows.push(i < 6 ? Float32Array.of(1, 0.01 * i) : Float32Array.of(0.01 * i, 1));
    labels.push(i < 6 ? 'a' : 'b');
  }
  const ok = embeddingMeasures(rows, labels, 3);
  assert.equal(ok.knnAccuracy.value, 1);
  assert.equal(ok.knnPurity.value, 1);
  assert.ok(ok.silhouette.value !== null && ok.silhouette.value > 0.5);
  assert.equal(ok.knnAccuracy.notMeasurable, undefined);
});

test('probe: two fault windows of one type are "not measurable", never 1.000 (issue 10)', () => {
  // Nezha-like: two faults of one type, far apart; (a) then has n = 2 and one class.
  const faults: FaultLabel[] = [0, 1].map((k) => ({ id: `f${k}`, start: T0 + (10 + 120 * k) * MIN + 1000, end: T0 + (13 + 120 * k) * MIN, rootCause: 'svc-1', rootCauseService: 'svc', type: 'cpu' }));
  const windows: EncodedWindow[] = [];
  for (let i = 0; i < 240; i += 5) {
    const start = T0 + i * MIN;
    const abnormal = faults.some((f) => f.start < start + 5 * MIN && start < f.end);
    windows.push(win(windows.length, start, abnormal ? 1 : 0, { abnormal }));
  }
  const rep = probeDataset({ name: 'tiny', kind: 'nezha', windows, faults }, embedders);
  const a = rep.measures.find((m) => m.id === 'a.type.acc');
  assert.ok(a, 'the measure is listed, not silently dropped');
  assert.deepEqual(a.notMeasurable, { n: 2, classes: 1, reason: 'fewer than 10 samples' });
  assert.equal(a.chance, null);
  assert.deepEqual(a.values, { raw: null, time: null });
  assert.equal(a.majority, undefined);
  // (b): 48 windows but only 2 fault windows: the fault-window purity is not measurable either.
  const fp = rep.measures.find((m) => m.id === 'b.fault.purity.fault');
  assert.ok(fp?.notMeasurable);

  const text = formatProbeReport(rep);
  const row = text.split('\n').find((l) => l.startsWith('(a) fault windows, fault type'));
  assert.ok(row, text);
  assert.match(row, /not measurable \(n=2, classes=1: fewer than 10 samples\)/);
  assert.doesNotMatch(row, /\d\.\d{3}/, 'no figure on a not-measurable row');

  const json = JSON.parse(JSON.stringify(rep)) as typeof rep;
  const ja = json.measures.find((m) => m.id === 'a.type.acc')!;
  assert.deepEqual(ja.values, { raw: null, time: null });
  assert.equal(ja.chance, null);
  assert.deepEqual(ja.notMeasurable, { n: 2, classes: 1, reason: 'fewer than 10 samples' });
});

test('probe: one class with a single stray member is not measurable; two real classes are', () => {
  const cases = (types: string[]) =>
    types.map((t, i) => win(i, T0 + i * 10 * MIN, t === 'cpu' ? 0 : 1, { abnormal: true, type: t, rootCauseService: `s${i % 3}` }, { caseId: `cb_${i}_0`, group: `cb_${i}` }));
  const lopsided = probeDataset({ name: 'cases', kind: 'aiops22', windows: cases([...Array(11).fill('cpu'), 'mem']), faults: [] }, embedders);
  const t = lopsided.measures.find((m) => m.id === 'cases.type.acc')!;
  assert.equal(t.notMeasurable?.reason, 'fewer than 2 classes with ≥ 2 members');
  assert.equal(t.values.raw, null);
  // Root-cause service: 3 classes of 4 in the same 12 cases is measurable.
  const s = lopsided.measures.find((m) => m.id === 'cases.service.acc')!;
  assert.equal(s.notMeasurable, undefined);
  assert.equal(typeof s.values.raw, 'number');
  assert.equal(typeof s.chance, 'number');

  const balanced = probeDataset({ name: 'cases', kind: 'aiops22', windows: cases([...Array(6).fill('cpu'), ...Array(6).fill('mem')]), faults: [] }, embedders);
  const b = balanced.measures.find((m) => m.id === 'cases.type.acc')!;
  assert.equal(b.notMeasurable, undefined);
  assert.equal(b.values.raw, 1);
  assert.match(formatProbeReport(balanced), /cases, fault type, other failures only: kNN accuracy\s+12\s+0\.\d{3}\s+1\.000/);
});
