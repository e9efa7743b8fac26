import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadDataset } from '../../src/sources/index.js';
import { inspectDataset, type InspectReport } from '../../src/windows/index.js';
import { UserError, type Dataset } from '../../src/telemetry/index.js';
import { makeAiops22Fixture, makeNezhaFixture, makeOtlpFixture, NEZHA_DAY } from './fixtures.js';
import { bitFlip, csvColumn, empty, gzipDamage, jsonTimes, replaceHeader, rewrite, truncate, wrongShape, zero, type Mutation } from './mutate.js';

/*
 * Damages one input file at a time and asserts what issue 10 asks of every reader: no crash
 * and no stack trace; either the load goes on with the damaged file named among the problems
 * (or label issues), or it stops with one UserError line naming the file or folder; and the
 * telemetry of the other files is still all there. Most cases run in-process (loadDataset +
 * inspectDataset, as `inspect` does); a few run the CLI to check exit codes and stderr.
 * Stopping with an error is accepted only when the folder does not load without the file.
 */

const repo = fileURLToPath(new URL('../..', import.meta.url));
const SPEC = { lengthMs: 300_000, strideMs: 60_000 };
const DAY_MS = 86_400_000;
const NS_1E30 = '1' + '0'.repeat(30);
const NS_9E18 = '9000000000000000000';
const SHIFT_S = 200_000_000; // the offset of the public Nezha file whose TimeStamp runs ahead

interface Counts {
  samples: number;
  spans: number;
  logs: number;
}
type Outcome = { ok: true; ds: Dataset; report: InspectReport } | { ok: false; error: unknown };

const work = mkdtempSync(join(tmpdir(), 'rs-fuzz-'));
after(() => rmSync(work, { recursive: true, force: true }));
let caseNo = 0;

/** What `inspect` does, without letting an unrepaired clock plan millions of windows in this process. */
async function inspectIn(root: string, days: { start: number; end: number }): Promise<Outcome | { ok: true; escaped: string }> {
  try {
    const ds = await loadDataset(root);
    const { start, end } = ds.timeRange;
    if (!(start >= days.start - DAY_MS && end <= days.end + DAY_MS)) return { ok: true, escaped: `${iso(start)} → ${iso(end)}` };
    return { ok: true, ds, report: await inspectDataset(ds, SPEC) };
  } catch (error) {
    return { ok: false, error };
  }
}

/** ISO time, or the raw number when it is no valid date (an escaped clock may be anything). */
const iso = (t: number) => (Number.isFinite(t) && Math.abs(t) < 8.64e15 ? new Date(t).toISOString() : String(t));

const countsOf = (r: InspectReport): Counts => ({ samples: r.metrics.samples, spans: r.traces.spans, logs: r.logs.records });

/** Does a problem's file (relative to the root, or absolute) name the damaged file? */
const names = (problemFile: string, file: string) => problemFile.replaceAll('\\', '/').endsWith(basename(file));

/** Named as the problem's file, or in its reason (a reader may report a whole-file problem at the folder). */
const namedBy = (p: { file: string; reason: string }, file: string) => names(p.file, file) || p.reason.includes(basename(file));

function namesInProblems(ds: Dataset, file: string): boolean {
  if (ds.problems.items.some((p) => namedBy(p, file))) return true;
  if (ds.problems.byKind().some((g) => g.examples.some((p) => namedBy(p, file)))) return true;
  return (ds.labelIssues ?? []).some((s) => s.includes(basename(file)));
}

interface Fixture {
  name: string;
  root: string;
  /** baseline time range, epoch ms: nothing may escape it by more than a day */
  days: { start: number; end: number };
  /** counts of a copy without the file, by file (null: the folder does not load without it) */
  without: Map<string, Counts | null>;
  /** digest of every file, to prove each case put its file back */
  digest: string;
}

function digestOf(root: string): string {
  const h = createHash('sha256');
  for (const e of readdirSync(root, { recursive: true, withFileTypes: true }).filter((x) => x.isFile()).map((x) => join(x.parentPath ?? x.path, x.name)).sort()) {
    h.update(e).update(readFileSync(e));
  }
  return h.digest('hex');
}

