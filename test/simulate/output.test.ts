import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REGIMES_FILE, simulate } from '../../src/simulate/index.js';
import { openOtlp } from '../../src/sources/otlp/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'rs-sim-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

const run = (name: string, seed: number) => simulate({ outDir: join(tmp, name), hours: 1, seed, faults: 2 });
const files = (dir: string) => readdirSync(dir).filter((f) => !f.startsWith('.')).sort();

test('same seed → identical files, byte for byte; another seed → different files', async () => {
  const progress: number[] = [];
  const a = await simulate({ outDir: join(tmp, 'a'), hours: 1, seed: 21, faults: 2, onProgress: (done, total) => progress.push(done / total) });
  const b = await run('b', 21);
  const c = await run('c', 22);
  assert.deepEqual(files(join(tmp, 'a')), ['faults.json', 'logs.jsonl', 'metrics.jsonl', REGIMES_FILE, 'traces.jsonl'].sort());
  assert.deepEqual(a.files, files(join(tmp, 'a')));
  for (const f of files(join(tmp, 'a'))) {
    assert.ok(readFileSync(join(tmp, 'a', f)).equals(readFileSync(join(tmp, 'b', f))), `${f} differs between two runs of one seed`);
  }
  for (const f of ['metrics.jsonl', 'traces.jsonl', 'logs.jsonl', 'faults.json']) {
    assert.ok(!readFileSync(join(tmp, 'a', f)).equals(readFileSync(join(tmp, 'c', f))), `${f} is the same for two seeds`);
  }
  const { wallMs: _w1, outDir: _o1, ...sa } = a;
  const { wallMs: _w2, outDir: _o2, ...sb } = b;
  assert.deepEqual(sa, sb);
  assert.equal(progress[progress.length - 1], 1);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i] > progress[i - 1]);
});

test('the folder reads back with openOtlp and matches the summary', async () => {
  const s = await run('r', 5);
  const ds = await openOtlp(join(tmp, 'r'));
  assert.equal(ds.counts.metricPoints, s.counts.metricPoints);
  assert.equal(ds.counts.spans, s.counts.spans);
  assert.equal(ds.counts.logs, s.counts.logs);
  assert.equal(ds.entities.filter((e) => e.kind === 'pod').length, s.entities.pods);
  assert.equal(ds.entities.filter((e) => e.kind === 'node').length, s.entities.nodes);
  assert.equal(ds.entities.filter((e) => e.kind === 'service').length, s.entities.services);
  assert.equal(ds.labels.length, s.faults);
  const byType: Record<string, number> = {};
  for (const l of ds.labels) byType[l.type] = (byType[l.type] ?? 0) + 1;
  for (const [t, n] of Object.entries(s.faultsByType)) assert.equal(byType[t] ?? 0, n, t);
  for (const l of ds.labels) assert.ok(ds.entities.some((e) => e.id === l.rootCause && e.service === l.rootCauseService));
  assert.ok(ds.timeRange.start <= s.start && ds.timeRange.end >= s.end - s.stepMs);

  let nan = 0;
  let points = 0;
  for await (const batch of ds.metrics()) {
    for (const m of batch) {
      points += m.values.length;
      for (const v of m.values) if (Number.isNaN(v)) nan++;
    }
  }
  assert.equal(points, s.counts.metricPoints);
  assert.equal(nan, s.counts.metricMissing);
  const traces = new Set<string>();
  let errors = 0;
  for await (const batch of ds.spans()) {
    for (const sp of batch) {
      traces.add(sp.traceId);
      if (sp.status === 'error') errors++;
    }
  }
  assert.equal(traces.size, s.counts.traces);
  assert.ok(errors > 0);

  const regimes = JSON.parse(readFileSync(join(tmp, 'r', REGIMES_FILE), 'utf8')) as { start: number; end: number; regime: string }[];
  assert.equal(regimes[0].start, s.start);
  assert.equal(regimes[regimes.length - 1].end, s.end);
  const minutes = regimes.reduce((a, r) => a + (r.end - r.start) / 60_000, 0);
  assert.equal(minutes, Object.values(s.regimeMinutes).reduce((a, b) => a + b, 0));
});
