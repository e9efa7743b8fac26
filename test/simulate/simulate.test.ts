import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAULT_TYPES, REGIMES, createSimulation } from '../../src/simulate/index.js';
import type { Regime, RegimeInterval } from '../../src/simulate/index.js';
import { UserError, serviceOfPod } from '../../src/telemetry/index.js';
import type { Span } from '../../src/telemetry/index.js';
import { between, collect, mean } from './helpers.js';

const MIN = 60_000;

// One run with every fault type once, shared by the tests that look at faults.
const all = collect({ hours: 2, seed: 7, faults: FAULT_TYPES.length });
const labelOf = (type: string) => {
  const l = all.sim.labels.find((x) => x.type === type);
  assert.ok(l, `no ${type} fault`);
  return l;
};
const inAnyFault = (t: number) => all.sim.labels.some((l) => t >= l.start - 2 * MIN && t < l.end + 3 * MIN);

test('topology: a dozen services, 1-3 pods each with k8s names, pods on nodes', () => {
  const ents = all.sim.entities;
  const services = ents.filter((e) => e.kind === 'service');
  const pods = ents.filter((e) => e.kind === 'pod');
  const nodes = new Set(ents.filter((e) => e.kind === 'node').map((e) => e.id));
  assert.equal(services.length, 12);
  assert.ok(nodes.size >= 3);
  for (const s of services) {
    const n = pods.filter((p) => p.service === s.id).length;
    assert.ok(n >= 1 && n <= 3, `${s.id}: ${n} pods`);
  }
  for (const p of pods) {
    assert.match(p.id, /^[a-z-]+-[a-z0-9]{9,10}-[a-z0-9]{5}$/);
    assert.equal(serviceOfPod(p.id), p.service);
    assert.ok(p.node && nodes.has(p.node), p.id);
  }
});

test('faults: count and types honoured, 3-10 min, non-overlapping, on pods of the right service', () => {
  const labels = all.sim.labels;
  assert.equal(labels.length, FAULT_TYPES.length);
  assert.deepEqual(labels.map((l) => l.type).sort(), [...FAULT_TYPES].sort());
  const pods = new Map(all.sim.entities.filter((e) => e.kind === 'pod').map((e) => [e.id, e]));
  const sorted = [...labels].sort((a, b) => a.start - b.start);
  for (let i = 0; i < sorted.length; i++) {
    const l = sorted[i];
    assert.ok(l.end - l.start >= 3 * MIN && l.end - l.start <= 10 * MIN, `${l.id} lasts ${(l.end - l.start) / MIN} min`);
    assert.ok(l.start >= all.sim.start && l.end <= all.sim.end);
    if (i > 0) assert.ok(l.start >= sorted[i - 1].end, `${l.id} overlaps ${sorted[i - 1].id}`);
    assert.equal(l.level, 'pod');
    assert.equal(pods.get(l.rootCause)?.service, l.rootCauseService);
    assert.notEqual(l.rootCauseService, 'loadgenerator');
  }
  assert.equal(new Set(labels.map((l) => l.id)).size, labels.length);

  const many = createSimulation({ hours: 6, seed: 3, faults: 20, faultTypes: ['pod-kill', 'packet-loss'] }).labels;
  assert.equal(many.length, 20);
  assert.deepEqual([...new Set(many.map((l) => l.type))].sort(), ['packet-loss', 'pod-kill']);
  assert.equal(many.filter((l) => l.type === 'pod-kill').length, 10);
});

test('options are checked: too many faults, bad numbers, unknown fault type', () => {
  assert.throws(() => createSimulation({ hours: 1, seed: 1, faults: 30 }), (e: unknown) => e instanceof UserError && /too many faults/.test(e.message));
  assert.throws(() => createSimulation({ hours: 0, seed: 1, faults: 1 }), UserError);
  assert.throws(() => createSimulation({ hours: 1, seed: -1, faults: 1 }), UserError);
  assert.throws(() => createSimulation({ hours: 1, seed: 1, faults: 1, faultTypes: ['disk-full' as never] }), UserError);
  assert.throws(
    () => createSimulation({ hours: 1, seed: 1, faults: 0, regimes: [{ start: 0, end: 1, regime: 'low' }] }),
    (e: unknown) => e instanceof UserError && /cover/.test(e.message),
  );
});

