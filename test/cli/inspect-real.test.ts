import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repo, runCli } from '../helpers/cli.js';

const datasets = process.env.RS_DATASETS ?? join(repo, '../shared/datasets');

function inspect(path: string) {
  const r = runCli(['inspect', path, '--json'], { timeout: 300_000 });
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
}

test('inspect --json on nezha-trainticket', { skip: !existsSync(join(datasets, 'nezha-trainticket')) && 'datasets absent' }, () => {
  const j = inspect(join(datasets, 'nezha-trainticket'));
  assert.equal(j.format, 'nezha');
  assert.equal(j.faults.total, 45);
  assert.deepEqual(j.faults.byType, { return: 11, exception: 13, cpu_contention: 7, network_delay: 14 });
  assert.equal(j.traces.spans, 328_848 + 179_170 + 4_890 + 4_595);
  // distinct ids per folder add up to 7,091; a few ids recur across folders, so the union is a little smaller
  assert.ok(j.traces.traces <= 4_483 + 2_475 + 71 + 62 && j.traces.traces >= 7_000, String(j.traces.traces));
  // the one collided record (10 fields) is reported with file:line
  assert.ok(j.problems.some((p: { file: string; line: number }) => p.file.endsWith('2023-01-29/log/10_06_log.csv.gz') && p.line === 631));
  assert.equal(j.timeRange.start.slice(0, 16), '2023-01-29T08:41');
  assert.ok(j.windows > 2000);
});

test('inspect --json on aiops22-pod and the OTLP spec examples', { skip: !existsSync(join(datasets, 'aiops22-pod')) && 'datasets absent' }, () => {
  const a = inspect(join(datasets, 'aiops22-pod'));
  assert.equal(a.format, 'aiops22');
  assert.equal(a.faults.total, 452);
  assert.equal(a.windows, 452);
  assert.equal(Object.keys(a.faults.byType).length, 9);
  assert.equal(a.entityKinds.pod, 42); // the 40 pods + the 2 redis-cart pods only metric events name
  const o = inspect(join(datasets, 'otlp-examples'));
  assert.equal(o.format, 'otlp');
  assert.ok(o.traces.spans >= 1 && o.logs.records >= 1 && o.metrics.series >= 1);
});
