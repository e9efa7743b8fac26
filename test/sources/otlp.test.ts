import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { detectOtlp, openOtlp, OtlpWriter, parseFaults, writeFaults, writeOtlpDataset, splitSeriesName, otlpId } from '../../src/sources/otlp/index.js';
import type { OtlpDataset } from '../../src/sources/otlp/index.js';
import { ReorderBuffer } from '../../src/sources/otlp/reorder.js';
import { UserError } from '../../src/telemetry/index.js';
import type { Entity, FaultLabel, LogRecord, MetricSeries, Severity, Span, SpanStatus, TimeRange } from '../../src/telemetry/index.js';
import { SeededRng } from '../../src/telemetry/index.js';

const DATASETS = process.env.RS_DATASETS ?? fileURLToPath(new URL('../../../shared/datasets', import.meta.url));
const EXAMPLES = join(DATASETS, 'otlp-examples');
const haveExamples = existsSync(EXAMPLES);

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rs-otlp-'));
}

async function collect<T>(it: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(...b);
  return out;
}

/** Metric chunks merged per series, in stream order. */
async function allSeries(ds: OtlpDataset, range?: TimeRange): Promise<Map<string, { unit?: string; times: number[]; values: number[] }>> {
  const out = new Map<string, { unit?: string; times: number[]; values: number[] }>();
  for await (const batch of ds.metrics(range)) {
    for (const s of batch) {
      const key = s.entity + ' ' + s.name;
      let g = out.get(key);
      if (!g) out.set(key, (g = { unit: s.unit, times: [], values: [] }));
      g.times.push(...s.times);
      g.values.push(...s.values);
    }
  }
  return out;
}

// ---- the specification's examples -----------------------------------------------------------

test('loads the four OTLP spec examples with their values', { skip: !haveExamples && 'datasets absent' }, async () => {
  assert.equal(await detectOtlp(EXAMPLES), true);
  const ds = await openOtlp(EXAMPLES);
  assert.equal(ds.format, 'otlp');
  assert.deepEqual(ds.problems.items, []);
  assert.deepEqual(ds.entities, [{ id: 'my.service', kind: 'service', service: 'my.service' }]);
  assert.equal(ds.counts.files, 4);
  assert.equal(ds.counts.spans, 1);
  assert.equal(ds.counts.logs, 2);
  assert.equal(ds.timeRange.start, 1544712660000);
  assert.ok(ds.timeRange.end > 1544712661000);

  const series = await allSeries(ds);
  const at = (name: string) => {
    const s = series.get('my.service ' + name);
    assert.ok(s, `series ${name} missing; have ${[...series.keys()].join(' | ')}`);
    assert.deepEqual(s.times, [1544712660300]);
    return s.values[0];
  };
  assert.equal(at('my.counter{my.counter.attr=some value}'), 5);
  assert.equal(at('my.gauge{my.gauge.attr=some value}'), 10);
  assert.equal(at('my.histogram.count{my.histogram.attr=some value}'), 2);
  assert.equal(at('my.histogram.sum{my.histogram.attr=some value}'), 2);
  assert.equal(at('my.histogram.mean{my.histogram.attr=some value}'), 1);
  assert.equal(at('my.histogram.max{my.histogram.attr=some value}'), 2);
  assert.equal(at('my.exponential.histogram.count{my.exponential.histogram.attr=some value}'), 3);
  assert.equal(at('my.exponential.histogram.sum{my.exponential.histogram.attr=some value}'), 10);
  assert.equal(at('my.exponential.histogram.max{my.exponential.histogram.attr=some value}'), 5);
  assert.equal(series.get('my.service my.counter{my.counter.attr=some value}')!.unit, '1');

  const spans = await collect(ds.spans());
  assert.deepEqual(spans, [
    {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      parentId: 'eee19b7ec3c1b173',
      entity: 'my.service',
      service: 'my.service',
      operation: "I'm a server span",
      start: 1544712660000,
      duration: 1000,
      status: 'unset',
      kind: 'server',
      attributes: { 'my.span.attr': 'some value' },
    },
  ]);

  const logs = await collect(ds.logs());
  assert.equal(logs.length, 2);
  const plain = logs.find((l) => l.body === 'Example log record');
  assert.ok(plain);
  assert.equal(plain.severity, 'info'); // severityNumber 10
  assert.equal(plain.traceId, '5b8efff798038103d269b633813fc60c');
  assert.equal(plain.spanId, 'eee19b7ec3c1b174');
  assert.equal(plain.time, 1544712660300);
  assert.deepEqual(plain.attributes, {
    'string.attribute': 'some string',
    'boolean.attribute': true,
    'int.attribute': 10,
    'double.attribute': 637.704,
    'array.attribute': '["many","values"]',
    'map.attribute': '{"some.map.key":"some value"}',
  });
  const event = logs.find((l) => l !== plain)!;
  assert.equal(event.severity, 'info'); // severityNumber 9
  assert.deepEqual(JSON.parse(event.body), {
    type: 0,
    url: 'https://www.guidgenerator.com/online-guid-generator.aspx',
    referrer: 'https://wwww.google.com',
    title: 'Free Online GUID Generator',
  });
  assert.equal(event.attributes?.['event.name'], 'browser.page_view');

  // a single file opens too
  const one = await openOtlp(join(EXAMPLES, 'trace.json'));
  assert.equal(one.counts.spans, 1);
  assert.equal((await collect(one.spans())).length, 1);
});

