import type { Severity } from '../../telemetry/index.js';
import type { EvidenceFamily, EvidenceItem, RawScores, WindowInput } from './types.js';
import { inRange, indexSpans, key } from './spans.js';
import { countTest, presenceZ, type CountScale, type Moments } from './stats.js';

/** Spans an operation needs in a window (and in the reference) before its counts are compared. */
export const LOG_MIN_SPANS = 3;

export interface OpWindow {
  service: string;
  operation: string;
  /** spans of the operation in the window */
  n: number;
  pods: Map<string, number>;
  /**
   * per template: Σ records per span, Σ squares (spans without the template count 0), and the
   * spans with at least one record (`present`; optional: summaries built elsewhere may lack it)
   */
  templates: Map<number, TemplateMoments>;
}
export interface TemplateMoments {
  sum: number;
  sumSq: number;
  present?: number;
}
export interface LogSummary {
  ops: Map<string, OpWindow>;
  text: Map<number, string>;
  /**
   * per template, its joined records by the severity the record carries (`LogRecord.severity`;
   * 'unknown' not counted). Optional: summaries built elsewhere may lack it.
   */
  severity?: Map<number, SeverityCounts>;
}
export interface LogReference {
  ops: Map<string, { n: number; templates: Map<number, TemplateMoments> }>;
  text: Map<number, string>;
  severity?: Map<number, SeverityCounts>;
}
export type SeverityCounts = Partial<Record<Severity, number>>;

/**
 * A severity as log layouts print it in the line (logback, log4j, Python logging: an upper-case
 * token); the first one in a template's text is the severity the text names.
 */
export const SEVERITY_WORD = /\b(FATAL|ERROR|WARN|WARNING|INFO|DEBUG|TRACE)\b/;

