import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { constants, gunzipSync } from 'node:zlib';
import { repo, runCli } from '../helpers/cli.js';

/*
 * The damaged second-system Nezha fixture (scripts/make-nezha-fixture.ts) end to end through
 * the CLI: inspect, encode, train and probe all exit 0; inspect names the metric file with the
 * shifted epoch column and the damaged gzip, lists exactly the services that emit telemetry,
 * and keeps the time range within the fixture's days. What the fixture holds is read back
 * from its files (day folders, the two clocks, gzip integrity, PodName/ServiceName columns), so the test
 * does not depend on how the generator describes itself.
 */

const script = join(repo, 'scripts/make-nezha-fixture.ts');
const haveScript = existsSync(script);

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** The text of a (possibly damaged) CSV: a broken gzip yields what inflates before the damage. */
function textOf(file: string): { text: string; damaged: boolean } {
  const b = readFileSync(file);
  if (!file.endsWith('.gz')) return { text: b.toString('utf8'), damaged: false };
  try {
    return { text: gunzipSync(b).toString('utf8'), damaged: false };
  } catch {
    try {
      return { text: gunzipSync(b, { finishFlush: constants.Z_SYNC_FLUSH }).toString('utf8'), damaged: true };
    } catch {
      return { text: '', damaged: true };
    }
  }
}

/** `<service>-<replicaset hash>-<pod suffix>` or a StatefulSet's `<name>-<ordinal>`. */
const serviceOfPod = (pod: string) => pod.replace(/-[a-z0-9]{5,10}-[a-z0-9]{5}$/, '').replace(/-\d+$/, '');

/** The parts of the generator's own description (scripts/make-nezha-fixture.ts NezhaFixture) this test checks. */
interface Described {
  services?: string[];
  shiftedFile?: string;
  damagedFile?: string;
  spans?: number;
  logs?: number;
  faults?: unknown[];
}

interface Facts {
  days: string[];
  shifted: string[];
  damagedGz: string[];
  services: string[];
}

/** What the fixture holds, read from its files. */
function factsOf(root: string): Facts {
  const files = walk(root);
  const days = [...new Set(files.map((f) => /(\d{4}-\d{2}-\d{2})[/\\](metric|trace|log)[/\\]/.exec(f)?.[1]).filter((d): d is string => !!d))].sort();
  const shifted: string[] = [];
  const damagedGz: string[] = [];
  const services = new Set<string>();
  for (const f of files.filter((x) => /\.csv(\.gz)?$/.test(x) && /[/\\](metric|trace|log)[/\\]/.test(x))) {
    const { text, damaged } = textOf(f);
    if (damaged) damagedGz.push(f);
    const lines = text.split('\n').filter((l) => l.length > 0);
    if (lines.length < 2) continue;
    const header = lines[0].split(',');
    const pod = header.indexOf('PodName');
    const service = header.indexOf('ServiceName'); // service-level tables (front_service.csv) name theirs in the rows
    const time = header.indexOf('Time');
    const stamp = header.indexOf('TimeStamp');
    for (const line of lines.slice(1)) {
      const cells = line.split(',');
      if (cells.length < header.length) continue; // a row cut by the damage
      if (pod >= 0 && cells[pod]) services.add(serviceOfPod(cells[pod]));
      if (service >= 0 && cells[service]) services.add(cells[service]);
    }
    if (time >= 0 && stamp >= 0) {
      const c = lines[1].split(',');
      const text = Date.parse(c[time].slice(0, 19).replace(' ', 'T') + 'Z');
      const epoch = Number(c[stamp]) * 1000;
      if (Number.isFinite(text) && Number.isFinite(epoch) && Math.abs(epoch - text) > 86_400_000) shifted.push(f);
    }
  }
  return { days, shifted, damagedGz, services: [...services].sort() };
}

