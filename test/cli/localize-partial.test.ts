/**
 * `localize` on data with one modality: a logs-only collection (records keep their trace
 * context, the traces are not there) still ranks from its logs, and a window with nothing to
 * compare says so instead of printing an empty list; `tune` says it needs metrics.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';

test('localize on logs only and on metrics only (a simulated run split by modality)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-partial-'));
  try {
    const run = join(tmp, 'run');
    const sim = cli('simulate', '--out', run, '--hours', '2', '--seed', '5', '--faults', '6', '--topology', 'chain');
    assert.equal(sim.code, 0, sim.err);
    const split = (name: string, file: string) => {
      const d = join(tmp, name);
      mkdirSync(d);
      for (const f of ['faults.json', 'regimes.json', file]) copyFileSync(join(run, f), join(d, f));
      return d;
    };
    const logsOnly = split('logs', 'logs.jsonl');
    const metricsOnly = split('metrics', 'metrics.jsonl');
    const faults = JSON.parse(readFileSync(join(run, 'faults.json'), 'utf8')).faults as { start: string; rootCauseService: string; type: string }[];
    // a fault that writes log lines of its own, late enough for normal windows before it
    const f = faults.find((x) => /return|exception/.test(x.type) && Date.parse(x.start) - Date.parse(faults[0].start) >= 20 * 60_000);
    assert.ok(f, 'the seeded run has a code fault after its first 20 min');
    const at = new Date(Date.parse(f.start) + 60_000).toISOString();
    const r = cli('localize', '--data', logsOnly, '--at', at, '--json');
    assert.equal(r.code, 0, r.err);
    const ranking = JSON.parse(r.out);
    assert.deepEqual(ranking.families, ['log-rate']);
    assert.equal(ranking.services[0].service, f.rootCauseService);
    // the first minutes of a metrics-only run: no history yet, no traces or logs
    const early = cli('localize', '--data', metricsOnly, '--at', new Date(Date.parse(faults[0].start) - 5 * 60_000).toISOString());
    assert.equal(early.code, 0, early.err);
    assert.match(early.out, /nothing to rank/);
    // a tasks file needs metrics (its states and detector read them): one line saying so, exit 1
    const tune = cli('tune', '--data', logsOnly, '--out', join(tmp, 'tasks.json'));
    assert.equal(tune.code, 1);
    assert.match(tune.err, /has no metrics/);
    assert.equal(tune.err.trim().split('\n').length, 1, tune.err);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
