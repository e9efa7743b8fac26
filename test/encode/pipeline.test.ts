import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EmbeddingCache,
  HashBackbone,
  LOG_FEATURES,
  METRIC_FEATURES,
  TRACE_FEATURES,
  encodeDataset,
  readColumnar,
  ColumnarWriter,
  type Backbone,
  type EncodedRow,
} from '../../src/encode/index.js';
import { SPEC, TRAIN_END, fixture, isTrain } from './views-fixture.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rs-encode-'));
}

test('encode writes an Arrow file that reads back with the same values', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'views.arrow');
  const backbone = new HashBackbone({ dim: 64 });
  const kept: EncodedRow[] = [];
  const phases = new Set<string>();
  const r = await encodeDataset(fixture({ minutes: 150 }), {
    spec: SPEC,
    backbone,
    out,
    includeText: true,
    fitFilter: isTrain,
    batchTexts: 100,
    onRows: (rows) => kept.push(...rows),
    onProgress: (p) => phases.add(p.phase),
  });
  assert.deepEqual([...phases].sort(), ['encode', 'fit']);
  assert.equal(r.dim, 64);
  assert.equal(r.trainWindows, 116);
  assert.equal(r.rows, kept.length);
  // 150 windows with data × (system + 3 services) × 3 modalities
  assert.equal(new Set(kept.map((k) => k.windowIndex)).size, 150);
  assert.equal(r.rows, 150 * 4 * 3);
  const table = await readColumnar(out);
  assert.equal(table.numRows, r.rows);
  assert.deepEqual(
    table.schema.fields.map((f) => f.name),
    ['window_index', 'window_start', 'window_end', 'case_id', 'entity', 'modality', 'text', 'vector', 'features', 'abnormal', 'root_cause', 'root_cause_service', 'fault_type'],
  );
  const meta = table.schema.metadata;
  assert.equal(meta.get('runtimeslicer.format'), 'runtimeslicer-views');
  assert.equal(meta.get('runtimeslicer.backbone'), backbone.id);
  assert.deepEqual(JSON.parse(meta.get('runtimeslicer.window')!), SPEC);
  assert.deepEqual(JSON.parse(meta.get('runtimeslicer.feature_layouts')!), { metrics: METRIC_FEATURES, traces: TRACE_FEATURES, logs: LOG_FEATURES });
  assert.equal(meta.get('runtimeslicer.system_entity'), '__system__');
  const col = <T>(name: string) => table.getChild(name)! as unknown as { get(i: number): T };
  for (let i = 0; i < table.numRows; i += 37) {
    const k = kept[i];
    assert.equal(col<number>('window_index').get(i), k.windowIndex);
    assert.equal(col<number>('window_start').get(i), k.windowStart);
    assert.equal(col<number>('window_end').get(i), k.windowEnd);
    assert.equal(col<string>('entity').get(i), k.entity);
    assert.equal(col<string>('modality').get(i), k.modality);
    assert.equal(col<string>('text').get(i), k.text);
    assert.deepEqual(col<{ toArray(): Float32Array }>('vector').get(i).toArray(), k.vector);
    assert.deepEqual(col<{ toArray(): Float32Array }>('features').get(i).toArray(), k.features);
    assert.equal(col<boolean>('abnormal').get(i), k.abnormal);
    assert.equal(col<string | null>('root_cause').get(i), k.rootCause ?? null);
    assert.equal(col<string | null>('fault_type').get(i), k.faultType ?? null);
    // the vector is the backbone's embedding of the row's text
    assert.deepEqual(k.vector, backbone.embedOne(k.text!));
  }
  const abnormal = kept.filter((k) => k.abnormal);
  assert.ok(abnormal.length > 0 && abnormal.every((k) => k.rootCauseService === 'cart' && k.faultType === 'cpu_contention'));
  assert.deepEqual(readdirSync(dir).sort(), ['views.arrow', 'views.evidence.arrow'], 'no temporary file left');
});

