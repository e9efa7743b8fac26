/**
 * Traces and logs: sampled user requests walked down the call graph, one server span per
 * operation invoked and one client span per call attempt (the caller's side: its parent is the
 * caller's server span, and it is the parent of the callee's server span), with durations (own
 * work + children + network), retries, timeouts and errors taken from the system state; log
 * lines written by the spans that produce them (their steps, see steps.ts), plus untraced
 * background lines and restart lines.
 *
 * What is new since the first version of the simulator (client spans, steps, benign errors)
 * draws from a second generator, `aux`, so that the main stream — and with it every server span
 * and older log line — is what it was for a given seed up to the first delay, exception or
 * return fault (whose handling changed, and with it the draws from then on).
 */
import type { LogRecord, Severity, Span } from '../telemetry/index.js';
import { callErrorLine, cur, email, overloadLine, pid, retryLine, slowLine, uuid } from './catalog.js';
import type { CallFailure, LogCtx, Tpl } from './catalog.js';
import { GC_ONSET } from './model.js';
import type { CallRt, Model } from './model.js';
import type { SeededRng } from '../telemetry/index.js';
import { BASE_SIGMA, HOP_MS, RTO_MS, WRONG_DETECT, WRONG_DETECT_LOGGED, WRONG_FAILS } from './state.js';
import { BENIGN_ERROR_P } from './steps.js';
import type { SystemState } from './state.js';

// Outcome of a call or a span, kept in fields rather than returned objects (hot path).
const OK = 0;
const REFUSED = 1;
const RESET = 2;
const DEADLINE = 3;
const INTERNAL = 4;
const UNAVAILABLE = 5;
const KIND: CallFailure[] = ['internal', 'refused', 'reset', 'deadline', 'internal', 'unavailable'];
const GRPC_CODE = [0, 14, 14, 4, 2, 8];

/** Share of wrong values the faulty service logs, where it logs them at all. */
const WRONG_LOGGED_P = 0.8;
const ATTEMPT_ERROR = ['', 'connection refused', 'connection reset by peer'];
const MEMORY_WARN_PER_MIN = 3;

const round3 = (x: number) => Math.round(x * 1000) / 1000;

export class TraceEmitter {
  spans: Span[] = [];
  logs: LogRecord[] = [];
  traces = 0;
  private st!: SystemState;
  private readonly ctx: LogCtx = { ms: 0, op: '', memFrac: 0, memLimitMiB: 0, rps: 0, failShare: 0, user: '', product: '', currency: '', email: '', order: '', qty: 1 };
  private retEnd = 0;
  private retFail = OK;
  private retWrong = false;
  private retPeer = -1;
  private traceId = '';
  private readonly roots: number[] = [];

  constructor(
    private readonly model: Model,
    private readonly rng: SeededRng,
    private readonly traceScale = 1,
    private readonly aux: SeededRng = rng.fork('aux'),
  ) {}

