// The views file's reader (formats/views.ts `readViews`, `viewsFileInfo`) against its writer
// (`ColumnarWriter`, `viewsMetadata`): a round trip of a small generated file, and the errors
// for a file that is not one (another format, a missing column, a version, a cut copy).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { SeededRandom } from '../../src/encode/views/index.js';
import {
  COLUMNAR_FORMAT_VERSION,
  ColumnarWriter,
  EvidenceWriter,
  MODALITY_VALUES,
  VIEWS_META,
  readColumnar,
  readViews,
  viewsFileInfo,
  viewsMetadata,
  type EncodedRow,
  type ViewsIdentity,
} from '../../src/encode/formats/views.js';

const DIM = 4;
const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;

const IDENTITY: ViewsIdentity = {
  backboneId: 'hash-v1:dim=4',
  dim: DIM,
  window: { lengthMs: 5 * MIN, strideMs: MIN },
  viewsVersion: 7,
  featureLayouts: { metrics: ['m0', 'm1'], traces: ['t0'], logs: [] },
  entities: true,
  dataset: { format: 'otlp', root: '/data/x' },
  trainWindows: 3,
  evidenceVersion: 2,
};

/**
 * Rows of six windows: the system and two services (one with a non-ASCII name), every
 * modality, features of varying length (none for logs), labels and case ids on some windows.
 */
function rows(): EncodedRow[] {
  const rng = new SeededRandom(5);
  const out: EncodedRow[] = [];
  for (let w = 0; w < 6; w++) {
    for (const entity of ['__system__', 'cart', 'dë-b']) {
      for (const modality of MODALITY_VALUES) {
        if (modality === 'logs' && w % 2 === 1) continue;
        const nf = modality === 'metrics' ? 2 : modality === 'traces' ? 1 : 0;
        out.push({
          windowIndex: w,
          windowStart: T0 + w * MIN,
          windowEnd: T0 + w * MIN + 5 * MIN,
          ...(w >= 4 ? { caseId: `case-${w}` } : {}),
          entity,
          modality,
          text: `${entity} ${modality} ${w} ✓`,
          vector: Float32Array.from({ length: DIM }, () => rng.next() - 0.5),
          features: Float32Array.from({ length: nf }, () => rng.next() * 10),
          abnormal: w === 3,
          ...(w === 3 ? { rootCause: 'cart-pod-1', rootCauseService: 'cart', faultType: 'cpü' } : {}),
        });
      }
    }
  }
  return out;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'rs-views-reader-'));
}

/** Writes rows in batches of `batch` (several record batches, so the walk crosses them). */
async function write(path: string, rs: readonly EncodedRow[], opts: { includeText?: boolean; batch?: number; metadata?: Record<string, string | number | boolean | object> } = {}): Promise<void> {
  const w = await ColumnarWriter.open(path, { dim: DIM, includeText: opts.includeText, metadata: opts.metadata ?? viewsMetadata(IDENTITY) });
  const b = opts.batch ?? 7;
  for (let i = 0; i < rs.length; i += b) await w.write(rs.slice(i, i + b));
  await w.close();
}

test('a views file reads back as written: identity, every row, vectors and features exactly', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'views.arrow');
  const rs = rows();
  await write(path, rs, { includeText: true });
  const file = await readViews(path);
  assert.deepEqual(file.info, {
    path,
    formatVersion: COLUMNAR_FORMAT_VERSION,
    backboneId: IDENTITY.backboneId,
    dim: DIM,
    viewsVersion: 7,
    featureLayouts: IDENTITY.featureLayouts,
    window: IDENTITY.window,
    entities: true,
    dataset: IDENTITY.dataset,
    hasText: true,
  });
  let k = 0;
  let batches = 0;
  for (const b of file.batches()) {
    batches++;
    assert.equal(b.dim, DIM);
    assert.equal(b.featureOffsets.length, b.length + 1);
    for (let i = 0; i < b.length; i++, k++) {
      const r = rs[k];
      assert.equal(b.windowIndex[i], r.windowIndex);
      assert.equal(b.windowStart[i], r.windowStart);
      assert.equal(b.windowEnd[i], r.windowEnd);
      assert.equal(b.caseId(i), r.caseId);
      assert.equal(b.entity(i), r.entity);
      assert.equal(b.isSystem(i), r.entity === '__system__');
      assert.equal(MODALITY_VALUES[b.modality[i]], r.modality);
      assert.equal(b.text(i), r.text);
      assert.equal(b.abnormal[i], r.abnormal ? 1 : 0);
      assert.equal(b.rootCause(i), r.rootCause);
      assert.equal(b.rootCauseService(i), r.rootCauseService);
      assert.equal(b.faultType(i), r.faultType);
      assert.deepEqual(b.vectors.subarray(i * DIM, (i + 1) * DIM), r.vector);
      assert.deepEqual(b.features.subarray(b.featureOffsets[i], b.featureOffsets[i + 1]), r.features);
    }
  }
  assert.equal(k, rs.length);
  assert.equal(batches, Math.ceil(rs.length / 7));
  // the same identity from the schema alone, and the table reader agrees on the rows
  const table = await readColumnar(path);
  assert.deepEqual(viewsFileInfo(table.schema, path), file.info);
  assert.equal(table.numRows, rs.length);
});