async function prepare(name: string, build: (dir: string) => void | Promise<void>): Promise<Fixture> {
  const root = join(work, name);
  await build(root);
  assert.ok(existsSync(root), `fixture ${name} built`);
  const ds = await loadDataset(root);
  assert.equal(ds.problems.total, 0, `clean ${name} fixture: ${JSON.stringify(ds.problems.items)}`);
  return { name, root, days: { ...ds.timeRange }, without: new Map(), digest: digestOf(root) };
}

/*
 * Cases damage the fixture in place and put the file back afterwards (cases of a suite run one
 * after another; readers keep nothing between opens): copying the folder per case cost more
 * than the reading.
 */
async function withoutFile(fx: Fixture, file: string): Promise<Counts | null> {
  if (!fx.without.has(file)) {
    const path = join(fx.root, file);
    const aside = join(work, `aside-${++caseNo}`);
    renameSync(path, aside);
    try {
      const o = await inspectIn(fx.root, fx.days);
      fx.without.set(file, o.ok && 'report' in o ? countsOf(o.report) : null);
    } finally {
      renameSync(aside, path);
    }
  }
  return fx.without.get(file)!;
}

async function damaged<T>(fx: Fixture, m: Mutation, run: (dir: string) => Promise<T> | T): Promise<T> {
  const path = join(fx.root, m.file);
  const original = readFileSync(path);
  writeFileSync(path, m.apply(original));
  try {
    return await run(fx.root);
  } finally {
    writeFileSync(path, original);
  }
}