/** most severe first: a tie between two severities goes to the more severe */
const SEVERITY_ORDER: readonly Severity[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'];

function addCounts(into: Map<number, SeverityCounts>, t: number, c: SeverityCounts): void {
  let a = into.get(t);
  if (!a) into.set(t, (a = {}));
  for (const [sev, n] of Object.entries(c) as [Severity, number][]) a[sev] = (a[sev] ?? 0) + n;
}

/**
 * The severity a template's records carry, as the word a layout prints (`ERROR`, `WARN`, …): the
 * most frequent known one over the window's and the reference's records, or undefined when none
 * carries one (AIOps 2022 publishes no severity; a body-only source reads it from the text).
 */
export function templateSeverity(...counts: (SeverityCounts | undefined)[]): string | undefined {
  let best: Severity | undefined;
  let bestN = 0;
  for (const sev of SEVERITY_ORDER) {
    const n = counts.reduce((a, c) => a + (c?.[sev] ?? 0), 0);
    if (n > bestN) (best = sev), (bestN = n);
  }
  return best?.toUpperCase();
}

/**
 * A log-template item's line as its subject shows it: the template's text, led by the severity
 * its records carry where the text names none. OpenTelemetry keeps a record's severity in
 * `severityText`/`severityNumber`, not in the body, while plain-text layouts (Nezha) print it in
 * the line; so that a reader of the subject (the fault-type classifier's `logTemplateKinds`)
 * sees an ERROR line as one either way. A text that names a severity is left as it is.
 */
export function templateLine(text: string, severity: string | undefined): string {
  return severity === undefined || SEVERITY_WORD.test(text) ? text : `${severity} ${text}`;
}

/**
 * Log templates per span: for each (service, operation), how many records of each template a
 * span emits. A caught exception skips the rest of a method, so a template's count per span
 * drops to 0; a changed return path adds a template. Compared with a Welch t on per-span
 * counts (pooled variance, not Poisson: some templates repeat a variable number of times).
 * `scale` says how that t becomes a part score (`CountScale`; `logTemplates` keeps it as is).
 */
export function logTemplateFamily(scale: CountScale = 't'): EvidenceFamily<LogSummary, LogReference> {
  const test = countTest(scale);
  return {
    name: 'log-template',
    summarize(w: WindowInput): LogSummary | undefined {
      if (!w.spans.length || !w.logs.length) return undefined;
      const idx = indexSpans(w.spans);
      const perSpan = new Map<string, Map<number, number>>();
      const sevOf = new Map<number, SeverityCounts>();
      const seen = new Set<string>();
      let joined = 0;
      for (const l of w.logs) {
        const r = l.record;
        if (!r.traceId || !r.spanId) continue;
        const k = key(r.traceId, r.spanId);
        if (!idx.byId.has(k)) continue;
        // a record repeated with the same span, time and text is the collector's duplicate (Nezha's
        // logs double every line of some services for minutes at a time), not a second event
        const dup = `${k}\t${r.time}\t${r.body}`;
        if (seen.has(dup)) continue;
        seen.add(dup);
        joined++;
        let m = perSpan.get(k);
        if (!m) perSpan.set(k, (m = new Map()));
        m.set(l.template, (m.get(l.template) ?? 0) + 1);
        if (r.severity !== 'unknown') {
          let c = sevOf.get(l.template);
          if (!c) sevOf.set(l.template, (c = {}));
          c[r.severity] = (c[r.severity] ?? 0) + 1;
        }
      }
      if (!joined) return undefined;
      const ops = new Map<string, OpWindow>();
      const text = new Map<number, string>();
      for (const s of w.spans) {
        if (!inRange(s.start, w.range)) continue;
        const ok = `${s.service}\t${s.operation}`;
        let o = ops.get(ok);
        if (!o) ops.set(ok, (o = { service: s.service, operation: s.operation, n: 0, pods: new Map(), templates: new Map() }));
        o.n++;
        o.pods.set(s.entity, (o.pods.get(s.entity) ?? 0) + 1);
        const counts = perSpan.get(key(s.traceId, s.spanId));
        if (!counts) continue;
        for (const [t, c] of counts) {
          const m = o.templates.get(t);
          if (m) (m.sum += c, (m.sumSq += c * c), (m.present = (m.present ?? 0) + 1));
          else o.templates.set(t, { sum: c, sumSq: c * c, present: 1 });
          if (w.templateText && !text.has(t)) text.set(t, w.templateText(t) ?? `#${t}`);
        }
      }
      // operations without logs stay: all of an operation's templates vanishing is evidence too
      return { ops, text, severity: sevOf };
    },
    fit(normal: readonly LogSummary[]): LogReference {
      const ops: LogReference['ops'] = new Map();
      const text = new Map<number, string>();
      const severity = new Map<number, SeverityCounts>();
      for (const s of normal) {
        for (const [k, o] of s.ops) {
          let r = ops.get(k);
          if (!r) ops.set(k, (r = { n: 0, templates: new Map() }));
          r.n += o.n;
          for (const [t, m] of o.templates) {
            const a = r.templates.get(t);
            if (a) {
              a.sum += m.sum;
              a.sumSq += m.sumSq;
              // presence is known only if every summary counted it
              a.present = a.present === undefined || m.present === undefined ? undefined : a.present + m.present;
            } else r.templates.set(t, { ...m });
          }
        }
        for (const [t, x] of s.text) text.set(t, x);
        if (s.severity) for (const [t, c] of s.severity) addCounts(severity, t, c);
      }
      return { ops, text, severity };
    },
    score(s: LogSummary, ref: LogReference): RawScores {
      const out: RawScores = new Map();
      for (const [k, o] of s.ops) {
        const r = ref.ops.get(k);
        if (!r || o.n < LOG_MIN_SPANS || r.n < LOG_MIN_SPANS) continue;
        if (!o.templates.size && !r.templates.size) continue; // an operation that never logs
        const tpls = new Set([...o.templates.keys(), ...r.templates.keys()]);
        let e = out.get(o.service);
        if (!e) out.set(o.service, (e = { score: 0, parts: new Map(), items: [] }));
        const parts = e.parts!;
        let best = 0;
        let bestItem: EvidenceItem | undefined;
        for (const t of tpls) {
          const wm = o.templates.get(t) ?? { sum: 0, sumSq: 0, present: 0 };
          const rm = r.templates.get(t) ?? { sum: 0, sumSq: 0, present: 0 };
          const tw: Moments = { n: o.n, sum: wm.sum, sumSq: wm.sumSq };
          const tr: Moments = { n: r.n, sum: rm.sum, sumSq: rm.sumSq };
          const welch = test(tw, tr);
          // the share of spans that emit it, where both sides counted presence (`presenceZ`):
          // the stronger of the two tests, signed like the change
          const pz = wm.present === undefined || rm.present === undefined ? 0 : presenceZ(wm.present, o.n, rm.present, r.n);
          const tstat = pz > Math.abs(welch) ? Math.sign(wm.present! / o.n - rm.present! / r.n) * pz : welch;
          parts.set(`${o.operation}|${t}`, Math.abs(tstat));
          if (Math.abs(tstat) <= Math.abs(best)) continue;
          best = tstat;
          const what = rm.sum === 0 ? 'appears' : wm.sum === 0 ? 'vanishes' : 'changes';
          bestItem = {
            family: 'log-template',
            service: o.service,
            subject: `${o.operation} | ${what}: ${templateLine(s.text.get(t) ?? ref.text.get(t) ?? `#${t}`, templateSeverity(s.severity?.get(t), ref.severity?.get(t)))}`,
            value: wm.sum / o.n,
            reference: rm.sum / r.n,
            deviation: tstat,
            unit: 'records/span',
            support: o.n,
          };
        }
        const score = Math.abs(best);
        e.score = Math.max(e.score, score);
        if (bestItem) e.items.push(bestItem);
      }
      for (const e of out.values()) e.items = e.items.sort((a, b) => Math.abs(b.deviation) - Math.abs(a.deviation)).slice(0, 3);
      return out;
    },
  };
}

export const logTemplates = logTemplateFamily();
