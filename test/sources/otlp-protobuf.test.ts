/**
 * OTLP protobuf request files (.binpb/.pb/.protobuf[.gz]): the collector file exporter's
 * length-delimited layout and bare messages, read into exactly what the same requests give as
 * OTLP/JSON; which request a file holds; damaged files reported, the readable rest kept.
 * Messages are encoded here with the official generated OTLP types (the package the reader
 * decodes with), from OTLP/JSON objects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { detectOtlp, openOtlp } from '../../src/sources/otlp/index.js';
import type { OtlpDataset } from '../../src/sources/otlp/index.js';
import { loadDataset } from '../../src/sources/detect.js';
import { decodeOtlpMessage, readProtobufRequests, signalFromName } from '../../src/sources/otlp/protobuf.js';
import type { OtlpSignal } from '../../src/sources/otlp/protobuf.js';
import { UserError } from '../../src/telemetry/index.js';

type Json = Record<string, unknown>;

interface MessageType {
  fromObject(o: Json): object;
  encode(m: object): { finish(): Uint8Array };
}
const root = createRequire(import.meta.url)('@opentelemetry/otlp-transformer/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: Record<'trace' | 'metrics' | 'logs', { v1: Record<string, MessageType> }> } };
};
const C = root.opentelemetry.proto.collector;
const TYPES: Record<OtlpSignal, MessageType> = {
  traces: C.trace.v1.ExportTraceServiceRequest,
  metrics: C.metrics.v1.ExportMetricsServiceRequest,
  logs: C.logs.v1.ExportLogsServiceRequest,
};

/** OTLP/JSON ids are hex; protobufjs' fromObject wants bytes as base64. */
function idsToBase64(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(idsToBase64);
  if (typeof x !== 'object' || x === null) return x;
  const out: Json = {};
  for (const [k, v] of Object.entries(x)) {
    out[k] = (k === 'traceId' || k === 'spanId' || k === 'parentSpanId') && typeof v === 'string' ? Buffer.from(v, 'hex').toString('base64') : idsToBase64(v);
  }
  return out;
}

function encode(signal: OtlpSignal, req: Json): Buffer {
  const t = TYPES[signal];
  return Buffer.from(t.encode(t.fromObject(idsToBase64(req) as Json)).finish());
}

function delimited(...msgs: Buffer[]): Buffer {
  return Buffer.concat(
    msgs.flatMap((m) => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(m.length, 0);
      return [p, m];
    }),
  );
}

const NS = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const T0 = Date.UTC(2026, 1, 1, 8, 0, 0);
const resource = (service: string) => ({ attributes: [{ key: 'service.name', value: { stringValue: service } }] });
const TRACE = '5b8efff798038103d269b633813fc60c';

function tracesReq(k: number): Json {
  const t = T0 + k * 60_000;
  return {
    resourceSpans: [
      {
        resource: resource('frontend'),
        scopeSpans: [
          {
            scope: { name: 'shop' },
            spans: [
              { traceId: TRACE, spanId: `00000000000000${k}1`, name: 'GET /', kind: 2, startTimeUnixNano: NS(t), endTimeUnixNano: NS(t + 30), attributes: [{ key: 'http.status_code', value: { intValue: '200' } }] },
              {
                traceId: TRACE,
                spanId: `00000000000000${k}2`,
                parentSpanId: `00000000000000${k}1`,
                name: 'POST /pay',
                kind: 3,
                startTimeUnixNano: NS(t + 5),
                endTimeUnixNano: NS(t + 25),
                status: { code: 2, message: 'boom' },
                events: [{ name: 'exception', timeUnixNano: NS(t + 20), attributes: [{ key: 'exception.type', value: { stringValue: 'Err' } }, { key: 'exception.message', value: { stringValue: 'bad card' } }] }],
              },
            ],
          },
        ],
      },
    ],
  };
}

