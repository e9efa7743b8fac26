import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { FaultLabel, TimeRange } from '../../src/telemetry/index.js';
import { empiricalNull, normalWindows, prepareLocalizer, tailZ, welchT, maxOfNCorrection, normalUpperTail, normalUpperQuantile, MAX_CORRECTION_LEVEL, presenceZ, supportScale, supportedLocation, fullHistory, logTemplates, edgeGaps, SPAN_FAMILIES } from '../../src/tasks/index.js';
import { MIN, PODS, T0, fixture, type FixtureFaults } from './fixture.js';

// 60 minutes of normal operation, then the query window [60 min, 62 min).
const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

async function rankWith(faults: FixtureFaults) {
  const ds = memoryDataset(fixture(64, faults));
  const prep = await prepareLocalizer(ds, [QUERY]);
  return prep.rank(QUERY);
}

test('a delay on the edges into c ranks c first, not its callers', async () => {
  const r = await rankWith({ delayIntoC: QUERY });
  assert.equal(r.services[0].service, 'c');
  const top = r.services[0].evidence[0];
  assert.equal(top.family, 'edge-gap');
  assert.match(top.items[0].subject, /a → c/);
  assert.ok(top.items[0].value > 900, `gap ${top.items[0].value}`);
  // the callers inherit the delay in their own durations, yet rank below c
  const rankOf = (s: string) => r.services.findIndex((x) => x.service === s);
  assert.ok(rankOf('a') === -1 || rankOf('a') > 0);
  assert.ok(rankOf('gateway') === -1 || rankOf('gateway') > 0);
  assert.equal(r.pods[0].pod, PODS.c);
});

test('a template that vanishes at b ranks b first, with the template as evidence', async () => {
  const r = await rankWith({ silenceB: QUERY });
  assert.equal(r.services[0].service, 'b');
  const ev = r.services[0].evidence.find((e) => e.family === 'log-template');
  assert.ok(ev, 'log-template evidence');
  assert.match(ev.items[0].subject, /vanishes: .*step two finished/);
  assert.equal(ev.items[0].value, 0);
  assert.ok(ev.items[0].reference > 0.9);
});

test("a CPU jump at b's pod ranks b first (pod and service)", async () => {
  const r = await rankWith({ cpuB: QUERY });
  assert.equal(r.services[0].service, 'b');
  assert.equal(r.services[0].evidence[0].family, 'resource');
  assert.equal(r.pods[0].pod, PODS.b);
  assert.ok(r.services[0].score > 5);
});

test('a quiet window ranks nobody high', async () => {
  const r = await rankWith({});
  assert.ok(r.services.length > 0);
  assert.ok(r.services[0].score < 6, `top score ${r.services[0].score}`);
});

test('references never see labelled fault windows: changing data inside them changes nothing', async () => {
  const fault: TimeRange = { start: T0 + 20 * MIN, end: T0 + 23 * MIN };
  const labels: FaultLabel[] = [{ id: 'f1', start: fault.start, end: fault.end, rootCause: PODS.a, rootCauseService: 'a', type: 'x' }];
  // the recovery margin after a fault (1 min by default) is excluded too
  const inside: TimeRange = { start: fault.start, end: fault.end + MIN };
  const clean = memoryDataset(fixture(64, { delayIntoC: QUERY }, labels));
  const wild = memoryDataset(fixture(64, { delayIntoC: QUERY, scramble: [inside] }, labels));
  const windows = normalWindows(clean, { sliceMs: MIN, marginMs: MIN });
  assert.ok(windows.length > 40);
  assert.ok(windows.every((w) => w.end <= fault.start || w.start >= inside.end));
  const a = await prepareLocalizer(clean, [QUERY]);
  const b = await prepareLocalizer(wild, [QUERY]);
  assert.deepEqual(b.rank(QUERY), a.rank(QUERY));
  // and the scrambled data would have changed them, were it used
  const leakyNoLabels = await prepareLocalizer(memoryDataset({ ...fixture(64, { delayIntoC: QUERY, scramble: [inside] }), labels: [] }), [QUERY]);
  assert.notDeepEqual(leakyNoLabels.rank(QUERY), a.rank(QUERY));
});

