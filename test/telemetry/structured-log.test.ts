// Structured (JSON) log lines: the message and level come out, whatever logger wrote them, and
// the readers use them — the Nezha layout (Online Boutique's services log JSON inside Docker's
// envelope) and OTLP (a body the collector did not parse).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { severityFromLevel, structuredLogLine } from '../../src/telemetry/index.js';
import type { LogRecord } from '../../src/telemetry/index.js';
import { openNezha } from '../../src/sources/nezha/index.js';
import { openOtlp } from '../../src/sources/otlp/index.js';
import { decodeRequest } from '../../src/sources/otlp/decode.js';
import { simulate } from '../../src/simulate/index.js';
import { structuredLine } from '../../src/simulate/log-style.js';

test('Go (zap/logrus): keys sorted, no spaces, lower-case level, fields beside the message', () => {
  const line =
    '{"http.req.id":"16fbfb2d-676c","http.req.method":"GET","http.resp.took_ms":5408,"message":"TraceID: 04c87ec9 SpanID: 98903632 Request complete","session":"af550e4a","severity":"info","timestamp":"2022-08-22T05:18:42.996857478Z"}';
  assert.deepEqual(structuredLogLine(line), { message: 'TraceID: 04c87ec9 SpanID: 98903632 Request complete', severity: 'info' });
  assert.equal(structuredLogLine('{"message":"could not charge the card","severity":"error"}')?.severity, 'error');
  assert.equal(structuredLogLine('{"msg":"slow","level":"warning"}')?.severity, 'warn');
});

test('pino and bunyan: numeric levels, the message under msg, an Error object after it', () => {
  assert.deepEqual(structuredLogLine('{"level":30,"time":1661261367684,"pid":1,"hostname":"currency-0","msg":"conversion request successful","v":1}'), {
    message: 'conversion request successful',
    severity: 'info',
  });
  const e = structuredLogLine('{"level":50,"msg":"charge failed","err":{"type":"Error","message":"card expired","stack":"Error: card expired\\n    at charge (charge.js:10)"}}');
  assert.deepEqual(e, { message: 'charge failed card expired', severity: 'error' });
  assert.equal(severityFromLevel(60), 'fatal');
  assert.equal(severityFromLevel(10), 'trace');
  // syslog numbers run the other way: not guessed
  assert.equal(severityFromLevel(3), 'unknown');
  assert.equal(severityFromLevel(35), 'unknown');
});

test("Python's json.dumps spacing, Serilog's compact keys, an error string's first line only", () => {
  assert.deepEqual(structuredLogLine('{"timestamp": "2022-08-22T05:18:42Z", "severity": "INFO", "name": "recommendationservice-server", "message": "List Recommendations"}'), {
    message: 'List Recommendations',
    severity: 'info',
  });
  assert.deepEqual(structuredLogLine('{"@t":"2022-08-22T05:18:42Z","@m":"Cart fetched for user 42","@l":"Information"}'), { message: 'Cart fetched for user 42', severity: 'info' });
  assert.deepEqual(structuredLogLine('{"message":"request failed","error":"rpc error: code = Unavailable\\ngoroutine 1 [running]:","severity":"error"} \n'), {
    message: 'request failed rpc error: code = Unavailable',
    severity: 'error',
  });
});

test('what is not one JSON object is left alone; an object without a message keeps the whole line', () => {
  for (const plain of ['16:42:22.382 INFO t.s.TravelServiceImpl query', '', '[1,2,3]', '{not json}', '{"message":"cut', 'null', '{"a":1} trailing']) {
    assert.equal(structuredLogLine(plain), null, plain);
  }
  const noMessage = '{"level":"error","code":42}';
  assert.deepEqual(structuredLogLine(noMessage), { message: noMessage, severity: 'error' });
  // an unknown level word leaves the severity unknown (the reader then looks in the text)
  assert.deepEqual(structuredLogLine('{"message":"x","severity":"chatty"}'), { message: 'x', severity: 'unknown' });
});

const scratch = mkdtempSync(join(tmpdir(), 'rs-structured-'));
test.after(() => rmSync(scratch, { recursive: true, force: true }));

async function logsOf(root: string): Promise<LogRecord[]> {
  const ds = await openNezha(root);
  const out: LogRecord[] = [];
  for await (const b of ds.logs()) out.push(...b);
  return out;
}

