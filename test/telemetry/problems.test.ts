import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProblemLog, guessKind } from '../../src/telemetry/index.js';

test('a problem met again on a second pass over the data counts once; distinct ones all count', () => {
  const log = new ProblemLog();
  for (let pass = 0; pass < 3; pass++) {
    log.add('a.csv', 3, 'malformed CSV: 9 fields instead of 8; skipped', 'malformed-record');
    log.add('a.csv', 7, 'malformed CSV: 9 fields instead of 8; skipped', 'malformed-record');
    log.add('b.csv.gz', 0, 'damaged gzip after 120 lines', 'damaged-file');
  }
  assert.equal(log.total, 3);
  assert.equal(log.items.length, 3);
  assert.deepEqual(log.byReason(), { 'malformed CSV: 9 fields instead of 8; skipped': 2, 'damaged gzip after 120 lines': 1 });
  assert.deepEqual(
    log.byKind().map((k) => [k.kind, k.count, k.examples.length]),
    [['malformed-record', 2, 2], ['damaged-file', 1, 1]],
  );
});

test('kinds guessed from the wording readers use when a caller gives none', () => {
  assert.equal(guessKind('unexpected end of file (gzip) after 10 lines'), 'damaged-file');
  assert.equal(guessKind('malformed JSON document: Unexpected token'), 'unreadable-file');
  assert.equal(guessKind('missing column(s) TimeStamp; file skipped'), 'layout');
  assert.equal(guessKind('expected 8 fields, found 10'), 'malformed-record');
});
