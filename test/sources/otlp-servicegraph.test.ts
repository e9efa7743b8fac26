/**
 * The OpenTelemetry Collector's service graph connector, end to end through the OTLP reader: its
 * cumulative histograms of client and server span durations per (client, server) pair, in
 * seconds, on the collector's resource, with no span in the export. A delay on the calls into one
 * service shows as the gap between the two means, and the label-free localizer ranks that
 * service first from them alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOtlp } from '../../src/sources/otlp/index.js';
import { meshFirsts } from '../helpers/mesh-localize.js';
import { seededRandom } from '../helpers/rng.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 3, 9);
const MINUTES = 90;
const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();
const attr = (key: string, v: string) => ({ key, value: { stringValue: v } });
/** (client, server, server-side ms per call, calls per minute) */
const EDGES: [string, string, number, number][] = [
  ['frontend', 'checkout', 12, 60],
  ['checkout', 'payment', 6, 40],
  ['checkout', 'shipping', 4, 40],
  ['frontend', 'catalog', 3, 120],
];
/** a 250 ms delay on the calls into each of these services, for minutes [start, start + 4) */
const FAULTS = [
  { service: 'payment', start: 40 },
  { service: 'catalog', start: 70 },
];

function exportLines(): string {
  const rnd = seededRandom(11);
  const totals = new Map<string, { count: number; client: number; server: number }>();
  const lines: string[] = [];
  for (let i = 0; i < MINUTES; i++) {
    const t = T0 + (i + 1) * MIN;
    const points: { name: string; attrs: ReturnType<typeof attr>[]; count: number; sum: number }[] = [];
    for (const [c, s, ms, calls] of EDGES) {
      const k = `${c}>${s}`;
      const tot = totals.get(k) ?? { count: 0, client: 0, server: 0 };
      const delayed = FAULTS.some((f) => f.service === s && i >= f.start && i < f.start + 4);
      for (let n = 0; n < calls; n++) {
        const server = ms * (0.8 + 0.4 * rnd());
        tot.server += server / 1000;
        tot.client += (server + 1 + rnd() + (delayed ? 250 : 0)) / 1000;
      }
      tot.count += calls;
      totals.set(k, tot);
      const a = [attr('client', c), attr('connection_type', ''), attr('server', s)];
      points.push({ name: 'traces_service_graph_request_client', attrs: a, count: tot.count, sum: tot.client });
      points.push({ name: 'traces_service_graph_request_server', attrs: a, count: tot.count, sum: tot.server });
    }
    const byName = new Map<string, typeof points>();
    for (const p of points) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
    lines.push(
      JSON.stringify({
        resourceMetrics: [
          {
            resource: { attributes: [attr('service.name', 'otelcol-contrib')] },
            scopeMetrics: [
              {
                scope: { name: 'servicegraph' },
                metrics: [...byName].map(([name, ps]) => ({
                  name,
                  unit: 's',
                  histogram: {
                    aggregationTemporality: 2,
                    dataPoints: ps.map((p) => ({ attributes: p.attrs, startTimeUnixNano: ns(T0), timeUnixNano: ns(t), count: String(p.count), sum: p.sum, bucketCounts: [], explicitBounds: [] })),
                  },
                })),
              },
            ],
          },
        ],
      }),
    );
  }
  return lines.join('\n') + '\n';
}

test('service graph metrics alone: network delays are localized from the client − server means', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rs-servicegraph-'));
  try {
    await writeFile(join(dir, 'metrics.jsonl'), exportLines());
    const faults = FAULTS.map((f, i) => ({ id: `f${i}`, start: T0 + f.start * MIN, end: T0 + (f.start + 4) * MIN, rootCause: f.service, rootCauseService: f.service, type: 'network-delay' }));
    await writeFile(join(dir, 'faults.json'), JSON.stringify({ version: 1, faults }));
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.problems.items, []);
    assert.equal(ds.labels.length, FAULTS.length);
    const first = await meshFirsts(ds, (r) => {
      const e = r.services[0].evidence[0].items[0];
      // the gap in ms (the series are in seconds): ≈ 250 ms added to ≈ 1.5 ms
      assert.ok(e.value > 200 && e.value < 300 && e.reference < 5, `${e.subject}: ${e.value} vs ${e.reference}`);
    });
    assert.equal(first, FAULTS.length);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
