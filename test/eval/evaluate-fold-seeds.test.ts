import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { createBackbone } from '../../src/encode/index.js';
import { evaluateDataset, formatEvaluateMarkdown, parseFoldSeeds, type EvalReport, type FoldSeedsTable } from '../../src/eval/index.js';
import { cliWith } from '../helpers/cli.js';

const cli = cliWith({ timeout: 300_000 });

const eventF1 = (r: EvalReport, level: string, method: string) => r.rows.find((x) => x.task === 'detection' && x.level === level && x.method === method && x.metric === 'event-f1')?.value ?? null;

test('evaluate --fold-seeds: each seed reads what evaluate --seed S reads, and the mean is theirs', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-fold-seeds-'));
  try {
    const dir = join(tmp, 'run');
    await simulate({ outDir: dir, hours: 3, seed: 21, faults: 8 });
    const ds = await loadDataset(dir);
    const backbone = await createBackbone('hash:dim=32');
    const base = { backbone, evidence: false } as const;
    const { report } = await evaluateDataset(ds, { ...base, seed: 0, foldSeeds: [0, 2] });
    const two = (await evaluateDataset(ds, { ...base, seed: 2 })).report;
    const fs = report.foldSeeds;
    assert.ok(fs);
    assert.deepEqual(fs.seeds, [0, 2]);
    const methods = ['raw-features', 'tuned', 'tuned-global', 'time-only'];
    for (const level of ['metrics-only', 'all-modalities']) {
      for (const m of methods) {
        const row: FoldSeedsTable['rows'][number] | undefined = fs.rows.find((x) => x.level === level && x.method === m && x.metric === 'event-f1');
        assert.ok(row, `${level} ${m}`);
        assert.equal(row.values[0], eventF1(report, level, m), `${level} ${m}: seed 0 is the headline run's`);
        assert.equal(row.values[1], eventF1(two, level, m), `${level} ${m}: seed 2 is evaluate --seed 2's`);
        if (row.values.every((v) => v !== null)) {
          const vs = row.values as number[];
          assert.ok(Math.abs((row.mean as number) - (vs[0] + vs[1]) / 2) < 1e-12);
          assert.equal(row.min, Math.min(...vs));
          assert.equal(row.max, Math.max(...vs));
        } else assert.equal(row.mean, null);
      }
    }
    // the headline rows are those of a run without --fold-seeds
    const plain = (await evaluateDataset(ds, { ...base, seed: 0 })).report;
    assert.deepEqual(report.rows, plain.rows);
    // the headline seed's column reuses the headline run; recomputed under another headline, seed 0 reads the same
    const other = (await evaluateDataset(ds, { ...base, seed: 2, foldSeeds: [0] })).report.foldSeeds;
    assert.ok(other);
    for (const row of other.rows.filter((x) => x.metric === 'event-f1')) assert.equal(row.values[0], eventF1(plain, row.level, row.method), `${row.level} ${row.method}: seed 0 recomputed`);
    assert.match(formatEvaluateMarkdown(report), /Detection event-F1 over fold seeds 0, 2/);
    assert.equal(plain.foldSeeds, undefined);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});

test('--fold-seeds parsing: lists, ranges, refusals', () => {
  assert.deepEqual(parseFoldSeeds('0-4'), [0, 1, 2, 3, 4]);
  assert.deepEqual(parseFoldSeeds('3, 1,3,0-1'), [3, 1, 0]);
  assert.throws(() => parseFoldSeeds('4-2'), /backwards/);
  assert.throws(() => parseFoldSeeds('a'), /not a seed/);
  assert.throws(() => parseFoldSeeds('0-500'), /more than 100/);
  assert.throws(() => parseFoldSeeds(''), /no seed/);
  // a usage error (exit 2) before anything is read
  const r = cli('evaluate', '--data', '/nonexistent', '--fold-seeds', '2-1');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /--fold-seeds <list>' argument '2-1' is invalid\. the range "2-1" runs backwards/);
});
