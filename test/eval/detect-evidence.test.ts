import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { createBackbone, EVIDENCE_FEATURES, type EvidenceRecord } from '../../src/encode/index.js';
import { encodeWindows, type EncodedWindow } from '../../src/model/index.js';
import type { Dataset } from '../../src/telemetry/index.js';
import { buildSetup, detectionEvidenceFeatures, evidenceDetects, detectorCandidates, EvidenceByWindow, evidenceDetectionRows, rawFeatures, tunedDetect, type DetectionSet } from '../../src/eval/evaluate/index.js';

const record = (windowIndex: number, entity: string, values: Record<string, number>, pod?: string): EvidenceRecord => {
  const features = new Float32Array(EVIDENCE_FEATURES.length).fill(NaN);
  for (const [k, v] of Object.entries(values)) features[EVIDENCE_FEATURES.indexOf(k)] = v;
  return { windowIndex, windowStart: windowIndex * 60_000, windowEnd: windowIndex * 60_000 + 300_000, entity, pod, features, items: '', abnormal: false };
};

const windowAt = (index: number): EncodedWindow => ({ source: 's', window: { index, start: index * 60_000, end: index * 60_000 + 300_000 }, label: { abnormal: false }, inputs: {} });

test('evidence detection rows: one column per service and kept feature, pods left out, masked modalities dropped', () => {
  const by = new EvidenceByWindow();
  by.add([record(0, 'b', { res_cpu_own_z: 3, edge_in_dev_max: 9 }), record(0, 'a', { res_cpu_own_z: 1 }), record(0, 'a', { res_cpu_own_z: 50 }, 'a-pod-1')]);
  by.add([record(1, 'b', { edge_in_dev_max: 2 })]);
  const ws = [windowAt(0), windowAt(1), windowAt(2)];
  assert.equal(evidenceDetects(['traces', 'logs']), false, 'metrics-only sets get no evidence rows (measured: they lost)');
  assert.equal(evidenceDetects([]), true);
  assert.equal(evidenceDetects(['logs']), true);
  const metricsOnly = detectionEvidenceFeatures(['traces', 'logs']);
  assert.ok(metricsOnly.length > 0 && metricsOnly.every((n) => n.startsWith('res_')), `metrics-only keeps resource evidence only: ${metricsOnly}`);
  const all = detectionEvidenceFeatures([]);
  assert.ok(all.includes('edge_in_dev_max') && all.includes('logt_t_max') && all.includes('res_cpu_own_z'));
  assert.ok(!all.some((n) => n.endsWith('_calls_log') || n === 'res_metrics_log'), 'counts are not deviations');

  const rows = evidenceDetectionRows(ws, (w) => by.of(w), ['traces', 'logs']);
  assert.equal(rows.length, 3);
  const width = 2 * metricsOnly.length;
  assert.equal(rows[0]?.length, width);
  const cpu = metricsOnly.indexOf('res_cpu_own_z');
  // services in name order: a, then b; the pod's 50 is not read
  assert.equal(rows[0]![cpu], 1);
  assert.equal(rows[0]![metricsOnly.length + cpu], 3);
  // window 1 has only trace evidence, which metrics-only leaves out; window 2 has none
  assert.equal(rows[1], undefined);
  assert.equal(rows[2], undefined);

  const full = evidenceDetectionRows(ws, (w) => by.of(w), []);
  const edge = all.indexOf('edge_in_dev_max');
  assert.equal(full[1]![all.length + edge], 2);
  assert.ok(Number.isNaN(full[1]![edge]), 'a service without a value is NaN');
});

test('evidence candidates come after the representation\'s own, without states', () => {
  const names = (cs: ReturnType<typeof detectorCandidates>) => cs.map((c) => `${c.input ?? 'features'}:${c.family}${c.states ? '+states' : ''}`);
  assert.deepEqual(names(detectorCandidates('features', true, true)), ['features:robust-z', 'features:knn', 'evidence:robust-z', 'evidence:knn']);
  assert.deepEqual(names(detectorCandidates('features', false, false)), ['features:robust-z', 'features:knn', 'features:robust-z+states', 'features:knn+states']);
  assert.deepEqual(names(detectorCandidates('vector', true, true)), ['features:knn', 'evidence:robust-z', 'evidence:knn']);
});

