/**
 * The log lines an operation writes while it runs, in order: a handful of INFO/DEBUG steps
 * placed between its calls, some repeated a variable number of times per span (a loop over
 * items). Real services log like this, and it is what a caught exception changes: the steps
 * after the throwing line vanish from the span. Derived from the operation's name alone (no
 * random draws), so adding them leaves every other seeded stream of the simulator unchanged.
 */
import type { Lang, OpDef, ServiceDef, Tpl } from './catalog.js';
import type { Severity } from '../telemetry/index.js';

export interface LogStep {
  severity: Severity;
  tpl: Tpl;
  /** written before call number `phase`; `calls.length` means after the last call */
  phase: number;
  /** lines per span, drawn uniformly in [min, max] */
  repeat: [number, number];
  /** probability the step runs at all in a span */
  p: number;
}

/** What a span of one operation may write besides its steps. */
export interface OpLogs {
  steps: LogStep[];
  /** an ERROR line fault-free spans write now and then (real fault-free data has them) */
  benignError: Tpl;
  /** the line the faulty service writes when it returns a wrong value */
  wrongReturn: Tpl;
}

/** Share of fault-free spans that log the benign error. */
export const BENIGN_ERROR_P = 0.004;

const VERBS = ['validating', 'loading', 'resolving', 'checking', 'building', 'mapping', 'persisting', 'preparing', 'querying', 'merging'];
const NOUNS = ['request', 'session', 'order', 'account', 'price', 'route', 'token', 'config', 'record', 'batch', 'item', 'quota'];
const CLASSES = ['Controller', 'ServiceImpl', 'Repository', 'Handler', 'Validator', 'Mapper', 'Client'];

/** FNV-1a: a stable small hash of a name. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A source prefix in the service's dialect: TrainTicket-style `Class#line` for Java and C#. */
function source(lang: Lang, svc: string, op: string, k: number, h: number): string {
  const cls = CLASSES[(h >>> (k * 3)) % CLASSES.length];
  const base = svc.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '');
  const line = 30 + ((h >>> k) % 400) + k * 7;
  if (lang === 'java' || lang === 'csharp') return `${base.toLowerCase()}.${base}${cls}#${line}`;
  const file = op.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '').toLowerCase() || 'handler';
  if (lang === 'python') return `${svc.replace(/-/g, '_')}.${file}:${line}`;
  if (lang === 'node') return `${file}.js:${line}`;
  return `${file}.go:${line}`;
}

export function opLogs(op: OpDef, svc: ServiceDef): OpLogs {
  const h = hash(`${op.service} ${op.name}`);
  const lang = svc.lang;
  const noun = (k: number) => NOUNS[(h >>> (k * 4 + 1)) % NOUNS.length];
  const verb = (k: number) => VERBS[(h >>> (k * 5 + 2)) % VERBS.length];
  const src = (k: number) => source(lang, svc.name, op.name, k, h);
  const steps: LogStep[] = [];
  const nCalls = op.calls.length;
  if (lang !== 'redis' && lang !== 'locust') {
    const s0 = src(0);
    steps.push({ severity: 'info', phase: 0, repeat: [1, 1], p: 1, tpl: (r, c) => `[${s0}] ${op.name} received, user=${c.user} request=${r.hex(4)}` });
    const n0 = noun(1);
    const v0 = verb(1);
    const s1 = src(1);
    steps.push({ severity: 'debug', phase: 0, repeat: [1, 1], p: 0.95, tpl: (r) => `[${s1}] ${v0} ${n0} ${r.intBetween(1, 99_999)}` });
    if (h % 3 !== 0) {
      // a loop over the request's items: a count that varies from span to span
      const n1 = noun(2);
      const s2 = src(2);
      steps.push({ severity: 'debug', phase: Math.min(nCalls, 1), repeat: [1, 4], p: 0.9, tpl: (r, c) => `[${s2}] processing ${n1} ${r.intBetween(1, 500)} of ${c.qty + 3}` });
    }
    const n2 = noun(3);
    const v2 = verb(3);
    const s3 = src(3);
    steps.push({ severity: h % 2 === 0 ? 'info' : 'debug', phase: Math.ceil(nCalls / 2), repeat: [1, 1], p: 0.9, tpl: () => `[${s3}] ${v2} ${n2} done` });
    const s4 = src(4);
    steps.push({ severity: 'info', phase: nCalls, repeat: [1, 1], p: 1, tpl: (_r, c) => `[${s4}] ${op.name} completed in ${Math.round(c.ms)} ms` });
  }
  const be = src(5);
  const bn = noun(5);
  const ws = src(6);
  const wn = noun(6);
  return {
    steps,
    benignError: (r) => `[${be}] failed to refresh ${bn} cache: timeout after ${r.intBetween(200, 3000)} ms, using cached value`,
    wrongReturn: (r) => `[${ws}] ${op.name} returned unexpected ${wn}: ${r.pick(['null', '-1', '0', 'empty'])} (expected a valid ${wn})`,
  };
}