  /** Emits the traces and logs of the state's current step. */
  emitStep(st: SystemState): void {
    this.st = st;
    const m = this.model;
    const r = this.rng;
    const stepMin = st.stepMs / 60_000;
    // Root times of every entry point, merged in time order (index packed into the fraction).
    const roots = this.roots;
    roots.length = 0;
    for (let e = 0; e < m.entries.length; e++) {
      const n = r.poisson(m.entries[e].def.tracesPerMin * this.traceScale * st.load * stepMin);
      for (let k = 0; k < n; k++) roots.push(st.time + r.next() * st.stepMs, e);
    }
    const order = Array.from({ length: roots.length / 2 }, (_, i) => i);
    order.sort((a, b) => roots[2 * a] - roots[2 * b] || a - b);
    for (const i of order) {
      const entry = m.entries[roots[2 * i + 1]];
      this.traceId = r.hex(16);
      this.traces++;
      const c = this.ctx;
      c.user = uuid(r);
      c.product = pid(r);
      c.currency = cur(r);
      c.email = email(r);
      c.order = uuid(r);
      c.qty = r.intBetween(1, 5);
      const lg = m.services[m.ops[entry.op].service].pods;
      this.serve(undefined, lg[r.int(lg.length)], entry.op, round3(roots[2 * i]));
    }

    for (const ev of st.restartsThisStep) {
      const pod = m.pods[ev.pod];
      let t = ev.time;
      for (const tpl of m.services[pod.service].def.startup) {
        this.log(pod.idx, t, 'info', this.fill(tpl), undefined);
        t += r.uniform(20, 600);
      }
    }

    for (const s of m.services) {
      for (const p of s.pods) {
        if (st.down[p]) continue;
        const pod = m.pods[p];
        if (s.def.bgPerMin > 0) {
          const n = r.poisson(s.def.bgPerMin * stepMin);
          if (n > 0) {
            this.ctx.rps = st.load * m.baseRps;
            let fs = 0;
            for (const e of m.entries) fs += e.def.weight * st.fail[p * st.nOps + e.op];
            this.ctx.failShare = m.clients.has(s.idx) ? fs : 0;
          }
          for (let k = 0; k < n; k++) this.log(p, st.time + r.next() * st.stepMs, 'info', this.fill(r.pick(s.def.background)), undefined);
        }
        const frac = st.mem[p] / pod.memLimit;
        if (frac > GC_ONSET) {
          this.ctx.memFrac = frac;
          this.ctx.memLimitMiB = Math.round(pod.memLimit / (1024 * 1024));
          const n = r.poisson(MEMORY_WARN_PER_MIN * stepMin * (frac - 0.75) * 4);
          for (let k = 0; k < n; k++) this.log(p, st.time + r.next() * st.stepMs, 'warn', this.fill(s.def.memWarn), undefined);
        }
      }
    }
  }

  /** Hands over what was emitted since the last call; logs in time order. */
  take(): { spans: Span[]; logs: LogRecord[] } {
    const spans = this.spans;
    const logs = this.logs;
    this.spans = [];
    this.logs = [];
    logs.sort((a, b) => a.time - b.time);
    return { spans, logs };
  }

  private fill(tpl: Tpl): string {
    return tpl(this.rng, this.ctx);
  }

  private log(pod: number, time: number, severity: Severity, body: string, spanId: string | undefined): void {
    const p = this.model.pods[pod];
    const rec: LogRecord = { time: round3(time), entity: p.id, service: this.model.services[p.service].def.name, severity, body };
    if (spanId !== undefined) {
      rec.traceId = this.traceId;
      rec.spanId = spanId;
    }
    this.logs.push(rec);
  }

