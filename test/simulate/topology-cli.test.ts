import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';

test('simulate --topology: a built-in name runs; an unknown one is a one-line error', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'rs-sim-topo-'));
  try {
    const ok = cli('simulate', '--out', join(tmp, 'mesh'), '--hours', '0.1', '--faults', '1', '--topology', 'mesh', '--json');
    assert.equal(ok.code, 0, ok.err);
    const s = JSON.parse(ok.out);
    assert.equal(s.topology, 'mesh');
    assert.ok(s.counts.spans > 0 && s.entities.services === 9, JSON.stringify(s.entities));
    const bad = cli('simulate', '--out', join(tmp, 'x'), '--hours', '0.1', '--topology', 'no-such-topology');
    assert.equal(bad.code, 1);
    assert.match(bad.err, /topology: "no-such-topology" is neither a built-in topology/);
    assert.equal(bad.err.trim().split('\n').length, 1, bad.err);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
