/** A small hand-written EVAL.json in the shape `evaluate --json` writes (schema 1), plus the optional report fields. */
import type { EvalRow } from '../../src/eval/index.js';
import type { ReportInput } from '../../src/eval/report/index.js';

const METHODS = ['evidence', 'raw-features', 'raw-backbone', 'model'];

export function fixtureReport(opts: { dataset?: string; timeline?: boolean; evidence?: boolean } = {}): ReportInput {
  const rows: EvalRow[] = [];
  const add = (r: Omit<EvalRow, 'protocol'> & { protocol?: EvalRow['protocol'] }) => rows.push({ protocol: 'failure', ...r } as EvalRow);
  METHODS.forEach((method, i) => {
    const v = 0.5 + i / 10;
    if (method !== 'evidence') for (const metric of ['precision', 'recall', 'f1', 'event-f1'] as const) add({ task: 'detection', level: 'metrics-only', method, metric, value: v, n: 900 });
    for (const metric of ['precision', 'recall', 'f1', 'mrr', 'ac@1', 'ac@3'] as const) add({ task: 'localization', level: 'service', method, metric, value: v - 0.1, n: 40 });
    if (method !== 'evidence') {
      add({ task: 'classification', level: 'type', method, metric: 'precision', value: v, n: 40 });
      add({ task: 'classification', level: 'type', method, metric: 'recall', value: null, n: 3, notMeasurable: { n: 3, classes: 1, reason: 'a single class' } });
      add({ task: 'classification', level: 'type', method, metric: 'f1', value: 0.4, n: 40 });
      add({ task: 'classification', level: 'type', method, metric: 'mrr', value: 0.6, n: 40 });
    }
    for (const [t, n] of [['cpu', 20], ['network-delay', 12], ['memory <leak>', 8]] as const) {
      add({ task: 'localization', level: 'service', method, metric: 'ac@1', faultType: t, value: t === 'memory <leak>' && method === 'model' ? null : v - 0.2, n, ...(t === 'memory <leak>' && method === 'model' ? { notMeasurable: { n, classes: 1, reason: 'too few' } } : {}) });
    }
    add({ task: 'localization', level: 'service', method, metric: 'ac@1', protocol: 'authors-split', leaky: true, value: v, n: 40 });
  });
  const t0 = Date.UTC(2022, 4, 1, 8, 0);
  const cases = Array.from({ length: 6 }, (_, i) => ({
    id: `case-${i}`,
    protocol: 'failure' as const,
    fold: i % 3,
    group: `g${i}`,
    start: new Date(t0 + i * 45 * 60_000).toISOString(),
    type: i % 2 ? 'cpu' : 'network-delay',
    rootCause: `svc${i}-pod-0`,
    rootCauseService: `svc${i}`,
    ranks: Object.fromEntries(METHODS.map((m, j) => [m, { service: j === 0 ? 1 : j + i, pod: null, type: m === 'evidence' ? null : 1 }])),
    top: Object.fromEntries(METHODS.map((m) => [m, { services: [`svc${i}`, 'frontend', 'cart'], type: 'cpu' }])),
    ...(opts.evidence ? { evidence: { evidence: [{ suspect: `svc${i}`, why: 'cpu z=8.1 <b>, latency p99 z=5.3' }, { suspect: 'frontend', why: 'latency z=2.0' }] } } : {}),
  }));
  return {
    schemaVersion: 1,
    dataset: opts.dataset ?? '../shared/datasets/nezha-trainticket',
    protocol: { name: 'failure', folds: 5, seed: 0, groups: 40, also: ['authors-split'] },
    methods: METHODS,
    rows,
    cases,
    notes: ['evidence: localization only', 'a <script>alert(1)</script> note stays text'],
    ...(opts.timeline
      ? {
          timeline: {
            states: [
              { start: t0, end: t0 + 2 * 3_600_000, state: 1 },
              { start: t0 + 2 * 3_600_000, end: t0 + 5 * 3_600_000, state: 2 },
            ],
            alarms: [{ start: t0 + 46 * 60_000, end: t0 + 50 * 60_000, method: 'model' }],
            faults: cases.map((c) => ({ id: c.id, start: c.start, end: new Date(Date.parse(c.start) + 5 * 60_000).toISOString(), type: c.type })),
          },
        }
      : {}),
  };
}
