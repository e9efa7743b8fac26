import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../../src/telemetry/index.js';
import { createSimulation } from '../../src/simulate/index.js';
import { collect } from './helpers.js';

// A percentile measured over a minute's calls is as noisy as those calls are few: the same
// system at 2 requests per second shows wider minute-to-minute swings in its mesh latency than
// at the topology's 40.
const opts = { hours: 2, seed: 5, faults: 0, meshMetrics: true, regimes: [{ start: Date.UTC(2026, 0, 5), end: Date.UTC(2026, 0, 5) + 2 * 3_600_000, regime: 'normal' as const }], startMs: Date.UTC(2026, 0, 5) };
const busy = collect(opts);
const quiet = collect({ ...opts, baseRps: 2 });

/** median over the mesh series of the median relative change from one minute to the next */
function swing(c: ReturnType<typeof collect>): number {
  const med = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s[s.length >> 1];
  };
  const per: number[] = [];
  for (const [k, { values }] of c.series) {
    if (!k.includes('mesh.request.duration.p50')) continue;
    const ch: number[] = [];
    for (let i = 1; i < values.length; i++) if (values[i - 1] > 0 && values[i] > 0) ch.push(Math.abs(values[i] / values[i - 1] - 1));
    if (ch.length > 30) per.push(med(ch));
  }
  assert.ok(per.length > 10, `${per.length} mesh series`);
  return med(per);
}

test('mesh latency: fewer calls, noisier percentiles', () => {
  const a = swing(busy);
  const b = swing(quiet);
  assert.ok(a < 0.06, `busy: median swing ${a.toFixed(3)}`);
  assert.ok(b > 1.5 * a, `quiet ${b.toFixed(3)} against busy ${a.toFixed(3)}`);
});

test('baseRps: out of range is a user error', () => {
  assert.throws(() => createSimulation({ hours: 1, seed: 1, faults: 0, baseRps: 0 }), UserError);
  assert.throws(() => createSimulation({ hours: 1, seed: 1, faults: 0, baseRps: Number.NaN }), UserError);
});
