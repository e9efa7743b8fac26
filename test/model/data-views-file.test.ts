// readEncodedWindows over a small hand-written views file (formats/views.ts's writer): windows
// in index order whatever the row order, labels from a window's first row, system and service
// inputs as backbone vector ⊕ features, and the format's errors passed through.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ColumnarWriter, viewsMetadata, type EncodedRow } from '../../src/encode/formats/views.js';
import { readEncodedWindows } from '../../src/model/data.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

function row(w: number, entity: string, modality: EncodedRow['modality'], v: number, extra: Partial<EncodedRow> = {}): EncodedRow {
  return {
    windowIndex: w,
    windowStart: T0 + w * MIN,
    windowEnd: T0 + (w + 5) * MIN,
    entity,
    modality,
    vector: Float32Array.of(v, v + 0.5),
    features: modality === 'logs' ? new Float32Array(0) : Float32Array.of(v * 10),
    abnormal: false,
    ...extra,
  };
}

test('readEncodedWindows groups a views file into windows', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-data-views-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'views.arrow');
  const w = await ColumnarWriter.open(path, {
    dim: 2,
    metadata: viewsMetadata({
      backboneId: 'b',
      dim: 2,
      window: { lengthMs: 5 * MIN, strideMs: MIN },
      viewsVersion: 3,
      featureLayouts: { metrics: ['m'], traces: ['t'], logs: [] },
          entities: true,
      dataset: { format: 'otlp', root: '/data/y' },
      trainWindows: 1,
    }),
  });
  const fault = { abnormal: true, rootCause: 'db-0', rootCauseService: 'db', faultType: 'latency', caseId: 'c1' };
  // window 2 before window 1, and window 2's rows across two batches
  await w.write([row(2, 'db', 'metrics', 5, fault), row(2, '__system__', 'metrics', 1, fault)]);
  await w.write([row(2, '__system__', 'logs', 2, fault), row(1, '__system__', 'traces', 3), row(1, 'db', 'traces', 4)]);
  await w.close();

  const sys = await readEncodedWindows(path);
  assert.equal(sys.info.backboneId, 'b');
  assert.equal(sys.info.viewsVersion, 3);
  assert.deepEqual(sys.windows.map((x) => x.window.index), [1, 2]);
  const [w1, w2] = sys.windows;
  assert.equal(w1.source, '/data/y', 'source: the dataset root the file records');
  assert.deepEqual(w1.window, { index: 1, start: T0 + MIN, end: T0 + 6 * MIN });
  assert.deepEqual(w1.label, { abnormal: false, rootCause: undefined, rootCauseService: undefined, type: undefined });
  assert.deepEqual(Object.keys(w1.inputs), ['traces']);
  assert.deepEqual(Array.from(w1.inputs.traces!), [3, 3.5, 30]);
  assert.equal(w1.entities, undefined, 'service rows only when asked');
  assert.deepEqual(w2.window, { index: 2, start: T0 + 2 * MIN, end: T0 + 7 * MIN, caseId: 'c1' });
  assert.equal(w2.caseId, 'c1');
  assert.deepEqual(w2.label, { abnormal: true, rootCause: 'db-0', rootCauseService: 'db', type: 'latency' });
  assert.deepEqual(Array.from(w2.inputs.metrics!), [1, 1.5, 10]);
  assert.deepEqual(Array.from(w2.inputs.logs!), [2, 2.5]);

  const all = await readEncodedWindows(path, { entities: true, source: 'S', cases: new Map([['c1', { split: 'test', group: 'g' }]]) });
  assert.equal(all.windows[0].source, 'S');
  assert.deepEqual(Array.from(all.windows[0].entities!.get('db')!.traces!), [4, 4.5, 40]);
  assert.deepEqual(Array.from(all.windows[1].entities!.get('db')!.metrics!), [5, 5.5, 50]);
  assert.equal(all.windows[1].split, 'test');
  assert.equal(all.windows[1].group, 'g');

  const bad = join(dir, 'bad.arrow');
  writeFileSync(bad, 'not arrow');
  await assert.rejects(readEncodedWindows(bad), (e: Error) => e.name === 'UserError' && /bad\.arrow: not a readable encode output/.test(e.message));
});