/** A dataset whose labels of faults starting in [from, to) are moved and renamed (everything else the same). */
function relabel(ds: Dataset, from: number, to: number): Dataset {
  const labels = ds.labels.map((l) => (l.start >= from && l.start < to ? { ...l, start: l.start + 7 * 60_000, end: l.end + 7 * 60_000, type: 'nothing', rootCause: 'nobody', rootCauseService: 'nobody' } : l));
  return Object.assign(Object.create(Object.getPrototypeOf(ds)) as Dataset, ds, { labels });
}

test('no label reaches the evidence references, and no test-fold label reaches an evidence detector', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-detect-ev-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 4, seed: 11, faults: 10 });
    const ds = await loadDataset(sim);
    const backbone = await createBackbone('hash:dim=32');
    const spec = { lengthMs: 5 * 60_000, strideMs: 60_000 };
    const by = new EvidenceByWindow();
    const windows = await encodeWindows(ds, { spec, backbone, onEvidence: by.add });
    assert.ok(by.size > windows.length / 2, `evidence for most windows: ${by.size} of ${windows.length}`);

    // encode's evidence references read no label: relabelling half the faults changes no value
    const mid = ds.labels[Math.floor(ds.labels.length / 2)].start;
    const by2 = new EvidenceByWindow();
    const windows2 = await encodeWindows(relabel(ds, mid, Infinity), { spec, backbone, onEvidence: by2.add });
    assert.equal(windows2.length, windows.length);
    const flat = (b: EvidenceByWindow, ws: readonly EncodedWindow[]) => JSON.stringify(ws.map((w) => (b.of(w) ?? []).map((r) => [r.entity, r.pod ?? '', Array.from(r.features, (v) => (Number.isFinite(v) ? v : null))])));
    assert.equal(flat(by2, windows2), flat(by, windows));
    assert.ok(windows2.some((w, i) => w.label.abnormal !== windows[i].label.abnormal), 'the relabelled run does see other labels');

    // in the folds, an evidence detector's references and thresholds come from training folds:
    // corrupting fold f's labels changes neither fold f's alarms nor the inner scores fold f chose by
    const setup = buildSetup(ds, windows, 'sim', { folds: 3, seed: 1 });
    const set = setup.detection.find((d) => d.level === 'all-modalities') as DetectionSet;
    const rep = rawFeatures(backbone.dim);
    const rows = { features: rep.system(set.windows, set.mask), evidence: evidenceDetectionRows(set.windows, (w) => by.of(w), set.mask) };
    assert.ok(rows.evidence.filter(Boolean).length > set.windows.length / 2);
    const base = tunedDetect(rep, set, rows, 3, true);
    assert.ok(base.folds.some((f) => f.inner?.some((x) => x.candidate.startsWith('evidence:'))), 'evidence candidates are scored');
    for (let fold = 0; fold < 3; fold++) {
      const bad: DetectionSet = {
        ...set,
        windows: set.windows.map((w, i) => (set.folds[i] === fold ? { ...w, label: { abnormal: !w.label.abnormal } } : w)),
        injections: set.injections.filter((f) => f.fold !== fold),
      };
      const r = tunedDetect(rep, bad, rows, 3, true);
      const of = (d: typeof base) => JSON.stringify([d.alarms.filter((_, i) => set.folds[i] === fold), d.folds.find((f) => f.fold === fold)]);
      assert.equal(of(r), of(base), `fold ${fold}: its alarms or its detector changed with its own labels`);
    }
    // the check has teeth: an evidence detector fitted with the training folds' labels flipped alarms differently
    const flipped: DetectionSet = { ...set, windows: set.windows.map((w, i) => (set.folds[i] !== 0 ? { ...w, label: { abnormal: !w.label.abnormal } } : w)) };
    const only = (d: DetectionSet) => tunedDetect(rep, d, { features: rows.features, evidence: rows.evidence }, 3, true);
    assert.notEqual(JSON.stringify(only(flipped).alarms.filter((_, i) => set.folds[i] === 0)), JSON.stringify(base.alarms.filter((_, i) => set.folds[i] === 0)));
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