test('same seed, same batches; another seed, other data', () => {
  const digest = (seed: number) => {
    const sim = createSimulation({ hours: 0.5, seed, faults: 1 });
    const parts: string[] = [];
    for (const b of sim.batches()) {
      parts.push(JSON.stringify(b.spans), JSON.stringify(b.logs));
      for (const m of b.metrics) parts.push(m.entity, m.name, Array.from(m.values).join(','));
    }
    return parts.join('\n');
  };
  const a = digest(11);
  assert.equal(a, digest(11));
  assert.notEqual(a, digest(12));
});

test('traces: ids are hex of the right length, every parent exists in its trace, children end within their parents', () => {
  const byTrace = new Map<string, Map<string, Span>>();
  for (const s of all.spans) {
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    let t = byTrace.get(s.traceId);
    if (!t) byTrace.set(s.traceId, (t = new Map()));
    assert.ok(!t.has(s.spanId), 'duplicate span id');
    t.set(s.spanId, s);
  }
  assert.equal(byTrace.size, all.sim.counts.traces);
  let roots = 0;
  let children = 0;
  let within = 0;
  for (const spans of byTrace.values()) {
    for (const s of spans.values()) {
      if (s.parentId === undefined) {
        roots++;
        assert.equal(s.service, 'loadgenerator');
        continue;
      }
      const p = spans.get(s.parentId);
      assert.ok(p, `parent ${s.parentId} missing`);
      assert.ok(s.start >= p.start, 'child starts before its parent');
      if (s.start + s.duration <= p.start + p.duration + 1e-6) within++;
      children++;
    }
  }
  assert.equal(roots, byTrace.size);
  assert.ok(children > roots * 5, 'traces should fan out along the call graph');
  // Only calls cut short by a deadline outlive their caller.
  assert.ok(within > children * 0.99, `${children - within} of ${children} children end after their parent`);
  // 2 h: a few to a few dozen traces per minute per entry point
  const perMin = byTrace.size / 120;
  assert.ok(perMin > 10 && perMin < 300, `${perMin} traces/min`);
  // Errors exist (faults) but are a minority.
  const errs = all.spans.filter((s) => s.status === 'error').length;
  assert.ok(errs > 0 && errs < all.spans.length * 0.05, `${errs} error spans`);
});

test('logs: reference existing traces and spans of their own pod; severities follow errors', () => {
  const spans = new Map(all.spans.map((s) => [s.spanId, s]));
  const traces = new Set(all.spans.map((s) => s.traceId));
  let traced = 0;
  for (const l of all.logs) {
    if (l.traceId === undefined) continue;
    traced++;
    assert.ok(traces.has(l.traceId), 'log references an unknown trace');
    const s = spans.get(l.spanId!);
    assert.ok(s && s.traceId === l.traceId, 'log references an unknown span');
    assert.equal(s.entity, l.entity);
  }
  assert.ok(traced > all.logs.length * 0.8);
  // Every failing span of a caller (not a leaf that failed on its own) logs an error or a warning
  // (client spans log nothing themselves: their server span does).
  const logged = new Set(all.logs.filter((l) => l.severity === 'error' || l.severity === 'warn').map((l) => l.spanId));
  const failing = all.spans.filter((s) => s.status === 'error' && s.kind !== 'client');
  const withLog = failing.filter((s) => logged.has(s.spanId)).length;
  assert.ok(withLog > failing.length * 0.6, `${withLog}/${failing.length} failing spans logged`);
  const sev = new Set(all.logs.map((l) => l.severity));
  for (const s of ['info', 'warn', 'error']) assert.ok(sev.has(s as never), s);
  for (let i = 1; i < all.logs.length; i++) if (all.logs[i].time < all.logs[i - 1].time - 11_000) assert.fail('logs far out of time order');
});

