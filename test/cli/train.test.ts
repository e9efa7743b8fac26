import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readColumnar } from '../../src/encode/index.js';
import { DEFAULT_START_MS, simulate } from '../../src/simulate/index.js';
import { cliWith } from '../helpers/cli.js';

const cli = cliWith({ timeout: 180_000 });

const SMALL = ['--backbone', 'hash:dim=32', '--hidden', '32', '--modality-dim', '16', '--state-dim', '8', '--batch', '24'];

test('train on two simulated runs, then embed: Arrow output with state and modality rows', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-cli-train-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  const a = join(tmp, 'sim-a');
  const b = join(tmp, 'sim-b');
  await simulate({ hours: 1.5, seed: 1, faults: 2, outDir: a });
  await simulate({ hours: 1, seed: 2, faults: 1, outDir: b });
  const cache = ['--cache-dir', join(tmp, 'cache')];
  const faults = JSON.parse(readFileSync(join(a, 'faults.json'), 'utf8')) as { faults?: { start: number | string }[] } | { start: number | string }[];
  const first = (Array.isArray(faults) ? faults : faults.faults ?? [])[0];
  assert.ok(first, 'the simulated run has a fault');
  const held = join(tmp, 'held.json');
  const heldStart = typeof first.start === 'number' ? first.start : Date.parse(first.start);
  writeFileSync(held, JSON.stringify([{ source: 'sim-a', start: heldStart - 5 * 60_000, end: heldStart + 10 * 60_000 }]));
  const model = join(tmp, 'model.rsm');

  const tr = cli('train', '--data', a, '--data', b, '--out', model, '--epochs', '3', '--exclude', held, '--weak-labels', '--json', ...SMALL, ...cache);
  assert.equal(tr.code, 0, tr.err);
  const s = JSON.parse(tr.out) as { sources: { windows: number }[]; excluded: number; epochs: number; trainWindows: number; valWindows: number; terms: { anomaly: boolean }; stopReason: string };
  assert.equal(s.sources.length, 2);
  // windows [w, w + 5 min) of the run overlapping [start − 5 min, start + 10 min)
  let expected = 0;
  for (let w = DEFAULT_START_MS; w < DEFAULT_START_MS + 90 * 60_000; w += 60_000) if (w < heldStart + 10 * 60_000 && w + 5 * 60_000 > heldStart - 5 * 60_000) expected++;
  assert.equal(s.excluded, expected);
  assert.equal(s.epochs, 3);
  assert.equal(s.terms.anomaly, true);
  assert.ok(s.trainWindows > 60 && s.valWindows > 0, `${s.trainWindows} training, ${s.valWindows} validation windows`);
  assert.ok(existsSync(model));
  assert.ok(!existsSync(`${model}.resume`), 'the resume file is removed after a finished run');
  assert.deepEqual(readdirSync(tmp).filter((f) => f.includes('.tmp')), []);

  const out = join(tmp, 'emb.arrow');
  const em = cli('embed', '--model', model, '--data', a, '--out', out, '--entities', '--mask', 'traces,logs', '--json', ...cache);
  assert.equal(em.code, 0, em.err);
  const es = JSON.parse(em.out) as { windows: number; rows: number };
  const table = await readColumnar(out);
  assert.equal(table.numRows, es.rows);
  assert.deepEqual(
    table.schema.fields.map((f) => f.name),
    ['window_index', 'window_start', 'window_end', 'case_id', 'entity', 'kind', 'vector', 'abnormal', 'root_cause', 'root_cause_service', 'fault_type'],
  );
  assert.equal(table.schema.metadata.get('runtimeslicer.format'), 'runtimeslicer-embeddings');
  const col = <T>(name: string) => table.getChild(name)! as unknown as { get(i: number): T; length: number };
  const kinds = new Set<string>();
  const entities = new Set<string>();
  let systemStates = 0;
  let abnormal = 0;
  for (let i = 0; i < table.numRows; i++) {
    const kind = col<string>('kind').get(i);
    const entity = col<string>('entity').get(i);
    kinds.add(kind);
    entities.add(entity);
    const v = col<{ length: number }>('vector').get(i);
    assert.equal(v.length, kind === 'state' ? 8 : 16);
    assert.equal(Number(col<number>('window_end').get(i)) - Number(col<number>('window_start').get(i)), 5 * 60_000);
    if (kind === 'state' && entity === '__system__') {
      systemStates++;
      if (col<boolean>('abnormal').get(i)) abnormal++;
    }
  }
  assert.deepEqual([...kinds].sort(), ['metrics', 'state'], 'traces and logs masked');
  assert.ok(entities.has('__system__') && entities.size > 5);
  assert.equal(systemStates, es.windows);
  assert.ok(abnormal > 0, 'labels are carried where known');

  // the encode output of the same folder gives the same embeddings, without the backbone
  const views = join(tmp, 'views.arrow');
  assert.equal(cli('encode', a, '--backbone', 'hash:dim=32', '--out', views, '--no-entities', ...cache).code, 0);
  const out2 = join(tmp, 'emb2.arrow');
  const em2 = cli('embed', '--model', model, '--data', views, '--out', out2, '--mask', 'traces,logs', '--json');
  assert.equal(em2.code, 0, em2.err);
  const t2 = await readColumnar(out2);
  const states = (tb: typeof t2) => {
    const m = new Map<number, number[]>();
    for (let i = 0; i < tb.numRows; i++) {
      if (tb.getChild('kind')!.get(i) === 'state' && tb.getChild('entity')!.get(i) === '__system__') m.set(tb.getChild('window_index')!.get(i) as number, Array.from(tb.getChild('vector')!.get(i) as ArrayLike<number>));
    }
    return m;
  };
  const s1 = states(table);
  const s2 = states(t2);
  assert.equal(s2.size, s1.size);
  for (const [k, v] of s1) assert.deepEqual(s2.get(k), v, `window ${k}`);

  // another backbone's encode output is refused in one line
  const other = join(tmp, 'views16.arrow');
  assert.equal(cli('encode', b, '--backbone', 'hash:dim=16', '--out', other, '--no-entities', ...cache).code, 0);
  const bad = cli('embed', '--model', model, '--data', other, '--out', join(tmp, 'x.arrow'));
  assert.equal(bad.code, 1);
  assert.match(bad.err, /^runtimeslicer: .*embedded with backbone hash.*re-encode with --backbone hash:dim=32\n$/);
  assert.ok(!existsSync(join(tmp, 'x.arrow')));

  // a damaged checkpoint is refused in one line
  const broken = join(tmp, 'broken.rsm');
  const bytes = readFileSync(model);
  writeFileSync(broken, bytes.subarray(0, bytes.length - 100));
  const br = cli('embed', '--model', broken, '--data', a, '--out', join(tmp, 'y.arrow'));
  assert.equal(br.code, 1);
  assert.match(br.err, /^runtimeslicer: .*broken\.rsm: truncated model checkpoint.*\n$/);
});

test('train and embed --help, and usage errors', () => {
  const h = cli('train', '--help');
  assert.equal(h.code, 0);
  for (const o of ['--data', '--backbone', '--epochs', '--exclude', '--train-split', '--resume', '--no-temporal', '--weak-labels']) assert.ok(h.out.includes(o), o);
  const e = cli('embed', '--help');
  assert.equal(e.code, 0);
  for (const o of ['--model', '--entities', '--mask']) assert.ok(e.out.includes(o), o);
  assert.equal(cli('train', '--out', 'x.rsm').code, 2); // no --data
  assert.equal(cli('embed', '--model', 'm', '--data', 'd', '--out', 'o', '--mask', 'video').code, 2);
});
