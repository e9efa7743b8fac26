/**
 * The OpenTelemetry JS SDK itself (api 1.9, sdk 2.12, exporters 0.223) exporting three fake
 * services to a local capture server, once with the JSON exporters and once with the protobuf
 * ones; the folder is read back with loadDataset and checked exactly.
 *
 * Time is simulated so the test takes seconds: spans, events and logs carry explicit times, and
 * metrics are collected by hand once per simulated minute, the collection's time stamps moved
 * onto the simulated timeline before the real exporter serializes them (cumulative, the SDK
 * default: start time fixed, end time advancing).
 *
 * Timeline: 8 minutes, 5 checkouts a minute; minutes 3 and 4 are a fault (payment takes 400 ms
 * instead of 40 ms, and every second payment fails with a recorded exception).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, HrTime, Span as OtelSpan, Tracer } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import type { Logger } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import type { LogRecordExporter } from '@opentelemetry/sdk-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import type { PushMetricExporter, ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as JsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPLogExporter as JsonLogExporter } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPTraceExporter as ProtoTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { OTLPLogExporter as ProtoLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { loadDataset } from '../../src/sources/detect.js';
import type { Dataset, LogRecord, MetricSeries, Span } from '../../src/telemetry/index.js';
import { startOtlpCapture } from '../helpers/otlp-capture.js';
import type { OtlpCapture } from '../helpers/otlp-capture.js';

const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);
const MINUTES = 8;
const PER_MINUTE = 5;
const FAULT = new Set([3, 4]);
const SERVICES = ['frontend', 'cart', 'payment'] as const;
type Service = (typeof SERVICES)[number];
const EXCEPTION_TYPE = 'PaymentTimeoutError';
const EXCEPTION_MESSAGE = 'card processor timed out after 400 ms';
const STATUS_MESSAGE = 'card processor timed out';

/** Test-only reader: collect() on demand, nothing periodic. */
class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

interface ServiceSdk {
  tracer: Tracer;
  logger: Logger;
  duration: ReturnType<ReturnType<MeterProvider['getMeter']>['createHistogram']>;
  requests: ReturnType<ReturnType<MeterProvider['getMeter']>['createCounter']>;
  traces: BasicTracerProvider;
  logs: LoggerProvider;
  meters: MeterProvider;
  reader: ManualReader;
  metricExporter: PushMetricExporter;
}

interface Exporters {
  traces(url: string): SpanExporter;
  metrics(url: string): PushMetricExporter;
  logs(url: string): LogRecordExporter;
}

const JSON_EXPORTERS: Exporters = {
  traces: (url) => new JsonTraceExporter({ url }),
  metrics: (url) => new JsonMetricExporter({ url }),
  logs: (url) => new JsonLogExporter({ url }),
};
const PROTO_EXPORTERS: Exporters = {
  traces: (url) => new ProtoTraceExporter({ url }),
  metrics: (url) => new ProtoMetricExporter({ url }),
  logs: (url) => new ProtoLogExporter({ url }),
};

function hr(ms: number): HrTime {
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}

function setup(service: Service, base: string, ex: Exporters): ServiceSdk {
  const resource = resourceFromAttributes({ 'service.name': service, 'host.name': 'node-1' });
  // large batches flushed by hand: one request per service and signal per simulated minute
  const batch = { maxQueueSize: 10_000, maxExportBatchSize: 10_000, scheduledDelayMillis: 3_600_000 };
  const traces = new BasicTracerProvider({ resource, spanProcessors: [new BatchSpanProcessor(ex.traces(`${base}/v1/traces`), batch)] });
  const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: ex.logs(`${base}/v1/logs`), ...batch })] });
  const reader = new ManualReader();
  const meters = new MeterProvider({ resource, readers: [reader] });
  const meter = meters.getMeter('shop');
  return {
    tracer: traces.getTracer('shop'),
    logger: logs.getLogger('shop'),
    duration: meter.createHistogram('http.server.duration', { unit: 'ms', advice: { explicitBucketBoundaries: [10, 50, 100, 250, 500, 1000] } }),
    requests: meter.createCounter('http.server.requests'),
    traces,
    logs,
    meters,
    reader,
    metricExporter: ex.metrics(`${base}/v1/metrics`),
  };
}