test('welchT: pooled variance, vanished and new templates are finite', () => {
  const ref = { n: 100, sum: 100, sumSq: 100 };
  assert.ok(welchT({ n: 20, sum: 0, sumSq: 0 }, ref) < -4);
  assert.ok(welchT({ n: 20, sum: 20, sumSq: 20 }, { n: 100, sum: 0, sumSq: 0 }) > 5);
  assert.equal(welchT({ n: 20, sum: 20, sumSq: 20 }, ref), 0);
  // a template repeated a variable number of times per span is not extreme for a small shift
  const variable = { n: 100, sum: 300, sumSq: 300 * 3 + 100 * 25 };
  assert.ok(Math.abs(welchT({ n: 20, sum: 70, sumSq: 70 * 3.5 + 20 * 25 }, variable)) < 2);
});

test("an idle pod's tiny CPU bump does not outrank a vanished template", async () => {
  // d idles at ≈ 0.02 m: 0.3 m is 15× its own level but 1 % of what a typical pod here uses
  const r = await rankWith({ silenceB: QUERY, bumpD: QUERY });
  assert.equal(r.services[0].service, 'b');
  const d = r.services.find((s) => s.service === 'd');
  assert.ok(!d || d.score < 3, `d scored ${d?.score}`);
});

test('a starved caller does not make its callees the top suspects', async () => {
  // a's CPU is saturated and every call it makes is slow: the gaps on a → b and a → c are
  // explained by a's own state, so b and c get no edge evidence from them
  const r = await rankWith({ starveA: QUERY });
  assert.equal(r.services[0].service, 'a');
  assert.equal(r.services[0].evidence[0].family, 'resource');
  for (const callee of ['b', 'c']) {
    const s = r.services.find((x) => x.service === callee);
    const edge = s?.evidence.find((e) => e.family === 'edge-gap');
    assert.ok(!edge || edge.z < 3, `${callee} edge-gap z ${edge?.z}`);
  }
});

test("the collector's duplicated log records are not a change in records per span", async () => {
  const r = await rankWith({ duplicateLogs: QUERY });
  const b = r.services.find((s) => s.service === 'b');
  const logs = b?.evidence.find((e) => e.family === 'log-template');
  assert.ok(!logs || logs.z < 3, `b log-template z ${logs?.z}`);
});

test('welchT: a template that vanishes from a few spans is strong evidence when it was regular', () => {
  // logged exactly once per span in 1,000 reference spans, absent from all 7 spans now
  const t = welchT({ n: 7, sum: 0, sumSq: 0 }, { n: 1000, sum: 1000, sumSq: 1000 });
  assert.ok(t < -10, `t ${t}`);
  // a one-off record in a window is not extreme
  assert.ok(Math.abs(welchT({ n: 20, sum: 1, sumSq: 1 }, { n: 2000, sum: 0, sumSq: 0 })) < 2);
});

test('tailZ: the empirical tail up to the top 1 %, robust excess beyond it', () => {
  const values = Array.from({ length: 999 }, (_, i) => (i % 100) / 100);
  values.push(500); // one contaminated window as the null's maximum
  const n = empiricalNull(values, 1);
  assert.ok(Math.abs(tailZ(n, 0.5)) < 0.1);
  // beyond the 1 % anchor the excess counts, even below the contaminated maximum
  assert.ok(tailZ(n, 100) > 90);
  assert.ok(tailZ(n, 0.995) < 3.5);
});