async function check(fx: Fixture, m: Mutation, note: (msg: string) => void): Promise<void> {
  const o = await damaged(fx, m, (dir) => inspectIn(dir, fx.days));
  if (!o.ok) {
    const e = o.error;
    assert.ok(e instanceof UserError, `not a UserError (a crash): ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack?.split('\n').slice(1, 4).join('\n')}` : String(e)}`);
    assert.equal(e.message.split('\n').length, 1, `one line: ${e.message}`);
    assert.ok(e.message.includes(basename(m.file)) || e.message.includes(fx.root), `the error names neither ${m.file} nor the folder: ${e.message}`);
    // Stopping is right only for a file the folder cannot do without (its layout needs it):
    // if the rest loads alone, one damaged file must not take it down.
    const rest = await withoutFile(fx, m.file);
    assert.equal(rest, null, `the rest loads without ${m.file} (${JSON.stringify(rest)}), yet its damage stopped the read: ${e.message}`);
    note(`error: ${e.message}`);
    return;
  }
  if ('escaped' in o) assert.fail(`time range escapes the fixture's days (${iso(fx.days.start)} …): ${o.escaped}`);
  if (m.expect === 'report') assert.ok(namesInProblems(o.ds, m.file), `damage not reported against ${m.file}; problems: ${JSON.stringify(o.ds.problems.items.slice(0, 5))}`);
  const rest = await withoutFile(fx, m.file);
  const got = countsOf(o.report);
  const mine = o.ds.problems.items.filter((p) => namedBy(p, m.file));
  note(`loaded: ${JSON.stringify(got)}; ${mine.length} problem(s) on the file${mine.length ? `, e.g. [${mine[0].kind}] ${mine[0].reason}` : ''}`);
  if (rest) {
    for (const k of ['samples', 'spans', 'logs'] as const) assert.ok(got[k] >= rest[k], `${k} of the other files lost: ${got[k]} < ${rest[k]} (without ${m.file})`);
    if (m.keeps) assert.ok(got.samples + got.spans + got.logs > rest.samples + rest.spans + rest.logs, `nothing kept of ${m.file} before the damage: ${JSON.stringify(got)} vs ${JSON.stringify(rest)} without it`);
  }
}

/** The CLI on the damaged folder: exit 0 with the file among the problems, or 1/2 with one line naming it; never a trace. */
async function checkCli(fx: Fixture, m: Mutation): Promise<void> {
  const r = await damaged(fx, m, (dir) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'inspect', dir, '--json'], { cwd: repo, encoding: 'utf8', timeout: 60_000 }),
  );
  const all = r.stdout + r.stderr;
  assert.doesNotMatch(r.stderr, /^\s+at /m, `stack trace:\n${r.stderr.slice(0, 800)}`);
  assert.doesNotMatch(all, /RangeError|TypeError/, all.slice(0, 800));
  assert.ok(r.status === 0 || r.status === 1 || r.status === 2, `exit ${r.status} (signal ${r.signal}): ${r.stderr.slice(0, 400)}`);
  if (r.status === 0) {
    const j = JSON.parse(r.stdout) as InspectReport;
    if (m.expect === 'report') {
      const inJson = j.problems.some((p) => namedBy(p, m.file)) || (j.problemsByKind ?? []).some((g) => g.examples.some((p) => namedBy(p, m.file)));
      assert.ok(inJson || r.stderr.includes(basename(m.file)), `damage not reported against ${m.file}: ${r.stdout.slice(0, 400)}`);
    }
    const start = Date.parse(j.timeRange.start);
    const end = Date.parse(j.timeRange.end);
    assert.ok(start >= fx.days.start - DAY_MS && end <= fx.days.end + DAY_MS, `time range escapes: ${j.timeRange.start} → ${j.timeRange.end}`);
  } else {
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`);
    assert.ok(lines[0].includes(basename(m.file)) || lines[0].includes(fx.root), `names neither ${m.file} nor the folder: ${lines[0]}`);
  }
}

// --- the cases --------------------------------------------------------------------------------

function otlpCases(): Mutation[] {
  const T = 'traces.jsonl';
  const M = 'metrics.jsonl';
  const L = 'logs.jsonl.gz';
  const F = 'faults.json';
  const spanTimes = ['startTimeUnixNano', 'endTimeUnixNano'];
  return [
    ...[0.33, 0.5, 0.9].map((f) => truncate(T, f, 'report', true)),
    bitFlip(T, 1, 3, 'any'),
    bitFlip(T, 2, 3, 'any'),
    zero(T),
    empty(T, 'any'),
    replaceHeader(T, '{"hello":"world"}'),
    wrongShape(T, '{"resourceLogs":"nope"}\n[1,2,3]\n'),
    rewrite(T, 'huge-times-1e30ns', jsonTimes(spanTimes, 6, NS_1E30)),
    rewrite(T, 'huge-times-9e18ns', jsonTimes(spanTimes, 6, NS_9E18)),
    rewrite(T, 'negative-times', jsonTimes(spanTimes, 6, '-1000000000')),
    truncate(M, 0.5, 'report', true),
    bitFlip(M, 3, 4, 'any'),
    zero(M),
    wrongShape(M, '{"metrics":[{"name":"x"}]}\n'),
    rewrite(M, 'huge-times-1e30ns', jsonTimes(['timeUnixNano'], 5, NS_1E30)),
    rewrite(M, 'negative-times', jsonTimes(['timeUnixNano'], 5, '-5')),
    ...gzipDamage(L, true),
    truncate(L, 0.8, 'report', true),
    bitFlip(L, 4, 2, 'report'),
    rewrite(L, 'huge-times-1e30ns', jsonTimes(['timeUnixNano', 'observedTimeUnixNano'], 6, NS_1E30)),
    truncate(F, 0.5, 'report'),
    zero(F),
    wrongShape(F, '{"faults":"none"}'),
    { ...wrongShape(F, '[1,2]'), name: 'wrong-shape-array' },
  ];
}

function nezhaCases(): Mutation[] {
  const d = `rca_data/${NEZHA_DAY}`;
  const GZ = `${d}/metric/cart-api-7d9f8c6b5d-x2k4p_metric.csv.gz`;
  const M = `${d}/metric/pay-svc-5c4b3a2d1e-q9w8e_metric.csv`;
  const T = `${d}/trace/10_01_trace.csv`;
  const TGZ = `${d}/trace/10_02_trace.csv.gz`;
  const L = `${d}/log/10_03_log.csv`;
  const F = `${d}/${NEZHA_DAY}-fault_list.json`;
  const plus = (s: string, by: bigint) => String(BigInt(s) + by);
  return [
    ...gzipDamage(GZ, true),
    rewrite(GZ, 'clock-shift-TimeStamp', csvColumn('TimeStamp', Infinity, (s) => String(Number(s) + SHIFT_S))),
    truncate(M, 0.5, 'any', true),
    bitFlip(M, 5, 3, 'any'),
    zero(M),
    empty(M, 'any'),
    replaceHeader(M, 'a,b,c'),
    wrongShape(M, 'foo,bar\n1,2\n3,4\n'),
    rewrite(M, 'clock-shift-TimeStamp', csvColumn('TimeStamp', Infinity, (s) => String(Number(s) + SHIFT_S))),
    rewrite(M, 'huge-TimeStamp-1e21s', csvColumn('TimeStamp', 3, () => '1' + '0'.repeat(21))),
    rewrite(M, 'huge-TimeStamp-9e9s', csvColumn('TimeStamp', 3, () => '9000000000')),
    rewrite(M, 'negative-TimeStamp', csvColumn('TimeStamp', 3, () => '-1000')),
    truncate(T, 0.5, 'any', true),
    bitFlip(T, 6, 3, 'any'),
    zero(T),
    replaceHeader(T, 'x,y,z'),
    rewrite(T, 'huge-times-1e30ns', csvColumn('StartTimeUnixNano', 3, () => NS_1E30)),
    rewrite(T, 'huge-times-9e18ns', csvColumn('StartTimeUnixNano', 3, () => NS_9E18)),
    rewrite(T, 'negative-times', csvColumn('StartTimeUnixNano', 3, () => '-1000000000')),
    rewrite(T, 'clock-Duration-vs-Start/End', csvColumn('Duration', Infinity, (s) => String(Number(s) * 1000 + 7))),
    rewrite(T, 'clock-shift-Start/End', (t) => csvColumn('EndTimeUnixNano', Infinity, (s) => plus(s, BigInt(SHIFT_S) * 1_000_000_000n))(csvColumn('StartTimeUnixNano', Infinity, (s) => plus(s, BigInt(SHIFT_S) * 1_000_000_000n))(t))),
    ...gzipDamage(TGZ, true),
    zero(L),
    replaceHeader(L, 'when,who,what'),
    rewrite(L, 'huge-times-1e30ns', csvColumn('TimeUnixNano', 2, () => NS_1E30)),
    rewrite(L, 'negative-times', csvColumn('TimeUnixNano', 2, () => '-1')),
    rewrite(L, 'clock-TimeUnixNano-vs-Timestamp', csvColumn('TimeUnixNano', Infinity, (s) => plus(s, BigInt(SHIFT_S) * 1_000_000_000n))),
    truncate(F, 0.5, 'report'),
    zero(F),
    wrongShape(F, '[{"when":"never"}]'),
  ];
}

function aiopsCases(): Mutation[] {
  /** the first event of every window gets time `t` (ms) */
  const eventTimes = (t: number) => (text: string) => {
    const j = JSON.parse(text) as Record<string, unknown[][]>;
    for (const events of Object.values(j)) if (events.length) events[0][0] = t;
    return JSON.stringify(j);
  };
  return [
    truncate('metric.json', 0.5, 'report'),
    bitFlip('metric.json', 7, 3, 'any'),
    zero('metric.json'),
    empty('metric.json', 'report'),
    wrongShape('metric.json', '[1,2,3]'),
    rewrite('metric.json', 'huge-times-1e30ns', eventTimes(1e24)),
    rewrite('metric.json', 'huge-times-9e18ns', eventTimes(9e12)),
    rewrite('metric.json', 'negative-times', eventTimes(-1000)),
    ...gzipDamage('log.json.gz', false),
    truncate('log.json.gz', 0.5, 'report'),
    truncate('trace.json', 0.7, 'report'),
    zero('trace.json'),
    rewrite('trace.json', 'huge-times-1e30ns', eventTimes(1e24)),
    replaceHeader('cases.csv', 'a,b,c'),
    truncate('cases.csv', 0.8, 'any'),
    zero('raw_label.csv'),
    wrongShape('raw_label.csv', 'x,y\n1,2\n'),
  ];
}

/*
 * The second-system Nezha fixture of scripts/make-nezha-fixture.ts, undamaged (`clean`): pod
 * names that end in a StatefulSet ordinal, derived tables in metric/ (source/destination
 * latencies, a dependency list), two differently cased front-end tables, traceid files. Built
 * here, before the cases are listed, because its file names come from its seed.
 */
const OB_SCRIPT = join(repo, 'scripts/make-nezha-fixture.ts');
const obRoot = join(work, 'nezha-ob');
if (existsSync(OB_SCRIPT)) {
  const mod = (await import(pathToFileURL(OB_SCRIPT).href)) as { makeNezhaFixture: (dir: string, opts?: { clean?: boolean }) => unknown };
  mod.makeNezhaFixture(obRoot, { clean: true });
}

function obCases(): Mutation[] {
  if (!existsSync(obRoot)) return [];
  const day = readdirSync(join(obRoot, 'rca_data'))[0];
  const d = `rca_data/${day}`;
  const find = (sub: string, re: RegExp) => {
    const f = readdirSync(join(obRoot, d, sub)).find((x) => re.test(x));
    if (!f) throw new Error(`no ${re} in the fixture's ${sub}/`);
    return `${d}/${sub}/${f}`;
  };
  const shift = csvColumn('TimeStamp', Infinity, (s) => String(Number(s) + SHIFT_S));
  const LAT = find('metric', /^latency.*\.csv\.gz$/);
  const DEP = find('metric', /^dependency\.csv$/);
  const FRONT_GZ = find('metric', /^Frontend_service\.csv\.gz$/);
  const FRONT = find('metric', /^front_service\.csv$/);
  const REDIS = find('metric', /^redis-cart-0_metric\.csv\.gz$/);
  const PLAIN = find('metric', /_metric\.csv$/);
  const TRACE = find('trace', /_trace\.csv$/);
  const LOG = find('log', /_log\.csv$/);
  const TRACEID = find('traceid', /_traceid\.csv\.gz$/);
  // derived and duplicate tables: whether they are read at all is the reader's choice, so only
  // survival and the rest are asserted for them
  const any = (m: Mutation): Mutation => ({ ...m, expect: 'any', keeps: false });
  return [
    ...gzipDamage(LAT, false).map(any),
    any(rewrite(LAT, 'clock-shift-TimeStamp', shift)),
    any(zero(DEP)),
    any(truncate(DEP, 0.5, 'any')),
    any(wrongShape(DEP, '{"not":"csv"}')),
    any(gzipDamage(FRONT_GZ, false)[0]),
    any(rewrite(FRONT_GZ, 'clock-shift-TimeStamp', shift)),
    any(zero(FRONT)),
    bitFlip(FRONT, 8, 3, 'any'),
    rewrite(REDIS, 'clock-shift-TimeStamp', shift),
    rewrite(REDIS, 'huge-TimeStamp-1e21s', csvColumn('TimeStamp', 3, () => '1' + '0'.repeat(21))),
    ...gzipDamage(REDIS, true),
    rewrite(PLAIN, 'clock-shift-TimeStamp', shift),
    replaceHeader(PLAIN, 'Zeit,Stempel,Pod'),
    bitFlip(PLAIN, 9, 4, 'any'),
    rewrite(TRACE, 'clock-Duration-vs-Start/End', csvColumn('Duration', Infinity, (s) => String(Number(s) * 1000 + 7))),
    rewrite(TRACE, 'huge-times-1e30ns', csvColumn('StartTimeUnixNano', 3, () => NS_1E30)),
    truncate(TRACE, 0.6, 'any', true),
    rewrite(LOG, 'clock-TimeUnixNano-vs-Timestamp', csvColumn('TimeUnixNano', Infinity, (s) => String(BigInt(s) + BigInt(SHIFT_S) * 1_000_000_000n))),
    bitFlip(LOG, 10, 4, 'any'),
    any(gzipDamage(TRACEID, false)[3]),
    any(zero(TRACEID)),
    truncate(`${d}/${day}-fault_list.json`, 0.5, 'report'),
  ];
}

