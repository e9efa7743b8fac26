import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statesEffects, statesEffectSummary, type EvalRow } from '../../src/eval/evaluate/index.js';
import { buildReportHtml } from '../../src/eval/report/index.js';
import { fixtureReport } from '../report/fixture.js';

function row(method: string, task: EvalRow['task'], level: EvalRow['level'], metric: EvalRow['metric'], value: number | null, extra: Partial<EvalRow> = {}): EvalRow {
  return { task, level, method, metric, value, n: 30, protocol: 'time-block', ...extra };
}

const rows: EvalRow[] = [
  row('tuned', 'detection', 'metrics-only', 'event-f1', 0.56),
  row('tuned-global', 'detection', 'metrics-only', 'event-f1', 0.578),
  row('tuned', 'localization', 'service', 'ac@1', 0.9),
  row('tuned-global', 'localization', 'service', 'ac@1', 0.9),
  row('tuned', 'classification', 'type', 'macro-f1', 0.91),
  row('tuned-global', 'classification', 'type', 'macro-f1', 0.9),
  // not compared: another protocol, a per-type breakdown, a value that is not measurable, a column without a twin
  row('tuned', 'classification', 'type', 'mrr', 0.5, { protocol: 'authors-split' }),
  row('tuned-global', 'classification', 'type', 'mrr', 0.4, { protocol: 'authors-split' }),
  row('tuned', 'localization', 'service', 'ac@3', 1, { faultType: 'cpu' }),
  row('tuned-global', 'localization', 'service', 'ac@3', 0.5, { faultType: 'cpu' }),
  row('tuned', 'detection', 'all-modalities', 'event-f1', null),
  row('tuned-global', 'detection', 'all-modalities', 'event-f1', 0.7),
  row('raw-features', 'detection', 'metrics-only', 'event-f1', 0.4),
  // a model's tuned columns pair with its own global twin
  row('tuned:m.json', 'localization', 'service', 'mrr', 0.8),
  row('tuned-global:m.json', 'localization', 'service', 'mrr', 0.85),
];

test('each tuned column is compared with its own global twin, measure by measure, on the headline protocol only', () => {
  const e = statesEffects(rows, 'time-block');
  assert.deepEqual(
    e.map((x) => [x.method, x.global, `${x.task}/${x.level}/${x.metric}`, x.verdict]),
    [
      ['tuned', 'tuned-global', 'detection/metrics-only/event-f1', 'cost'],
      ['tuned', 'tuned-global', 'localization/service/ac@1', 'same'],
      ['tuned', 'tuned-global', 'classification/type/macro-f1', 'helped'],
      ['tuned:m.json', 'tuned-global:m.json', 'localization/service/mrr', 'cost'],
    ],
  );
  assert.ok(Math.abs(e[0].delta - (0.56 - 0.578)) < 1e-12);
  assert.deepEqual(statesEffects(rows, 'authors-split').map((x) => `${x.metric} ${x.verdict}`), ['mrr helped'], 'another protocol is compared on its own rows');
});

test('the summary names where states helped and where they cost, with enough digits to show a small difference', () => {
  const s = statesEffectSummary(statesEffects(rows, 'time-block'));
  assert.equal(s.length, 2);
  assert.match(s[0], /^tuned against tuned-global: states helped on classification type macro-f1 0\.910 vs 0\.900; cost on detection metrics-only event-f1 0\.560 vs 0\.578; the same on 1 of 3\.$/);
  const tiny = statesEffectSummary(statesEffects([row('tuned', 'classification', 'type', 'weighted-f1', 0.54841), row('tuned-global', 'classification', 'type', 'weighted-f1', 0.54845)], 'time-block'));
  assert.match(tiny[0], /0\.54841 vs 0\.54845/);
  const same = statesEffectSummary(statesEffects([row('tuned', 'classification', 'type', 'mrr', 0.7), row('tuned-global', 'classification', 'type', 'mrr', 0.7)], 'time-block'));
  assert.match(same[0], /the same on all 1 measures/);
});

test('the report page has the states section only when both columns are in the file', async () => {
  const plain = await buildReportHtml(fixtureReport());
  assert.doesNotMatch(plain, /id="states"/);
  const r = fixtureReport();
  const p = r.rows[0].protocol;
  r.rows.push(row('tuned', 'localization', 'service', 'ac@1', 0.9, { protocol: p }), row('tuned-global', 'localization', 'service', 'ac@1', 0.8, { protocol: p }));
  const html = await buildReportHtml(r);
  assert.match(html, /<h2 id="states">States against no states<\/h2>/);
  assert.match(html, /<tr class="helped"><td class="l">tuned<\/td><td class="l">localization service<\/td><td class="l">ac@1<\/td><td>90\.00<\/td><td>80\.00<\/td><td>\+10\.00<\/td><td class="l">states helped<\/td>/);
});
