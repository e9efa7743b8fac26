/**
 * Traces and logs: sampled user requests walked down the call graph, one server span per
 * operation invoked, with durations (own work + children + network), retries, timeouts and
 * errors taken from the system state; log lines written by the spans that produce them, plus
 * untraced background lines and restart lines.
 */
import type { LogRecord, Severity, Span } from '../telemetry/index.js';
import { BASE_RPS, callErrorLine, cur, email, overloadLine, pid, retryLine, slowLine, uuid } from './catalog.js';
import type { CallFailure, LogCtx, Tpl } from './catalog.js';
import type { CallRt, Model } from './model.js';
import type { SeededRng } from '../telemetry/index.js';
import { BASE_SIGMA, HOP_MS, RTO_MS, WRONG_DETECT, WRONG_FAILS } from './state.js';
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

/** Share of code exceptions the failing service logs itself (the rest only show at callers). */
const ROOT_EXCEPTION_LOGGED = 0.85;
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

  constructor(private readonly model: Model, private readonly rng: SeededRng, private readonly traceScale = 1) {}

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
            this.ctx.rps = st.load * BASE_RPS;
            let fs = 0;
            for (const e of m.entries) fs += e.def.weight * st.fail[p * st.nOps + e.op];
            this.ctx.failShare = s.def.name === 'loadgenerator' ? fs : 0;
          }
          for (let k = 0; k < n; k++) this.log(p, st.time + r.next() * st.stepMs, 'info', this.fill(r.pick(s.def.background)), undefined);
        }
        const frac = st.mem[p] / pod.memLimit;
        if (frac > 0.8) {
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
    this.spans.push(span);

    const own = st.own[p * st.nOps + o] * r.lognormal1(BASE_SIGMA);
    let cursor = t + own * 0.3;
    let fail = OK;
    if (r.chance(st.overload[p])) {
      fail = UNAVAILABLE;
      if (r.chance(0.5)) this.log(p, cursor, 'warn', overloadLine(lang, op.def.name, Math.round(st.rho[p] * 20)), spanId);
    } else {
      const throws = r.chance(st.exc[p]);
      const throwAt = throws ? r.int(op.calls.length + 1) : -1;
      calls: for (let ci = 0; ci < op.calls.length; ci++) {
        if (ci === throwAt) break;
        const c = op.calls[ci];
        const count = c.def.min === c.def.max ? c.def.min : r.intBetween(c.def.min, c.def.max);
        for (let k = 0; k < count; k++) {
          cursor += st.delay[p] > 0 ? st.delay[p] * r.uniform(0.85, 1.15) : 0;
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
          } else if (this.retWrong && r.chance(WRONG_DETECT)) {
            this.log(p, cursor, 'error', this.fill(m.ops[c.callee].def.wrongData), spanId);
            if (!c.def.optional && r.chance(WRONG_FAILS)) {
              fail = INTERNAL;
              break calls;
            }
          }
        }
      }
      if (fail === OK && throws) {
        fail = INTERNAL;
        this.ctx.op = op.def.name;
        if (r.chance(ROOT_EXCEPTION_LOGGED)) this.log(p, cursor, 'error', this.fill(svc.def.exception), spanId);
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
    const end = cursor + own * 0.7 + (st.delay[p] > 0 ? st.delay[p] * r.uniform(0.85, 1.15) : 0);
    const duration = round3(end - t);
    span.duration = duration;
    if (fail !== OK) span.status = 'error';
    const kind = op.def.kind;
    if (kind === 'http' || kind === 'client') span.attributes = { 'http.status_code': fail === OK ? 200 : fail === UNAVAILABLE ? 503 : 500 };
    else if (kind === 'grpc') span.attributes = { 'rpc.grpc.status_code': GRPC_CODE[fail] };
    else span.attributes = { 'db.system': 'redis' };

    if (fail === OK && op.def.info.length > 0) {
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
    this.retPeer = p;
  }

  /** A call from pod `p` along `c`, starting at `t`: one retry on connection failures. */
  private call(parentId: string, p: number, c: CallRt, t: number): void {
    const m = this.model;
    const st = this.st;
    const r = this.rng;
    const pods = m.services[c.calleeService].pods;
    const timeout = c.def.timeoutMs;
    let time = t;
    for (let attempt = 0; attempt < 2; attempt++) {
      const q = pods[r.int(pods.length)];
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
          this.serve(parentId, q, c.callee, round3(time + HOP_MS * r.lognormal1(0.3) + before));
          const end = this.retEnd + HOP_MS * r.lognormal1(0.3) + (extra - before);
          if (end - t > timeout) {
            this.retEnd = t + timeout;
            this.retFail = DEADLINE;
            this.retWrong = false;
          } else {
            this.retEnd = end;
          }
          this.retPeer = q;
          return;
        }
      }
      if (attempt === 0) this.log(p, time, 'warn', retryLine(m.ops[c.callee].def.name, m.services[c.calleeService].def.name, 2), parentId);
      this.retEnd = time;
      this.retFail = failed;
      this.retWrong = false;
      this.retPeer = q;
    }
  }
}