function metricsReq(k: number): Json {
  const t = T0 + (k + 1) * 60_000;
  return {
    resourceMetrics: [
      {
        resource: resource('payment'),
        scopeMetrics: [
          {
            metrics: [
              { name: 'cpu', unit: '1', gauge: { dataPoints: [{ timeUnixNano: NS(t), asDouble: 0.25 + k / 10 }] } },
              { name: 'requests', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ startTimeUnixNano: NS(T0), timeUnixNano: NS(t), asInt: String(10 * (k + 1)) }] } },
              {
                name: 'latency',
                unit: 'ms',
                histogram: {
                  aggregationTemporality: 2,
                  dataPoints: [{ startTimeUnixNano: NS(T0), timeUnixNano: NS(t), count: String(4 * (k + 1)), sum: 100 * (k + 1), bucketCounts: ['1', String(4 * (k + 1) - 1)], explicitBounds: [10], min: 5, max: 40 }],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

function logsReq(k: number): Json {
  const t = T0 + k * 60_000;
  return {
    resourceLogs: [
      {
        resource: resource('frontend'),
        scopeLogs: [
          {
            logRecords: [
              { timeUnixNano: NS(t + 1), severityNumber: 9, severityText: 'INFO', body: { stringValue: `request ${k}` }, traceId: TRACE, spanId: `00000000000000${k}1` },
              { observedTimeUnixNano: NS(t + 2), severityNumber: 17, body: { stringValue: 'payment failed' }, attributes: [{ key: 'raw', value: { bytesValue: 'AAEC' } }] },
            ],
          },
        ],
      },
    ],
  };
}

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rs-otlp-pb-'));
}

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

async function contents(ds: OtlpDataset): Promise<Json> {
  return { spans: await all(ds.spans()), logs: await all(ds.logs()), metrics: await all(ds.metrics()), entities: ds.entities, timeRange: ds.timeRange };
}

const problemsOf = (ds: OtlpDataset) => ds.problems.items.map((p) => `${p.file}:${p.line} [${p.kind}] ${p.reason}`);

test('protobuf files read exactly like the same requests in OTLP/JSON (delimited, bare, gzip)', async () => {
  const jsonDir = await tmp();
  const pbDir = await tmp();
  try {
    const reqs = { traces: [0, 1, 2].map(tracesReq), metrics: [0, 1, 2].map(metricsReq), logs: [0, 1].map(logsReq) };
    for (const [sig, list] of Object.entries(reqs)) await writeFile(join(jsonDir, `${sig}.jsonl`), list.map((r) => JSON.stringify(r)).join('\n') + '\n');
    // the collector file exporter's layout for traces; a bare message per file for metrics; gzip for logs
    await writeFile(join(pbDir, 'traces.binpb'), delimited(...reqs.traces.map((r) => encode('traces', r))));
    for (const [i, r] of reqs.metrics.entries()) await writeFile(join(pbDir, `metrics-${i}.pb`), encode('metrics', r));
    await writeFile(join(pbDir, 'logs.protobuf.gz'), gzipSync(delimited(...reqs.logs.map((r) => encode('logs', r)))));

    assert.equal(await detectOtlp(pbDir), true);
    const viaJson = await openOtlp(jsonDir);
    const viaPb = await loadDataset(pbDir);
    assert.equal(viaPb.format, 'otlp');
    assert.deepEqual(problemsOf(viaPb as OtlpDataset), []);
    assert.deepEqual(problemsOf(viaJson), []);
    const a = await contents(viaJson);
    const b = await contents(viaPb as OtlpDataset);
    assert.equal((b.spans as unknown[]).length, 6);
    assert.equal((b.logs as unknown[]).length, 4);
    assert.deepEqual(b, a);
    assert.deepEqual({ ...(viaPb as OtlpDataset).counts, files: 0 }, { ...viaJson.counts, files: 0 });
    assert.equal((viaPb as OtlpDataset).counts.files, 5);
    // ids are hex, as in OTLP/JSON
    const spans = b.spans as { traceId: string; spanId: string; parentId?: string }[];
    assert.ok(spans.every((s) => s.traceId === TRACE && /^[0-9a-f]{16}$/.test(s.spanId)));
    assert.equal(spans.filter((s) => s.parentId).length, 3);
    // range reads of a delimited file use the message index like a line index
    const mid = await all(viaPb.spans({ start: T0 + 60_000, end: T0 + 120_000 }));
    assert.deepEqual(mid, await all(viaJson.spans({ start: T0 + 60_000, end: T0 + 120_000 })));
    assert.equal(mid.length, 2);
  } finally {
    await rm(jsonDir, { recursive: true, force: true });
    await rm(pbDir, { recursive: true, force: true });
  }
});

test('which request a file holds: by its name first, else by what decodes', async () => {
  assert.equal(signalFromName('/x/traces.binpb'), 'traces');
  assert.equal(signalFromName('otel-spans-2026.pb'), 'traces');
  assert.equal(signalFromName('metrics.protobuf.gz'), 'metrics');
  assert.equal(signalFromName('logs.binpb'), 'logs');
  assert.equal(signalFromName('export-0001.binpb'), undefined);
  assert.equal(signalFromName('traces-and-logs.binpb'), undefined);
  for (const [sig, req] of [['traces', tracesReq(0)], ['metrics', metricsReq(0)], ['logs', logsReq(0)]] as const) {
    const bytes = encode(sig, req);
    // whatever order is tried first, the message is recognised for what it is
    for (const first of ['traces', 'metrics', 'logs'] as const) assert.equal(decodeOtlpMessage(bytes, [first])?.signal, sig, `${sig} tried as ${first} first`);
  }
  const dir = await tmp();
  try {
    // no signal in the names, and a misleading one
    await writeFile(join(dir, 'export-0001.binpb'), delimited(encode('logs', logsReq(0))));
    await writeFile(join(dir, 'traces.binpb'), delimited(encode('metrics', metricsReq(0))));
    const ds = await openOtlp(dir);
    assert.deepEqual(problemsOf(ds), []);
    assert.equal(ds.counts.logs, 2);
    assert.equal(ds.counts.spans, 0);
    assert.ok(ds.counts.metricPoints > 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('damaged protobuf files: reported with the message number, the readable rest kept', async () => {
  const dir = await tmp();
  try {
    const good = [0, 1, 2].map((k) => encode('traces', tracesReq(k)));
    const whole = delimited(...good);
    // cut inside the third message
    await writeFile(join(dir, 'traces.binpb'), whole.subarray(0, whole.length - 10));
    // a message that is no OTLP request between two good ones
    const junk = Buffer.from('this is not a protobuf message at all, just text');
    await writeFile(join(dir, 'logs.binpb'), delimited(encode('logs', logsReq(0)), junk, encode('logs', logsReq(1))));
    // a size prefix far beyond the file
    await writeFile(join(dir, 'metrics.binpb'), Buffer.concat([delimited(encode('metrics', metricsReq(0))), Buffer.from([0x7f, 0xff, 0xff, 0xff, 1, 2, 3])]));
    // gzip cut in half
    await writeFile(join(dir, 'more-traces.binpb.gz'), gzipSync(delimited(...[3, 4].map((k) => encode('traces', tracesReq(k))))).subarray(0, 60));
    // not protobuf (nor JSON) at all
    await writeFile(join(dir, 'model.pb'), Buffer.from([0x08, 0x96, 0x01, 0x12, 0x07]));
    const ds = await openOtlp(dir);
    const problems = problemsOf(ds);
    const has = (re: RegExp) => assert.ok(problems.some((p) => re.test(p)), `${re} in\n${problems.join('\n')}`);
    has(/^traces\.binpb:3 \[damaged-file\] truncated protobuf file: message 3 cut off/);
    has(/^logs\.binpb:2 \[[a-z-]+\] malformed protobuf message \(\d+ bytes\): not an OTLP export request/);
    has(/^metrics\.binpb:2 \[damaged-file\] damaged protobuf file: message 2 claims 2147483647 bytes/);
    has(/^more-traces\.binpb\.gz:\d+ \[damaged-file\] /);
    has(/^model\.pb:0 \[layout\] not OTLP JSON or protobuf/);
    assert.equal(ds.counts.spans, 4, 'two whole trace messages');
    assert.equal(ds.counts.logs, 4, 'both good log messages');
    assert.equal((await all(ds.spans())).length, 4);
    assert.equal((await all(ds.logs())).length, 4);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder whose only files are neither OTLP JSON nor protobuf is refused with one line saying so', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'graph.pb'), Buffer.from('0a0b0c0d0e0f', 'hex'));
    await writeFile(join(dir, 'x.binpb'), Buffer.alloc(0));
    assert.equal(await detectOtlp(dir), false);
    await assert.rejects(openOtlp(dir), (e: unknown) => e instanceof UserError && /no OTLP JSON or protobuf in .*\.binpb/.test(e.message) && !e.message.includes('\n'));
    await assert.rejects(loadDataset(dir), (e: unknown) => e instanceof UserError && /unrecognised layout: .*OTLP\/HTTP JSON or protobuf/.test(e.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readProtobufRequests honours skip and last (the reader index of delimited files)', async () => {
  const dir = await tmp();
  try {
    const file = join(dir, 'traces.binpb');
    await writeFile(file, delimited(...[0, 1, 2, 3].map((k) => encode('traces', tracesReq(k)))));
    const lines: number[] = [];
    for await (const r of readProtobufRequests(file, { skip: (i) => i === 2, last: 3 })) lines.push(r.line);
    assert.deepEqual(lines, [1, 3]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