/** A few of each reader run through the CLI: exit codes and the shape of stderr. */
const CLI_SUBSET: Record<string, string[]> = {
  otlp: ['traces.jsonl wrong-shape', 'traces.jsonl huge-times-1e30ns', 'logs.jsonl.gz gzip-crc'],
  nezha: ['cart-api-7d9f8c6b5d-x2k4p_metric.csv.gz gzip-cut-half', 'pay-svc-5c4b3a2d1e-q9w8e_metric.csv clock-shift-TimeStamp'],
  aiops22: ['log.json.gz gzip-not-gzip'],
  'nezha-ob': ['redis-cart-0_metric.csv.gz gzip-crc'],
};

const fixtures: [string, (dir: string) => void | Promise<void>, () => Mutation[]][] = [
  ['otlp', makeOtlpFixture, otlpCases],
  ['nezha', makeNezhaFixture, nezhaCases],
  ['aiops22', makeAiops22Fixture, aiopsCases],
  ['nezha-ob', () => undefined, obCases],
];

for (const [name, build, cases] of fixtures) {
  const skip = name === 'nezha-ob' && !existsSync(obRoot) && 'scripts/make-nezha-fixture.ts not there';
  describe(`fuzz ${name}`, { skip }, () => {
    let fx: Fixture;
    before(async () => {
      fx = await prepare(name, build);
    });
    for (const m of cases()) {
      const label = `${basename(m.file)} ${m.name}`;
      test(label, { timeout: 30_000 }, async (t) => {
        await check(fx, m, (msg) => t.diagnostic(msg));
      });
      if (CLI_SUBSET[name].includes(label)) test(`${label} (CLI)`, { timeout: 70_000 }, async () => checkCli(fx, m));
    }
    test('every case put its file back', () => assert.equal(digestOf(fx.root), fx.digest));
  });
}

