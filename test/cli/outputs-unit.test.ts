import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { STALE_TEMP_MS, checkOutput, isTempFileName, sweepStaleTemps, tempFileOwner, tempPathFor } from '../../src/sources/index.js';

function withTmp(body: (dir: string) => void | Promise<void>) {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-outputs-unit-'));
    try {
      await body(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test('checkOutput: inputs, folders and writability', withTmp((dir) => {
  const data = join(dir, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'a.jsonl'), '{}\n');
  const out = join(dir, 'out.arrow');
  assert.equal(checkOutput(out, [data, undefined, join(dir, 'missing')]), out);
  assert.deepEqual(readdirSync(dir).sort(), ['data'], 'the writability probe is removed');
  assert.throws(() => checkOutput(join(data, 'x.arrow'), [data]), { name: 'UserError', message: /lies inside the input folder/ });
  assert.throws(() => checkOutput(join(data, 'a.jsonl'), [join(data, 'a.jsonl')]), { name: 'UserError', message: /is the input/ });
  assert.throws(() => checkOutput(data, []), { name: 'UserError', message: /it is an existing folder/ });
  assert.throws(() => checkOutput(join(dir, 'no', 'x.arrow'), []), { name: 'UserError', message: /does not exist/ });
  assert.throws(() => checkOutput(join(data, 'a.jsonl', 'x.arrow'), []), { name: 'UserError', message: /is not a folder/ });
  // a folder output: may be new (nested), must not contain an input, must not be a file
  assert.equal(checkOutput(join(dir, 'new', 'deeper'), [], { folder: true }), join(dir, 'new', 'deeper'));
  assert.equal(existsSync(join(dir, 'new')), false, 'checking creates nothing');
  assert.throws(() => checkOutput(dir, [data], { folder: true }), { name: 'UserError', message: /contains the input/ });
  assert.throws(() => checkOutput(join(data, 'a.jsonl'), [], { folder: true, label: 'the folder' }), { message: /the folder .*a\.jsonl: it exists and is not a folder/ });
}));

test('temp-file naming: hidden, no data extension, owner pid recoverable', () => {
  const t = tempPathFor('/x/views.arrow');
  assert.match(basename(t), /^\.views\.arrow\.tmp-\d+-[0-9a-f]{8}$/);
  assert.equal(tempFileOwner(basename(t), '/x/views.arrow'), process.pid);
  assert.equal(tempFileOwner(basename(t), '/x/other.arrow'), undefined);
  assert.equal(tempFileOwner('.views.arrow.tmp-notes', '/x/views.arrow'), undefined);
  assert.ok(isTempFileName(basename(t)));
  assert.ok(!isTempFileName('views.arrow'));
});

test('sweepStaleTemps removes dead and old temp files only', withTmp(async (dir) => {
  const target = join(dir, 'm.rsm');
  const dead = 2 ** 22 + 12345; // above Linux's default pid_max: no such process
  const own = `.m.rsm.tmp-${process.pid}-aaaaaaaa`;
  const gone = `.m.rsm.tmp-${dead}-bbbbbbbb`;
  const parent = `.m.rsm.tmp-${process.ppid}-cccccccc`;
  const oldParent = `.m.rsm.tmp-${process.ppid}-dddddddd`;
  for (const n of [own, gone, parent, oldParent, 'm.rsm']) writeFileSync(join(dir, n), 'x');
  const old = (Date.now() - STALE_TEMP_MS - 60_000) / 1000;
  utimesSync(join(dir, oldParent), old, old);
  utimesSync(join(dir, own), old, old);
  const removed = await sweepStaleTemps(target);
  assert.deepEqual(removed.sort(), [gone, oldParent].sort());
  assert.deepEqual(readdirSync(dir).sort(), [own, parent, 'm.rsm'].sort());
  assert.deepEqual(await sweepStaleTemps(join(dir, 'missing-folder', 'x')), []);
}));
