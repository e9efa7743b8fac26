// Compact reporter for node:test (`--test-reporter=./scripts/test-reporter.mjs`): one line per
// test file as it finishes, then the full details of each failure (name, location, message,
// stack, and the file's stderr when the file itself failed), one line per skipped test with
// its reason, and last, alone on a line, `N passed, N failed, N skipped` (CI reads that line).
// Tests' own stdout/stderr is shown only for files that failed.
//
// Counting: every test that is not a suite; a parent whose only fault is a failed subtest is
// not counted again (its subtest is). A file that fails outside any test (an import error, a
// failing hook, a non-zero exit) counts as one failure. todo tests count as skipped.
import { relative } from 'node:path';

const MAX_STDERR_LINES = 60;

const rel = (file) => (file ? relative(process.cwd(), file) : '<unknown file>');
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function innerError(error) {
  // The runner wraps what the test threw in ERR_TEST_FAILURE with the original as `cause`.
  return error && error.code === 'ERR_TEST_FAILURE' && error.cause !== undefined ? error.cause : error;
}

function describeError(error) {
  const e = innerError(error);
  if (e === undefined || e === null) return { message: 'failed', stack: [] };
  if (typeof e !== 'object') return { message: String(e), stack: [] };
  const message = String(e.message ?? e);
  // Frames of node itself and of the runner say nothing about the test.
  const stack = typeof e.stack === 'string' ? e.stack.split('\n').filter((l) => /^\s+at /.test(l) && !/\(node:|at node:|\(<anonymous>\)$/.test(l)) : [];
  return { message, stack };
}

export default async function* compactReporter(source) {
  const files = new Map(); // file → FileState (see fileOf)
  const failures = []; // { file, name, line, column, message, stack, fileLevel? }
  const skips = []; // { file, name, reason }
  const fileOf = (file) => {
    let f = files.get(file);
    if (!f) {
      // result: the file's own outcome { passed, duration_ms, error }; reported: every event
      // of its tests has arrived; output: what its process wrote (shown if the file failed)
      f = { file, passed: 0, failed: 0, skipped: 0, output: [], result: undefined, reported: false, printed: false };
      files.set(file, f);
    }
    return f;
  };
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  // Two orders meet here: a file's own result (`test:complete`) comes when its process ends;
  // its tests' `test:pass`/`test:fail` come when the runner reports that file, one file after
  // another. A file's line waits for both, so that its counts are whole.
  let current;
  const line = (f) => {
    f.printed = true;
    if (f.result && !f.result.passed && f.failed === 0) {
      // Failed with no failed test: an import error, a failing hook, a non-zero exit.
      f.failed++;
      failed++;
      failures.push({ file: f.file, name: '(the file itself)', ...describeError(f.result.error), fileLevel: true });
    }
    const n = f.passed + f.failed + f.skipped;
    const counts = `${n} test${n === 1 ? '' : 's'}${f.skipped ? `, ${f.skipped} skipped` : ''}${f.failed ? `, ${f.failed} failed` : ''}`;
    const time = f.result?.duration_ms !== undefined ? `, ${seconds(f.result.duration_ms)}` : '';
    return `${f.failed ? '✗' : '✓'} ${rel(f.file)} (${counts}${time})\n`;
  };
  const isFileLevel = (data) => data.nesting === 0 && data.file !== undefined && data.name === data.file;

  for await (const event of source) {
    const data = event.data ?? {};
    if (event.type === 'test:stdout' || event.type === 'test:stderr') {
      if (data.file) fileOf(data.file).output.push(data.message);
      continue;
    }
    if (event.type !== 'test:start' && event.type !== 'test:pass' && event.type !== 'test:fail' && event.type !== 'test:complete') continue;
    if (data.file === undefined) continue;
    const f = fileOf(data.file);
    const details = data.details ?? {};
    if (event.type !== 'test:complete' && data.file !== current) {
      // The runner moved on to another file: the previous one is fully reported.
      const prev = current === undefined ? undefined : files.get(current);
      current = data.file;
      if (prev) {
        prev.reported = true;
        if (prev.result && !prev.printed) yield line(prev);
      }
    }
    if (isFileLevel(data)) {
      if (event.type !== 'test:start') {
        f.result ??= { passed: event.type === 'test:pass' || (event.type === 'test:complete' && details.passed), duration_ms: details.duration_ms, error: details.error };
        if (f.reported && !f.printed) yield line(f);
      }
      continue;
    }
    if ((event.type !== 'test:pass' && event.type !== 'test:fail') || details.type === 'suite') continue;
    if (data.skip !== undefined || data.todo !== undefined) {
      f.skipped++;
      skipped++;
      const reason = data.skip !== undefined ? data.skip : `todo${typeof data.todo === 'string' ? `: ${data.todo}` : ''}`;
      skips.push({ file: data.file, name: data.name, reason: typeof reason === 'string' && reason !== '' ? reason : 'no reason given' });
    } else if (event.type === 'test:pass') {
      f.passed++;
      passed++;
    } else if (details.error?.failureType !== 'subtestsFailed') {
      // A parent whose only fault is a failed subtest: the subtest is the failure to show.
      f.failed++;
      failed++;
      failures.push({ file: data.file, name: data.name, line: data.line, column: data.column, ...describeError(details.error) });
    }
  }

  for (const f of files.values()) if (!f.printed) yield line(f);
  if (failures.length > 0) {
    yield `\nFailures (${failures.length}):\n`;
    for (const x of failures) {
      const where = x.line !== undefined ? `${rel(x.file)}:${x.line}:${x.column}` : rel(x.file);
      yield `\n✗ ${x.name}\n  at ${where}\n`;
      yield x.message
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n') + '\n';
      for (const l of x.stack) yield `  ${l.trim()}\n`;
      const f = files.get(x.file);
      if (x.fileLevel && f && f.output.length > 0) {
        const lines = f.output.join('').split('\n');
        const shown = lines.slice(-MAX_STDERR_LINES);
        yield `  output of ${rel(x.file)}${shown.length < lines.length ? ` (last ${MAX_STDERR_LINES} lines)` : ''}:\n`;
        yield shown.map((l) => `  | ${l}`).join('\n') + '\n';
      }
    }
  }
  if (skips.length > 0) {
    yield `\nSkipped (${skips.length}):\n`;
    for (const s of skips) yield `- ${rel(s.file)} › ${s.name}: ${s.reason}\n`;
  }
  yield `\n${passed} passed, ${failed} failed, ${skipped} skipped\n`;
}