test('metrics: every pod and node series on the step grid, units set, occasional NaN', () => {
  const pods = all.sim.entities.filter((e) => e.kind === 'pod');
  const nodes = all.sim.entities.filter((e) => e.kind === 'node');
  let nan = 0;
  let total = 0;
  for (const p of pods) {
    for (const name of ['container.cpu.usage', 'container.memory.usage', 'request.rate', 'request.error_rate', 'request.latency.p50', 'request.latency.p99']) {
      const c = all.series.get(`${p.id}|${name}`);
      assert.ok(c, `${p.id} ${name}`);
      assert.equal(c.times.length, 120);
      assert.equal(c.times[1] - c.times[0], MIN);
      for (const v of c.values) {
        total++;
        if (Number.isNaN(v)) nan++;
        else assert.ok(v >= 0, `${name} ${v}`);
      }
    }
    const p50 = all.series.get(`${p.id}|request.latency.p50`)!.values;
    const p99 = all.series.get(`${p.id}|request.latency.p99`)!.values;
    assert.ok(mean(p99) > mean(p50));
  }
  for (const [name, unit] of all.units) assert.ok(unit && unit.length > 0, `${name} has no unit`);
  assert.equal(all.units.get('request.latency.p99'), 'ms');
  assert.equal(all.units.get('container.memory.usage'), 'By');
  for (const n of nodes) assert.ok(all.series.has(`${n.id}|node.cpu.utilization`) && all.series.has(`${n.id}|node.memory.utilization`));
  assert.ok(nan > 0 && nan < total * 0.05, `${nan} NaN of ${total}`);
  assert.ok(all.sim.counts.metricMissing > 0);
});

test('regimes: request rate and latency follow a given timeline', () => {
  const start = Date.UTC(2026, 0, 5, 8);
  const plan: RegimeInterval[] = [
    { start, end: start + 30 * MIN, regime: 'low' },
    { start: start + 30 * MIN, end: start + 60 * MIN, regime: 'peak' },
    { start: start + 60 * MIN, end: start + 70 * MIN, regime: 'burst' },
    { start: start + 70 * MIN, end: start + 100 * MIN, regime: 'normal' },
  ];
  const c = collect({ hours: 100 / 60, seed: 5, faults: 0, regimes: plan });
  assert.deepEqual(c.sim.regimes, plan);
  const fe = c.sim.entities.find((e) => e.kind === 'pod' && e.service === 'frontend')!.id;
  const rate = c.series.get(`${fe}|request.rate`)!;
  const lat = c.series.get(`${fe}|request.latency.p50`)!;
  // skip the first minutes of each period: transitions are smooth
  const at = (i: number, col: typeof rate) => mean(between(col, plan[i].start + 5 * MIN, plan[i].end));
  const [low, peak, burst, normal] = [0, 1, 2, 3].map((i) => at(i, rate));
  assert.ok(low < normal && normal < peak && peak < burst, `rates ${[low, normal, peak, burst]}`);
  assert.ok(peak > 3 * low);
  assert.ok(at(2, lat) > 1.5 * at(0, lat), 'latency grows near saturation');
  // traces follow the load too
  const tracesIn = (i: number) => new Set(c.spans.filter((s) => s.start >= plan[i].start + 5 * MIN && s.start < plan[i].end).map((s) => s.traceId)).size / ((plan[i].end - plan[i].start - 5 * MIN) / MIN);
  assert.ok(tracesIn(1) > 2.5 * tracesIn(0));
});

test('regimes: the seeded Markov chain yields distinct regimes whose request rates are ordered', () => {
  const c = collect({ hours: 3, seed: 3, faults: 0 });
  const reg = c.sim.regimes;
  assert.equal(reg[0].start, c.sim.start);
  assert.equal(reg[reg.length - 1].end, c.sim.end);
  for (let i = 1; i < reg.length; i++) {
    assert.equal(reg[i].start, reg[i - 1].end);
    assert.notEqual(reg[i].regime, reg[i - 1].regime);
  }
  for (const r of reg) if (r.regime === 'burst') assert.ok(r.end - r.start <= 10 * MIN, 'bursts are short');
  const seen = new Set(reg.map((r) => r.regime));
  assert.ok(seen.size >= 3, [...seen].join());
  const fe = c.sim.entities.find((e) => e.kind === 'pod' && e.service === 'frontend')!.id;
  const rate = c.series.get(`${fe}|request.rate`)!;
  const byRegime = new Map<Regime, number[]>();
  for (const r of reg) {
    const xs = between(rate, r.start + 4 * MIN, r.end);
    if (xs.length > 0) byRegime.set(r.regime, [...(byRegime.get(r.regime) ?? []), ...xs]);
  }
  const means = REGIMES.filter((r) => byRegime.has(r)).map((r) => mean(byRegime.get(r)!));
  for (let i = 1; i < means.length; i++) assert.ok(means[i] > means[i - 1] * 1.2, `regime means ${means}`);
});