test('viewsMetadata writes the keys the reader reads, in a fixed order', () => {
  const m = viewsMetadata(IDENTITY);
  assert.deepEqual(Object.keys(m), [
    VIEWS_META.backbone,
    VIEWS_META.dim,
    VIEWS_META.window,
    VIEWS_META.viewsVersion,
    VIEWS_META.columnarVersion,
    VIEWS_META.featureLayouts,
    VIEWS_META.systemEntity,
    VIEWS_META.entities,
    VIEWS_META.dataset,
    VIEWS_META.trainWindows,
    VIEWS_META.evidenceVersion,
  ]);
  const { evidenceVersion: _, ...noEvidence } = IDENTITY;
  assert.equal(VIEWS_META.evidenceVersion in viewsMetadata(noEvidence), false);
});

test('a file without text, rows or entity rows reads with its fallbacks', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const empty = join(dir, 'empty.arrow');
  await write(empty, [], { metadata: { [VIEWS_META.backbone]: 'x' } });
  const f = await readViews(empty);
  // an older or hand-made file may lack entries: the reader's documented fallbacks
  assert.equal(f.info.backboneId, 'x');
  assert.equal(f.info.dim, DIM, 'dim from the vector column');
  assert.ok(Number.isNaN(f.info.viewsVersion));
  assert.deepEqual(f.info.featureLayouts, { metrics: [], traces: [], logs: [] });
  assert.equal(f.info.window, undefined);
  assert.equal(f.info.entities, false);
  assert.equal(f.info.hasText, false);
  assert.equal([...f.batches()].reduce((n, b) => n + b.length, 0), 0);
  const plain = join(dir, 'plain.arrow');
  await write(plain, rows().slice(0, 5));
  const b = [...(await readViews(plain)).batches()][0];
  assert.equal(b.text(0), '', 'no text column: empty texts');
});

test('files that are not views files are refused with errors naming the file', async (t) => {
  const dir = tmp();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const good = join(dir, 'views.arrow');
  await write(good, rows());
  const isUser = (re: RegExp) => (e: Error) => e.name === 'UserError' && re.test(e.message) && e.message.startsWith(dir);

  // a missing column: the good file's table without `features`, metadata kept
  const table = await readColumnar(good);
  const names = table.schema.fields.map((f) => f.name).filter((n) => n !== 'features');
  const cut = table.select(names);
  assert.equal(cut.schema.metadata.get(VIEWS_META.format), 'runtimeslicer-views');
  const missing = join(dir, 'missing.arrow');
  writeFileSync(missing, tableToIPC(cut, 'file'));
  await assert.rejects(readViews(missing), isUser(/column features is missing/));
  // a column of another type (window_index as 64-bit floats): the walk could not view it
  const others = table.schema.fields.map((f) => f.name).filter((n) => n !== 'window_index');
  const retyped = table.select(others).assign(tableFromArrays({ window_index: new Float64Array(table.numRows) }));
  const mistyped = join(dir, 'mistyped.arrow');
  writeFileSync(mistyped, tableToIPC(retyped, 'file'));
  await assert.rejects(readViews(mistyped), isUser(/column window_index has type Float64, not that of an encode output/));

  // another of the project's formats
  const ev = join(dir, 'views.evidence.arrow');
  const w = await EvidenceWriter.open(ev, ['a']);
  await w.close();
  await assert.rejects(readViews(ev), isUser(/not an encode output \(no runtimeslicer-views metadata\)/));

  // not Arrow at all, and a copy cut short
  const text = join(dir, 'text.arrow');
  writeFileSync(text, 'window,entity\n1,cart\n');
  await assert.rejects(readViews(text), isUser(/not a readable encode output \(Arrow IPC file\)/));
  const bytes = readFileSync(good);
  const short = join(dir, 'short.arrow');
  writeFileSync(short, bytes.subarray(0, bytes.length >> 1));
  await assert.rejects(readViews(short), isUser(/not a readable encode output \(Arrow IPC file\): the file is truncated/));
  await assert.rejects(readViews(join(dir, 'absent.arrow')), isUser(/not a readable encode output/));

  // a version this reader does not know, and a dim entry the vectors contradict
  const v9 = join(dir, 'v9.arrow');
  await write(v9, rows().slice(0, 3), { metadata: { ...viewsMetadata(IDENTITY), [VIEWS_META.formatVersion]: '9' } });
  await assert.rejects(readViews(v9), isUser(/format version 9; this version of runtimeslicer reads versions 1 and 2/));
  await assert.rejects(readColumnar(v9), /format version 9/);
  const d5 = join(dir, 'd5.arrow');
  await write(d5, rows().slice(0, 3), { metadata: viewsMetadata({ ...IDENTITY, dim: 5 }) });
  await assert.rejects(readViews(d5), isUser(/metadata says dimension 5, the vector column holds 4/));
});