test('max over n slices: Šidák up to the tail anchor, a constant shift beyond, identity for n = 1', () => {
  for (const z of [-3, 0, 1.5, MAX_CORRECTION_LEVEL, 4, 25]) assert.equal(maxOfNCorrection(z, 1), z);
  // the best of 5 normal slices at p = 0.01 each is a 1 − 0.99⁵ ≈ 0.049 event: z ≈ 1.65
  assert.ok(Math.abs(maxOfNCorrection(MAX_CORRECTION_LEVEL, 5) - normalUpperQuantile(1 - 0.99 ** 5)) < 1e-6);
  assert.ok(Math.abs(normalUpperTail(1.959964) - 0.025) < 1e-6);
  // continuous and increasing across the anchor; the excess beyond it is kept as is
  let prev = maxOfNCorrection(-1.01, 5);
  for (let z = -1; z <= 10; z += 0.01) {
    const c = maxOfNCorrection(z, 5);
    assert.ok(c > prev && c - prev < 0.05, `at ${z}`);
    prev = c;
  }
  assert.ok(Math.abs(maxOfNCorrection(20, 5) - maxOfNCorrection(10, 5) - 10) < 1e-9);
  // a quiet service whose metric is extreme in one slice of five does not outrank a service
  // whose template vanished in the one slice its logs exist in, when both are as extreme per slice
  for (const z of [2, 3, 6, 15]) {
    const metric = maxOfNCorrection(z, 5);
    const template = maxOfNCorrection(z, 1);
    assert.ok(metric < template, `z ${z}: metric ${metric} ≥ template ${template}`);
  }
});

test('rank corrects each family for the slices it had a value in (nothing for a one-slice query)', async () => {
  const ds = memoryDataset(fixture(67, { silenceB: { start: T0 + 60 * MIN, end: T0 + 61 * MIN } }));
  const one: TimeRange = { start: T0 + 60 * MIN, end: T0 + 61 * MIN };
  const five: TimeRange = { start: T0 + 60 * MIN, end: T0 + 65 * MIN };
  const prep = await prepareLocalizer(ds, [one, five], { sliceRule: 'best', pooling: 'none' });
  for (const s of prep.rank(one).services) for (const e of s.evidence) (assert.equal(e.slices, 1), assert.equal(e.z, e.sliceZ));
  const r = prep.rank(five);
  assert.equal(r.services[0].service, 'b');
  let many = 0;
  for (const s of r.services) for (const e of s.evidence) {
    assert.ok(e.slices >= 1 && e.slices <= 5);
    assert.equal(e.z, maxOfNCorrection(e.sliceZ, e.slices));
    assert.equal(e.correction, e.slices > 1 ? 'sidak' : 'none');
    if (e.slices > 1) (many++, assert.ok(e.z < e.sliceZ));
  }
  assert.ok(many > 0);
});

test('with enough successive normal windows, the best of n slices is calibrated against the best of n normal windows', async () => {
  // 150 minutes: ≥ 100 runs of 5 successive normal 1-minute windows per family and service
  const q: TimeRange = { start: T0 + 140 * MIN, end: T0 + 145 * MIN };
  const ds = memoryDataset(fixture(147, { silenceB: { start: q.start, end: q.start + MIN } }));
  const r = (await prepareLocalizer(ds, [q])).rank(q);
  assert.equal(r.services[0].service, 'b');
  const resource = r.services.flatMap((s) => s.evidence).filter((e) => e.family === 'resource' && e.slices === 5);
  assert.ok(resource.length > 0);
  for (const e of resource) assert.equal(e.correction, 'max-null');
});

test('presenceZ: the binomial tail of the share of spans that emit a template', () => {
  // present in every one of 531 reference spans (1.6 records each, variable), absent from all 7
  // spans now: near-impossible under the reference, whatever the count variance
  assert.ok(presenceZ(0, 7, 531, 531) > 8, `${presenceZ(0, 7, 531, 531)}`);
  // present in 96 % of 81 spans, absent from 3: about a 1-in-10⁴ event (z ≈ 3.7), not t ≈ 6
  const few = presenceZ(0, 3, 78, 81);
  assert.ok(few > 3.3 && few < 4.1, `${few}`);
  // more spans without it is more evidence; on the reference's side of its share, none
  assert.ok(presenceZ(0, 6, 78, 81) > few);
  assert.equal(presenceZ(3, 3, 78, 81), 0);
  assert.equal(presenceZ(5, 10, 50, 100), 0);
  // a new template in every span of a window (never in 100 reference spans): strong, and finite
  const appears = presenceZ(13, 13, 0, 100);
  assert.ok(appears > 8 && Number.isFinite(appears), `${appears}`);
  // far beyond double precision's smallest tail it keeps growing (no saturation at z ≈ 8.2)
  assert.ok(presenceZ(0, 2000, 2000, 2000) > presenceZ(0, 200, 2000, 2000));
  assert.ok(presenceZ(0, 200, 2000, 2000) > presenceZ(0, 20, 2000, 2000));
  // no window, no evidence
  assert.equal(presenceZ(0, 0, 10, 10), 0);
});