/** Collect cumulative metrics, move their time stamps onto the simulated clock, export. */
async function exportMetrics(sdk: ServiceSdk, at: number): Promise<void> {
  const { resourceMetrics, errors } = await sdk.reader.collect();
  assert.deepEqual(errors, []);
  const shifted: ResourceMetrics = {
    ...resourceMetrics,
    scopeMetrics: resourceMetrics.scopeMetrics.map((sm) => ({
      ...sm,
      metrics: sm.metrics.map((m) => ({ ...m, dataPoints: m.dataPoints.map((p) => ({ ...p, startTime: hr(T0), endTime: hr(at) })) })),
    })) as ResourceMetrics['scopeMetrics'],
  };
  const result = await new Promise<{ code: number; error?: Error }>((resolve) => sdk.metricExporter.export(shifted, resolve));
  assert.equal(result.code, 0, `metric export failed: ${result.error?.message}`);
}

function child(parent: OtelSpan): Context {
  return trace.setSpan(ROOT_CONTEXT, parent);
}

/** One checkout: frontend server span, client spans to cart and payment, their server spans, logs. */
function checkout(sdks: Record<Service, ServiceSdk>, t: number, fault: boolean, fail: boolean): void {
  const { frontend, cart, payment } = sdks;
  const cartMs = 20;
  const payMs = fault ? 400 : 40;
  const total = cartMs + payMs + 20;
  const root = frontend.tracer.startSpan('GET /checkout', { kind: SpanKind.SERVER, startTime: t }, ROOT_CONTEXT);
  const toCart = frontend.tracer.startSpan('POST /cart', { kind: SpanKind.CLIENT, startTime: t + 2 }, child(root));
  const inCart = cart.tracer.startSpan('POST /cart', { kind: SpanKind.SERVER, startTime: t + 3 }, child(toCart));
  cart.logger.emit({ timestamp: t + 4, severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'cart loaded', context: child(inCart) });
  inCart.end(t + 3 + cartMs);
  toCart.end(t + 4 + cartMs);
  const payAt = t + 6 + cartMs;
  const toPay = frontend.tracer.startSpan('POST /pay', { kind: SpanKind.CLIENT, startTime: payAt }, child(root));
  const inPay = payment.tracer.startSpan('POST /pay', { kind: SpanKind.SERVER, startTime: payAt + 1 }, child(toPay));
  if (fail) {
    const e = new Error(EXCEPTION_MESSAGE);
    e.name = EXCEPTION_TYPE;
    inPay.recordException(e, payAt + payMs);
    inPay.setStatus({ code: SpanStatusCode.ERROR, message: STATUS_MESSAGE });
    payment.logger.emit({ timestamp: payAt + payMs, severityNumber: SeverityNumber.ERROR, severityText: 'ERROR', body: `payment failed: ${STATUS_MESSAGE}`, context: child(inPay) });
  } else {
    payment.logger.emit({ timestamp: payAt + payMs, severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'payment accepted', context: child(inPay) });
  }
  inPay.end(payAt + 1 + payMs);
  toPay.end(payAt + 2 + payMs);
  frontend.logger.emit({ timestamp: t + total - 1, severityNumber: SeverityNumber.INFO, severityText: 'INFO', body: 'checkout done', context: child(root) });
  root.end(t + total);
  frontend.duration.record(total);
  cart.duration.record(cartMs);
  payment.duration.record(payMs);
  for (const s of SERVICES) sdks[s].requests.add(1);
}

