/**
 * Lossy callers (docs/localize.md "Lossy callers"): a caller whose own incoming calls go bad
 * keeps its evidence though it felt its calls into a callee go bad (`ownEdgeExempt`), and how a
 * caller's felt z's of several slices make the query's (`feltZ`, `feltRule`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { memoryDataset } from '../../src/sources/memory/index.js';
import type { TimeRange } from '../../src/telemetry/index.js';
import { normalUpperQuantile, normalUpperTail, prepareLocalizer } from '../../src/tasks/index.js';
import { feltZ } from '../../src/tasks/localize/index.js';
import { MIN, T0, fixture } from './fixture.js';

const QUERY: TimeRange = { start: T0 + 60 * MIN, end: T0 + 62 * MIN };

test("capFelt leaves a caller alone whose own incoming edge is as bad as what it felt (ownEdgeExempt)", async () => {
  // c throws (a felt its calls fail) and a spends 200 ms more per request; in the first minute
  // the calls into a also wait 1 s between the gateway and a (a's own ingress). In that minute
  // the call-outcome family credits a's failing calls to its own network (no felt view); in
  // the second it cannot, and a's felt view of c would cap its self time but for its own edge
  const data = fixture(64, { exceptionAtC: { range: QUERY, ms: 200 } });
  const byId = new Map(data.spans.map((s) => [s.spanId, s]));
  for (const s of data.spans) {
    const p = s.parentId ? byId.get(s.parentId) : undefined;
    if (s.service === 'a' && p?.service === 'gateway' && s.start >= QUERY.start && s.start < QUERY.start + MIN) p.duration += 1000;
  }
  const ds = memoryDataset(data);
  const on = (await prepareLocalizer(ds, [QUERY])).rank(QUERY);
  const off = (await prepareLocalizer(ds, [QUERY], { ownEdgeExempt: false })).rank(QUERY);
  const self = (r: typeof on) => r.services.find((s) => s.service === 'a')!.evidence.find((e) => e.family === 'self-time')!;
  const edge = on.services.find((s) => s.service === 'a')!.evidence.find((e) => e.family === 'edge-gap')!;
  assert.ok(edge.z > 3, `a's edge ${edge.z}`);
  // without the exemption the cap files a's self time under c: the test can fail
  assert.equal(self(off).inheritedFrom?.callee, 'c');
  assert.equal(self(on).inheritedFrom, undefined);
  assert.ok(self(on).z > self(off).z);
  assert.equal(on.services[0].service, 'a');
});

test("feltZ: the worst slice, Stouffer, or the stronger of the two at half the level ('either')", () => {
  const sharp = { max: 4, sum: 4 - 3 * 0.2, n: 4 }; // one bad minute of four
  const lasting = { max: 2.7, sum: 4 * 2.6, n: 4 }; // a few slow calls every minute
  assert.equal(feltZ(sharp, 'max'), 4);
  assert.ok(Math.abs(feltZ(lasting, 'stouffer') - 5.2) < 1e-9);
  // 'either' never exceeds the stronger test and is its Bonferroni pair-corrected z
  for (const f of [sharp, lasting]) {
    const e = feltZ(f, 'either');
    const best = Math.max(feltZ(f, 'max'), feltZ(f, 'stouffer'));
    assert.ok(e < best, `${e} < ${best}`);
    assert.ok(Math.abs(normalUpperTail(e) - 2 * normalUpperTail(best)) < 1e-6);
  }
  // at the caps' level with seven callees felt through, both kinds clear it under 'either';
  // the worst slice misses the lasting one, Stouffer the sharp one
  const level = normalUpperQuantile(0.01 / 7);
  assert.ok(feltZ(sharp, 'either') > level && feltZ(lasting, 'either') > level);
  assert.ok(feltZ(lasting, 'max') < level);
  assert.ok(feltZ(sharp, 'stouffer') < level);
});