test('entities: false writes system rows only; no text column by default', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'sys.arrow');
  const r = await encodeDataset(fixture({ minutes: 30 }), { spec: SPEC, backboneSpec: 'hash:dim=16', out, entities: false });
  const table = await readColumnar(out);
  assert.equal(table.numRows, r.rows);
  assert.equal(r.rows, 30 * 3);
  assert.equal(table.getChild('text'), null);
  const entity = table.getChild('entity')!;
  for (let i = 0; i < table.numRows; i++) assert.equal(entity.get(i), '__system__');
  assert.equal(table.schema.fields.find((f) => f.name === 'vector')!.type.toString(), 'FixedSizeList[16]<Float32>');
});

test('the embedding cache gives the same vectors and serves the second run', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  let calls = 0;
  const inner = new HashBackbone({ dim: 32 });
  const counting: Backbone = {
    id: inner.id,
    dim: inner.dim,
    async embed(texts) {
      calls += texts.length;
      return inner.embed(texts);
    },
  };
  const cache = new EmbeddingCache({ dir: join(dir, 'cache') });
  const rows1: EncodedRow[] = [];
  const rows2: EncodedRow[] = [];
  await encodeDataset(fixture({ minutes: 40 }), { spec: SPEC, backbone: counting, cache, onRows: (r) => rows1.push(...r) });
  const first = calls;
  assert.ok(first > 0 && first <= rows1.length, 'identical texts are embedded once');
  await encodeDataset(fixture({ minutes: 40 }), { spec: SPEC, backbone: counting, cache: new EmbeddingCache({ dir: join(dir, 'cache') }), onRows: (r) => rows2.push(...r) });
  assert.equal(calls, first, 'second run: every text from the cache');
  assert.equal(rows1.length, rows2.length);
  for (let i = 0; i < rows1.length; i++) assert.deepEqual(rows1[i].vector, rows2[i].vector);
});

test('a failing backbone leaves neither the output nor a temporary file', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'x.arrow');
  const broken: Backbone = {
    id: 'broken',
    dim: 4,
    async embed() {
      throw new Error('backbone down');
    },
  };
  await assert.rejects(encodeDataset(fixture({ minutes: 20 }), { spec: SPEC, backbone: broken, out }), /backbone down/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir), []);
});

test('fitFilter decides what the baselines see', async () => {
  const a = await encodeDataset(fixture({ minutes: 130 }), { spec: SPEC, backboneSpec: 'hash:dim=8', fitFilter: isTrain });
  const b = await encodeDataset(fixture({ minutes: 130, testTwist: 2 }), { spec: SPEC, backboneSpec: 'hash:dim=8', fitFilter: isTrain });
  assert.equal(JSON.stringify(a.builder.toJSON()), JSON.stringify(b.builder.toJSON()));
  assert.ok(a.timings.totalMs >= 0 && a.texts === a.rows);
  assert.ok(TRAIN_END > 0);
});

test('a run without rows still writes a readable file with its schema and metadata', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'empty.arrow');
  const w = await ColumnarWriter.open(out, { dim: 8, metadata: { backbone: 'x' } });
  assert.equal(existsSync(out), false, 'nothing at the destination before close');
  await w.close();
  const table = await readColumnar(out);
  assert.equal(table.numRows, 0);
  assert.equal(table.schema.metadata.get('runtimeslicer.backbone'), 'x');
  assert.deepEqual(readdirSync(dir), ['empty.arrow']);
});

test('an output path in a missing folder is a user error before any work', async () => {
  let progressed = false;
  await assert.rejects(
    encodeDataset(fixture({ minutes: 10 }), { spec: SPEC, backboneSpec: 'hash:dim=8', out: join(tmpdir(), 'rs-no-such-dir-xyz', 'x.arrow'), onProgress: () => (progressed = true) }),
    (e: Error) => e.name === 'UserError' && /output folder does not exist/.test(e.message),
  );
  assert.equal(progressed, false);
});