test('log-template: a template present in every span but repeated a variable number of times still counts when it vanishes', () => {
  const op = (n: number, counts: number[]) => {
    const present = counts.filter((c) => c > 0).length;
    const sum = counts.reduce((a, c) => a + c, 0);
    const sumSq = counts.reduce((a, c) => a + c * c, 0);
    return { service: 's', operation: 'op', n, pods: new Map(), templates: new Map(sum ? [[1, { sum, sumSq, present }]] : []) };
  };
  const refCounts = Array.from({ length: 200 }, (_, i) => 1 + (i % 3) * 2); // 1, 3, 5: always present, variable
  const ref = logTemplates.fit([{ ops: new Map([['s\top', op(200, refCounts)]]), text: new Map() }]);
  // a reference restored from a state saved without presence counts
  const older = { ops: new Map([...ref.ops].map(([k, o]) => [k, { n: o.n, templates: new Map([...o.templates].map(([t, m]) => [t, { sum: m.sum, sumSq: m.sumSq }])) }])), text: ref.text };
  const score = (counts: number[], withPresence = true) =>
    logTemplates.score({ ops: new Map([['s\top', op(counts.length, counts)]]), text: new Map() }, withPresence ? ref : older).get('s')!.score;
  const gone = Array.from({ length: 7 }, () => 0);
  const t = welchT({ n: 7, sum: 0, sumSq: 0 }, { n: 200, sum: refCounts.reduce((a, c) => a + c, 0), sumSq: refCounts.reduce((a, c) => a + c * c, 0) });
  assert.ok(Math.abs(t) < 6, `Welch t alone ${t}`);
  assert.ok(score(gone) > 8, `with presence ${score(gone)}`);
  // summaries that did not count presence (older saved states) fall back to the Welch t
  assert.ok(Math.abs(score(gone, false) - Math.abs(t)) < 1e-9);
});

test('supportScale: a median of fewer calls than the reference windows had is judged by a wider scale', () => {
  const r = supportedLocation([1, 1.1, 0.9, 1.05, 0.95], [16, 16, 16, 16, 16], 0.01);
  assert.equal(r.support, 16);
  assert.ok(Math.abs(supportScale(r, 4) - r.scale * 2) < 1e-12);
  // more calls than usual: the spread between windows remains, never a narrower scale
  assert.equal(supportScale(r, 64), r.scale);
  assert.equal(supportScale({ center: 1, scale: 0.2, n: 5 }, 3), 0.2);
});

test('edge-gap and self-time: the same slow median over 3 calls is less extreme than over the usual number', () => {
  // reference: 20 windows of 12 calls, gaps ≈ 3 ms (jittered per window)
  const edgeWin = (gaps: number[]) => new Map([['a\tb', { caller: 'a', callee: 'b', gaps, byPod: new Map([['b-1', gaps]]) }]]);
  const normal = Array.from({ length: 20 }, (_, i) => edgeWin(Array.from({ length: 12 }, (_, j) => 3 + ((i + j) % 3) * 0.5)));
  const ref = edgeGaps.fit(normal);
  assert.equal(ref.get('a\tb')!.support, 12);
  const slow = (n: number) => edgeGaps.score(edgeWin(Array.from({ length: n }, () => 8)), ref).get('b')!.score;
  assert.ok(slow(3) < slow(12), `3 calls ${slow(3)} vs 12 calls ${slow(12)}`);
  assert.ok(Math.abs(slow(3) * 2 - slow(12)) < 1e-9, 'scale × √(12/3)');
});