test('damaged second-system Nezha fixture: inspect, encode, train, probe end to end', { skip: !haveScript && 'scripts/make-nezha-fixture.ts not there yet', timeout: 180_000 }, async () => {
  const mod = (await import(pathToFileURL(script).href)) as { makeNezhaFixture?: (dir: string, opts?: unknown) => Described | void | Promise<Described | void> };
  assert.equal(typeof mod.makeNezhaFixture, 'function', 'scripts/make-nezha-fixture.ts exports makeNezhaFixture(dir, opts?)');
  const tmp = mkdtempSync(join(tmpdir(), 'rs-nezha-e2e-'));
  try {
    const fixture = join(tmp, 'nezha-ob');
    const said = (await mod.makeNezhaFixture!(fixture)) || {};
    const facts = factsOf(fixture);
    // what the generator says it wrote agrees with what its files hold
    const folded = (xs: string[]) => [...new Set(xs.map((x) => x.toLowerCase()))].sort();
    if (said.services) assert.deepEqual(folded(facts.services), folded(said.services));
    if (said.shiftedFile) assert.deepEqual(facts.shifted.map((f) => basename(f)), [basename(said.shiftedFile)]);
    if (said.damagedFile) assert.ok(facts.damagedGz.some((f) => basename(f) === basename(said.damagedFile!)), said.damagedFile);
    assert.ok(facts.days.length > 0, 'fixture has day folders');
    assert.ok(facts.shifted.length > 0, 'fixture has a metric file whose TimeStamp disagrees with Time');
    assert.ok(facts.damagedGz.length > 0, 'fixture has a damaged .csv.gz');
    const env = { RUNTIMESLICER_CACHE: join(tmp, 'cache') };

    const ins = cli(['inspect', fixture, '--json'], env);
    assert.equal(ins.code, 0, ins.err);
    assert.doesNotMatch(ins.err, /^\s+at /m);
    const j = JSON.parse(ins.out) as {
      serviceNames: string[];
      timeRange: { start: string; end: string };
      problems: { file: string; line: number; reason: string }[];
      problemsByKind: { kind: string; count: number; examples: { file: string }[] }[];
      windows: number;
      traces: { spans: number };
      logs: { records: number };
      faults: { total: number };
    };
    const named = (file: string) => j.problems.some((p) => p.file.endsWith(basename(file))) || j.problemsByKind.some((g) => g.examples.some((p) => p.file.endsWith(basename(file))));
    for (const f of facts.shifted) assert.ok(named(f), `the shifted metric file ${basename(f)} is among the problems`);
    for (const f of facts.damagedGz) assert.ok(named(f), `the damaged gzip ${basename(f)} is among the problems`);
    // one service however its tables spell it (a pod `frontend-…` and a `Frontend` front-end table)
    const lower = j.serviceNames.map((s) => s.toLowerCase());
    assert.equal(new Set(lower).size, lower.length, `no service listed twice in another case: ${j.serviceNames.join(', ')}`);
    assert.deepEqual(folded(j.serviceNames), folded(facts.services), 'exactly the services that emit telemetry (PodName and ServiceName columns)');
    const first = Date.parse(facts.days[0] + 'T00:00:00Z');
    const last = Date.parse(facts.days[facts.days.length - 1] + 'T00:00:00Z') + 86_400_000;
    assert.ok(Date.parse(j.timeRange.start) >= first && Date.parse(j.timeRange.end) <= last, `time range ${j.timeRange.start} → ${j.timeRange.end} within ${facts.days.join(', ')}`);
    assert.ok(j.windows > 0);
    // the damage is in a metric file: every span and log record is still read, every fault labelled
    if (said.spans !== undefined) assert.equal(j.traces.spans, said.spans);
    if (said.logs !== undefined) assert.equal(j.logs.records, said.logs);
    if (said.faults) assert.equal(j.faults.total, said.faults.length);

    const views = join(tmp, 'views.arrow');
    const enc = cli(['encode', fixture, '--backbone', 'hash', '--out', views, '--json'], env);
    assert.equal(enc.code, 0, enc.err);
    const e = JSON.parse(enc.out.trim().split('\n').pop()!) as { rows: number; windows: number };
    assert.ok(e.rows > 0 && e.windows > 0, enc.out);
    assert.ok(statSync(views).size > 0);

    const model = join(tmp, 'm.rsm');
    const tr = cli(['train', '--data', fixture, '--out', model, '--epochs', '2', '--batch', '16', '--json'], env);
    assert.equal(tr.code, 0, tr.err);
    assert.ok(statSync(model).size > 0);

    const pr = cli(['probe', '--model', model, '--data', fixture, '--json'], env);
    assert.equal(pr.code, 0, pr.err);
    assert.doesNotThrow(() => JSON.parse(pr.out.trim().split('\n').pop()!), pr.out);
    for (const r of [enc, tr, pr]) assert.doesNotMatch(r.err, /^\s+at |RangeError|TypeError/m, r.err);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