test('detect: OTLP folders and files only', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'fault_list.json'), JSON.stringify({ '2023-01-29': [] }));
    assert.equal(await detectOtlp(dir), false);
    assert.equal(await detectOtlp(join(dir, 'missing')), false);
    await assert.rejects(openOtlp(dir), UserError);
    await assert.rejects(openOtlp(join(dir, 'missing')), UserError);
    await writeFile(join(dir, 'x.jsonl'), JSON.stringify({ resourceSpans: [] }) + '\n');
    assert.equal(await detectOtlp(dir), true);
    assert.equal(await detectOtlp(join(dir, 'x.jsonl')), true);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- encodings -------------------------------------------------------------------------------

function res(attrs: Record<string, string>) {
  return { attributes: Object.entries(attrs).map(([key, v]) => ({ key, value: { stringValue: v } })) };
}

test('64-bit integers as strings or numbers, enums as ints or names, base64 ids', async () => {
  const dir = await tmp();
  try {
    const asStrings = {
      resourceMetrics: [
        {
          resource: res({ 'k8s.pod.name': 'cart-7d9f8b6c5-x2k4z', 'k8s.node.name': 'n1' }),
          scopeMetrics: [
            {
              metrics: [
                { name: 'req', sum: { dataPoints: [{ timeUnixNano: '1700000000123456000', asInt: '9007199254740991' }] } },
                { name: 'lat', histogram: { dataPoints: [{ timeUnixNano: '1700000000123456000', count: '4', sum: 2, bucketCounts: ['1', '3'], explicitBounds: [1] }] } },
              ],
            },
          ],
        },
      ],
    };
    const asNumbers = {
      resourceMetrics: [
        {
          resource: res({ 'k8s.pod.name': 'cart-7d9f8b6c5-x2k4z', 'k8s.node.name': 'n1' }),
          scopeMetrics: [
            {
              metrics: [
                { name: 'req', sum: { dataPoints: [{ timeUnixNano: 1700000000123456000, asInt: 9007199254740991 }] } },
                { name: 'lat', histogram: { dataPoints: [{ timeUnixNano: 1700000000123456000, count: 4, sum: 2, bucketCounts: [1, 3], explicitBounds: [1] }] } },
              ],
            },
          ],
        },
      ],
    };
    const spans = {
      resourceSpans: [
        {
          resource: res({ 'service.name': 'api', 'host.name': 'h1' }),
          scopeSpans: [
            {
              spans: [
                // base64 ids (plain protobuf JSON mapping) and enum names
                { traceId: 'W47/95gDgQPSabYzgT/GDA==', spanId: '7uGbfsPBsXQ=', parentSpanId: '', name: 'a', startTimeUnixNano: 1700000000000000000, endTimeUnixNano: '1700000000002500000', status: { code: 'STATUS_CODE_ERROR' } },
                { traceId: 'ABC', spanId: '01', parentSpanId: '7uGbfsPBsXQ=', name: 'b', startTimeUnixNano: '1700000000001000000', endTimeUnixNano: '1700000000001000000', status: { code: 1 } },
              ],
            },
          ],
        },
      ],
      resourceLogs: [
        {
          resource: res({ 'host.name': 'h2' }),
          scopeLogs: [
            {
              logRecords: [
                { observedTimeUnixNano: 1700000000005000000, severityNumber: 'SEVERITY_NUMBER_WARN2', body: { intValue: '7' } },
                { timeUnixNano: '1700000000006000000', severityText: 'CRITICAL', body: { stringValue: 'x' } },
                { timeUnixNano: '1700000000007000000', severityNumber: 17, severityText: 'info', body: { stringValue: 'y' } },
              ],
            },
          ],
        },
      ],
    };
    await writeFile(join(dir, 'a.json'), JSON.stringify(asStrings, null, 2));
    await writeFile(join(dir, 'b.jsonl'), JSON.stringify(asNumbers) + '\n' + JSON.stringify(spans) + '\n');
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.problems.items, []);
    assert.deepEqual(ds.entities, [
      { id: 'h2', kind: 'node' },
      { id: 'cart-7d9f8b6c5-x2k4z', kind: 'pod', service: 'cart', node: 'n1' },
      { id: 'api', kind: 'service', service: 'api', node: 'h1' },
    ]);
    const series = await allSeries(ds);
    for (const [name, value] of [['req', 9007199254740991], ['lat.count', 4], ['lat.sum', 2], ['lat.mean', 0.5]] as const) {
      const s = series.get('cart-7d9f8b6c5-x2k4z ' + name);
      assert.ok(s, name);
      // the same point from both files, both encodings
      assert.deepEqual(s.values, [value, value], name);
      assert.equal(s.times[0], 1700000000123.456);
      assert.equal(s.times[1], s.times[0]);
    }
    const sp = await collect(ds.spans());
    assert.equal(sp.length, 2);
    assert.equal(sp[0].traceId, '5b8efff798038103d269b633813fc60c');
    assert.equal(sp[0].spanId, 'eee19b7ec3c1b174');
    assert.equal(sp[0].parentId, undefined);
    assert.equal(sp[0].status, 'error');
    assert.equal(sp[0].duration, 2.5);
    assert.equal(sp[1].parentId, 'eee19b7ec3c1b174');
    assert.equal(sp[1].traceId, 'abc');
    assert.equal(sp[1].status, 'ok');
    const lg = await collect(ds.logs());
    assert.deepEqual(
      lg.map((l) => [l.time, l.severity, l.body, l.service]),
      [
        [1700000000005, 'warn', '7', 'h2'],
        [1700000000006, 'fatal', 'x', 'h2'],
        [1700000000007, 'error', 'y', 'h2'],
      ],
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- bad input -------------------------------------------------------------------------------

function spanLine(traceId: string, spanId: string, startMs: number, svc = 'api'): string {
  return JSON.stringify({
    resourceSpans: [
      {
        resource: res({ 'service.name': svc }),
        scopeSpans: [{ spans: [{ traceId, spanId, name: 'op', startTimeUnixNano: String(startMs) + '000000', endTimeUnixNano: String(startMs + 1) + '000000' }] }],
      },
    ],
  });
}

test('malformed lines are reported as file:line and skipped; the rest loads', async () => {
  const dir = await tmp();
  try {
    const t0 = 1700000000000;
    const lines = [
      spanLine('aa', '01', t0),
      '{"resourceSpans": [{"resource": ', // truncated write
      spanLine('aa', '02', t0 + 1),
      '',
      '{"resourceSpans": [}',
      '42',
      spanLine('aa', '03', t0 + 2),
      '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"aa","name":"no span id","startTimeUnixNano":"1"}]}]}]}',
      '{"resourceSpans": [', // truncated last line, no newline
    ];
    await writeFile(join(dir, 'traces.jsonl'), lines.join('\n'));
    // a pretty-printed document broken on its 3rd line
    await writeFile(join(dir, 'doc.json'), '{\n  "resourceLogs": [\n    {,\n  ]\n}\n');
    // an empty document file is not an error, but neither is it data
    const ds = await openOtlp(dir);
    const spans = await collect(ds.spans());
    assert.deepEqual(spans.map((s) => s.spanId), ['01', '02', '03']);
    const where = ds.problems.items.map((p) => `${p.file}:${p.line}`);
    assert.deepEqual(where, ['doc.json:3', 'traces.jsonl:2', 'traces.jsonl:5', 'traces.jsonl:6', 'traces.jsonl:8', 'traces.jsonl:9']);
    assert.match(ds.problems.items[1].reason, /malformed JSON line/);
    assert.match(ds.problems.items[3].reason, /not a JSON object/);
    assert.match(ds.problems.items[4].reason, /without traceId or spanId/);
    // problems are reported once, by the metadata pass, not again by every stream
    await collect(ds.spans());
    assert.equal(ds.problems.total, 6);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('gzipped collector files load', async () => {
  const dir = await tmp();
  try {
    const t0 = 1700000000000;
    const text = [spanLine('ab', '01', t0), spanLine('ab', '02', t0 + 5)].join('\n') + '\n';
    await writeFile(join(dir, 'traces.jsonl.gz'), gzipSync(text));
    await writeFile(join(dir, 'more.json.gz'), gzipSync(spanLine('ab', '03', t0 + 9)));
    assert.equal(await detectOtlp(dir), true);
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.problems.items, []);
    assert.deepEqual((await collect(ds.spans())).map((s) => [s.spanId, s.start]), [
      ['01', t0],
      ['02', t0 + 5],
      ['03', t0 + 9],
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- faults.json -----------------------------------------------------------------------------

test('faults.json: valid entries load, bad ones are reported with line and index', async () => {
  const dir = await tmp();
  try {
    await writeFile(join(dir, 'traces.jsonl'), spanLine('ab', '01', 1700000000000) + '\n');
    const text = `{
  "version": 1,
  "faults": [
    { "id": "f1", "start": "2023-11-14T22:13:20Z", "end": 1700000180000, "rootCause": "cart-1", "rootCauseService": "cart", "type": "cpu", "level": "pod", "split": "train" },
    { "id": "f2", "start": "2023-11-14T22:20:00Z", "end": "2023-11-14T22:19:00Z",
      "rootCause": "cart-1", "rootCauseService": "cart", "type": "cpu" },
    { "id": "f3", "start": "yesterday", "rootCause": "", "type": "cpu" },
    "oops",
    { "id": "f1", "start": 1, "end": 2, "rootCause": "a", "rootCauseService": "a", "type": "x" },
    { "id": "f6", "start": "2023-11-14T23:00:00.250+01:00", "end": 1700002800250.5, "rootCause": "api", "rootCauseService": "api", "type": "delay", "split": "dev" },
    { "id": "f7", "start": 1700000000000, "end": 1700000060000, "rootCause": "api", "rootCauseService": "api", "type": "delay", "typeOriginal": "网络延迟" }
  ]
}
`;
    await writeFile(join(dir, 'faults.json'), text);
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.labels, [
      { id: 'f1', start: 1700000000000, end: 1700000180000, rootCause: 'cart-1', rootCauseService: 'cart', type: 'cpu', level: 'pod', split: 'train' },
      { id: 'f7', start: 1700000000000, end: 1700000060000, rootCause: 'api', rootCauseService: 'api', type: 'delay', typeOriginal: '网络延迟' },
    ]);
    const got = ds.problems.items.map((p) => [p.file, p.line, p.reason.split(':')[0]]);
    assert.deepEqual(got, [
      ['faults.json', 5, 'faults[1]'],
      ['faults.json', 7, 'faults[2]'],
      ['faults.json', 8, 'faults[3]'],
      ['faults.json', 9, 'faults[4]'],
      ['faults.json', 10, 'faults[5]'],
    ]);
    assert.match(ds.problems.items[0].reason, /"end" must be after "start"/);
    assert.match(ds.problems.items[1].reason, /"end" is required/);
    assert.match(ds.problems.items[1].reason, /"rootCauseService" is required/);
    assert.match(ds.problems.items[1].reason, /"rootCause" must be a non-empty string/);
    assert.match(ds.problems.items[3].reason, /duplicate id "f1"/);
    assert.match(ds.problems.items[4].reason, /"split" must be "train" or "test"/);
    // labels widen the time range
    assert.equal(ds.timeRange.end, 1700000180000 + 1);

    await writeFile(join(dir, 'faults.json'), '{"version": 2, "faults": []}');
    const v2 = await openOtlp(dir);
    assert.deepEqual(v2.labels, []);
    assert.match(v2.problems.items[0].reason, /unsupported version 2/);
    await writeFile(join(dir, 'faults.json'), '{"version": 1,\n "faults": [\n}');
    const broken = await openOtlp(dir);
    assert.deepEqual([broken.problems.items[0].file, broken.problems.items[0].line], ['faults.json', 3]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the faults.json example of the docs is valid', async () => {
  const doc = await readFile(fileURLToPath(new URL('../../docs/formats/faults-json.md', import.meta.url)), 'utf8');
  const json = /```json\n([\s\S]*?)```/.exec(doc);
  assert.ok(json, 'docs/formats/faults-json.md has a json example');
  const problems: string[] = [];
  const labels = parseFaults(JSON.parse(json[1]), (line, reason) => problems.push(`${line} ${reason}`));
  assert.deepEqual(problems, []);
  assert.equal(labels.length, 2);
  assert.equal(labels[0].end - labels[0].start, 180_000);
  assert.equal(labels[1].end, 1675079640000.5);
});

test('detect: not fooled by the JSON of other formats', { skip: !existsSync(join(DATASETS, 'nezha-trainticket')) && 'datasets absent' }, async () => {
  assert.equal(await detectOtlp(join(DATASETS, 'nezha-trainticket')), false);
  if (existsSync(join(DATASETS, 'aiops22-pod'))) assert.equal(await detectOtlp(join(DATASETS, 'aiops22-pod')), false);
});

// ---- ordering --------------------------------------------------------------------------------

test('out-of-order lines come out sorted; the disorder beyond the buffer is disorderMs', async () => {
  const dir = await tmp();
  try {
    const t0 = 1700000000000;
    // each line a batch of 1 s; lines shuffled within 5 s, over 10 minutes
    const starts: number[] = [];
    for (let i = 0; i < 600; i++) starts.push(t0 + i * 1000 + (i % 3) * 7);
    const order = starts.map((s, i) => ({ s, k: i + ((i * 7919) % 5) })).sort((a, b) => a.k - b.k);
    await writeFile(join(dir, 'traces.jsonl'), order.map(({ s }, i) => spanLine('ab', i.toString(16).padStart(4, '0'), s)).join('\n') + '\n');
    // a second file overlapping the first one's end
    await writeFile(join(dir, 'traces-2.jsonl'), [spanLine('cd', '01', t0 + 599_000 - 20_000), spanLine('cd', '02', t0 + 700_000)].join('\n') + '\n');

    const ds = await openOtlp(dir);
    assert.equal(ds.disorderMs, 0);
    assert.ok(ds.reorder.traces.measuredMs >= 4000, `measured ${ds.reorder.traces.measuredMs}`);
    const got = (await collect(ds.spans())).map((s) => s.start);
    assert.equal(got.length, 602);
    assert.deepEqual(got, [...got].sort((a, b) => a - b));

    // a buffer smaller than the disorder: the excess is declared and honoured
    const small = await openOtlp(dir, { maxReorderMs: 1000 });
    assert.equal(small.disorderMs, small.reorder.traces.measuredMs - 1000);
    let maxSeen = -Infinity;
    let n = 0;
    for await (const batch of small.spans()) {
      for (const s of batch) {
        assert.ok(s.start >= maxSeen - small.disorderMs, `span at ${s.start} behind ${maxSeen}`);
        maxSeen = Math.max(maxSeen, s.start);
        n++;
      }
    }
    assert.equal(n, 602);
    assert.equal(small.problems.total, 0);

    // a range read returns exactly the records inside it, still in order
    const range = { start: t0 + 100_000, end: t0 + 200_000 };
    const inRange = (await collect(ds.spans(range))).map((s) => s.start);
    assert.deepEqual(inRange, got.filter((t) => t >= range.start && t < range.end));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('streams hold a bounded buffer, not the file', async () => {
  const dir = await tmp();
  try {
    const t0 = 1700000000000;
    const lines: string[] = [];
    // 2 hours of logs, one line per 2 s, records within a line 1 s out of order
    for (let i = 0; i < 3600; i++) {
      const recs = [];
      for (let j = 0; j < 5; j++) {
        const t = t0 + i * 2000 + ((j * 3) % 5) * 200;
        recs.push({ timeUnixNano: `${t}000000`, body: { stringValue: `line ${i} rec ${j}` } });
      }
      lines.push(JSON.stringify({ resourceLogs: [{ resource: res({ 'service.name': 'api' }), scopeLogs: [{ logRecords: recs }] }] }));
    }
    await writeFile(join(dir, 'logs.jsonl'), lines.join('\n') + '\n');
    const ds = await openOtlp(dir);
    assert.equal(ds.counts.logs, 18_000);
    assert.equal(ds.reorder.logs.measuredMs, 400); // offsets 0, 600, 200, 800, 400 ms in each line
    const logs = await collect(ds.logs());
    assert.equal(logs.length, 18_000);
    for (let i = 1; i < logs.length; i++) assert.ok(logs[i].time >= logs[i - 1].time);
    assert.ok(ds.peakBuffered.logs < 18_000 / 2, `peak ${ds.peakBuffered.logs}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ReorderBuffer drops and reports records later than its bound', () => {
  const late: number[] = [];
  const buf = new ReorderBuffer<number>((x) => x, 10, 5, 2, (x) => late.push(x));
  const out: number[] = [];
  for (const t of [100, 95, 120, 130, 140, 117, 111]) {
    buf.push(t);
    const o = buf.take();
    if (o) out.push(...o);
  }
  out.push(...buf.drain());
  assert.deepEqual(late, [111]);
  assert.equal(buf.lateDropped, 1);
  // 117 came after 120 was handed out, but within the allowed 5 ms: passed on
  assert.deepEqual(out, [95, 100, 120, 117, 130, 140]);
});

// ---- writer ----------------------------------------------------------------------------------

/** The project's seeded generator, as a plain function. */
function seededRandom(seed: number): () => number {
  const rng = new SeededRng(seed);
  return () => rng.next();
}

interface Generated {
  entities: Entity[];
  series: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
  labels: FaultLabel[];
}

function generate(seed: number): Generated {
  const r = seededRandom(seed);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const text = () => pick(['ok', '', 'GET /api/v1/orders?id=7', 'Ünïcödé ✓ 日本', 'line\nbreak "quoted" \\ back', '{"json":"looking"}', 'x'.repeat(1 + int(300))]);
  const attrs = (): Record<string, string | number | boolean> | undefined => {
    if (r() < 0.3) return undefined;
    const o: Record<string, string | number | boolean> = {};
    const n = 1 + int(4);
    for (let i = 0; i < n; i++) {
      o[pick(['http.method', 'http.status_code', 'db.rows', 'retry', 'peer', 'ratio', 'big'])] = pick<() => string | number | boolean>([
        () => text(),
        () => int(1000) - 500,
        () => r() * 100,
        () => r() < 0.5,
        () => 2 ** 60,
        () => NaN,
      ])();
    }
    return o;
  };

  const entities: Entity[] = [];
  const services = ['cart', 'checkout', 'payment', 'ts-order-service'];
  for (const svc of services) {
    const pods = 1 + int(2);
    for (let p = 0; p < pods; p++) {
      const e: Entity = { id: `${svc}-${hex(9).replace(/[0-9]/g, 'b')}-${hex(5)}`, kind: 'pod', service: svc };
      if (r() < 0.7) e.node = `node-${int(3)}`;
      entities.push(e);
    }
  }
  entities.push({ id: 'gateway', kind: 'service', service: 'gateway', node: 'node-0' });
  entities.push({ id: 'frontend', kind: 'service', service: 'frontend' });
  entities.push({ id: 'node-0', kind: 'node' }, { id: 'node-1', kind: 'node' });
  entities.push({ id: 'idle-svc-5d8f7c9b4-abcde', kind: 'pod', service: 'idle-svc' }); // no data at all
  const active = entities.filter((e) => !e.id.startsWith('idle'));
  const workers = active.filter((e) => e.kind !== 'node');

  const t0 = 1_700_000_000_000 + int(1000) * 1000;
  const series: MetricSeries[] = [];
  for (const e of active) {
    for (const name of ['cpu', 'mem', 'http.latency{quantile=p99}', 'http.latency{method=GET,route=/a b}', 'odd{name']) {
      if (r() < 0.2) continue;
      const n = 20 + int(80);
      const times = new Float64Array(n);
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        // whole ms mostly, sometimes sub-ms down to microseconds
        times[i] = t0 + i * 15_000 + (r() < 0.3 ? int(1_000_000) / 1000 : int(1000));
        values[i] = pick<() => number>([() => NaN, () => Infinity, () => -Infinity, () => r() * 1e6 - 5e5, () => int(100), () => 1e-300, () => 1.7976931348623157e308, () => 0])();
      }
      series.push({ entity: e.id, name, unit: pick(['%', 's', 'By', '1', '']), times, values });
    }
  }

  const spans: Span[] = [];
  for (let tr = 0; tr < 60; tr++) {
    const traceId = hex(32);
    const ids: string[] = [];
    const start0 = t0 + int(1_500_000) + int(1000) / 1000;
    const n = 1 + int(8);
    for (let i = 0; i < n; i++) {
      const e = pick(workers);
      const s: Span = {
        traceId,
        spanId: hex(16),
        entity: e.id,
        service: e.service ?? e.id,
        operation: pick(['GET /cart', 'SELECT orders', 'pay', '']),
        start: start0 + i * 3 + int(1000) / 1000,
        duration: int(5_000_000) / 1000,
        status: pick<SpanStatus>(['ok', 'error', 'unset']),
      };
      if (i > 0) s.parentId = pick(ids);
      const a = attrs();
      if (a) s.attributes = a;
      ids.push(s.spanId);
      spans.push(s);
    }
  }

  const logs: LogRecord[] = [];
  for (let i = 0; i < 300; i++) {
    const e = pick(workers);
    const l: LogRecord = {
      time: t0 + int(1_500_000) + int(1000) / 1000,
      entity: e.id,
      service: e.service ?? e.id,
      severity: pick<Severity>(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown']),
      body: text(),
      attributes: { ...attrs(), seq: i },
    };
    if (r() < 0.5) {
      const s = pick(spans);
      l.traceId = s.traceId;
      l.spanId = s.spanId;
    }
    logs.push(l);
  }

  const labels: FaultLabel[] = [];
  for (let i = 0; i < 4; i++) {
    const e = pick(workers);
    const start = t0 + int(1_000_000) + (i === 3 ? 0.5 : 0);
    const l: FaultLabel = { id: `fault-${i}`, start, end: start + 180_000, rootCause: e.id, rootCauseService: e.service ?? e.id, type: pick(['cpu', 'delay', 'exception']) };
    if (r() < 0.5) l.level = 'pod';
    if (r() < 0.5) l.split = pick(['train', 'test'] as const);
    if (r() < 0.3) l.typeOriginal = 'k8s容器cpu负载';
    labels.push(l);
  }
  return { entities, series, spans, logs, labels };
}

/** Writes `g` the way the simulator does: in time-sliced batches, records shuffled in each. */
async function writeBatched(dir: string, g: Generated, seed: number): Promise<OtlpWriter> {
  const r = seededRandom(seed ^ 0x5eed);
  // seed 2 writes gzipped files
  const w = new OtlpWriter(dir, { maxRecordsPerLine: 1 + Math.floor(r() * 60), gzip: seed === 2 });
  const shuffle = <T>(xs: T[]): T[] => {
    for (let i = xs.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [xs[i], xs[j]] = [xs[j], xs[i]];
    }
    return xs;
  };
  const sliceMs = 300_000;
  const lo = Math.min(...g.series.map((s) => s.times[0]), ...g.spans.map((s) => s.start), ...g.logs.map((l) => l.time));
  const hi = Math.max(...g.series.map((s) => s.times[s.times.length - 1]), ...g.spans.map((s) => s.start), ...g.logs.map((l) => l.time));
  for (let a = lo; a <= hi; a += sliceMs) {
    const b = a + sliceMs;
    const chunk: MetricSeries[] = [];
    for (const s of g.series) {
      const idx = [...s.times.keys()].filter((i) => s.times[i] >= a && s.times[i] < b);
      if (idx.length > 0) chunk.push({ ...s, times: Float64Array.from(idx.map((i) => s.times[i])), values: Float64Array.from(idx.map((i) => s.values[i])) });
    }
    await w.writeMetrics(shuffle(chunk), g.entities);
    await w.writeSpans(shuffle(g.spans.filter((s) => s.start >= a && s.start < b)), g.entities);
    await w.writeLogs(shuffle(g.logs.filter((l) => l.time >= a && l.time < b)), g.entities);
  }
  return w;
}

const US = 1e-3; // µs, in ms

function assertSameSeries(got: Map<string, { unit?: string; times: number[]; values: number[] }>, want: MetricSeries[]): void {
  assert.deepEqual([...got.keys()].sort(), want.map((s) => s.entity + ' ' + s.name).sort());
  for (const s of want) {
    const g = got.get(s.entity + ' ' + s.name)!;
    assert.equal(g.unit, s.unit);
    // the stream is in time order; the generated series is too
    assert.equal(g.times.length, s.times.length);
    for (let i = 0; i < s.times.length; i++) {
      assert.ok(Math.abs(g.times[i] - s.times[i]) < US, `${s.name} time ${g.times[i]} vs ${s.times[i]}`);
      if (Number.isInteger(s.times[i])) assert.equal(g.times[i], s.times[i]);
      const a = g.values[i];
      const b = s.values[i];
      assert.ok(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)), `${s.name}[${i}] ${a} vs ${b}`);
    }
  }
}

function assertSameSpans(got: Span[], want: Span[]): void {
  const byId = (xs: Span[]) => [...xs].sort((a, b) => (a.spanId < b.spanId ? -1 : 1));
  const g = byId(got);
  const w = byId(want);
  assert.equal(g.length, w.length);
  for (let i = 0; i < w.length; i++) {
    const { start: gs, duration: gd, ...grest } = g[i];
    const { start: ws, duration: wd, ...wrest } = w[i];
    assert.deepEqual(grest, wrest);
    assert.ok(Math.abs(gs - ws) < US, `start ${gs} vs ${ws}`);
    assert.ok(Math.abs(gd - wd) < US, `duration ${gd} vs ${wd}`);
  }
}

function assertSameLogs(got: LogRecord[], want: LogRecord[]): void {
  const bySeq = (xs: LogRecord[]) => [...xs].sort((a, b) => (a.attributes!.seq as number) - (b.attributes!.seq as number));
  const g = bySeq(got);
  const w = bySeq(want);
  assert.equal(g.length, w.length);
  for (let i = 0; i < w.length; i++) {
    const { time: gt, ...grest } = g[i];
    const { time: wt, ...wrest } = w[i];
    assert.deepEqual(grest, wrest);
    assert.ok(Math.abs(gt - wt) < US);
  }
}

for (const seed of [1, 2, 3]) {
  test(`round trip write → read is lossless (seed ${seed})`, async () => {
    const dir = await tmp();
    try {
      const g = generate(seed);
      const w = await writeBatched(dir, g, seed);
      // nothing visible before close: files appear whole or not at all
      assert.deepEqual((await readdir(dir)).filter((f) => !f.startsWith('.')), []);
      await w.close();
      await writeFaults(dir, g.labels);
      const gz = seed === 2 ? '.gz' : '';
      assert.deepEqual((await readdir(dir)).sort(), ['faults.json', `logs.jsonl${gz}`, `metrics.jsonl${gz}`, `traces.jsonl${gz}`]);
      const raw = await readFile(join(dir, `traces.jsonl${gz}`));
      const firstLine = JSON.parse((gz ? gunzipSync(raw) : raw).toString('utf8').split('\n')[0]);
      assert.ok(Array.isArray(firstLine.resourceSpans), 'one ExportTraceServiceRequest per line');

      const ds = await openOtlp(dir);
      assert.deepEqual(ds.problems.items, []);
      assert.deepEqual(
        ds.entities,
        [...g.entities].sort((a, b) => (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind.localeCompare(b.kind))),
      );
      assert.deepEqual(ds.labels, g.labels);
      assertSameSeries(await allSeries(ds), g.series);
      assertSameSpans(await collect(ds.spans()), g.spans);
      assertSameLogs(await collect(ds.logs()), g.logs);

      // every stream keeps the ordering contract
      // (a metric batch holds several series, each ascending: the contract is per batch there)
      const inOrder = (name: string, batches: number[][]) => {
        let max = -Infinity;
        for (const b of batches) {
          for (const t of b) assert.ok(t >= max - ds.disorderMs, `${name} out of order`);
          for (const t of b) max = Math.max(max, t);
        }
      };
      inOrder('metrics', (await collectBatches(ds.metrics())).map((b) => b.flatMap((s) => [...s.times])));
      inOrder('spans', (await collect(ds.spans())).map((s) => [s.start]));
      inOrder('logs', (await collect(ds.logs())).map((l) => [l.time]));

      // a range read gives exactly the points inside the range
      const range = { start: ds.timeRange.start + 200_000, end: ds.timeRange.start + 700_000 };
      const part = await allSeries(ds, range);
      let want = 0;
      for (const s of g.series) for (const t of s.times) if (t >= range.start && t < range.end) want++;
      let have = 0;
      for (const s of part.values()) {
        have += s.times.length;
        for (const t of s.times) assert.ok(t >= range.start && t < range.end);
      }
      assert.equal(have, want);

      // topology from parent links between different entities
      const topo = await ds.topology();
      const expected = new Map<string, number>();
      const idx = new Map(g.spans.map((s) => [s.spanId, s]));
      for (const s of g.spans) {
        const p = s.parentId ? idx.get(s.parentId) : undefined;
        if (p && p.entity !== s.entity) expected.set(p.entity + '>' + s.entity, (expected.get(p.entity + '>' + s.entity) ?? 0) + 1);
      }
      assert.deepEqual(new Map(topo.edges.map((e) => [e.caller + '>' + e.callee, e.count])), expected);

      // copying a Dataset to OTLP gives the same dataset again
      const copy = join(dir, 'copy');
      await writeOtlpDataset(copy, ds);
      const again = await openOtlp(copy);
      assert.deepEqual(again.entities, ds.entities);
      assert.deepEqual(again.labels, ds.labels);
      assertSameSeries(await allSeries(again), g.series);
      assertSameSpans(await collect(again.spans()), g.spans);
      assertSameLogs(await collect(again.logs()), g.logs);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

async function collectBatches<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const b of it) out.push(b);
  return out;
}

test('writer: OTLP encoding details', async () => {
  const dir = await tmp();
  try {
    const entities: Entity[] = [{ id: 'cart-7d9f8b6c5-x2k4z', kind: 'pod', service: 'cart', node: 'n1' }];
    const w = new OtlpWriter(dir);
    await w.writeMetrics([{ entity: entities[0].id, name: 'lat{route=/a}', unit: 's', times: Float64Array.of(1700000000000.5), values: Float64Array.of(NaN) }], entities);
    await w.writeSpans(
      [{ traceId: 'ABCDEF0123456789ABCDEF0123456789', spanId: 'not-hex', entity: entities[0].id, service: 'cart', operation: 'x', start: 1700000000000, duration: 1.5, status: 'error' }],
      entities,
    );
    await w.writeLogs([{ time: 1700000000000, entity: 'elsewhere', service: 'billing', severity: 'warn', body: 'b' }], entities);
    await w.close();
    const m = JSON.parse(await readFile(join(dir, 'metrics.jsonl'), 'utf8'));
    const rm0 = m.resourceMetrics[0];
    assert.deepEqual(rm0.resource.attributes, [
      { key: 'service.name', value: { stringValue: 'cart' } },
      { key: 'k8s.pod.name', value: { stringValue: 'cart-7d9f8b6c5-x2k4z' } },
      { key: 'k8s.node.name', value: { stringValue: 'n1' } },
    ]);
    const metric = rm0.scopeMetrics[0].metrics[0];
    assert.equal(metric.name, 'lat');
    assert.equal(metric.unit, 's');
    assert.deepEqual(metric.gauge.dataPoints, [{ timeUnixNano: '1700000000000500000', flags: 1, attributes: [{ key: 'route', value: { stringValue: '/a' } }] }]);
    const span = JSON.parse(await readFile(join(dir, 'traces.jsonl'), 'utf8')).resourceSpans[0].scopeSpans[0].spans[0];
    assert.equal(span.traceId, 'abcdef0123456789abcdef0123456789');
    assert.equal(span.spanId, otlpId('not-hex', 16));
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.equal(span.endTimeUnixNano, '1700000000001500000');
    assert.deepEqual(span.status, { code: 2 });
    const log = JSON.parse(await readFile(join(dir, 'logs.jsonl'), 'utf8')).resourceLogs[0];
    assert.equal(log.scopeLogs[0].logRecords[0].severityNumber, 13);
    assert.equal(log.scopeLogs[0].logRecords[0].severityText, 'WARN');
    // an entity missing from the table: a pod of the record's service
    const ds = await openOtlp(dir);
    assert.deepEqual(ds.entities.find((e) => e.id === 'elsewhere'), { id: 'elsewhere', kind: 'pod', service: 'billing' });

    assert.deepEqual(splitSeriesName('a{x=1,y=2}'), { metric: 'a', attributes: [{ key: 'x', value: { stringValue: '1' } }, { key: 'y', value: { stringValue: '2' } }] });
    assert.deepEqual(splitSeriesName('a{y=2,x=1}'), { metric: 'a{y=2,x=1}' }); // not canonical: kept whole
    assert.deepEqual(splitSeriesName('a{b}'), { metric: 'a{b}' });

    // abort leaves nothing behind
    const dir2 = join(dir, 'aborted');
    await mkdir(dir2);
    const w2 = new OtlpWriter(dir2);
    await w2.writeLogs([{ time: 1, entity: 'x', service: 'x', severity: 'info', body: '' }], []);
    await w2.abort();
    assert.deepEqual(await readdir(dir2), []);
    await assert.rejects(w2.writeLogs([], []));
    const w3 = new OtlpWriter(dir2, { gzip: true });
    await w3.writeLogs([{ time: 1, entity: 'x', service: 'x', severity: 'info', body: '' }], []);
    await w3.abort();
    assert.deepEqual(await readdir(dir2), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