test('fullHistory: a window has a full metric history only if the metrics reach back the history length', () => {
  // metrics every minute over [0, 40) min, then a gap, then [100, 160) min
  const times = [...Array.from({ length: 40 }, (_, i) => T0 + i * MIN), ...Array.from({ length: 60 }, (_, i) => T0 + (100 + i) * MIN)];
  const ok = fullHistory(times, 30 * MIN, MIN);
  const at = (m: number) => ok({ start: T0 + m * MIN, end: T0 + (m + 1) * MIN });
  assert.equal(at(10), false); // 10 min after the metrics begin
  assert.equal(at(30), true);
  assert.equal(at(39), true);
  assert.equal(at(110), false); // 10 min after they resume
  assert.equal(at(130), true);
});

test('a slice without a full metric history: its resource evidence does not rank, but still explains a starved caller', async () => {
  const ds = memoryDataset(fixture(64, { starveA: QUERY }));
  const prep = await prepareLocalizer(ds, [QUERY]);
  const slices = prep.slices(QUERY);
  const full = prep.localizer.rank(slices, QUERY);
  assert.equal(full.services[0].service, 'a');
  const short = prep.localizer.rank(slices, QUERY, { resourceRanks: slices.map(() => false) });
  assert.ok(!short.families.includes('resource'));
  for (const s of short.services) assert.ok(!s.evidence.some((e) => e.family === 'resource'), s.service);
  // a's calls are still explained by its own CPU: its callees get no edge evidence from them
  for (const callee of ['b', 'c']) {
    const edge = short.services.find((x) => x.service === callee)?.evidence.find((e) => e.family === 'edge-gap');
    assert.ok(!edge || edge.z < 3, `${callee} edge-gap z ${edge?.z}`);
  }
});

test('prepareLocalizer: a query within the history length of the first metrics gets no resource evidence', async () => {
  const early: TimeRange = { start: T0 + 10 * MIN, end: T0 + 12 * MIN };
  const ds = memoryDataset(fixture(64, { cpuB: early }));
  const prep = await prepareLocalizer(ds, [early, QUERY]);
  const r = prep.rank(early);
  for (const s of r.services) assert.ok(!s.evidence.some((e) => e.family === 'resource'), s.service);
  // the same jump with a full history is evidence
  const late = memoryDataset(fixture(64, { cpuB: QUERY }));
  const r2 = (await prepareLocalizer(late, [QUERY])).rank(QUERY);
  assert.equal(r2.services[0].evidence[0].family, 'resource');
});

test("sliceRule 'stouffer' (default): a family's slices make Σ z/√n; an effect that lasts gains, a one-slice spike is diluted", async () => {
  // b's template vanishes in the first minute only; the query is five minutes
  const ds = memoryDataset(fixture(67, { silenceB: { start: T0 + 60 * MIN, end: T0 + 61 * MIN } }));
  const five: TimeRange = { start: T0 + 60 * MIN, end: T0 + 65 * MIN };
  const stouffer = (await prepareLocalizer(ds, [five], { pooling: 'none' })).rank(five);
  const best = (await prepareLocalizer(ds, [five], { sliceRule: 'best', pooling: 'none' })).rank(five);
  let seen = 0;
  for (const s of stouffer.services) for (const e of s.evidence) {
    if (e.correction === 'max-null' || e.slices === 1) continue;
    seen++;
    assert.equal(e.correction, 'stouffer');
    // weighted (√spans for the span families, else 1): z = Σ wz/√Σ w², never above √n × the best slice
    assert.ok(Math.abs(e.z - e.sumZ / Math.sqrt(e.sumW2)) < 1e-12);
    assert.ok(SPAN_FAMILIES.includes(e.family) ? e.sumW2 >= e.slices : e.sumW2 === e.slices);
    if (e.sliceZ >= 0) assert.ok(e.z <= e.sliceZ * Math.sqrt(e.slices) + 1e-9);
  }
  assert.ok(seen > 0);
  // the one-minute silence is diluted over five slices, less than under the best-slice rule
  const logZ = (r: typeof best) => r.services.find((s) => s.service === 'b')!.evidence.find((e) => e.family === 'log-template')!.z;
  assert.ok(logZ(stouffer) < logZ(best), `stouffer ${logZ(stouffer)} vs best ${logZ(best)}`);
  // a silence over the whole query keeps (or gains) its strength
  const all = memoryDataset(fixture(67, { silenceB: five }));
  const lasting = (await prepareLocalizer(all, [five])).rank(five);
  assert.equal(lasting.services[0].service, 'b');
  const lastingBest = (await prepareLocalizer(all, [five], { sliceRule: 'best' })).rank(five);
  assert.ok(logZ(lasting) > logZ(lastingBest), `lasting: stouffer ${logZ(lasting)} vs best ${logZ(lastingBest)}`);
});

