/**
 * The system's state, step by step: load, per-pod utilisation and fault effects, and for every
 * (pod, operation) the expected span duration and failure probability. Metrics are read off
 * this state analytically; traces sample from the same numbers, so the two agree.
 */
import { GC_ONSET } from './model.js';
import type { Model } from './model.js';
import type { PlannedFault } from './faults.js';
import type { SeededRng } from '../telemetry/index.js';
import type { LoadCurve, Regime } from './workload.js';

const MiB = 1024 * 1024;

/** Base spread of a span's duration around its mean (log-normal sigma). */
export const BASE_SIGMA = 0.45;
/** A caller notices wrong data in this share of responses... */
export const WRONG_DETECT = 0.8;
/**
 * ...and fails its own request in this share of those (else it logs and carries on): never,
 * as in the real return-value faults, where little but a log line changes.
 */
export const WRONG_FAILS = 0;
/** Where the faulty service logs the wrong value itself, callers notice it less often. */
export const WRONG_DETECT_LOGGED = 0.25;
/** Share of exception faults whose service logs an ERROR line (most real ones log none). */
export const EXC_LOGGED_SHARE = 0.35;
/** Share of return faults whose service logs the wrong value itself (else only callers do). */
export const WRONG_LOGGED_SHARE = 0.75;
/** TCP retransmission timeout, ms: what a lost packet costs. */
export const RTO_MS = 200;
/** Mean network latency per hop, ms. */
export const HOP_MS = 0.35;

export interface RestartEvent {
  pod: number;
  /** ms, when the container came back */
  time: number;
  reason: 'killed' | 'oom-killed';
}

export class SystemState {
  readonly nPods: number;
  readonly nOps: number;
  load = 1;
  regime: Regime = 'normal';
  step = -1;
  time = 0;

  // per operation
  readonly opRate: Float64Array;
  // per pod: fault effects and derived load
  readonly down: Uint8Array;
  readonly capFactor: Float64Array;
  readonly stress: Float64Array;
  readonly slow: Float64Array;
  readonly delay: Float64Array;
  readonly loss: Float64Array;
  readonly exc: Float64Array;
  readonly wrong: Float64Array;
  /** per pod, during an exception or return fault: the fault's variant, and who logs it */
  readonly variant: Float64Array;
  readonly excLogs: Uint8Array;
  readonly wrongLogs: Uint8Array;
  readonly oom: Float64Array;
  readonly overload: Float64Array;
  readonly rho: Float64Array;
  readonly podRate: Float64Array;
  readonly demand: Float64Array;
  readonly mem: Float64Array;
  readonly leak: Float64Array;
  readonly cold: Float64Array;
  readonly startupCpu: Float64Array;
  readonly restarts: Float64Array;
  readonly cpuNoise: Float64Array;
  // per (pod, operation), index pod * nOps + op
  readonly own: Float64Array;
  readonly dur: Float64Array;
  readonly fail: Float64Array;
  readonly sigma: Float64Array;

  restartsThisStep: RestartEvent[] = [];
  private readonly downSteps: number;
  /** per pod, the memory-leak fault active this step; per leak, the step its growth restarted */
  private readonly leakFault: (PlannedFault | undefined)[] = [];
  private readonly leakFrom = new Map<PlannedFault, number>();

  constructor(
    readonly model: Model,
    private readonly faults: PlannedFault[],
    private readonly curve: LoadCurve,
    private readonly rng: SeededRng,
    readonly start: number,
    readonly stepMs: number,
  ) {
    const P = model.pods.length;
    const O = model.ops.length;
    this.nPods = P;
    this.nOps = O;
    this.opRate = new Float64Array(O);
    this.down = new Uint8Array(P);
    const f = () => new Float64Array(P);
    this.capFactor = f();
    this.stress = f();
    this.slow = f();
    this.delay = f();
    this.loss = f();
    this.exc = f();
    this.wrong = f();
    this.variant = f();
    this.excLogs = new Uint8Array(P);
    this.wrongLogs = new Uint8Array(P);
    this.oom = f();
    this.overload = f();
    this.rho = f();
    this.podRate = f();
    this.demand = f();
    this.mem = f();
    this.leak = f();
    this.cold = f().fill(1);
    this.startupCpu = f();
    this.restarts = f();
    this.cpuNoise = f();
    this.own = new Float64Array(P * O);
    this.dur = new Float64Array(P * O);
    this.fail = new Float64Array(P * O);
    this.sigma = new Float64Array(P * O);
    for (const p of model.pods) this.mem[p.idx] = p.memBase;
    this.downSteps = Math.max(1, Math.round(60_000 / stepMs));
  }

