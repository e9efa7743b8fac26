// The log thread of the fitting pass reads any source that describes its log stream
// (src/sources/threadlogs.ts), here an OTLP folder: the output must not depend on the thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDataset } from '../../src/encode/index.js';
import { OtlpWriter, openOtlp, writeFaults } from '../../src/sources/index.js';
import type { LogRecord } from '../../src/telemetry/index.js';
import { MIN, SPEC, TRAIN_END, fixture } from './views-fixture.js';

/**
 * The views fixture as an OTLP folder whose log lines come out of order (pairs of 40-record
 * lines swapped), so the reader's reorder buffer works in both threads; short lines give the
 * range reads a line index to skip by.
 */
async function writeShuffledOtlp(dir: string): Promise<void> {
  const ds = fixture({ minutes: 180 });
  const entities = new Map(ds.entities.map((e) => [e.id, e] as const));
  const w = new OtlpWriter(dir, { maxRecordsPerLine: 40 });
  for await (const b of ds.metrics()) await w.writeMetrics(b, entities);
  for await (const b of ds.spans()) await w.writeSpans(b, entities);
  const logs: LogRecord[] = [];
  for await (const b of ds.logs()) logs.push(...b);
  const chunks: LogRecord[][] = [];
  for (let i = 0; i < logs.length; i += 40) chunks.push(logs.slice(i, i + 40));
  for (let i = 0; i + 1 < chunks.length; i += 2) [chunks[i], chunks[i + 1]] = [chunks[i + 1], chunks[i]];
  for (const c of chunks) await w.writeLogs(c, entities);
  await w.close();
  await writeFaults(dir, ds.labels);
}

async function encode(path: string, out: string, threads: boolean, range?: { start: number; end: number }) {
  const ds = await openOtlp(path);
  const texts: string[] = [];
  const r = await encodeDataset(ds, {
    spec: SPEC,
    backboneSpec: 'hash:dim=32',
    out,
    includeText: true,
    threads,
    range,
    fitFilter: (w) => w.end <= TRAIN_END,
    onRows: (rows) => texts.push(...rows.map((x) => x.text!)),
  });
  return { r, texts, file: readFileSync(out), evidence: readFileSync(r.evidencePath!), builder: JSON.stringify(r.builder.toJSON()), problems: ds.problems.total, reorder: ds.reorder.logs };
}

test('an OTLP folder: the log thread reads its logs, and the output is the same without it', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-logthread-otlp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  await writeShuffledOtlp(join(dir, 'otlp'));
  const full = await openOtlp(join(dir, 'otlp'));
  const start = full.timeRange.start;
  for (const range of [undefined, { start: start + 100 * MIN, end: start + 160 * MIN }]) {
    const on = await encode(join(dir, 'otlp'), join(dir, 'on.arrow'), true, range);
    const off = await encode(join(dir, 'otlp'), join(dir, 'off.arrow'), false, range);
    assert.ok(on.reorder.measuredMs > 0, 'the log lines are out of order');
    assert.deepEqual(on.r.timings.threaded, ['logs', 'embed', 'write']);
    assert.deepEqual(off.r.timings.threaded, []);
    assert.ok(on.texts.some((x) => /ERROR connection refused|NEW x\d+/.test(x)), 'log views with the fault lines');
    assert.deepEqual(on.texts, off.texts);
    assert.equal(on.builder, off.builder, 'the same fitted templates and baselines');
    assert.ok(on.file.equals(off.file), 'the same views Arrow bytes');
    assert.ok(on.evidence.equals(off.evidence), 'the same evidence Arrow bytes');
    assert.equal(on.problems, off.problems);
  }
});
