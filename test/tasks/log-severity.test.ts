/**
 * The severity of a log-template item is read the same way from an OpenTelemetry record (the
 * severity in `severityText`, a body without the word) as from a plain-text layout (Nezha: the
 * body names it): the family leads the subject with the records' severity where the text names
 * none, and the fault-type classifier's `rise:log-template:error` fires on both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignTemplates, logTemplates, type LogSummary } from '../../src/encode/evidence/index.js';
import { SEVERITY_WORD, templateLine, templateSeverity } from '../../src/encode/evidence/log-templates.js';
import { suspectFeatures } from '../../src/tasks/index.js';
import { severityOf as otlpSeverity } from '../../src/sources/otlp/values.js';
import { severityOf as textSeverity } from '../../src/sources/nezha/index.js';
import type { LogRecord, Severity, Span } from '../../src/telemetry/index.js';
import { fakeRanking } from '../helpers/ranking.js';
import { seededRandom } from '../helpers/rng.js';

const WINDOW = 60_000;

/**
 * Windows of one operation: 20 spans each logging "pay received" (INFO); in the last window every
 * span also logs "returned unexpected value" — the wrong-return line — as `errorLine` writes it.
 */
function windows(errorLine: (n: number) => { body: string; severity: Severity }, info: (n: number) => { body: string; severity: Severity }, nNormal = 8) {
  const rnd = seededRandom(5);
  const spans: Span[] = [];
  const logs: LogRecord[] = [];
  for (let w = 0; w <= nNormal; w++) {
    for (let k = 0; k < 20; k++) {
      const start = w * WINDOW + k * 1000 + Math.floor(rnd() * 500);
      const traceId = `t${w}-${k}`;
      spans.push({ traceId, spanId: 'a', entity: 's-0', service: 's', operation: 'pay', start, duration: 10, status: 'ok' });
      const n = Math.floor(rnd() * 1000);
      logs.push({ time: start + 1, entity: 's-0', service: 's', traceId, spanId: 'a', ...info(n) });
      if (w === nNormal) logs.push({ time: start + 2, entity: 's-0', service: 's', traceId, spanId: 'a', ...errorLine(n) });
    }
  }
  const mined = assignTemplates(logs);
  const byRecord = new Map(mined.logs.map((l) => [l.record, l]));
  const input = (w: number) => {
    const range = { start: w * WINDOW, end: (w + 1) * WINDOW };
    return {
      range,
      spans: spans.filter((s) => s.start >= range.start && s.start < range.end),
      logs: logs.filter((l) => l.time >= range.start && l.time < range.end).map((l) => byRecord.get(l)!),
      templateText: mined.text,
    };
  };
  const normal = Array.from({ length: nNormal }, (_, w) => logTemplates.summarize(input(w)) as LogSummary);
  const ref = logTemplates.fit(normal);
  const scored = logTemplates.score(logTemplates.summarize(input(nNormal))!, ref).get('s')!;
  const item = scored.items[0];
  const f = suspectFeatures(fakeRanking([{ service: 's', score: 5, evidence: [{ family: 'log-template', z: 5, items: [item] }] }]))!;
  return { item, f };
}

// OTLP: the severity in severityText (no severityNumber), as the OTLP decoder reads it
const otlp = (text: string) => (body: string) => ({ body, severity: otlpSeverity(undefined, text) });
// a plain-text layout: the level word in the line, read from the body as the Nezha reader does
const layout = (level: string) => (body: string) => ({ body: `${level} ${body}`, severity: textSeverity(`${level} ${body}`) });

test('an OTLP ERROR record whose body does not name it gives the same rise:log-template:error as a body naming ERROR', () => {
  const fromOtlp = windows((n) => otlp('ERROR')(`returned unexpected value ${n}`), (n) => otlp('INFO')(`pay received ${n}`));
  const fromText = windows((n) => layout('ERROR')(`returned unexpected value ${n}`), (n) => layout('INFO')(`pay received ${n}`));
  assert.match(fromOtlp.item.subject, /^pay \| appears: ERROR returned unexpected value/);
  assert.match(fromText.item.subject, /^pay \| appears: ERROR returned unexpected value/);
  assert.ok(fromText.f['rise:log-template:error'] > 0, 'a body naming ERROR fires error');
  assert.equal(fromOtlp.f['rise:log-template:error'], fromText.f['rise:log-template:error']);
  assert.equal(fromOtlp.f['rise:log-template:appears'], fromText.f['rise:log-template:appears']);
  // the same names either way (no other severity read into the line)
  assert.deepEqual(Object.keys(fromOtlp.f).sort(), Object.keys(fromText.f).sort());
});

test('a record without a severity (AIOps 2022) adds none; a text that names one is left as it is', () => {
  const none = windows((n) => ({ body: `returned unexpected value ${n}`, severity: 'unknown' }), (n) => ({ body: `pay received ${n}`, severity: 'unknown' }));
  assert.ok(!SEVERITY_WORD.test(none.item.subject), none.item.subject);
  assert.equal(none.f['rise:log-template:error'], undefined);
  assert.ok(none.f['rise:log-template:appears'] > 0);
  // the text's own word wins over the record's (a WARN line a source tagged ERROR stays WARN)
  assert.equal(templateLine('WARN retrying <*>', 'ERROR'), 'WARN retrying <*>');
  assert.equal(templateLine('retrying <*>', 'ERROR'), 'ERROR retrying <*>');
  assert.equal(templateLine('retrying <*>', undefined), 'retrying <*>');
});

test('templateSeverity: the most frequent known severity over window and reference, a tie to the more severe', () => {
  assert.equal(templateSeverity({ info: 3, error: 1 }, { info: 2 }), 'INFO');
  assert.equal(templateSeverity({ info: 2 }, { error: 2 }), 'ERROR');
  assert.equal(templateSeverity(undefined, {}), undefined);
  assert.equal(templateSeverity({ warn: 1 }), 'WARN');
});