  /** Moves to step `step` (steps must come in order). */
  advance(step: number): void {
    const m = this.model;
    this.step = step;
    this.time = this.start + step * this.stepMs;
    const { load, regime } = this.curve.next(this.time);
    this.load = load;
    this.regime = regime;
    this.restartsThisStep = [];

    this.down.fill(0);
    this.capFactor.fill(1);
    this.stress.fill(0);
    this.slow.fill(1);
    this.delay.fill(0);
    this.loss.fill(0);
    this.exc.fill(0);
    this.wrong.fill(0);
    this.variant.fill(0);
    this.excLogs.fill(0);
    this.wrongLogs.fill(0);
    this.leak.fill(0);
    this.leakFault.length = 0;
    this.startupCpu.fill(0);
    const decay = Math.exp(-this.stepMs / 90_000);
    for (let p = 0; p < this.nPods; p++) this.cold[p] = 1 + (this.cold[p] - 1) * decay;

    for (const f of this.faults) {
      if (step < f.fromStep || step >= f.toStep) continue;
      const p = f.pod;
      const pod = m.pods[p];
      switch (f.type) {
        case 'cpu-contention':
          this.capFactor[p] = f.intensity;
          this.stress[p] = pod.cpuLimit * (1 - f.intensity);
          break;
        case 'memory-leak': {
          // after an OOM kill the leak grows again from nothing, at the same rate
          const progress = (step - (this.leakFrom.get(f) ?? f.fromStep) + 1) / (f.toStep - f.fromStep);
          this.leakFault[p] = f;
          this.leak[p] = Math.max(0, f.intensity * pod.memLimit - pod.memBase) * progress;
          break;
        }
        case 'network-delay':
          this.delay[p] = f.intensity;
          break;
        case 'packet-loss':
          this.loss[p] = f.intensity;
          break;
        case 'code-exception':
          this.exc[p] = f.intensity;
          this.variant[p] = f.variant;
          this.excLogs[p] = f.variant < EXC_LOGGED_SHARE ? 1 : 0;
          break;
        case 'wrong-return-value':
          this.wrong[p] = f.intensity;
          this.variant[p] = f.variant;
          this.wrongLogs[p] = f.variant < WRONG_LOGGED_SHARE ? 1 : 0;
          break;
        case 'pod-kill': {
          const back = f.fromStep + this.downSteps;
          if (step < back) {
            this.down[p] = 1;
          } else if (step === back) {
            this.restarts[p]++;
            this.cold[p] = 2.2;
            this.mem[p] = pod.memBase * 0.55;
            this.startupCpu[p] = pod.cpuLimit * 0.6;
            this.restartsThisStep.push({ pod: p, time: this.time + this.rng.uniform(1_000, 8_000), reason: 'killed' });
          }
          break;
        }
      }
    }

    for (let o = 0; o < this.nOps; o++) this.opRate[o] = load * m.ops[o].unitRate;

    for (const s of m.services) {
      const n = s.pods.length;
      let rate = 0;
      let demand = 0;
      for (const o of s.ops) {
        rate += this.opRate[o] / n;
        demand += (this.opRate[o] / n) * m.ops[o].cpuPerReq;
      }
      for (const p of s.pods) {
        const pod = m.pods[p];
        this.podRate[p] = this.down[p] ? 0 : rate;
        // Working set follows traffic with some lag; a leak adds to it.
        const target = pod.memBase + s.def.memPerRps * rate * MiB + this.leak[p];
        // A leak (a stressor's allocations) grows and is freed at once; ordinary drift is slower.
        const fast = this.leak[p] > 0 || this.mem[p] > target * 1.15;
        if (!this.down[p]) this.mem[p] += (target - this.mem[p]) * (fast ? 0.9 : 0.35) + pod.memBase * 0.004 * this.rng.normal();
        const leaking = this.leakFault[p];
        if (leaking && this.mem[p] >= pod.memLimit) {
          // the kernel's OOM killer: the container restarts at once, cold, its memory freed
          this.restarts[p]++;
          this.cold[p] = 2.2;
          this.mem[p] = pod.memBase * 0.55;
          this.startupCpu[p] = pod.cpuLimit * 0.6;
          this.leakFrom.set(leaking, step + 1);
          this.restartsThisStep.push({ pod: p, time: this.time + this.rng.uniform(1_000, 8_000), reason: 'oom-killed' });
        }
        const frac = this.mem[p] / pod.memLimit;
        // Near the limit, garbage collection eats into every request, then allocations fail.
        const gc = frac > GC_ONSET ? 1 + 4 * Math.min(1, (frac - GC_ONSET) / (1 - GC_ONSET)) : 1;
        this.oom[p] = frac > 0.9 ? Math.min(0.35, (frac - 0.9) * 3) : 0;
        this.slow[p] = gc * this.cold[p];
        this.demand[p] = demand * this.slow[p];
        const rho = this.demand[p] / (pod.cpuLimit * this.capFactor[p]);
        this.rho[p] = rho;
        this.overload[p] = rho > 1 ? Math.min(0.9, 1 - 1 / rho) : 0;
        const q = 1 / (1 - Math.min(rho, 0.96));
        for (const o of s.ops) this.own[p * this.nOps + o] = m.ops[o].def.ownMs * q * this.slow[p];
      }
    }

    this.expectations();
  }

