import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../../src/sources/index.js';
import { createBackbone } from '../../src/encode/index.js';
import { evaluateDataset, type EvalReport } from '../../src/eval/index.js';

const DATASETS = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const NEZHA = join(DATASETS, 'nezha-trainticket');
const AIOPS = join(DATASETS, 'aiops22-pod');
const skipNezha = !existsSync(join(NEZHA, 'rca_data')) && 'datasets absent (set RS_DATASETS or place shared/datasets beside the repo)';
const skipAiops = !existsSync(join(AIOPS, 'aiops22-pod.csv')) && 'datasets absent (set RS_DATASETS or place shared/datasets beside the repo)';

const value = (r: EvalReport, protocol: string, task: string, level: string, method: string, metric: string) =>
  r.rows.find((x) => x.protocol === protocol && x.task === task && x.level === level && x.method === method && x.metric === metric && x.faultType === undefined)?.value;

test('aiops22-pod: grouped by failure the leak sentinels sit near chance; on the leaky authors\' split nearest-fault does not', { skip: skipAiops }, async () => {
  const ds = await loadDataset(AIOPS);
  const { report } = await evaluateDataset(ds, { backbone: await createBackbone('hash'), evidence: false });
  assert.equal(report.protocol.name, 'failure');
  assert.deepEqual(report.protocol.also, ['authors-split']);
  assert.ok(report.rows.some((x) => x.task === 'detection' && x.value === null && /no normal windows/.test(x.notMeasurable?.reason ?? '')), 'detection said not measurable');
  const nearestGrouped = value(report, 'failure', 'localization', 'service', 'nearest-fault', 'ac@1') as number;
  const nearestAuthors = value(report, 'authors-split', 'localization', 'service', 'nearest-fault', 'ac@1') as number;
  // 10 root-cause services: chance ≈ 0.1 (the prior's top service is ≤ 0.2 of the cases)
  assert.ok(nearestGrouped < 0.2, `nearest-fault, grouped: ${nearestGrouped}`);
  assert.ok(nearestAuthors > 0.6, `nearest-fault, authors' split: ${nearestAuthors}`);
  assert.ok((value(report, 'failure', 'localization', 'service', 'time-only', 'ac@1') as number) < 0.25);
  assert.ok((value(report, 'failure', 'localization', 'service', 'raw-features', 'ac@1') as number) > 0.3, 'raw features beat the sentinels');
});

test('nezha-trainticket: grouped by injection burst the leak sentinels sit near chance', { skip: skipNezha }, async () => {
  const ds = await loadDataset(NEZHA);
  const { report } = await evaluateDataset(ds, { backbone: await createBackbone('hash'), evidence: false });
  assert.equal(report.protocol.name, 'injection-burst');
  assert.equal(report.rows.find((x) => x.task === 'localization' && x.level === 'service')?.n, 45);
  for (const m of ['time-only', 'nearest-fault', 'prior']) {
    const ac1 = value(report, 'injection-burst', 'localization', 'service', m, 'ac@1') as number;
    // 10 root-cause services; copying the nearest fault scores ≈ 0.5 under plain stratified folds
    assert.ok(ac1 <= 0.2, `${m} ac@1 ${ac1}`);
  }
  assert.ok(value(report, 'injection-burst', 'detection', 'metrics-only', 'raw-features', 'event-f1') !== undefined);
  // the tuned detector picks robust-z max or kNN by an inner cross-validation on training folds
  // (docs/tasks.md); it is a different detector from the raw-features kNN column
  assert.ok(typeof value(report, 'injection-burst', 'detection', 'metrics-only', 'tuned-global', 'event-f1') === 'number');
  assert.ok(typeof value(report, 'injection-burst', 'detection', 'metrics-only', 'tuned', 'event-f1') === 'number');
  assert.ok((report.timeline?.states?.length ?? 0) > 0 && (report.timeline?.alarms?.length ?? 0) > 0, 'timeline lanes');
});