  /** One server span of operation `o` on pod `p`, children included. Sets ret*. */
  private serve(parentId: string | undefined, p: number, o: number, t: number): void {
    const m = this.model;
    const st = this.st;
    const r = this.rng;
    const op = m.ops[o];
    const svc = m.services[op.service];
    const lang = svc.def.lang;
    const spanId = r.hex(8);
    const span: Span = { traceId: this.traceId, spanId, entity: m.pods[p].id, service: svc.def.name, operation: op.def.name, start: t, duration: 0, status: 'unset' };
    if (parentId !== undefined) span.parentId = parentId;
    span.kind = op.def.kind === 'client' ? 'internal' : 'server';
    this.spans.push(span);
    const steps = op.logs.steps;
    let nextStep = 0;
    // a caught exception ends the method at one step: the lines after it vanish from the span
    let stopStep = steps.length;

    const own = st.own[p * st.nOps + o] * r.lognormal1(BASE_SIGMA);
    let cursor = t + own * 0.3;
    let fail = OK;
    if (r.chance(st.overload[p])) {
      fail = UNAVAILABLE;
      if (r.chance(0.5)) this.log(p, cursor, 'warn', overloadLine(lang, op.def.name, Math.round(st.rho[p] * 20)), spanId);
    } else {
      const throws = r.chance(st.exc[p]);
      if (throws) stopStep = throwStep(st.variant[p], o, steps.length);
      calls: for (let ci = 0; ci < op.calls.length; ci++) {
        nextStep = this.steps(p, o, ci, nextStep, stopStep, cursor, spanId);
        // thrown before this call: the method's remaining calls are skipped with its remaining lines
        if (throws && stopStep < steps.length && steps[stopStep].phase <= ci) break;
        const c = op.calls[ci];
        const count = c.def.min === c.def.max ? c.def.min : r.intBetween(c.def.min, c.def.max);
        for (let k = 0; k < count; k++) {
          this.call(spanId, p, c, cursor);
          cursor = this.retEnd;
          if (this.retFail !== OK) {
            const peer = this.retPeer >= 0 ? this.retPeer : m.services[c.calleeService].pods[0];
            const line = callErrorLine(lang, c.def.action, m.services[c.calleeService].def.name, m.services[c.calleeService].def.port, KIND[this.retFail], m.pods[peer].ip, r);
            this.log(p, cursor, c.def.optional ? 'warn' : 'error', line, spanId);
            if (!c.def.optional) {
              fail = INTERNAL;
              break calls;
            }
          } else if (this.retWrong && r.chance(st.wrongLogs[this.retPeer] ? WRONG_DETECT_LOGGED : WRONG_DETECT)) {
            this.log(p, cursor, 'error', this.fill(m.ops[c.callee].def.wrongData), spanId);
            if (!c.def.optional && r.chance(WRONG_FAILS)) {
              fail = INTERNAL;
              break calls;
            }
          }
        }
      }
      if (throws) {
        // caught: logged (or not), and the span carries on as a success
        this.ctx.op = op.def.name;
        if (st.excLogs[p]) this.log(p, cursor, 'error', svc.def.exception(this.aux, this.ctx), spanId);
      }
      if (fail === OK && r.chance(st.oom[p])) {
        fail = INTERNAL;
        const pod = m.pods[p];
        this.ctx.op = op.def.name;
        this.ctx.memFrac = st.mem[p] / pod.memLimit;
        this.ctx.memLimitMiB = Math.round(pod.memLimit / (1024 * 1024));
        this.log(p, cursor, 'error', this.fill(svc.def.oom), spanId);
      }
    }
    const end = cursor + own * 0.7;
    const duration = round3(end - t);
    if (fail === OK) {
      this.ctx.ms = duration;
      this.steps(p, o, op.calls.length, nextStep, stopStep, cursor, spanId);
      if (stopStep === steps.length && steps.length > 0 && this.aux.chance(BENIGN_ERROR_P)) this.log(p, cursor, 'error', op.logs.benignError(this.aux, this.ctx), spanId);
    }
    span.duration = duration;
    if (fail !== OK) span.status = 'error';
    const kind = op.def.kind;
    if (kind === 'http' || kind === 'client') span.attributes = { 'http.status_code': fail === OK ? 200 : fail === UNAVAILABLE ? 503 : 500 };
    else if (kind === 'grpc') span.attributes = { 'rpc.grpc.status_code': GRPC_CODE[fail] };
    else span.attributes = { 'db.system': 'redis' };

    if (fail === OK && op.def.info.length > 0 && stopStep === steps.length) {
      this.ctx.ms = duration;
      this.ctx.op = op.def.name;
      const n = op.def.info.length;
      for (let k = 0; k < n; k++) {
        if (r.chance(op.def.infoP)) this.log(p, t + (duration * (k + 1)) / (n + 1), 'info', this.fill(op.def.info[k]), spanId);
      }
    }
    if (duration > op.slowMs && lang !== 'redis' && lang !== 'locust') this.log(p, t + duration, 'warn', slowLine(lang, op.def.name, duration, op.slowMs), spanId);

    this.retEnd = t + duration;
    this.retFail = fail;
    this.retWrong = fail === OK && r.chance(st.wrong[p]);
    if (this.retWrong && st.wrongLogs[p] && this.aux.chance(WRONG_LOGGED_P)) {
      this.log(p, t + duration, st.variant[p] < 0.4 ? 'error' : 'warn', op.logs.wrongReturn(this.aux, this.ctx), spanId);
    }
    this.retPeer = p;
  }