  /** Expected duration, failure probability and spread of every (pod, operation). */
  private expectations(): void {
    const m = this.model;
    const O = this.nOps;
    for (const o of m.order) {
      const op = m.ops[o];
      for (const p of m.services[op.service].pods) {
        const i = p * O + o;
        // Exceptions are caught (the span succeeds); a network delay sits on the edges into a pod.
        const ownErr = 1 - (1 - this.overload[p]) * (1 - this.oom[p]);
        let dur = this.own[i];
        let ok = 1 - ownErr;
        let tail = 0;
        if (this.loss[p] > 0) tail = Math.min(0.6, 2 * this.loss[p]);
        if (this.rho[p] > 0.8) tail = Math.max(tail, Math.min(1, (this.rho[p] - 0.8) * 2.5));
        for (const c of op.calls) {
          const pods = m.services[c.calleeService].pods;
          let downShare = 0;
          let lossMean = 0;
          let drop = 0;
          let d = 0;
          let fail = 0;
          let sig = 0;
          let live = 0;
          let delay = 0;
          for (const q of pods) {
            if (this.down[q]) {
              downShare++;
              continue;
            }
            const l = Math.max(this.loss[p], this.loss[q]);
            lossMean += l;
            drop += l * l;
            const j = q * O + c.callee;
            d += this.dur[j];
            fail += this.fail[j] + (1 - this.fail[j]) * this.wrong[q] * WRONG_DETECT * WRONG_FAILS;
            sig += this.sigma[j];
            delay += this.delay[q];
            live++;
          }
          downShare /= pods.length;
          if (live > 0) {
            lossMean /= live;
            d /= live;
            fail /= live;
            sig /= live;
            drop /= live;
            delay /= live;
          } else {
            d = 0;
            fail = 1;
            sig = BASE_SIGMA;
          }
          const attemptFail = downShare + (1 - downShare) * drop;
          const transportFail = attemptFail * attemptFail;
          let callDur = d + 2 * HOP_MS + delay + lossMean * RTO_MS * (1 + 2 * lossMean) + attemptFail * (d + 2);
          const timeout = c.def.timeoutMs;
          let pTimeout = 0;
          if (callDur > 0) {
            const median = callDur * Math.exp((-sig * sig) / 2);
            pTimeout = 1 - normalCdf((Math.log(timeout) - Math.log(median)) / sig);
          }
          callDur = Math.min(callDur, timeout);
          const callFail = Math.min(1, transportFail + (1 - transportFail) * (fail + (1 - fail) * pTimeout));
          if (!c.def.optional) ok *= Math.pow(1 - callFail, c.meanCount);
          dur += c.meanCount * callDur;
          const share = dur > 0 ? (c.meanCount * callDur) / dur : 0;
          tail = Math.max(tail, (sig - BASE_SIGMA) * share, lossMean > 0 ? Math.min(0.6, 2 * lossMean) : 0);
        }
        this.dur[i] = dur;
        this.fail[i] = 1 - ok;
        this.sigma[i] = BASE_SIGMA + tail;
      }
    }
  }
}

/** Standard normal CDF (Abramowitz & Stegun 7.1.26, |error| < 1.5e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + y) / 2 : (1 - y) / 2;
}
