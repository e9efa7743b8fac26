import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EVIDENCE_FEATURES, type EvidenceRecord } from '../../src/encode/index.js';
import type { EncodedWindow } from '../../src/model/index.js';
import { DETECTION_EVIDENCE, DETECTION_EVIDENCE_EXCLUDED, detectionEvidenceFeatures, EvidenceByWindow, evidenceDetectionLayout, evidenceFeatureNeeds, evidenceRowsIn } from '../../src/eval/evaluate/index.js';

test('detection reads every evidence feature but volumes and levels, whatever the families add', () => {
  const read = DETECTION_EVIDENCE.map((f) => f.name);
  for (const n of EVIDENCE_FEATURES) assert.equal(read.includes(n), !DETECTION_EVIDENCE_EXCLUDED.test(n), n);
  for (const n of ['edge_in_calls_log', 'self_spans_log', 'lograte_records_log', 'res_metrics_log', 'edge_in_gap_p50_logms', 'self_p50_logms']) assert.ok(!read.includes(n) || !EVIDENCE_FEATURES.includes(n), `${n} is a volume or level`);
  for (const n of ['edge_in_dev_max', 'edge_in_new_log', 'logt_vanished_log', 'lograte_z_max', 'res_cpu_own_z']) assert.ok(read.includes(n), `${n} is a deviation`);
  // call outcomes (traces) flow in as soon as encode writes them
  for (const n of EVIDENCE_FEATURES.filter((x) => x.startsWith('out_') && !DETECTION_EVIDENCE_EXCLUDED.test(x))) {
    assert.ok(read.includes(n));
    assert.deepEqual(evidenceFeatureNeeds(n), ['traces']);
  }
  assert.deepEqual(evidenceFeatureNeeds('logt_t_max'), ['traces', 'logs']);
  assert.deepEqual(evidenceFeatureNeeds('res_cpu_own_z'), ['metrics']);
  assert.deepEqual(evidenceFeatureNeeds('zz_new_family'), ['traces', 'logs'], 'an unknown family is read only with nothing masked');
  assert.ok(detectionEvidenceFeatures(['traces']).every((n) => !evidenceFeatureNeeds(n).includes('traces')));
});

test('evidence rows in a saved layout: services outside it are not read, a feature encode does not write is an error', () => {
  const rec = (windowIndex: number, entity: string, name: string, v: number): EvidenceRecord => {
    const features = new Float32Array(EVIDENCE_FEATURES.length).fill(NaN);
    features[EVIDENCE_FEATURES.indexOf(name)] = v;
    return { windowIndex, windowStart: 0, windowEnd: 1, entity, features, items: '', abnormal: false };
  };
  const w = (index: number): EncodedWindow => ({ source: 's', window: { index, start: index, end: index + 1 }, label: { abnormal: false }, inputs: {} });
  const by = new EvidenceByWindow();
  by.add([rec(0, 'a', 'edge_in_dev_max', 2), rec(0, 'b', 'edge_in_dev_max', 3), rec(1, 'c', 'edge_in_dev_max', 9)]);
  const layout = evidenceDetectionLayout([w(0)], (x) => by.of(x), []);
  assert.deepEqual(layout.services, ['a', 'b']);
  const rows = evidenceRowsIn(layout, [w(0), w(1), w(2)], (x) => by.of(x));
  const j = layout.features.indexOf('edge_in_dev_max');
  assert.equal(rows[0]![j], 2);
  assert.equal(rows[0]![layout.features.length + j], 3);
  assert.equal(rows[1], undefined, 'only a service the layout does not know: no row');
  assert.equal(rows[2], undefined);
  assert.throws(() => evidenceRowsIn({ services: ['a'], features: ['gone_feature'] }, [w(0)], (x) => by.of(x)), /unknown evidence feature gone_feature/);
});