test("sliceWeights 'spans' (default): a slice with few spans weighs less in Stouffer's sum than a busy one", async () => {
  // b's template vanishes over two busy minutes; the traces then thin out to a few spans a
  // minute (normal ones) for the rest of the five-minute query
  const five: TimeRange = { start: T0 + 60 * MIN, end: T0 + 65 * MIN };
  const ds = memoryDataset(fixture(67, { silenceB: { start: five.start, end: five.start + 2 * MIN }, thin: { start: five.start + 2 * MIN, end: five.end } }));
  const spans = (await prepareLocalizer(ds, [five])).rank(five);
  const equal = (await prepareLocalizer(ds, [five], { sliceWeights: 'equal' })).rank(five);
  const logs = (r: typeof spans) => r.services.find((s) => s.service === 'b')!.evidence.find((e) => e.family === 'log-template')!;
  const w = logs(spans);
  const e = logs(equal);
  // the same slices, the same per-slice z's: only the weights differ
  assert.equal(w.slices, e.slices);
  assert.ok(w.slices >= 3, `slices ${w.slices}`);
  assert.equal(w.sliceZ, e.sliceZ);
  assert.equal(e.sumW2, e.slices);
  assert.ok(w.sumW2 > w.slices);
  assert.ok(w.z > e.z, `spans ${w.z} vs equal ${e.z}`);
  assert.equal(spans.services[0].service, 'b');
});

test("a caller's inherited log evidence never outranks the callee whose edges explain it (capInherited)", async () => {
  // a delay of 40 ms: c's edge evidence is clear (z ≈ 33) but weaker than a's new WARN template (≈ 50)
  const faults: FixtureFaults = { delayIntoC: QUERY, delayIntoCMs: 40, logsAtA: { slowC: QUERY } };
  const ds = memoryDataset(fixture(64, faults));
  const on = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  const off = (await prepareLocalizer(ds, [QUERY], { capInherited: false, capFelt: false })).rank(QUERY);
  // without the cap a's new WARN template wins: the test can fail
  assert.equal(off.services[0].service, 'a');
  assert.equal(on.services[0].service, 'c');
  const a = on.services.find((s) => s.service === 'a')!;
  const logs = a.evidence.find((e) => e.family === 'log-template')!;
  assert.equal(logs.inheritedFrom?.callee, 'c');
  assert.ok(logs.inheritedFrom!.z > logs.z, `${logs.inheritedFrom!.z} > ${logs.z}`);
  assert.ok(a.score < on.services[0].score);
});

