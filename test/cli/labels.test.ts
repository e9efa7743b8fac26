// An unreadable labels file must never turn every window "normal" in silence: every command
// warns, and the commands whose result depends on the labels stop (issue 10, item 7).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { TINY, cli } from '../helpers/cli.js';

let tmp = '';
let sim = '';

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'rs-cli-labels-'));
  sim = join(tmp, 'sim');
  await simulate({ hours: 0.3, seed: 5, faults: 1, outDir: sim });
  // valid JSON of the wrong shape: before, read as "no faults" without a word
  writeFileSync(join(sim, 'faults.json'), '{"faults": [{"id": "f1", "start": "not a time"}]');
});
after(() => rmSync(tmp, { recursive: true, force: true }));

test('inspect and encode warn once on stderr about labels that cannot be read, and still run', () => {
  const i = cli('inspect', sim, '--json');
  assert.equal(i.code, 0, i.err);
  assert.match(i.err, /warning: the labels of .* could not be read/);
  assert.doesNotMatch(i.err, /\n\s+at /);
  JSON.parse(i.out); // stdout stays one JSON object
  const e = cli('encode', sim, '--out', join(tmp, 'v.arrow'), ...TINY);
  assert.equal(e.code, 0, e.err);
  assert.match(e.err, /warning: the labels of .* could not be read/);
});

test('commands that need the labels stop with one line naming the file', () => {
  for (const args of [
    ['probe', '--data', sim, ...TINY],
    ['train', '--data', sim, '--out', join(tmp, 'm.rsm'), '--weak-labels', ...TINY, '--epochs', '1', '--batch', '4'],
  ]) {
    const r = cli(...args);
    assert.equal(r.code, 1, `${args[0]}: ${r.err}`);
    assert.equal(r.err.trimEnd().split('\n').length, 1, `${args[0]} one line, got:\n${r.err}`);
    assert.match(r.err, /labels of .* could not be read, and .* needs them: .*faults\.json/);
  }
});