test('network-delay: on the edges into the root pod; its own spans keep their duration, its callers inherit the delay', () => {
  const c = collect({ hours: 2, seed: 4, faults: 3, faultTypes: ['network-delay'] });
  const byId = new Map(c.spans.map((s) => [s.traceId + s.spanId, s]));
  for (const l of c.sim.labels) {
    const before = (s: Span) => s.start >= l.start - 15 * MIN && s.start < l.start - MIN && !c.sim.labels.some((o) => s.start >= o.start && s.start < o.end + 2 * MIN);
    const during = (s: Span) => s.start >= l.start && s.start < l.end;
    const root = c.spans.filter((s) => s.entity === l.rootCause && s.kind === 'server');
    const rb = mean(root.filter(before).map((s) => s.duration));
    const rd = mean(root.filter(during).map((s) => s.duration));
    assert.ok(rd < rb * 1.5 + 2, `${l.rootCause}: root server spans ${rb} → ${rd} ms`);
    // the edge: the caller's client span around each of the root pod's server spans
    const clients = (pred: (s: Span) => boolean) => root.filter(pred).map((s) => [byId.get(s.traceId + s.parentId), s] as const).filter((x): x is readonly [Span, Span] => x[0]?.kind === 'client');
    const gap = (pred: (s: Span) => boolean) => mean(clients(pred).map(([p, s]) => p.duration - s.duration));
    const gb = gap(before);
    const gd = gap(during);
    assert.ok(gb < 5 && gd > 50 && gd > 20 * gb, `gap into ${l.rootCause}: ${gb} → ${gd} ms`);
    // callers: the server spans that made those calls
    const callers = (pred: (s: Span) => boolean) => clients(pred).map(([p]) => byId.get(p.traceId + p.parentId)).filter((p): p is Span => p !== undefined);
    const cb = mean(callers(before).map((s) => s.duration));
    const cd = mean(callers(during).map((s) => s.duration));
    assert.ok(cd > cb + 50, `callers of ${l.rootCause}: ${cb} → ${cd} ms`);
  }
});

