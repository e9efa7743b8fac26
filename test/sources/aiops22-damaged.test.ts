// The AIOps 2022 reader on damaged files: truncated or non-gzip .gz, invalid JSON, JSON of
// another shape, a cut case CSV. Each is a UserError naming the file or a reported problem
// naming it; never a zlib or JSON stack trace; the readable rest is read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { openAiops22 } from '../../src/sources/aiops22/index.js';
import { ProblemLog, UserError } from '../../src/telemetry/index.js';
import type { Dataset } from '../../src/telemetry/index.js';

const T = 1_647_738_546_000; // ms
const scratch = mkdtempSync(join(tmpdir(), 'rs-aiops22-damaged-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));
let serial = 0;

const CASES = 40;

/** An events folder of CASES cases on two pods; every file gzipped when `gz`. */
function folder(gz: boolean): string {
  const dir = mkdtempSync(join(scratch, `f${serial++}-`));
  const put = (name: string, text: string) => writeFileSync(join(dir, gz ? name + '.gz' : name), gz ? gzipSync(text) : text);
  const rows = ['index,level,instance,anomaly_type,data_type,service'];
  const raw = ['timestamp,level,cmdb_id,failure_type,index'];
  const metric: Record<string, unknown[]> = {};
  const log: Record<string, unknown[]> = {};
  const trace: Record<string, unknown[]> = {};
  for (let i = 0; i < CASES; i++) {
    const pod = i % 2 ? 'cartservice-0' : 'frontend-0';
    const t = T + i * 600_000;
    rows.push(`1_${i}_1,pod,${pod},k8s容器cpu负载,${i % 5 ? 'train' : 'test'},${pod.slice(0, -2)}`);
    raw.push(`${t / 1000},pod,${pod},k8s容器cpu负载,1_${i}`);
    metric[`1_${i}_1`] = [[t + 10_000, `node-1.${pod}`, 'kpi_container_cpu_usage_seconds', 1 + i]];
    log[`1_${i}_1`] = [[t + 20_000, pod, 'a1b2c3d4']];
    trace[`1_${i}_1`] = [[t + 30_000, 'frontend-0', 'cartservice-0', 2.5]];
  }
  writeFileSync(join(dir, 'cases.csv'), rows.join('\n') + '\n');
  put('raw_label.csv', raw.join('\n') + '\n');
  put('metric.json', JSON.stringify(metric));
  put('log.json', JSON.stringify(log));
  put('trace.json', JSON.stringify(trace));
  writeFileSync(join(dir, 'nodes.json'), JSON.stringify(['frontend-0', 'cartservice-0']));
  writeFileSync(join(dir, 'edges.json'), JSON.stringify({ src: [0], dst: [1] }));
  return dir;
}

async function count(ds: Dataset): Promise<{ metrics: number; logs: number; spans: number }> {
  let metrics = 0;
  let logs = 0;
  let spans = 0;
  for await (const b of ds.metrics()) for (const s of b) metrics += s.times.length;
  for await (const b of ds.logs()) logs += b.length;
  for await (const b of ds.spans()) spans += b.length;
  return { metrics, logs, spans };
}

/** Opens and reads; a rejection must be a one-line UserError naming `file`. */
async function openDamaged(dir: string, file: string): Promise<{ ds?: Dataset; problems: ProblemLog; error?: UserError }> {
  const problems = new ProblemLog();
  try {
    const ds = await openAiops22(dir, { problems });
    await count(ds);
    return { ds, problems };
  } catch (e) {
    assert.ok(e instanceof UserError, `${file}: ${(e as Error).stack}`);
    assert.ok(e.message.includes(file) && !e.message.includes('\n'), e.message);
    return { problems, error: e };
  }
}

test('baseline: the folder reads in full, plain and gzipped', async () => {
  for (const gz of [false, true]) {
    const problems = new ProblemLog();
    const ds = await openAiops22(folder(gz), { problems });
    assert.equal(ds.cases?.length, CASES);
    // a trace event is a caller span and a callee span
    assert.deepEqual(await count(ds), { metrics: CASES, logs: CASES, spans: 2 * CASES });
    assert.deepEqual(problems.items, []);
    assert.deepEqual(ds.labelIssues, []);
  }
});

test('each event file truncated, not gzip, 0 bytes, invalid JSON or of another shape: reported naming the file; the other files are read', async () => {
  const damages: [string, (b: Buffer) => Buffer | string][] = [
    ['truncated gzip', (b) => b.subarray(0, b.length >> 1)],
    ['not gzip', () => '{"1_0_1": []}'],
    ['0 bytes', () => Buffer.alloc(0)],
    ['invalid JSON', () => gzipSync('{"1_0_1": [[1647738556000, "node-1.')],
    ['another shape', () => gzipSync('[1, 2, 3]')],
  ];
  for (const name of ['metric.json', 'log.json', 'trace.json']) {
    for (const [what, damage] of damages) {
      const dir = folder(true);
      const path = join(dir, name + '.gz');
      writeFileSync(path, damage(readFileSync(path)));
      const { ds, problems, error } = await openDamaged(dir, name);
      if (error) continue;
      assert.ok(ds);
      const mine = problems.items.filter((p) => p.file === name + '.gz');
      assert.ok(mine.length > 0, `${name} ${what}: ${JSON.stringify(problems.items)}`);
      const counts = await count(ds);
      const kind = name.slice(0, -5);
      for (const other of ['metric', 'log', 'trace'].filter((k) => k !== kind)) {
        const n = other === 'metric' ? counts.metrics : other === 'log' ? counts.logs : counts.spans / 2;
        assert.equal(n, CASES, `${name} ${what}: ${other} still read in full`);
      }
    }
  }
});

test('a truncated raw_label.csv.gz keeps the rows before the damage and reports how far it got', async () => {
  const dir = folder(true);
  const path = join(dir, 'raw_label.csv.gz');
  const b = readFileSync(path);
  writeFileSync(path, b.subarray(0, Math.floor(b.length * 0.6)));
  const { ds, problems, error } = await openDamaged(dir, 'raw_label.csv.gz');
  assert.equal(error, undefined);
  assert.ok(ds);
  const damage = problems.items.filter((p) => p.kind === 'damaged-file');
  assert.equal(damage.length, 1, JSON.stringify(problems.items));
  assert.equal(damage[0].file, 'raw_label.csv.gz');
  assert.match(damage[0].reason, /truncated gzip .*after \d+ line\(s\)/);
  assert.equal(ds.cases?.length, CASES, 'cases without a raw label take their window from their events');
  assert.equal(ds.labelIssues?.length, 1);
  assert.match(ds.labelIssues?.[0] ?? '', /^raw_label\.csv\.gz: damaged file: truncated gzip/);
});

test('a case CSV cut mid-row and nodes/edges of the wrong shape are reported, not thrown', async () => {
  const dir = folder(false);
  const csv = readFileSync(join(dir, 'cases.csv'), 'utf8');
  writeFileSync(join(dir, 'cases.csv'), csv.slice(0, Math.floor(csv.length / 2)));
  writeFileSync(join(dir, 'nodes.json'), '{"frontend-0": 1');
  writeFileSync(join(dir, 'edges.json'), '[[0, 1]]');
  const { ds, problems, error } = await openDamaged(dir, 'cases.csv');
  assert.equal(error, undefined);
  assert.ok(ds);
  assert.ok((ds.cases?.length ?? 0) > 0 && (ds.cases?.length ?? 0) < CASES);
  assert.ok(problems.items.some((p) => p.file === 'nodes.json' && p.kind === 'unreadable-file'), JSON.stringify(problems.items));
  assert.ok(problems.items.some((p) => p.file === 'cases.csv'), 'the cut last row is reported');
});