async function runShop(capture: OtlpCapture, ex: Exporters): Promise<void> {
  const sdks = Object.fromEntries(SERVICES.map((s) => [s, setup(s, capture.url, ex)])) as Record<Service, ServiceSdk>;
  for (let m = 0; m < MINUTES; m++) {
    for (let i = 0; i < PER_MINUTE; i++) {
      checkout(sdks, T0 + m * 60_000 + i * 10_000 + 1_000, FAULT.has(m), FAULT.has(m) && i % 2 === 1);
    }
    for (const s of SERVICES) {
      await sdks[s].traces.forceFlush();
      await sdks[s].logs.forceFlush();
      await exportMetrics(sdks[s], T0 + (m + 1) * 60_000);
    }
  }
  for (const s of SERVICES) {
    await sdks[s].traces.shutdown();
    await sdks[s].logs.shutdown();
    await sdks[s].meters.shutdown();
    await sdks[s].metricExporter.shutdown();
  }
  await capture.settled();
}

async function all<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

async function seriesOf(ds: Dataset): Promise<Map<string, { times: number[]; values: number[] }>> {
  const out = new Map<string, { times: number[]; values: number[] }>();
  for await (const batch of ds.metrics() as AsyncIterable<MetricSeries[]>) {
    for (const s of batch) {
      const key = `${s.entity} ${s.name}`;
      let g = out.get(key);
      if (!g) out.set(key, (g = { times: [], values: [] }));
      g.times.push(...s.times);
      g.values.push(...s.values);
    }
  }
  return out;
}

const SPANS = MINUTES * PER_MINUTE * 5;
const LOGS = MINUTES * PER_MINUTE * 3;
const FAILURES = FAULT.size * Math.floor(PER_MINUTE / 2);

