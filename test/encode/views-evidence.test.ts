// Evidence features in the views (issue 11): a generated system where a delay on the edges into
// one service, a template that vanishes from one service's spans and a CPU jump at one pod each
// show where they happened, and nowhere else; the Arrow companion round-trips them; a dataset
// with metrics only gets NaN span/log evidence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryDataset, loadDataset } from '../../src/sources/index.js';
import { writeNezhaFixture } from './views-fixture.js';
import { windowStream } from '../../src/windows/index.js';
import { EVIDENCE_FEATURES, EVIDENCE_VERSION, SeededRandom, ViewBuilder, datasetServiceOf, type EvidenceRow } from '../../src/encode/views/index.js';
import { encodeDataset, evidencePath, readEvidence, readColumnar, MetricStore, resourceFamily } from '../../src/encode/index.js';
import { ResourceHistory } from '../../src/encode/views/evidence-resources.js';
import type { Dataset, Entity, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';

const T0 = Date.UTC(2024, 0, 1);
const MIN = 60_000;
const TRAIN_END = T0 + 120 * MIN;
const FAULT_START = T0 + 150 * MIN;
const FAULT_END = T0 + 156 * MIN;
const SPEC = { lengthMs: 5 * MIN, strideMs: MIN };
const STRAY_AT = T0 + 170 * MIN;
const F = Object.fromEntries(EVIDENCE_FEATURES.map((n, i) => [n, i])) as Record<string, number>;

const PODS = { a: ['a-1'], b: ['b-1', 'b-2'], c: ['c-1'] } as const;

/**
 * a → b → c and a → c (client spans in the caller), every 10 s. In the fault: every call into c waits 800 ms more before c
 * starts (its callers' spans grow, c's own do not), c's spans stop logging "step two", and pod
 * b-2's CPU jumps.
 */
function system(mod: { metrics?: boolean; traces?: boolean; logs?: boolean; stray?: boolean } = {}): Dataset {
  const m = { metrics: true, traces: true, logs: true, stray: false, ...mod };
  const rng = new SeededRandom(3);
  const noise = (s: number) => (rng.next() - 0.5) * 2 * s;
  const minutes = 180;
  const fault = (t: number) => t >= FAULT_START && t < FAULT_END;
  const entities: Entity[] = Object.entries(PODS).flatMap(([service, pods]) => pods.map((id) => ({ id, kind: 'pod' as const, service })));
  const metrics: MetricSeries[] = [];
  if (m.metrics) {
    for (const pods of Object.values(PODS)) {
      for (const pod of pods) {
        const times = Float64Array.from({ length: minutes * 2 }, (_, i) => T0 + i * 30_000);
        const cpu = times.map((t) => 20 + noise(2) + (pod === 'b-2' && fault(t) ? 40 : 0));
        const mem = times.map(() => 400 + noise(4));
        metrics.push({ entity: pod, name: 'CpuUsageRate(%)', times, values: cpu }, { entity: pod, name: 'MemoryUsage(Mi)', times, values: mem });
      }
    }
  }
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  let n = 0;
  for (let t = T0; t < T0 + minutes * MIN; t += 10_000) {
    const tid = `t${n++}`;
    const delay = fault(t) ? 800 : 0;
    const bPod = PODS.b[n % 2];
    const c1 = 10 + noise(2);
    const c2 = 8 + noise(2);
    const bSelf = 5 + noise(1);
    const gap = () => 2 + noise(0.5);
    // each call is a client span in the caller (its duration: the gap, then the callee's span)
    const bc = gap() + delay + c1;
    const bDur = bSelf + bc;
    const ab = gap() + bDur;
    const ac = gap() + delay + c2;
    const aDur = 3 + ab + ac;
    if (m.traces) {
      const client = { status: 'ok' as const, kind: 'client' as const };
      spans.push({ traceId: tid, spanId: 'a', entity: 'a-1', service: 'a', operation: 'GET /', start: t, duration: aDur, status: 'ok' });
      spans.push({ traceId: tid, spanId: 'ab', parentId: 'a', entity: 'a-1', service: 'a', operation: 'call b', start: t + 1, duration: ab, ...client });
      spans.push({ traceId: tid, spanId: 'b', parentId: 'ab', entity: bPod, service: 'b', operation: 'getB', start: t + 2, duration: bDur, status: 'ok' });
      spans.push({ traceId: tid, spanId: 'bc', parentId: 'b', entity: bPod, service: 'b', operation: 'call c', start: t + 3, duration: bc, ...client });
      spans.push({ traceId: tid, spanId: 'c1', parentId: 'bc', entity: 'c-1', service: 'c', operation: 'getC', start: t + 4 + delay, duration: c1, status: 'ok' });
      spans.push({ traceId: tid, spanId: 'ac', parentId: 'a', entity: 'a-1', service: 'a', operation: 'call c', start: t + 2 + ab, duration: ac, ...client });
      spans.push({ traceId: tid, spanId: 'c2', parentId: 'ac', entity: 'c-1', service: 'c', operation: 'getC', start: t + 3 + ab + delay, duration: c2, status: 'ok' });
    }
    if (m.logs) {
      const user = Math.floor(rng.next() * 1000);
      logs.push({ time: t + 1, entity: bPod, service: 'b', severity: 'info', body: `b serving user ${user}`, traceId: tid, spanId: 'b' });
      for (const sid of ['c1', 'c2']) {
        logs.push({ time: t + 4, entity: 'c-1', service: 'c', severity: 'info', body: `c step one for user ${user}`, traceId: tid, spanId: sid });
        if (!fault(t)) logs.push({ time: t + 5, entity: 'c-1', service: 'c', severity: 'info', body: `c step two stored ${user % 7} rows`, traceId: tid, spanId: sid });
      }
      logs.push({ time: t + 2, entity: 'a-1', service: 'a', severity: 'info', body: `a heartbeat ${user}` });
      // `stray`: one line never seen before, on one of b's spans, after the fault; and in the
      // fault a new line on every span of c (no draws: the rest of the data stays as it is)
      if (m.stray && t === STRAY_AT) logs.push({ time: t + 3, entity: bPod, service: 'b', severity: 'warn', body: 'b slow request getB took 21 ms', traceId: tid, spanId: 'b' });
      if (m.stray && fault(t)) for (const sid of ['c1', 'c2']) logs.push({ time: t + 6, entity: 'c-1', service: 'c', severity: 'warn', body: 'c fallback path taken', traceId: tid, spanId: sid });
    }
  }
  return memoryDataset({ entities, metrics, spans, logs, labels: [], batchSize: 101 });
}

const isTrain = (w: { end: number }) => w.end <= TRAIN_END;

async function evidenceByWindow(ds: Dataset): Promise<Map<number, EvidenceRow[]>> {
  const vb = new ViewBuilder({ serviceOf: datasetServiceOf(ds) });
  await vb.fit(windowStream(ds, SPEC), isTrain);
  const out = new Map<number, EvidenceRow[]>();
  for await (const slice of windowStream(ds, SPEC)) out.set(slice.window.start, vb.transform(slice).evidence ?? []);
  return out;
}

const row = (rows: EvidenceRow[] | undefined, entity: string, pod?: string) => rows?.find((r) => r.entity === entity && r.pod === pod);
const feat = (rows: EvidenceRow[] | undefined, entity: string, name: string, pod?: string) => row(rows, entity, pod)?.features[F[name]] ?? NaN;

test('evidence: an edge delay shows at the callee, a vanished template at its service, a CPU jump at its pod', async () => {
  const ev = await evidenceByWindow(system());
  const inFault = ev.get(FAULT_START)!; // window [fault start, +5 min): all inside the fault
  const normal = ev.get(FAULT_START - 20 * MIN)!;
  assert.ok(inFault && normal);
  // edge gap: into c (from a and from b) far above normal; b (called by a) unchanged
  assert.ok(feat(inFault, 'c', 'edge_in_dev_median') > 10, `c edge dev ${feat(inFault, 'c', 'edge_in_dev_median')}`);
  assert.ok(feat(inFault, 'c', 'edge_in_dev_min') > 10, 'every edge into c moves');
  assert.ok(Math.abs(feat(inFault, 'b', 'edge_in_dev_median')) < 3, `b edge dev ${feat(inFault, 'b', 'edge_in_dev_median')}`);
  assert.ok(Math.abs(feat(normal, 'c', 'edge_in_dev_median')) < 3);
  assert.ok(feat(inFault, 'c', 'edge_in_gap_p50_logms') > Math.log1p(500));
  // per pod: c's pod carries it too
  assert.ok(feat(inFault, 'c', 'edge_in_dev_median', 'c-1') > 10);
  // b is the caller of the slow edge: its outgoing edges deviate (it is not where they end)
  assert.ok(feat(inFault, 'b', 'edge_out_dev_median') > 10);
  // the vanished template: at c, negative t, one vanished; b's and normal c's stay calm
  assert.ok(feat(inFault, 'c', 'logt_t_min') < -10, `c t ${feat(inFault, 'c', 'logt_t_min')}`);
  assert.ok(feat(inFault, 'c', 'logt_vanished_log') >= Math.log1p(1));
  assert.ok(Math.abs(feat(inFault, 'b', 'logt_t_min')) < 3);
  assert.ok(Math.abs(feat(normal, 'c', 'logt_t_min')) < 3);
  assert.match(row(inFault, 'c')!.items, /vanishes: c step two/);
  // the CPU jump: pod b-2's own-history z, not b-1's; the service row takes its worst pod
  const b2 = feat(inFault, 'b', 'res_cpu_own_z', 'b-2');
  assert.ok(b2 > 6, `b-2 cpu z ${b2}`);
  assert.ok(Math.abs(feat(inFault, 'b', 'res_cpu_own_z', 'b-1')) < 3);
  assert.equal(feat(inFault, 'b', 'res_cpu_own_z'), b2);
  assert.ok(Math.abs(feat(inFault, 'c', 'res_cpu_own_z', 'c-1')) < 3);
  assert.ok(feat(inFault, 'b', 'res_cpu_global_z', 'b-2') > 6);
  // logs without span ids: per-service template rates
  assert.ok(Number.isFinite(feat(normal, 'a', 'lograte_z_max')));
});

test('evidence: a metrics-only dataset gets NaN span and log evidence, resource evidence still', async () => {
  const ev = await evidenceByWindow(system({ traces: false, logs: false }));
  const rows = ev.get(FAULT_START)!;
  assert.ok(rows.length > 0);
  for (const r of rows) {
    for (const n of EVIDENCE_FEATURES.filter((x) => !x.startsWith('res_'))) assert.ok(Number.isNaN(r.features[F[n]]), `${r.entity} ${n}`);
  }
  assert.ok(feat(rows, 'b', 'res_cpu_own_z', 'b-2') > 6);
});

test('evidence: traces without logs or metrics still give edge evidence', async () => {
  const ev = await evidenceByWindow(system({ metrics: false, logs: false }));
  const rows = ev.get(FAULT_START)!;
  assert.ok(feat(rows, 'c', 'edge_in_dev_median') > 10);
  assert.ok(Number.isNaN(feat(rows, 'c', 'logt_t_min')));
  assert.ok(Number.isNaN(feat(rows, 'c', 'res_own_z_max')));
});

test('evidence: references are saved with the views state and give the same rows', async () => {
  const ds = system();
  const vb = new ViewBuilder({ serviceOf: datasetServiceOf(ds) });
  await vb.fit(windowStream(ds, SPEC), isTrain);
  const state = JSON.parse(JSON.stringify(vb.toJSON()));
  assert.equal(state.evidence.version, EVIDENCE_VERSION);
  assert.ok(state.evidence.edges.length >= 3);
  const back = ViewBuilder.fromJSON(state, { serviceOf: datasetServiceOf(ds) });
  const a: EvidenceRow[][] = [];
  const b: EvidenceRow[][] = [];
  for await (const slice of windowStream(ds, SPEC, { range: { start: FAULT_START - 40 * MIN, end: FAULT_END + 5 * MIN } })) {
    a.push(vb.transform(slice).evidence ?? []);
    b.push(back.transform(slice).evidence ?? []);
  }
  assert.deepEqual(b, a);
  // a state without evidence (saved before it) still loads: no reference, NaN deviations
  delete state.evidence;
  const old = ViewBuilder.fromJSON(state, { serviceOf: datasetServiceOf(ds) });
  const slice = (await windowStream(ds, SPEC, { range: { start: FAULT_START, end: FAULT_START + 5 * MIN } })[Symbol.asyncIterator]().next()).value;
  assert.ok(Number.isNaN(feat(old.transform(slice).evidence, 'c', 'edge_in_dev_median')));
});

test('evidence: encode writes the evidence companion, which round-trips', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-evidence-'));
  try {
    const ds = system();
    const out = join(dir, 'views.arrow');
    const seen: { entity: string; pod?: string; windowStart: number; features: Float32Array }[] = [];
    const r = await encodeDataset(ds, { spec: SPEC, out, fitFilter: isTrain, threads: false, onEvidence: (rows) => seen.push(...rows) });
    assert.equal(r.evidencePath, evidencePath(out));
    assert.ok(existsSync(join(dir, 'views.evidence.arrow')));
    assert.equal(r.evidenceRows, seen.length);
    const main = await readColumnar(out);
    assert.equal(main.schema.metadata.get('runtimeslicer.format_version'), '2');
    assert.equal(main.schema.metadata.get('runtimeslicer.evidence_version'), String(EVIDENCE_VERSION));
    const { table, layout } = await readEvidence(r.evidencePath!);
    assert.deepEqual(layout, EVIDENCE_FEATURES);
    assert.equal(table.numRows, seen.length);
    const feats = table.getChild('features')!;
    const pods = table.getChild('pod')!;
    const ents = table.getChild('entity')!;
    const starts = table.getChild('window_start')!;
    for (let i = 0; i < table.numRows; i++) {
      assert.equal(ents.get(i), seen[i].entity);
      assert.equal(pods.get(i) ?? undefined, seen[i].pod);
      assert.equal(Number(starts.get(i)), seen[i].windowStart);
      const f = feats.get(i)!.toArray() as Float32Array;
      assert.equal(f.length, EVIDENCE_FEATURES.length);
      for (let k = 0; k < f.length; k++) assert.ok(Object.is(f[k], seen[i].features[k]) || (Number.isNaN(f[k]) && Number.isNaN(seen[i].features[k])), `row ${i} feature ${k}`);
    }
    // the fault window's c row in the file
    const k = seen.findIndex((x) => x.entity === 'c' && x.pod === undefined && x.windowStart === FAULT_START);
    assert.ok(k >= 0 && (feats.get(k)!.toArray() as Float32Array)[F.edge_in_dev_median] > 10);
    // without evidence: no companion, the main file as before
    const out2 = join(dir, 'plain.arrow');
    const r2 = await encodeDataset(ds, { spec: SPEC, out: out2, fitFilter: isTrain, threads: false, evidence: false });
    assert.equal(r2.evidencePath, undefined);
    assert.ok(!existsSync(join(dir, 'plain.evidence.arrow')));
    await assert.rejects(readEvidence(out2), /not an evidence file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const NEZHA = join(process.env.RS_DATASETS ?? '/work/shared/datasets', 'nezha-trainticket');

test('evidence on nezha-trainticket: rows for services and pods, finite edge deviations', { skip: !existsSync(NEZHA) && `no dataset at ${NEZHA}` }, async () => {
  const ds = await loadDataset(NEZHA);
  let rows = 0;
  let podRows = 0;
  let edgeDevs = 0;
  let logT = 0;
  let res = 0;
  // one day's first 6 hours keep this short
  const start = ds.timeRange.start;
  await encodeDataset(ds, {
    spec: SPEC,
    range: { start, end: start + 6 * 60 * MIN },
    onEvidence: (rs) => {
      for (const r of rs) {
        rows++;
        if (r.pod) podRows++;
        if (Number.isFinite(r.features[F.edge_in_dev_median])) edgeDevs++;
        if (Number.isFinite(r.features[F.logt_t_min])) logT++;
        if (Number.isFinite(r.features[F.res_own_z_max])) res++;
      }
    },
  });
  assert.ok(rows > 0 && podRows > 0 && res > 0, `${rows} rows, ${podRows} pod rows, ${res} with resources`);
  console.log(`nezha 6 h: ${rows} evidence rows (${podRows} pods), edge deviations ${edgeDevs}, log-template t ${logT}, resources ${res}`);
});

test("evidence: the views' rolling resource deviations are the resource family's", async () => {
  const ds = system({ traces: false, logs: false });
  const store = new MetricStore();
  for await (const b of ds.metrics()) store.add(b);
  store.seal();
  const hist = new ResourceHistory();
  const fam = resourceFamily();
  const serviceOf = datasetServiceOf(ds);
  let compared = 0;
  for await (const slice of windowStream(ds, SPEC, { modalities: ['metrics'] })) {
    hist.add(slice.metrics, slice.window);
    const mine = hist.deviations(slice.window, serviceOf, () => undefined, true);
    const theirs = fam.summarize({ range: slice.window, spans: [], logs: [], metrics: store, serviceOf });
    assert.equal(mine.size, theirs?.pods.size ?? 0);
    for (const [pod, p] of theirs?.pods ?? []) {
      for (const [name, d] of p.devs) {
        assert.ok(Math.abs(mine.get(pod)!.own!.get(name)! - d) <= 1e-9 * Math.max(1, Math.abs(d)), `${pod} ${name}: ${mine.get(pod)!.own!.get(name)} vs ${d}`);
        compared++;
      }
    }
  }
  assert.ok(compared > 1000);
});

test('evidence: a Nezha export gives the same evidence with and without the log thread', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'rs-evidence-nezha-'));
  try {
    const { trainEnd } = writeNezhaFixture(join(dir, 'nezha'));
    const fitFilter = (w: { end: number }) => w.end <= trainEnd;
    const runOnce = async (threads: boolean) => {
      const rows: { windowIndex: number; entity: string; pod?: string; features: Float32Array; items: string }[] = [];
      const r = await encodeDataset(await loadDataset(join(dir, 'nezha')), { spec: SPEC, fitFilter, threads, backboneSpec: 'hash:dim=32', onEvidence: (x) => rows.push(...x) });
      return { rows, state: JSON.stringify(r.builder.toJSON()), threaded: r.timings.threaded };
    };
    const a = await runOnce(true);
    const b = await runOnce(false);
    assert.ok(a.threaded.includes('logs'));
    assert.ok(a.rows.some((r) => Number.isFinite(r.features[F.lograte_z_max])), 'log evidence from the thread');
    assert.equal(a.rows.length, b.rows.length);
    for (let i = 0; i < a.rows.length; i++) assert.deepEqual(a.rows[i], b.rows[i], `row ${i}`);
    assert.equal(a.state, b.state);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('evidence: a template counts as appeared only where its own t is evidence, not for one stray line', async () => {
  const ev = await evidenceByWindow(system({ stray: true }));
  // the window holding the one stray line at b: no appearance counted, its t small
  const strayWin = ev.get(STRAY_AT - 2 * MIN)!;
  assert.ok(Number.isFinite(feat(strayWin, 'b', 'logt_appeared_log')));
  assert.equal(feat(strayWin, 'b', 'logt_appeared_log'), 0);
  assert.ok(feat(strayWin, 'b', 'logt_t_max') < 3, `stray t ${feat(strayWin, 'b', 'logt_t_max')}`);
  // a line on every span of c in the fault appears, and is counted
  const inFault = ev.get(FAULT_START)!;
  assert.ok(feat(inFault, 'c', 'logt_appeared_log') >= Math.log1p(1), `c appeared ${feat(inFault, 'c', 'logt_appeared_log')}`);
});