// --- inspect's summary of what the fuzzing finds ----------------------------------------------

test('inspect groups problems by kind with file:line examples, in JSON and in text', { timeout: 70_000 }, async () => {
  const dir = join(work, 'grouped');
  makeNezhaFixture(dir);
  // three kinds at once: a cut gzip, a malformed trace row, a fault list that is no JSON
  for (const m of [
    gzipDamage(`rca_data/${NEZHA_DAY}/trace/10_02_trace.csv.gz`, true)[0],
    rewrite(`rca_data/${NEZHA_DAY}/trace/10_01_trace.csv`, 'short-rows', (t) => t.replace(/\n(t1[0-9]),/g, '\n$1,only,three\n$1,'), 'report'),
    truncate(`rca_data/${NEZHA_DAY}/${NEZHA_DAY}-fault_list.json`, 0.5, 'report'),
  ]) {
    const path = join(dir, m.file);
    writeFileSync(path, m.apply(readFileSync(path)));
  }
  const ds = await loadDataset(dir);
  const r = await inspectDataset(ds, SPEC);
  assert.ok(r.problemsTotal >= 3, JSON.stringify(r.problems));
  assert.ok(r.problemsByKind.length >= 2, `several kinds: ${JSON.stringify(r.problemsByKind)}`);
  assert.equal(
    r.problemsByKind.reduce((n, g) => n + g.count, 0),
    r.problemsTotal,
    'every problem in exactly one kind',
  );
  for (let i = 1; i < r.problemsByKind.length; i++) assert.ok(r.problemsByKind[i - 1].count >= r.problemsByKind[i].count, 'most frequent kind first');
  for (const g of r.problemsByKind) {
    assert.ok(g.examples.length >= 1 && g.examples.length <= g.count);
    for (const e of g.examples) assert.deepEqual(Object.keys(e).sort(), ['file', 'line', 'reason']);
  }

  const t = spawnSync(process.execPath, ['--import', 'tsx', join(repo, 'src/cli/main.ts'), 'inspect', dir], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
  assert.equal(t.status, 0, t.stderr);
  const lines = t.stdout.split('\n');
  const at = lines.findIndex((l) => l.startsWith('problems'));
  assert.match(lines[at], new RegExp(`^problems\\s+${r.problemsTotal}$`));
  for (const g of r.problemsByKind) {
    const k = lines.findIndex((l) => new RegExp(`^  ${g.kind}\\s+${g.count}$`).test(l));
    assert.ok(k > at, `a line for kind ${g.kind}:\n${t.stdout}`);
    const shown = Math.min(3, g.examples.length);
    for (let i = 1; i <= shown; i++) assert.match(lines[k + i], /^ {4}\S.*:\d+: |^ {4}\S[^:]*: /, `example ${i} of ${g.kind}: ${lines[k + i]}`);
    const ex = g.examples[0];
    assert.ok(lines[k + 1].includes(ex.file) && lines[k + 1].includes(ex.reason), lines[k + 1]);
  }
});