/** What every run must give, whatever the exporter's encoding. */
async function checkRun(t: TestContext, dir: string, label: string): Promise<void> {
  const ds = await loadDataset(dir);
  assert.equal(ds.format, 'otlp', label);
  assert.deepEqual(
    ds.problems.items.map((p) => `${p.file}:${p.line} ${p.reason}`),
    [],
    `${label}: no data problems`,
  );
  assert.deepEqual(ds.entities.map((e) => e.id).sort(), [...SERVICES].sort(), `${label}: entities`);

  const spans = await all<Span>(ds.spans());
  const logs = await all<LogRecord>(ds.logs());
  assert.equal(spans.length, SPANS, `${label}: spans`);
  assert.equal(logs.length, LOGS, `${label}: logs`);
  assert.equal(ds.timeRange.start, T0 + 1_000, `${label}: first record`);

  // parent links: every parent is a span of the same trace; one root per checkout
  const byId = new Map(spans.map((s) => [`${s.traceId}/${s.spanId}`, s]));
  assert.equal(byId.size, SPANS, `${label}: unique span ids`);
  const roots = spans.filter((s) => !s.parentId);
  assert.equal(roots.length, MINUTES * PER_MINUTE, `${label}: roots`);
  for (const s of spans) if (s.parentId) assert.ok(byId.has(`${s.traceId}/${s.parentId}`), `${label}: parent of ${s.service} ${s.operation}`);
  // every server span of cart/payment is the child of a frontend client span
  for (const s of spans.filter((x) => x.service !== 'frontend')) {
    const p = byId.get(`${s.traceId}/${s.parentId}`)!;
    assert.equal(p.service, 'frontend');
    assert.equal(p.operation, s.operation);
  }
  // logs carry the ids of a span of their own service
  for (const l of logs) {
    const s = byId.get(`${l.traceId}/${l.spanId}`);
    assert.ok(s, `${label}: log "${l.body}" has the ids of a span`);
    assert.equal(s.service, l.service);
  }
  assert.equal(logs.filter((l) => l.severity === 'error').length, FAILURES, `${label}: error logs`);

  const topo = await ds.topology();
  assert.deepEqual(
    topo.edges.map((e) => `${e.caller}->${e.callee}:${e.count}`),
    [`frontend->cart:${MINUTES * PER_MINUTE}`, `frontend->payment:${MINUTES * PER_MINUTE}`],
    `${label}: call edges`,
  );

  // Being implemented (issue 10, items 12-13): span kind, exception events, status messages.
  await t.test(`${label}: span kinds`, () => {
    const kinds = (svc: string) => [...new Set(spans.filter((s) => s.service === svc).map((s) => s.kind))].sort();
    assert.deepEqual(kinds('frontend'), ['client', 'server']);
    assert.deepEqual(kinds('cart'), ['server']);
    assert.deepEqual(kinds('payment'), ['server']);
    assert.equal(spans.filter((s) => s.kind === 'client').length, 2 * MINUTES * PER_MINUTE);
  });
  await t.test(`${label}: exception events and status message`, () => {
    const failed = spans.filter((s) => s.status === 'error');
    assert.equal(failed.length, FAILURES);
    for (const s of failed) {
      assert.equal(s.service, 'payment');
      assert.equal(s.statusMessage, STATUS_MESSAGE);
      const ev = (s.events ?? []).filter((e) => e.name === 'exception');
      assert.equal(ev.length, 1);
      assert.equal(ev[0].attributes?.['exception.type'], EXCEPTION_TYPE);
      assert.equal(ev[0].attributes?.['exception.message'], EXCEPTION_MESSAGE);
      assert.equal(ev[0].time, s.start - 1 + 400);
    }
    assert.equal(spans.filter((s) => (s.events ?? []).length > 0).length, FAILURES);
  });

  // Being implemented (issue 10, item 11): cumulative histograms and counters as per-interval deltas.
  const series = await seriesOf(ds);
  await t.test(`${label}: per-minute deltas of cumulative metrics`, () => {
    const ends = Array.from({ length: MINUTES }, (_, m) => T0 + (m + 1) * 60_000);
    for (const svc of SERVICES) {
      const count = series.get(`${svc} http.server.duration.count`);
      const reqs = series.get(`${svc} http.server.requests`);
      assert.ok(count && reqs, `${svc}: series present (${[...series.keys()].filter((k) => k.startsWith(svc)).join(', ')})`);
      assert.deepEqual(count.times, ends);
      assert.deepEqual(count.values, ends.map(() => PER_MINUTE), `${svc}: requests per minute, not the running total`);
      assert.deepEqual(reqs.values, ends.map(() => PER_MINUTE));
    }
    const mean = series.get('payment http.server.duration.mean')!;
    assert.deepEqual(mean.values, Array.from({ length: MINUTES }, (_, m) => (FAULT.has(m) ? 400 : 40)), 'payment latency per minute: back to normal after the fault');
    const cartMean = series.get('cart http.server.duration.mean')!;
    assert.deepEqual(cartMean.values, ends.map(() => 20));
  });
}

async function withCapture(t: TestContext, ex: Exporters, encoding: 'json' | 'protobuf'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `rs-otlp-sdk-${encoding}-`));
  const capture = await startOtlpCapture(dir);
  try {
    await runShop(capture, ex);
    assert.deepEqual(capture.refused, []);
    assert.ok(capture.requests.every((r) => r.encoding === encoding));
    // one request per service and signal per minute
    for (const sig of ['traces', 'metrics', 'logs'] as const) {
      assert.equal(capture.requests.filter((r) => r.signal === sig).length, MINUTES * SERVICES.length, `${sig} requests`);
    }
    const ext = encoding === 'json' ? 'jsonl' : 'binpb';
    assert.deepEqual((await readdir(dir)).sort(), [`logs.${ext}`, `metrics.${ext}`, `traces.${ext}`]);
    await checkRun(t, dir, encoding);
  } finally {
    await capture.close();
    await rm(dir, { recursive: true, force: true });
  }
}

test('OpenTelemetry JS SDK, JSON exporters → capture server → loadDataset', async (t) => {
  await withCapture(t, JSON_EXPORTERS, 'json');
});

test('OpenTelemetry JS SDK, protobuf exporters → capture server → loadDataset', async (t) => {
  await withCapture(t, PROTO_EXPORTERS, 'protobuf');
});