test('fault types each leave their own traces in the telemetry', () => {
  const span = (l: { rootCause: string; start: number; end: number }, s: Span) => s.entity === l.rootCause && s.start >= l.start && s.start < l.end;
  const metric = (pod: string, name: string, from: number, to: number) => mean(between(all.series.get(`${pod}|${name}`)!, from, to));
  const logsIn = (l: { start: number; end: number }) => all.logs.filter((x) => x.time >= l.start && x.time < l.end);

  const cpu = labelOf('cpu-contention');
  assert.ok(metric(cpu.rootCause, 'container.cpu.utilization', cpu.start, cpu.end) > 85);
  assert.ok(metric(cpu.rootCause, 'container.cpu.utilization', cpu.start, cpu.end) > 1.5 * metric(cpu.rootCause, 'container.cpu.utilization', cpu.start - 15 * MIN, cpu.start - MIN));

  const leak = labelOf('memory-leak');
  const memBefore = metric(leak.rootCause, 'container.memory.usage', leak.start - 10 * MIN, leak.start);
  // memory climbs during the fault; a pod that reaches its limit is OOM-killed and restarts
  const memPeak = Math.max(...between(all.series.get(`${leak.rootCause}|container.memory.usage`)!, leak.start, leak.end).filter((x) => !Number.isNaN(x)));
  assert.ok(memPeak > 1.5 * memBefore, `memory ${memBefore} → ${memPeak}`);
  const restartCount = (from: number, to: number) => Math.max(...between(all.series.get(`${leak.rootCause}|container.restarts`)!, from, to).filter((x) => !Number.isNaN(x)));
  const memLast = metric(leak.rootCause, 'container.memory.usage', leak.end - MIN, leak.end);
  if (memLast < memPeak / 1.5) assert.ok(restartCount(leak.start, leak.end + MIN) > restartCount(leak.start - 10 * MIN, leak.start), 'an OOM kill counts a restart');
  assert.ok(metric(leak.rootCause, 'container.memory.usage', leak.end + 2 * MIN, leak.end + 6 * MIN) < 1.2 * memBefore, 'memory back after the fault');

  // Exceptions are caught (spans succeed) and silence the lines after the throwing one.
  const exc = labelOf('code-exception');
  const excSpans = all.spans.filter((s) => span(exc, s));
  assert.ok(excSpans.length > 0 && excSpans.every((s) => s.status !== 'error'), 'caught exceptions do not fail spans');
  const perSpan = (from: number, to: number) => all.logs.filter((x) => x.entity === exc.rootCause && x.spanId !== undefined && x.time >= from && x.time < to).length / Math.max(1, all.spans.filter((s) => s.entity === exc.rootCause && s.kind === 'server' && s.start >= from && s.start < to).length);
  assert.ok(perSpan(exc.start, exc.end) < 0.9 * perSpan(exc.start - 15 * MIN, exc.start - MIN), 'fewer lines per span at the root cause');

  const wrong = labelOf('wrong-return-value');
  const wrongSpans = all.spans.filter((s) => span(wrong, s));
  assert.ok(wrongSpans.length > 0 && wrongSpans.every((s) => s.status !== 'error'), 'wrong values succeed at transport level');
  const wrongLines = logsIn(wrong).filter((x) => (x.severity === 'error' || x.severity === 'warn') && (x.entity === wrong.rootCause ? /returned unexpected/.test(x.body) : true));
  assert.ok(wrongLines.length > 0, 'the root cause or its callers log the wrong value');

  const kill = labelOf('pod-kill');
  const k0 = all.series.get(`${kill.rootCause}|request.rate`)!;
  assert.ok(Number.isNaN(between(k0, kill.start, kill.start + MIN)[0]), 'killed pod has no metrics for a minute');
  assert.ok(!Number.isNaN(between(k0, kill.start + MIN, kill.start + 2 * MIN)[0]), 'then it is back');
  const restarts = all.series.get(`${kill.rootCause}|container.restarts`)!;
  assert.equal(mean(between(restarts, kill.end, kill.end + MIN)) - mean(between(restarts, kill.start - 2 * MIN, kill.start - MIN)), 1);
  assert.ok(!all.spans.some((s) => s.entity === kill.rootCause && s.start >= kill.start + 2000 && s.start < kill.start + MIN - 1000), 'no spans while dead');
  const restartLogs = all.logs.filter((x) => x.entity === kill.rootCause && x.traceId === undefined && x.time >= kill.start + MIN && x.time < kill.start + 2 * MIN);
  assert.ok(restartLogs.length > 0, 'restart log lines');
  assert.ok(logsIn(kill).some((x) => /connection refused|Connection refused|UnableToConnect/.test(x.body)), 'callers see refused connections');

  const loss = labelOf('packet-loss');
  const byId = new Map(all.spans.map((s) => [s.traceId + s.spanId, s]));
  const callerDur = (from: number, to: number) =>
    mean(all.spans.filter((s) => s.entity === loss.rootCause && s.start >= from && s.start < to && s.parentId).map((s) => byId.get(s.traceId + s.parentId)!.duration));
  const cb = callerDur(loss.start - 15 * MIN, loss.start - MIN);
  const cd = callerDur(loss.start, loss.end);
  assert.ok(cd > cb + 15, `callers of ${loss.rootCause}: ${cb} → ${cd} ms`);
  assert.ok(metric(loss.rootCause, 'request.latency.p99', loss.start, loss.end) > 1.5 * metric(loss.rootCause, 'request.latency.p99', loss.start - 15 * MIN, loss.start - MIN));
  assert.ok(logsIn(loss).some((x) => /retrying|reset/.test(x.body)), 'loss shows as retries or resets');
  assert.ok(!inAnyFault(all.sim.start + 5 * MIN), 'the run starts fault-free');
});

test('batches() can be walked again and gives the same data and totals', () => {
  const sim = createSimulation({ hours: 0.25, seed: 9, faults: 0 });
  const walk = () => [...sim.batches()].map((b) => b.spans.length + '/' + b.logs.length + '/' + b.metrics.length).join(' ');
  const first = walk();
  const counts = { ...sim.counts };
  assert.equal(walk(), first);
  assert.deepEqual(sim.counts, counts);
  assert.ok(counts.spans > 0 && counts.logs > 0 && counts.metricPoints === counts.metricSeries * 15);
});
