import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { SYSTEM_ENTITY, encodeDataset, type EncodedRow, type ViewBuilderState } from '../../src/encode/index.js';
import { TEST_SPEC } from '../helpers/sim-setup.js';

/** System rows' features per (window start, modality), and the views state encode used. */
async function encodeRows(ds: Awaited<ReturnType<typeof loadDataset>>, opts: { range?: { start: number; end: number }; fitted?: ViewBuilderState }) {
  const rows = new Map<string, Float32Array>();
  const res = await encodeDataset(ds, {
    spec: TEST_SPEC,
    backboneSpec: 'hash:dim=8',
    entities: false,
    threads: false,
    ...opts,
    onRows: (rs: readonly EncodedRow[]) => {
      for (const r of rs) if (r.entity === SYSTEM_ENTITY) rows.set(`${r.windowStart}/${r.modality}`, Float32Array.from(r.features));
    },
  });
  return { rows, state: res.builder.toJSON() };
}

test('encode with a fitted views state renders new data against it, and fits nothing on the new data', async () => {
  const tmp = await mkdtemp(join(tmpdir(), 'rs-fitted-views-'));
  try {
    const sim = join(tmp, 'sim');
    await simulate({ outDir: sim, hours: 3, seed: 5, faults: 4 });
    const ds = await loadDataset(sim);
    // the "tuning data": the whole run, fitted on itself; its state goes through JSON as in a tasks file
    const whole = await encodeRows(ds, {});
    const saved = JSON.parse(JSON.stringify(whole.state)) as ViewBuilderState;
    // the same data against its own saved state: every row as the fitting encode gave it
    const again = await encodeRows(ds, { fitted: saved });
    assert.equal(again.rows.size, whole.rows.size);
    for (const [key, f] of again.rows) assert.deepEqual(f, whole.rows.get(key), `features of ${key}`);
    // "new data": the last hour alone, whose own fit learns other baselines (fewer windows, other faults)
    const range = { start: ds.timeRange.end - 60 * 60_000, end: ds.timeRange.end };
    const own = await encodeRows(ds, { range });
    const against = await encodeRows(ds, { range, fitted: saved });
    assert.ok(against.rows.size > 50, `rows of the last hour: ${against.rows.size}`);
    let differ = 0;
    let metrics = 0;
    for (const [key, f] of against.rows) {
      // metric and trace features read the baselines alone: exactly the tuning encode's. (Log
      // features also read which line of a shape came first, which differs in a shorter stream.)
      if (key.endsWith('/logs')) continue;
      assert.deepEqual(f, whole.rows.get(key), `features of ${key}`);
      if (!key.endsWith('/metrics')) continue;
      metrics++;
      const o = own.rows.get(key);
      if (o && o.some((v, j) => v !== f[j])) differ++;
    }
    // and its own fit would have given other features: the saved references were the ones used
    assert.ok(metrics > 50 && differ > metrics / 2, `windows whose own-fit metric features differ: ${differ} of ${metrics}`);
    // nothing was fitted on the new data: the state used is the saved one
    assert.deepEqual(against.state.metrics, saved.metrics);
    assert.deepEqual(against.state.miner, saved.miner);
    assert.equal(against.state.trainWindows, saved.trainWindows);
    assert.notDeepEqual(own.state.metrics, saved.metrics);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
});
