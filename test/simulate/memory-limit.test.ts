import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GC_ONSET, buildModel, memoryLimit } from '../../src/simulate/model.js';
import { DAILY_SWING, REGIME_LEVEL } from '../../src/simulate/workload.js';
import { resolveTopology } from '../../src/simulate/index.js';
import { SeededRng } from '../../src/telemetry/index.js';
import { between, collect, mean } from './helpers.js';

const MiB = 1024 * 1024;
const MIN = 60_000;

test('memory limits: no pod of a built-in topology reaches garbage collection at the busiest load', () => {
  const peakLoad = REGIME_LEVEL.burst * (1 + DAILY_SWING);
  for (const topo of ['boutique', 'chain', 'mesh']) {
    for (let seed = 0; seed < 12; seed++) {
      const m = buildModel(new SeededRng(seed, 'runtimeslicer-sim').fork('topology'), resolveTopology(topo));
      for (const s of m.services) {
        let rate = 0;
        for (const o of s.ops) rate += m.ops[o].unitRate / s.pods.length;
        for (const p of s.pods) {
          const pod = m.pods[p];
          const peak = pod.memBase + s.def.memPerRps * rate * peakLoad * MiB;
          assert.ok(peak < GC_ONSET * pod.memLimit, `${topo} seed ${seed} ${pod.id}: ${(peak / MiB).toFixed(0)} MiB at a burst of a ${(pod.memLimit / MiB).toFixed(0)} MiB limit`);
        }
      }
    }
  }
});

test('memory limits: the catalog multiple stands where traffic is light, whole 16 MiB steps', () => {
  const def = { memMiB: 100, memLimitX: 2.4, memPerRps: 0.3 };
  assert.equal(memoryLimit(def, 1), 240 * MiB);
  // a hot single pod: 0.3 MiB per request/s at 200 req/s is 60 MiB at load 1, 168 MiB at a burst
  const hot = memoryLimit(def, 200);
  assert.ok(hot > 240 * MiB);
  assert.equal(hot % (16 * MiB), 0);
  assert.ok(memoryLimit(def, 400) > hot, 'grows with the traffic');
});

test('memory limits: the chain topology\'s single store pod serves a burst without failing', () => {
  const start = Date.UTC(2026, 0, 5, 13);
  const regimes = [{ start, end: start + 40 * MIN, regime: 'burst' as const }];
  const c = collect({ hours: 40 / 60, seed: 7, faults: 0, topology: 'chain', regimes, startMs: start });
  const store = c.sim.entities.filter((e) => e.kind === 'pod' && e.service === 'chain-store');
  assert.equal(store.length, 1);
  const err = mean(between(c.series.get(`${store[0].id}|request.error_rate`)!, start + 10 * MIN, start + 40 * MIN));
  assert.ok(err < 0.01, `chain-store error rate ${err} in a burst with no fault`);
  const memWarn = c.logs.filter((l) => l.entity === store[0].id && l.severity === 'warn' && /memory/i.test(l.body));
  assert.equal(memWarn.length, 0, memWarn[0]?.body);
});