test('the inherited-evidence cap goes up every hop whose caller felt the trouble (capInherited, two hops)', async () => {
  // c is delayed; a (its caller) and the gateway (a's caller) both log new WARN lines about slow calls
  const faults: FixtureFaults = { delayIntoC: QUERY, delayIntoCMs: 40, logsAtA: { slowC: QUERY }, logsAtGateway: { slowA: QUERY } };
  const ds = memoryDataset(fixture(64, faults));
  const on = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  const off = (await prepareLocalizer(ds, [QUERY], { capInherited: false, capFelt: false })).rank(QUERY);
  // without the cap a caller's new template wins: the test can fail
  assert.notEqual(off.services[0].service, 'c');
  assert.equal(on.services[0].service, 'c');
  const gw = on.services.find((s) => s.service === 'gateway')!;
  const logs = gw.evidence.find((e) => e.family === 'log-template')!;
  // the gateway's edge into a is not a's fault (the delay is inside a's call to c), yet the
  // gateway felt it end to end: capped under c, two hops down
  assert.equal(logs.inheritedFrom?.callee, 'c');
  assert.ok(gw.score < on.services[0].score);
});

test('capInherited leaves a caller alone when no callee has significant edge evidence', async () => {
  // a logs the same WARN line although nothing is wrong downstream: its own change, kept
  const faults: FixtureFaults = { logsAtA: { slowC: QUERY } };
  const ds = memoryDataset(fixture(64, faults));
  const r = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  assert.equal(r.services[0].service, 'a');
  assert.equal(r.services[0].evidence.find((e) => e.family === 'log-template')?.inheritedFrom, undefined);
});

test("a caller's self time never outranks a callee whose calls it felt fail (capFelt)", async () => {
  // c throws at its usual latency (no edge delay to blame), and a spends 200 ms more per request
  // handling it: a's self time is the loudest change in the window
  const faults: FixtureFaults = { exceptionAtC: { range: QUERY, ms: 200 } };
  const ds = memoryDataset(fixture(64, faults));
  const on = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  const off = (await prepareLocalizer(ds, [QUERY], { capFelt: false })).rank(QUERY);
  // without the cap a's self time wins: the test can fail
  assert.equal(off.services[0].service, 'a');
  assert.equal(off.services[0].evidence[0].family, 'self-time');
  assert.equal(on.services[0].service, 'c');
  const a = on.services.find((s) => s.service === 'a')!;
  const self = a.evidence.find((e) => e.family === 'self-time')!;
  assert.equal(self.inheritedFrom?.callee, 'c');
  assert.ok(self.inheritedFrom!.z > self.z, `${self.inheritedFrom!.z} > ${self.z}`);
  assert.ok(a.score < on.services[0].score);
});

test('capFelt leaves a caller alone when its calls went as usual', async () => {
  // the same 200 ms of self time at a, nothing wrong at c: a's own change, kept
  const faults: FixtureFaults = { exceptionAtC: { range: QUERY, ms: 200 } };
  const data = fixture(64, faults);
  for (const s of data.spans) if (s.status === 'error') s.status = 'unset';
  const r = (await prepareLocalizer(memoryDataset(data), [QUERY])).rank(QUERY);
  assert.equal(r.services[0].service, 'a');
  assert.equal(r.services[0].evidence.find((e) => e.family === 'self-time')?.inheritedFrom, undefined);
});

test('capFelt leaves a starved caller alone: its calls feel slow because of itself', async () => {
  // a's pod is starved (CPU ×6, its outgoing calls 300 ms slower) and spends 200 ms more of its
  // own time per request: its self time is its own, though it felt its calls go bad
  const faults: FixtureFaults = { starveA: QUERY, exceptionAtC: { range: QUERY, ms: 200 } };
  const data = fixture(64, faults);
  for (const s of data.spans) if (s.status === 'error') s.status = 'unset';
  const r = (await prepareLocalizer(memoryDataset(data), [QUERY])).rank(QUERY);
  const a = r.services.find((s) => s.service === 'a')!;
  assert.ok(a.evidence.find((e) => e.family === 'resource')!.z > 3);
  const self = a.evidence.find((e) => e.family === 'self-time')!;
  assert.ok(self.z > 3, `self time ${self.z}`);
  assert.equal(self.inheritedFrom, undefined);
  assert.equal(r.services[0].service, 'a');
});
