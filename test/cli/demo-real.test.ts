import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { RealDataThread, evaluateRealData } from '../../src/cli/demo-real.js';

const SPEC = { lengthMs: 5 * 60_000, strideMs: 60_000 };

test("the demo's real-data evaluation gives the same report in its thread as in-line", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-demo-real-'));
  try {
    await simulate({ outDir: dir, hours: 3, seed: 6, faults: 4 });
    const thread = RealDataThread.start(dir, 1, SPEC);
    assert.ok(thread, 'a worker starts under tsx');
    const [a, b] = await Promise.all([thread.result(), evaluateRealData(dir, 1, SPEC)]);
    assert.ok(a.report.rows.length > 0);
    assert.deepEqual(JSON.parse(JSON.stringify(a.report.rows)), JSON.parse(JSON.stringify(b.report.rows)));
    assert.deepEqual(a.report.cases, b.report.cases);
    assert.equal(a.faults.length, 4);
    assert.deepEqual(a.faults, b.faults);
    assert.equal(a.problems, b.problems);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a failure in the thread reaches the caller as an error, not a hang', async () => {
  const thread = RealDataThread.start(join(tmpdir(), 'rs-demo-real-missing-folder'), 1, SPEC);
  assert.ok(thread);
  await assert.rejects(thread.result(), /rs-demo-real-missing-folder/);
});
