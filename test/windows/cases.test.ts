import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '../../src/sources/index.js';
import { windowStream } from '../../src/windows/index.js';

const datasets = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const aiops = `${datasets}/aiops22-pod`;
const absent = !existsSync(aiops) && `datasets absent (${aiops})`;

test('case windows of aiops22 get exactly their own case data, though cases overlap in time', { skip: absent }, async () => {
  const ds = await loadDataset(aiops);
  assert.equal(ds.format, 'aiops22');
  let windows = 0;
  let metricPoints = 0;
  let logs = 0;
  let foreign = 0;
  for await (const w of windowStream(ds, { lengthMs: 60_000, strideMs: 60_000 })) {
    windows++;
    assert.ok(w.window.caseId);
    assert.equal(w.label.abnormal, true);
    for (const s of w.spans) if (s.attributes?.case !== undefined && s.attributes.case !== w.window.caseId) foreign++;
    for (const m of w.metrics) metricPoints += m.values.length;
    logs += w.logs.length;
  }
  assert.equal(windows, 452);
  assert.equal(foreign, 0);
  assert.equal(metricPoints, 11_023);
  assert.equal(logs, 21_568);
});