  /** Writes the steps of operation `o` up to call `phase`; returns the next step's index. */
  private steps(p: number, o: number, phase: number, from: number, stop: number, time: number, spanId: string): number {
    const steps = this.model.ops[o].logs.steps;
    const a = this.aux;
    let i = from;
    for (; i < steps.length && steps[i].phase <= phase; i++) {
      if (i >= stop) continue;
      const s = steps[i];
      if (!a.chance(s.p)) continue;
      const n = s.repeat[0] === s.repeat[1] ? s.repeat[0] : a.intBetween(s.repeat[0], s.repeat[1]);
      for (let k = 0; k < n; k++) this.log(p, time, s.severity, s.tpl(a, this.ctx), spanId);
    }
    return i;
  }

  /** A call from pod `p` along `c`, starting at `t`: one retry on connection failures. */
  private call(parentId: string, p: number, c: CallRt, t: number): void {
    const m = this.model;
    const st = this.st;
    const r = this.rng;
    const pods = m.services[c.calleeService].pods;
    const timeout = c.def.timeoutMs;
    const callee = m.ops[c.callee].def.name;
    const peer = m.services[c.calleeService].def.name;
    let time = t;
    for (let attempt = 0; attempt < 2; attempt++) {
      const q = pods[r.int(pods.length)];
      const client: Span = {
        traceId: this.traceId, spanId: this.aux.hex(8), parentId, entity: m.pods[p].id, service: m.services[m.pods[p].service].def.name,
        operation: callee, start: round3(time), duration: 0, status: 'unset', kind: 'client', attributes: { 'peer.service': peer },
      };
      this.spans.push(client);
      let failed = OK;
      if (st.down[q]) {
        time += r.uniform(0.5, 3);
        failed = REFUSED;
      } else {
        const l = Math.max(st.loss[p], st.loss[q]);
        if (l > 0 && r.chance(l * l)) {
          time += RTO_MS * (1 + r.int(3));
          failed = RESET;
        } else {
          const extra = l > 0 && r.chance(l) ? RTO_MS * (r.chance(l) ? 3 : 1) : 0;
          const before = extra > 0 && r.chance(0.5) ? extra : 0;
          // a delayed pod's packets wait on the way in and out: the caller sees it, the pod does not
          const delay = st.delay[q] > 0 ? st.delay[q] * r.uniform(0.85, 1.15) : 0;
          this.serve(client.spanId, q, c.callee, round3(time + HOP_MS * r.lognormal1(0.3) + before + delay / 2));
          const end = this.retEnd + HOP_MS * r.lognormal1(0.3) + (extra - before) + delay / 2;
          if (end - t > timeout) {
            this.retEnd = t + timeout;
            this.retFail = DEADLINE;
            this.retWrong = false;
          } else {
            this.retEnd = end;
          }
          this.retPeer = q;
          client.duration = round3(this.retEnd - client.start);
          if (this.retFail !== OK) {
            client.status = 'error';
            if (this.retFail === DEADLINE) client.statusMessage = 'deadline exceeded';
          }
          return;
        }
      }
      client.duration = round3(time - client.start);
      client.status = 'error';
      client.statusMessage = ATTEMPT_ERROR[failed];
      if (attempt === 0) this.log(p, time, 'warn', retryLine(m.ops[c.callee].def.name, m.services[c.calleeService].def.name, 2), parentId);
      this.retEnd = time;
      this.retFail = failed;
      this.retWrong = false;
      this.retPeer = q;
    }
  }
}

/** The step a caught exception stops at, fixed per fault and operation (the faulty line). */
function throwStep(variant: number, op: number, n: number): number {
  if (n < 2) return 0;
  // keep the first line (the method was entered); drop at least the last one
  const u = (variant * 9.73 + op * 0.618) % 1;
  return 1 + Math.floor(u * (n - 1));
}
