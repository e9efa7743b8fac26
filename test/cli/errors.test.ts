import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describeError } from '../../src/cli/common.js';
import { UserError } from '../../src/telemetry/index.js';
import { assertOneLine, cli, repo } from '../helpers/cli.js';

function sysError(code: string, syscall: string, path?: string, dest?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: raw message, ${syscall} '${path}'`), { code, syscall, path, dest });
}

test('file-system errors become `cannot <op> <path>: <plain cause>`, exit 1', () => {
  const cases: [NodeJS.ErrnoException, string][] = [
    [sysError('EROFS', 'open', '/ro/x.arrow'), 'runtimeslicer: cannot open /ro/x.arrow: read-only file system'],
    [sysError('EACCES', 'mkdir', '/home/u/.cache'), 'runtimeslicer: cannot create the folder /home/u/.cache: permission denied'],
    [sysError('EISDIR', 'rename', '/t/.x.tmp-1-ab', '/t/dir'), 'runtimeslicer: cannot rename /t/dir: it is a folder'],
    [sysError('ENOSPC', 'write'), 'runtimeslicer: cannot write: no space left on device'],
    [sysError('EEXIST', 'mkdir', '/t/f'), 'runtimeslicer: cannot create the folder /t/f: it already exists'],
    [sysError('ENOTDIR', 'scandir', '/t/f/x'), 'runtimeslicer: cannot read the folder /t/f/x: a part of the path is not a folder'],
    [sysError('EMFILE', 'open', '/t/a'), 'runtimeslicer: cannot open /t/a: too many open files'],
    [sysError('EDQUOT', 'write', '/t/a'), 'runtimeslicer: cannot write /t/a: disk quota exceeded'],
    [sysError('EPERM', 'unlink', '/t/a'), 'runtimeslicer: cannot remove /t/a: operation not permitted'],
    [sysError('ENOENT', 'open', '/t/missing.json'), 'runtimeslicer: cannot open /t/missing.json: no such file or folder'],
  ];
  for (const [e, line] of cases) {
    const d = describeError(e);
    assert.equal(d.line, line);
    assert.equal(d.exitCode, 1);
  }
});

test('user errors keep their message and exit code; anything else is an internal error', () => {
  assert.deepEqual(describeError(new UserError('bad thing', 2)), { line: 'runtimeslicer: bad thing', exitCode: 2 });
  const d = describeError(new RangeError('Invalid time value\nsecond line'));
  assert.equal(d.line, 'runtimeslicer: internal error: Invalid time value (set RUNTIMESLICER_DEBUG=1 for the stack trace)');
  assert.equal(d.exitCode, 1);
  assert.equal(describeError('a string').line, 'runtimeslicer: internal error: a string (set RUNTIMESLICER_DEBUG=1 for the stack trace)');
  // an error with a code we do not explain is not dressed up as a file problem
  assert.match(describeError(Object.assign(new Error('odd'), { code: 'ERR_SOMETHING' })).line, /internal error: odd/);
});

function runThrowing(env: Record<string, string> = {}) {
  const script = `import { run } from ${JSON.stringify(join(repo, 'src/cli/common.ts'))};\nawait run(async () => { throw new RangeError('Maximum call stack size exceeded'); });`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8', env: { ...process.env, RUNTIMESLICER_DEBUG: '', ...env } });
  return { code: r.status, err: r.stderr };
}

test('run(): an unexpected error is one line and exit 1; the stack only with RUNTIMESLICER_DEBUG', () => {
  const plain = runThrowing();
  assert.equal(plain.code, 1);
  assert.equal(plain.err, 'runtimeslicer: internal error: Maximum call stack size exceeded (set RUNTIMESLICER_DEBUG=1 for the stack trace)\n');
  const debug = runThrowing({ RUNTIMESLICER_DEBUG: '1' });
  assert.equal(debug.code, 1);
  assert.match(debug.err, /^runtimeslicer: internal error: Maximum call stack size exceeded/);
  assert.match(debug.err, /\n\s+at /, 'the stack trace is shown when asked for');
});

test('an unreadable --exclude file is one line, not a stack trace', () => {
  assertOneLine(cli('train', '--data', '/nonexistent-rs', '--exclude', '/nonexistent-rs/x.json', '--out', '/tmp/rs-never.rsm'), 1, /^runtimeslicer: /);
});