test('Nezha layout: JSON log lines read as their messages and levels, the same records as the text layout', async () => {
  const base = { hours: 1, faults: 2, seed: 5, topology: 'chain', layout: 'nezha' as const };
  await simulate({ ...base, outDir: join(scratch, 'text') });
  await simulate({ ...base, outDir: join(scratch, 'json'), logStyle: 'json' });
  const text = await logsOf(join(scratch, 'text'));
  const json = await logsOf(join(scratch, 'json'));
  assert.ok(text.length > 100, `${text.length} records`);
  assert.equal(json.length, text.length);
  const severities = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const t = text[i];
    const j = json[i];
    assert.equal(j.time, t.time);
    assert.equal(j.severity, t.severity, `${i}: ${j.body}`);
    severities.add(j.severity);
    // text: `HH:MM:SS.mmm LEVEL service message`; json: `TraceID: … SpanID: … message`
    const message = t.body.split(' ').slice(3).join(' ');
    assert.equal(j.body, `TraceID: ${t.traceId ?? ''} SpanID: ${t.spanId ?? ''} ${message}`);
  }
  // the run logs more than one level, so the levels above were read, not defaulted
  assert.ok(severities.has('info') && severities.size >= 2, [...severities].join());
});

test('OTLP: unparsed JSON lines (no severity on the record) read back as the text run\'s messages and levels', async () => {
  const base = { hours: 1, faults: 2, seed: 5, topology: 'chain' };
  await simulate({ ...base, outDir: join(scratch, 'otlp-text') });
  await simulate({ ...base, outDir: join(scratch, 'otlp-json'), logStyle: 'json' });
  const read = async (d: string) => {
    const ds = await openOtlp(join(scratch, d));
    const out: LogRecord[] = [];
    for await (const b of ds.logs()) out.push(...b);
    return out;
  };
  const text = await read('otlp-text');
  const json = await read('otlp-json');
  assert.ok(text.length > 100);
  assert.equal(json.length, text.length);
  for (let i = 0; i < text.length; i++) {
    assert.equal(json[i].severity, text[i].severity, `${i}`);
    assert.equal(json[i].body, `TraceID: ${text[i].traceId ?? ''} SpanID: ${text[i].spanId ?? ''} ${text[i].body}`);
  }
});

test('the simulator writes all three JSON shapes', () => {
  const rec: LogRecord = { time: Date.UTC(2026, 0, 5, 8, 0, 0, 250), entity: 'svc-abc12-def34', service: 'svc', severity: 'warn', body: 'slow call to db', traceId: 'aa', spanId: 'bb' };
  const shapes = [0, 1, 2].map((i) => structuredLine(rec, i));
  assert.match(shapes[0], /^\{"http\.req\.id":"aa-bb","message":"TraceID: aa SpanID: bb slow call to db","severity":"warn","timestamp":"2026-01-05T08:00:00\.250Z"\}$/);
  assert.match(shapes[1], /"level":40,.*"msg":"TraceID: aa SpanID: bb slow call to db"/);
  assert.match(shapes[2], /^\{"timestamp": "2026-01-05T08:00:00\.250Z", "severity": "WARN", /);
  for (const s of shapes) assert.deepEqual(structuredLogLine(s), { message: 'TraceID: aa SpanID: bb slow call to db', severity: 'warn' });
});

test('OTLP: a JSON body the collector did not parse gives its message, and its level where the record has none', () => {
  const records: LogRecord[] = [];
  const body = (s: string) => ({ stringValue: s });
  decodeRequest(
    {
      resourceLogs: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'cart' } }] },
          scopeLogs: [
            {
              logRecords: [
                { timeUnixNano: '1700000000000000000', body: body('{"level":50,"msg":"redis timeout"}') },
                { timeUnixNano: '1700000000001000000', severityNumber: 9, body: body('{"level":"error","message":"kept at INFO by the record"}') },
                { timeUnixNano: '1700000000002000000', body: body('plain text stays') },
              ],
            },
          ],
        },
      ],
    },
    { log: (l: LogRecord) => records.push(l) },
    new Set(['logs'] as const),
  );
  assert.deepEqual(
    records.map((r) => [r.body, r.severity]),
    [
      ['redis timeout', 'error'],
      ['kept at INFO by the record', 'info'],
      ['plain text stays', 'unknown'],
    ],
  );
});
