import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// onnxruntime-node ≥ 1.2x starts Microsoft's 1DS telemetry with each ORT environment on Linux,
// which leaves an empty /tmp/mat-debug-<pid>.log per process. Both places that load it (the
// onnx: backbone and the ORT Gemm kernel) set ORT_DISABLE_TELEMETRY first.
const root = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURE = join(root, 'test/fixtures/tiny-bert');

function leftovers(pid: number): string[] {
  return [...new Set(['/tmp', tmpdir()])].map((d) => join(d, `mat-debug-${pid}.log`)).filter((p) => existsSync(p));
}

function runChild(code: string): number {
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8', env, timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
  assert.ok(pid > 0, r.stdout);
  return pid;
}

test('an onnx: backbone session leaves no /tmp/mat-debug-<pid>.log', { timeout: 150_000 }, () => {
  const pid = runChild(`
    import { createBackbone } from './src/encode/backbones/index.js';
    const b = await createBackbone(${JSON.stringify(`onnx:${FIXTURE}`)});
    const [row] = await b.embed(['checkout latency 0.2 s']);
    if (row.length !== b.dim) throw new Error('bad row');
    await b.dispose?.();
    console.log('pid ' + process.pid);`);
  assert.deepEqual(leftovers(pid), []);
});

test('the ORT Gemm kernel leaves no /tmp/mat-debug-<pid>.log', { timeout: 150_000 }, () => {
  const pid = runChild(`
    import { createOrtKernel } from './src/model/engine/kernels.js';
    const k = createOrtKernel();
    if (!k) throw new Error('onnxruntime-node did not load');
    const c = k.gemm(new Float32Array([1, 2, 3, 4]), new Float32Array([1, 0, 0, 1]), 2, 2, 2, false, false);
    if (c[3] !== 4) throw new Error('bad gemm ' + Array.from(c));
    k.dispose();
    console.log('pid ' + process.pid);`);
  assert.deepEqual(leftovers(pid), []);
});
