/**
 * End to end on the simulator (issue 11, target 5): a short run of two topologies, one fault of
 * each of the seven types, written and read back like any source; the label-free localizer
 * (every family, references from normal windows only) puts the root cause's service first for
 * most faults, and the families this issue added carry the faults they were made for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULT_TYPES, simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { prepareLocalizer } from '../../src/tasks/index.js';

const MIN = 60_000;
const tmp = mkdtempSync(join(tmpdir(), 'rs-evidence-sim-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

for (const [topology, seed] of [['chain', 11], ['mesh', 12]] as const) {
  test(`${topology}: the root cause first for most of seven faults, one of each type`, async () => {
    const dir = join(tmp, topology);
    await simulate({ outDir: dir, hours: 1.5, seed, faults: FAULT_TYPES.length, topology });
    const ds = await loadDataset(dir);
    const queries = ds.labels.map((l) => ({ start: l.start, end: l.start + 5 * MIN }));
    const p = await prepareLocalizer(ds, queries);
    const lines: string[] = [];
    let first = 0;
    ds.labels.forEach((l, i) => {
      const r = p.rank(queries[i]);
      const rank = r.services.findIndex((s) => s.service === l.rootCauseService) + 1;
      if (rank === 1) first++;
      lines.push(`${l.type} ${l.rootCauseService}: rank ${rank} (top ${r.services[0]?.service} by ${r.services[0]?.evidence[0].family})`);
    });
    assert.ok(first >= 4, `${first} of ${ds.labels.length} first:\n${lines.join('\n')}`);
  });
}
