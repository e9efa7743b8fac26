import type { TimeRange } from '../../telemetry/index.js';
import {
  edgeGaps,
  callOutcomes,
  spanStructureFamily,
  meshEdges,
  logRates,
  logTemplateFamily,
  resourceFamily,
  median,
  quantile,
  empiricalNull,
  tailZ,
  maxOfNCorrection,
  normalUpperQuantile,
  normalUpperTail,
  TAIL_TRUST_SHARE,
  selfTime,
  DEFAULT_HISTORY_MS,
  type CountScale,
  type EvidenceFamily,
  type EvidenceItem,
  type FamilyName,
  type RawScores,
  type ResourceSummary,
  type EmpiricalNull,
  type ServiceRaw,
  type WindowInput,
} from '../../encode/index.js';
import { POOLED_FAMILIES, poolSummaries } from './pool.js';

/** Constants of the calibration; docs/localize.md gives the reason for each default. */
export interface LocalizerOptions {
  /** rolling history of the resource family (default 30 min) */
  historyMs?: number;
  /** floor on a null's scale, in the raw score's own (z-like) units (default 1) */
  zFloor?: number;
  /** null values a service needs before its own null is used, else the family's pooled null (default 8) */
  minNull?: number;
  /** load tiers (quantiles of the normal windows' load) a null is split into (default 3) */
  loadTiers?: number;
  /** folds for the out-of-fold null of families with a fitted reference (default 10) */
  folds?: number;
  /** the families used (default all); for ablations and for sources where one is known bad */
  families?: FamilyName[];
  /**
   * How a service's (and pod's) value becomes comparable across families: `robust` — a robust
   * z against the null; `tail` (alone, tried and dropped: docs/localize.md) —
   * the normal quantile of its empirical tail probability against the null, plus the robust
   * excess beyond the null's largest value (contaminated nulls make it blind); `auto`
   * (default) — `tail` where the null has `tailMinNull` values or more (a clean grid large
   * enough to show its tail), else `robust` (a few windows, one contaminated one sets the max).
   * Parts are always robust z (an intermediate statistic, re-calibrated at the service level).
   */
  calibration?: 'tail' | 'robust' | 'auto';
  /** under `auto`, nulls with at least this many values use `tail`, smaller ones `robust` (default 100) */
  tailMinNull?: number;
  /**
   * Null scales (parts, services, pods) as max(1.4826·MAD, zFloor) without the mean absolute
   * deviation, which contaminated null windows inflate (see `empiricalNull`).
   */
  madOnly?: boolean;
  /**
   * A family's best slice over a multi-slice query is calibrated against the null of the best
   * of as many successive normal windows where the normal windows hold enough such runs (the
   * metric grid), else corrected analytically (`maxOfNCorrection`); false: always analytic.
   */
  maxNull?: boolean;
  /**
   * Where no null of the best of n normal windows exists (the trace and log families on Nezha),
   * how a family's slices make one z: `stouffer` (default) — Σ z/√n over the slices it had a
   * value in, a single slice's scale under independent normal slices, and the test for an effect
   * that lasts (a fault persists over the query; symptoms downstream come and go); `best` — the
   * best slice corrected for n (`maxOfNCorrection`, Šidák; H18), the test for an effect in one
   * slice. docs/localize.md ("After H18") compares them.
   */
  sliceRule?: 'stouffer' | 'best';
  /**
   * Weights of the slices in `stouffer`: `spans` (default) — √(spans of the service in the slice)
   * for the families built from spans (`SPAN_FAMILIES`), so a slice with 3 spans (the fault's
   * traces thinning out) counts for less than one with 40: the weighted Stouffer
   * Σ wᵢzᵢ/√Σ wᵢ² is still N(0, 1) under the null for any weights fixed before the z's, and
   * √n is the weight of the most powerful combination for an effect of the same size per span;
   * `equal` — every slice alike (Σ z/√n).
   */
  sliceWeights?: 'spans' | 'equal';
  /** cap a caller's inherited evidence below its faulty callee's edge evidence (`capInherited`; default true) */
  capInherited?: boolean;
  /**
   * cap a caller's self-time and inherited families just below the score of a callee its calls
   * into went bad (the `felt` statistic; `capFelt`, default true; docs/localize.md "Felt callees")
   */
  capFelt?: boolean;
  /**
   * The scale of a null (parts, services, pods, best-of-n): `mad` — max(1.4826·MAD, zFloor);
   * `clipped` (default) — where the null is a statistic clipped at a floor (a quarter or more of
   * its values tie at its minimum: self time counts rises only, so it is 0 in half the normal
   * windows), also at least the spread of its upper side (`clippedNullScale`): the MAD of such
   * a null is 0 whatever its rises do (docs/localize.md "Clipped nulls").
   */
  nullScale?: 'mad' | 'clipped';
  /**
   * How the log-template and span-structure families score a Welch t of per-span counts
   * (`CountScale`): `t` (default) as it is; `student` — as the z with the same Student t tail at
   * its Welch–Satterthwaite degrees of freedom (`welchZ`; docs/localize.md "Small-sample t":
   * tried, not kept — no Nezha rank moved and one simulator tie flipped).
   */
  countScale?: CountScale;
  /**
   * `capFelt` leaves a caller alone whose own incoming-edge evidence (`EDGE_FAMILIES`, final z)
   * is at least what it felt through the callee, as it does a starved caller: a pod whose
   * network loses packets loses them on its outgoing calls too, so it feels its callees go bad
   * because of itself (default true; docs/localize.md "Lossy callers")
   */
  ownEdgeExempt?: boolean;
  /**
   * How a caller's felt z's (one per slice, the call-outcome family's `felt`) make the query's
   * (`feltZ`): `max` (default) — the worst slice; `stouffer` — Σ z/√n over the slices the edge
   * had calls in, the test the families' `sliceRule` uses for an effect that lasts; `either` —
   * the stronger of the two, Bonferroni-corrected. Both others tried and not kept: a one-minute
   * pod kill fades under Stouffer, and `either` capped an excepting caller under its callee on a
   * second system (docs/localize.md "Lossy callers")
   */
  feltRule?: 'max' | 'stouffer' | 'either';
  /**
   * How call outcomes (`POOLED_FAMILIES`) make one value over a query of several slices:
   * `either` (default) — the stronger, as a test, of the slices' combination (`sliceRule`,
   * `maxNull`) and their summed counts scored once against the same single-slice nulls
   * (`pool.ts`), Šidák-corrected for having two (`eitherZ`): a small effect's few bad calls per
   * slice add up in the sum, an effect in one slice keeps the slices' rule; an edge too quiet
   * for the family's minimum in every slice is judged on the sum alone. `none` — the slices'
   * combination only. docs/localize.md "Pooled counts" (the sum alone, and pooling the
   * log-template and span-structure counts too, were measured and not kept).
   */
  pooling?: 'either' | 'none';
}

/** Families that look at a call edge from both ends: their incoming-edge evidence points at the callee. */
export const EDGE_FAMILIES: readonly FamilyName[] = ['edge-gap', 'call-outcome', 'mesh-edge'];
/**
 * Families a caller inherits from a faulty callee: its timeout and error lines, retries and
 * skipped child calls change when a call goes wrong downstream (log-template, log-rate,
 * span-structure). Self time and resources are not inherited (self time leaves out outgoing calls).
 */
export const INHERITED_FAMILIES: readonly FamilyName[] = ['log-template', 'log-rate', 'span-structure'];

/**
 * Families a caller inherits from a callee whose calls it felt go bad (`capFelt`): the inherited
 * families and self time — a call that throws or times out moves time into the caller's own
 * span (exception handling, retries, waits, a callee span that never reached the trace).
 */
export const FELT_FAMILIES: readonly FamilyName[] = [...INHERITED_FAMILIES, 'self-time'];

export const LOCALIZER_DEFAULTS: Required<LocalizerOptions> = {
  historyMs: DEFAULT_HISTORY_MS,
  zFloor: 1,
  minNull: 8,
  loadTiers: 3,
  folds: 10,
  families: ['edge-gap', 'self-time', 'log-template', 'log-rate', 'resource', 'call-outcome', 'span-structure', 'mesh-edge'],
  calibration: 'auto',
  tailMinNull: 100,
  madOnly: true,
  maxNull: true,
  sliceRule: 'stouffer',
  capInherited: true,
  capFelt: true,
  sliceWeights: 'spans',
  nullScale: 'clipped',
  countScale: 't',
  ownEdgeExempt: true,
  feltRule: 'max',
  pooling: 'either',
};

/**
 * Families whose per-slice value rests on the service's spans (its server spans, their logs,
 * their calls): their slices are weighted by √spans under `sliceWeights: 'spans'`. Resource and
 * mesh metrics, and logs without span ids, are not: their slices weigh alike.
 */
export const SPAN_FAMILIES: readonly FamilyName[] = ['edge-gap', 'self-time', 'log-template', 'call-outcome', 'span-structure'];

/** One family's calibrated evidence for a suspect. */
export interface FamilyEvidence {
  family: FamilyName;
  /**
   * calibrated: the best slice's z against the service's null of single normal slices, corrected
   * for the number of slices in which this family had a value for this service
   * (`maxOfNCorrection`; the same as `sliceZ` for a one-slice query)
   */
  z: number;
  /** the best slice's z before the correction for the number of slices */
  sliceZ: number;
  /** slices of the query in which this family had a (finite) value for this service */
  slices: number;
  /** Σ over those slices of w·z (for `sliceRule: 'stouffer'`; w = 1 unless `sliceWeights: 'spans'`) */
  sumZ: number;
  /** Σ over those slices of w² (the number of slices when every w is 1) */
  sumW2: number;
  /**
   * how `z` was made: `none` (one slice), `max-null` (the best slice against the best of as many
   * successive normal windows), `sidak` (the best slice, analytic `maxOfNCorrection`),
   * `stouffer` (Σ z/√n over the slices, `sliceRule`), `pooled` (the slices' counts summed and
   * scored once, `pooling`)
   */
  correction: 'none' | 'max-null' | 'sidak' | 'stouffer' | 'pooled';
  raw: number;
  /** the slice of the window where it was strongest */
  window: TimeRange;
  items: EvidenceItem[];
  /**
   * Set when this family's z was capped because the service only inherits it (`INHERITED_FAMILIES`):
   * the callee whose incoming-edge evidence explains it, and the z before the cap.
   */
  inheritedFrom?: { callee: string; z: number };
}

export interface Suspect {
  service: string;
  /** max over families of the calibrated z */
  score: number;
  evidence: FamilyEvidence[];
}

export interface PodSuspect {
  pod: string;
  service: string;
  score: number;
}

export interface Ranking {
  range: TimeRange;
  services: Suspect[];
  pods: PodSuspect[];
  /** families that had data in the window */
  families: FamilyName[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyFamily = EvidenceFamily<any, any>;

/**
 * A caller's felt z over a query from its slices' (`LocalizerOptions.feltRule`): the worst
 * slice, their Stouffer sum, or `either` — the stronger of the two as a test, Bonferroni-corrected
 * for having two (the z of twice the smaller tail probability), so a sharp one-minute effect (a
 * killed pod's refused calls) and a moderate one that lasts (a lossy pod's few slow calls in
 * every minute) both show, at no more false alarms than either test alone at half the level.
 */
export function feltZ(f: { max: number; sum: number; n: number }, rule: 'max' | 'stouffer' | 'either'): number {
  const st = f.sum / Math.sqrt(f.n);
  if (rule === 'max') return f.max;
  if (rule === 'stouffer') return st;
  return normalUpperQuantile(Math.min(1, 2 * normalUpperTail(Math.max(f.max, st))));
}

/**
 * The stronger of two tests of the same evidence as one z, Šidák-corrected for having two:
 * the z of 1 − (1 − p)² for the smaller tail p. Beyond z 5 (where the normal quantile's
 * double precision runs out near 8) the same correction to first order: a doubled tail
 * lowers z² by 2·ln 2.
 */
export function eitherZ(a: number, b: number): number {
  const m = Math.max(a, b);
  if (!Number.isFinite(m)) return m;
  if (m > 5) return Math.sqrt(m * m - 2 * Math.LN2);
  const t = normalUpperTail(m);
  return normalUpperQuantile(t * (2 - t));
}

/** Null values of one key, with the load level of each value's window. */
interface NullList {
  values: number[];
  loads: number[];
}

/** A fitted null: a robust location per load tier (tier 0 is all values). */
interface FittedNull {
  tiers: EmpiricalNull[];
}

/**
 * The scale of a null clipped at a floor, from its upper side: when a quarter or more of the
 * (ascending) values tie at the minimum — a statistic that counts rises only, 0 whenever
 * nothing rose — the MAD says nothing about how far the rises go, so the spread is read where
 * the values move: (q75 − median)/Φ⁻¹(¾), which equals 1.4826·MAD for a symmetric null.
 * 0 (no widening) for a null that is not clipped or has fewer than 4 values.
 */
export function clippedNullScale(sorted: readonly number[], center: number): number {
  if (sorted.length < 4 || !Number.isFinite(center) || quantile(sorted, 0.25) !== sorted[0]) return 0;
  return Math.max(0, quantile(sorted, 0.75) - center) / 0.6744897501960817;
}

function pushNull(m: Map<string, NullList>, key: string, v: number, load: number): void {
  if (!Number.isFinite(v)) return;
  let l = m.get(key);
  if (!l) m.set(key, (l = { values: [], loads: [] }));
  l.values.push(v);
  l.loads.push(load);
}

/**
 * The label-free localizer: references and nulls are fitted from normal windows only (the
 * caller chooses them; labels may only exclude fault periods), and a query window is ranked by
 * each family's score calibrated against the same service's null, combined by max.
 *
 * Two levels: a family that compares many things per service (metrics, operations, templates)
 * gives sub-scores ("parts"); each is first turned into a robust z against its own null, the
 * service's value is the max of those, and that max is calibrated again against the same
 * max over the service's normal windows — so a service with many templates gets no advantage
 * from the number of chances it has.
 */
export class EvidenceLocalizer {
  private readonly opt: Required<LocalizerOptions>;
  readonly families: AnyFamily[];
  private readonly refs = new Map<FamilyName, unknown>();
  /** per family: part nulls keyed "service\tpart", service nulls, pod nulls keyed by service */
  private readonly partNulls = new Map<FamilyName, Map<string, FittedNull>>();
  private readonly pooledPart = new Map<FamilyName, FittedNull>();
  private readonly serviceNulls = new Map<FamilyName, Map<string, FittedNull>>();
  private readonly pooledService = new Map<FamilyName, FittedNull>();
  private readonly podNulls = new Map<FamilyName, Map<string, FittedNull>>();
  private readonly pooledPod = new Map<FamilyName, FittedNull>();
  /** per family and service: each normal window's final z, in time order */
  private readonly series = new Map<FamilyName, Map<string, { start: number; ms: number; z: number }[]>>();
  /** nulls of the best of n successive normal windows, keyed "family\tservice\tn" */
  private readonly maxNulls = new Map<string, EmpiricalNull | null>();
  /** load tier bounds (from the normal windows' loads) */
  private tierBounds: number[] = [];
  /** normal windows behind each family's null */
  readonly nullWindows = new Map<FamilyName, number>();

  private constructor(opt: LocalizerOptions) {
    this.opt = { ...LOCALIZER_DEFAULTS, ...opt };
    this.families = [edgeGaps, selfTime, logTemplateFamily(this.opt.countScale), logRates, resourceFamily(this.opt.historyMs), callOutcomes, spanStructureFamily(this.opt.countScale), meshEdges].filter((f) => this.opt.families.includes(f.name));
  }

  /** Fits references and nulls from normal windows (all of them the same length as a query slice). */
  static fit(normal: readonly WindowInput[], opt: LocalizerOptions = {}): EvidenceLocalizer {
    const loc = new EvidenceLocalizer(opt);
    const resource = resourceFamily(loc.opt.historyMs);
    const loads = normal.map((w) => (resource.summarize(w) as ResourceSummary | undefined)?.load ?? NaN);
    const finite = loads.filter(Number.isFinite).sort((a, b) => a - b);
    const tiers = loc.opt.loadTiers;
    if (finite.length >= tiers * loc.opt.minNull) loc.tierBounds = Array.from({ length: tiers - 1 }, (_, i) => quantile(finite, (i + 1) / tiers));
    for (const fam of loc.families) {
      const sums: { s: unknown; load: number; start: number; ms: number }[] = [];
      normal.forEach((w, i) => {
        const s = fam.summarize(w);
        if (s !== undefined) sums.push({ s, load: loads[i], start: w.range.start, ms: w.range.end - w.range.start });
      });
      loc.nullWindows.set(fam.name, sums.length);
      loc.refs.set(fam.name, fam.fit(sums.map((x) => x.s)));
      // out-of-fold raw scores: a window is never judged against a reference that contains it
      const raws: { raw: RawScores; load: number; start: number; ms: number }[] = [];
      const k = Math.min(loc.opt.folds, sums.length);
      for (let f = 0; f < k; f++) {
        const ref = fam.name === 'resource' ? null : fam.fit(sums.filter((_, i) => i % k !== f).map((x) => x.s));
        for (let i = f; i < sums.length; i += k) raws.push({ raw: fam.score(sums[i].s, ref), load: sums[i].load, start: sums[i].start, ms: sums[i].ms });
      }
      const parts = new Map<string, NullList>();
      const pooledPart: NullList = { values: [], loads: [] };
      for (const { raw, load } of raws) for (const [svc, r] of raw) {
        for (const [p, v] of r.parts ?? []) (pushNull(parts, `${svc}\t${p}`, v, load), pushNull(new Map([['', pooledPart]]), '', v, load));
        for (const pp of r.podParts?.values() ?? []) for (const [p, v] of pp) pushNull(parts, `${svc}\t${p}`, v, load);
      }
      loc.partNulls.set(fam.name, new Map([...parts].map(([key, l]) => [key, loc.fitNull(l)])));
      loc.pooledPart.set(fam.name, loc.fitNull(pooledPart));
      const services = new Map<string, NullList>();
      const pods = new Map<string, NullList>();
      const allS: NullList = { values: [], loads: [] };
      const allP: NullList = { values: [], loads: [] };
      for (const { raw, load } of raws) for (const [svc, r] of raw) {
        const v = loc.level1(fam.name, svc, r, load);
        pushNull(services, svc, v, load);
        if (Number.isFinite(v)) (allS.values.push(v), allS.loads.push(load));
        for (const pv of loc.level1Pods(fam.name, svc, r, load).values()) {
          pushNull(pods, svc, pv, load);
          if (Number.isFinite(pv)) (allP.values.push(pv), allP.loads.push(load));
        }
      }
      loc.serviceNulls.set(fam.name, new Map([...services].map(([key, l]) => [key, loc.fitNull(l)])));
      loc.pooledService.set(fam.name, loc.fitNull(allS));
      loc.podNulls.set(fam.name, new Map([...pods].map(([key, l]) => [key, loc.fitNull(l)])));
      loc.pooledPod.set(fam.name, loc.fitNull(allP));
      // each normal window's final z per service, in time order: the null of the best of n
      // successive normal slices (`maxNull`) is cut from it
      const series = new Map<string, { start: number; ms: number; z: number }[]>();
      for (const { raw, load, start, ms } of raws) for (const [svc, r] of raw) {
        if (!Number.isFinite(r.score)) continue;
        const z = loc.calibrate(fam.name, svc, r, load).z;
        if (!Number.isFinite(z)) continue;
        let l = series.get(svc);
        if (!l) series.set(svc, (l = []));
        l.push({ start, ms, z });
      }
      for (const l of series.values()) l.sort((a, b) => a.start - b.start);
      loc.series.set(fam.name, series);
    }
    return loc;
  }

  private tierOf(load: number): number {
    if (!this.tierBounds.length || !Number.isFinite(load)) return -1;
    let t = 0;
    while (t < this.tierBounds.length && load > this.tierBounds[t]) t++;
    return t;
  }

  /** One null sample's location and scale (`madOnly`, `nullScale`). */
  private nullOf(values: readonly number[]): EmpiricalNull {
    const n = empiricalNull(values, this.opt.zFloor, !this.opt.madOnly);
    if (this.opt.nullScale === 'clipped') n.scale = Math.max(n.scale, clippedNullScale(n.sorted, n.center));
    return n;
  }

  /** The null over all values, then per load tier where a tier has enough values. */
  private fitNull(l: NullList): FittedNull {
    const all = this.nullOf(l.values);
    if (!this.tierBounds.length) return { tiers: [all] };
    const by: number[][] = Array.from({ length: this.tierBounds.length + 1 }, () => []);
    l.values.forEach((v, i) => {
      const t = this.tierOf(l.loads[i]);
      if (t >= 0) by[t].push(v);
    });
    return { tiers: [all, ...by.map((v) => (v.length >= this.opt.minNull ? this.nullOf(v) : all))] };
  }

  private nullFor(n: FittedNull | undefined, load: number): EmpiricalNull | undefined {
    if (!n || n.tiers[0].n === 0) return undefined;
    const t = this.tierOf(load);
    return t >= 0 && n.tiers.length > t + 1 ? n.tiers[t + 1] : n.tiers[0];
  }

  /** Robust z (parts, and services under `calibration: 'robust'`). */
  private z(n: FittedNull | undefined, v: number, load: number): number {
    const r = this.nullFor(n, load);
    return r ? (v - r.center) / r.scale : NaN;
  }

  /** The final, cross-family comparable value of a service or pod (see `calibration`). */
  private finalZ(n: FittedNull | undefined, v: number, load: number): number {
    const r = this.nullFor(n, load);
    if (!r) return NaN;
    const tail = this.opt.calibration === 'tail' || (this.opt.calibration === 'auto' && r.n >= this.opt.tailMinNull);
    return tail ? tailZ(r, v) : (v - r.center) / r.scale;
  }

  private pick(own: FittedNull | undefined, pooled: FittedNull | undefined): FittedNull | undefined {
    return own && own.tiers[0].n >= this.opt.minNull ? own : pooled;
  }

  private partZ(family: FamilyName, svc: string, part: string, v: number, load: number): number {
    return this.z(this.pick(this.partNulls.get(family)?.get(`${svc}\t${part}`), this.pooledPart.get(family)), v, load);
  }

  /** A service's first-level value: the max of its calibrated parts, or its raw score. */
  private level1(family: FamilyName, svc: string, r: ServiceRaw, load: number): number {
    if (!r.parts) return r.score;
    let best = -Infinity;
    for (const [p, v] of r.parts) best = Math.max(best, this.partZ(family, svc, p, v, load));
    return best;
  }

  private level1Pods(family: FamilyName, svc: string, r: ServiceRaw, load: number): Map<string, number> {
    const out = new Map<string, number>();
    if (r.podParts) {
      for (const [pod, pp] of r.podParts) {
        let best = -Infinity;
        for (const [p, v] of pp) best = Math.max(best, this.partZ(family, svc, p, v, load));
        out.set(pod, best);
      }
    } else for (const [pod, v] of r.pods ?? []) out.set(pod, v);
    return out;
  }

  /** Calibrated z of a service's raw result (state-matched by load where loads are known). */
  calibrate(family: FamilyName, service: string, r: ServiceRaw, load: number): { z: number; pods: Map<string, number> } {
    const z = this.finalZ(this.pick(this.serviceNulls.get(family)?.get(service), this.pooledService.get(family)), this.level1(family, service, r, load), load);
    const podNull = this.pick(this.podNulls.get(family)?.get(service), this.pooledPod.get(family));
    const pods = new Map<string, number>();
    for (const [pod, v] of this.level1Pods(family, service, r, load)) pods.set(pod, this.finalZ(podNull, v, load));
    return { z, pods };
  }

  /**
   * Who is starved (issue 11, lesson b): a caller whose own resources are saturated makes all
   * its outgoing calls slow, and the gap on its edges then points at the callee. An incoming
   * edge is left out when its caller's calibrated resource z is at least the callee's
   * calibrated edge z — the caller's own state explains the gap at least as well as a fault
   * at the callee does. The callee's score is the median over the edges left; with none left it
   * has no edge evidence (returns null). Returns `r` itself when no edge is left out.
   */
  private withoutStarvedCallers(r: ServiceRaw, edgeZ: number, resourceZ: ReadonlyMap<string, number>): ServiceRaw | null {
    const kept: number[] = [];
    const dropped = new Set<string>();
    for (const [caller, dev] of r.incoming!) {
      const rz = resourceZ.get(caller);
      if (rz !== undefined && Number.isFinite(edgeZ) && rz >= edgeZ) dropped.add(caller);
      else kept.push(dev);
    }
    if (!dropped.size) return r;
    if (!kept.length) return null;
    const items = r.items.filter((it) => ![...dropped].some((c) => it.subject.startsWith(`${c} →`)));
    // per-pod medians mixed the dropped edges in: the pods take the service's value instead
    return { score: median(kept), items, incoming: new Map([...r.incoming!].filter(([c]) => !dropped.has(c))) };
  }

  /**
   * The null of the best of `n` successive normal windows of a family at a service: every run
   * of n windows of its time-ordered series with no gap longer than one skipped window (the
   * metric grid is thinned evenly to at most `maxMetricWindows`), each run's max. Null (not
   * available) when fewer than `tailMinNull` runs exist — then the analytic correction is used.
   */
  private maxNull(family: FamilyName, service: string, n: number): EmpiricalNull | null {
    const key = `${family}\t${service}\t${n}`;
    const cached = this.maxNulls.get(key);
    if (cached !== undefined) return cached;
    const l = this.series.get(family)?.get(service) ?? [];
    const maxima: number[] = [];
    for (let i = 0; i + n <= l.length; i++) {
      let ok = true;
      let m = -Infinity;
      for (let j = i; j < i + n; j++) {
        if (j > i && l[j].start - l[j - 1].start > 2 * l[j - 1].ms) {
          ok = false;
          break;
        }
        m = Math.max(m, l[j].z);
      }
      if (ok) maxima.push(m);
    }
    const out = maxima.length >= this.opt.tailMinNull ? this.nullOf(maxima) : null;
    this.maxNulls.set(key, out);
    return out;
  }

  /**
   * A family's best slice over a query of `n` slices (it had a value in n) on the scale of a
   * single slice: its empirical tail against the best of n successive normal windows where the
   * normal windows hold enough such runs (the metric grid), else `maxOfNCorrection` (Šidák).
   */
  private correctForSlices(e: FamilyEvidence, service: string, resourceBy: EvidenceLocalizer = this): void {
    if (!(e.slices > 1) || !Number.isFinite(e.sliceZ)) return;
    // the resource family's best-of-n null comes from the localizer whose history judged it
    const by = e.family === 'resource' ? resourceBy : this;
    const m = this.opt.maxNull ? by.maxNull(e.family, service, e.slices) : null;
    if (m) ((e.z = tailZ(m, e.sliceZ)), (e.correction = 'max-null'));
    else if (this.opt.sliceRule === 'stouffer') ((e.z = e.sumZ / Math.sqrt(e.sumW2)), (e.correction = 'stouffer'));
    else ((e.z = maxOfNCorrection(e.sliceZ, e.slices)), (e.correction = 'sidak'));
  }

  /**
   * A caller that merely inherits a callee's fault never outranks the callee (issue 11): when a
   * callee's incoming-edge evidence is significant among all callees' (final z ≥ the normal
   * quantile of `TAIL_TRUST_SHARE` / the number of callees with edge evidence in the query) and
   * the caller's own edge into it deviates as much (raw deviation ≥ the same level), the caller's inherited families (`INHERITED_FAMILIES`) are
   * capped just below the callee's edge z. The caller keeps them (its rank shows it is
   * involved) and keeps every other family; a callee with several such callers caps each.
   * Returns the cap per capped service (for its pods).
   */
  private capInherited(best: Map<string, Map<FamilyName, FamilyEvidence>>, callerDev: ReadonlyMap<string, ReadonlyMap<string, number>>, callerFelt: ReadonlyMap<string, ReadonlyMap<string, number>> = new Map()): Map<string, number> {
    const caps = new Map<string, { cap: number; callee: string }>();
    // the callee's edge evidence must stand out among every callee's: the trusted-tail level
    // (1 %) shared out over the callees with edge evidence (Šidák-like), or the noise of one of
    // forty edges would silence a root cause's own log evidence
    const level = normalUpperQuantile(TAIL_TRUST_SHARE / Math.max(1, callerDev.size));
    for (const [callee, callers] of callerDev) {
      const m = best.get(callee);
      if (!m) continue;
      let edgeZ = -Infinity;
      for (const f of EDGE_FAMILIES) edgeZ = Math.max(edgeZ, m.get(f)?.z ?? -Infinity);
      if (!(edgeZ >= level)) continue;
      // just below: equal scores would leave the order to the names
      const cap = edgeZ - 1e-6;
      for (const [caller, dev] of callers) {
        if (caller === callee || !(dev >= level)) continue;
        const prev = caps.get(caller);
        if (!prev || cap < prev.cap) caps.set(caller, { cap, callee });
      }
    }
    // symptoms travel up every hop: a caller of a capped caller, which felt its calls into it go
    // bad (errors passed on, end-to-end slowness: z*), inherits the same cap. Blame on the edge
    // is not asked for here — the middle service passes the trouble on, rightly unblamed
    let frontier = [...caps.keys()];
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const mid of frontier) {
        const { cap, callee } = caps.get(mid) as { cap: number; callee: string };
        for (const [caller, fz] of callerFelt.get(mid) ?? []) {
          if (caller === mid || caller === callee || !(fz >= level)) continue;
          const prev = caps.get(caller);
          if (prev && prev.cap <= cap) continue;
          caps.set(caller, { cap, callee });
          next.push(caller);
        }
      }
      frontier = next;
    }
    const out = new Map<string, number>();
    for (const [caller, { cap, callee }] of caps) {
      const m = best.get(caller);
      if (!m) continue;
      for (const f of INHERITED_FAMILIES) {
        const e = m.get(f);
        if (e && e.z > cap) Object.assign(e, { inheritedFrom: { callee, z: e.z }, z: cap });
      }
      out.set(caller, cap);
    }
    return out;
  }

  /**
   * A caller that felt its calls into a callee go bad (the call-outcome family's `felt`: errors
   * of any kind, slower end to end than normal; z ≥ the same trusted-tail level as
   * `capInherited`, shared over the callees felt through) inherits what those calls did to it:
   * its error and timeout lines, retries, and self time — a call that throws moves time into
   * the caller's own span (handling, retries, a callee span missing from the trace). Its
   * `FELT_FAMILIES` are capped just below the score of the strongest such callee: the trouble
   * came from there, so the caller's echo of it never outranks the callee's own evidence. The
   * cap asks nothing of the callee's blame (an exception thrown by the callee's code leaves its
   * edges' latency alone, so `capInherited` never fires); a caller with evidence of its own
   * (resources, its incoming edges) keeps it. Callees' scores may fall under their own caps
   * (chains): repeated until nothing moves (at most one pass per capped caller). A starved
   * caller is left alone (as in step 7): when its own resource z is at least the felt z, its
   * calls feel slow because of itself, and its self time is its own.
   * Returns the final cap per capped service (for its pods).
   */
  private capFelt(best: Map<string, Map<FamilyName, FamilyEvidence>>, callerFelt: ReadonlyMap<string, ReadonlyMap<string, number>>, resourceZ: ReadonlyMap<string, number>): Map<string, number> {
    const level = normalUpperQuantile(TAIL_TRUST_SHARE / Math.max(1, callerFelt.size));
    const scoreOf = (svc: string) => {
      let s = -Infinity;
      for (const e of best.get(svc)?.values() ?? []) s = Math.max(s, e.z);
      return s;
    };
    // a caller's own edge evidence: its incoming calls judged on the edge (gaps, calls failed or
    // slow between the two, mesh latency) — never inherited from its callees (a gap leaves the
    // callee's time out, a failure passed on counts as the edge's success)
    const ownEdgeZ = (svc: string) => {
      let z = -Infinity;
      if (this.opt.ownEdgeExempt) for (const f of EDGE_FAMILIES) z = Math.max(z, best.get(svc)?.get(f)?.z ?? -Infinity);
      return z;
    };
    // per caller: the callees it felt go bad
    const felt = new Map<string, string[]>();
    for (const [callee, callers] of callerFelt) {
      if (!best.has(callee)) continue;
      for (const [caller, fz] of callers) if (caller !== callee && best.has(caller) && fz >= level && !(Math.max(resourceZ.get(caller) ?? -Infinity, ownEdgeZ(caller)) >= fz)) felt.set(caller, [...(felt.get(caller) ?? []), callee]);
    }
    const out = new Map<string, number>();
    for (let pass = 0; pass <= felt.size; pass++) {
      let moved = false;
      for (const [caller, callees] of felt) {
        // explained by the callee that explains the most
        let top = -Infinity;
        let from = '';
        for (const c of callees) {
          const s = scoreOf(c);
          if (s > top) ((top = s), (from = c));
        }
        if (!Number.isFinite(top)) continue;
        const cap = top - 1e-6;
        const m = best.get(caller) as Map<FamilyName, FamilyEvidence>;
        for (const f of FELT_FAMILIES) {
          const e = m.get(f);
          if (e && e.z > cap) ((e.inheritedFrom ??= { callee: from, z: e.z }), (e.z = cap), (moved = true));
        }
        out.set(caller, Math.min(cap, out.get(caller) ?? Infinity));
      }
      if (!moved) break;
    }
    return out;
  }

  /**
   * The caps of `capInherited` and `capFelt` per capped service (for its pods); `inPlace` caps
   * the services' evidence in `best` as well, else they are computed on a copy.
   */
  private podCaps(
    best: Map<string, Map<FamilyName, FamilyEvidence>>,
    callerDev: ReadonlyMap<string, ReadonlyMap<string, number>>,
    callerFelt: ReadonlyMap<string, ReadonlyMap<string, number>>,
    resourceZ: ReadonlyMap<string, number>,
    inPlace = false,
  ): { capped: Map<string, number>; feltCapped: Map<string, number> } {
    const b = inPlace ? best : new Map([...best].map(([svc, m]) => [svc, new Map([...m].map(([f, e]) => [f, { ...e }]))]));
    const capped = this.opt.capInherited ? this.capInherited(b, callerDev, callerFelt) : new Map<string, number>();
    const feltCapped = this.opt.capFelt ? this.capFelt(b, callerFelt, resourceZ) : new Map<string, number>();
    return { capped, feltCapped };
  }

  /**
   * `pooling: 'either'`: a pooled family's value over the query from its slices' summed counts
   * (`poolSummaries`), calibrated against the single-slice nulls at the query's median load;
   * the stronger of it and the slices' combination, corrected for two (`eitherZ`), for services
   * and pods; where no single slice reached the family's minimum, the pooled value alone. The
   * best slice stays in `sliceZ`.
   */
  private applyPooled(
    name: FamilyName,
    sums: readonly unknown[],
    best: Map<string, Map<FamilyName, FamilyEvidence>>,
    podBest: Map<string, Map<FamilyName, { service: string; z: number; slices: number; sum: number; w2: number }>>,
    resourceZ: ReadonlyMap<string, number>,
    loads: readonly number[],
    query: TimeRange,
  ): void {
    const fam = this.families.find((f) => f.name === name);
    const merged = poolSummaries(name, sums);
    if (!fam || merged === undefined) return;
    const raw = fam.score(merged, this.refs.get(name));
    const finite = loads.filter(Number.isFinite).sort((a, b) => a - b);
    const load = finite.length ? median(finite) : NaN;
    for (const [svc, r0] of raw) {
      if (!Number.isFinite(r0.score)) continue;
      let cal = this.calibrate(name, svc, r0, load);
      let r = r0;
      if (r0.incoming && resourceZ.size) {
        const d = this.withoutStarvedCallers(r0, cal.z, resourceZ);
        if (d === null) continue;
        if (d !== r0) ((r = d), (cal = this.calibrate(name, svc, r, load)));
      }
      const z = cal.z;
      if (!Number.isFinite(z)) continue;
      let m = best.get(svc);
      if (!m) best.set(svc, (m = new Map()));
      const prev = m.get(name);
      // the pooled test shows its items where it is the stronger one
      if (prev) Object.assign(prev, z > prev.z ? { z: eitherZ(prev.z, z), correction: 'pooled', raw: r.score, items: r.items } : { z: eitherZ(prev.z, z) });
      else m.set(name, { family: name, z, sliceZ: z, slices: 0, sumZ: z, sumW2: 1, correction: 'pooled', raw: r.score, window: query, items: r.items });
      // pods: where the family judges pods, the same for each pod's own counts; a family without
      // pods (call outcomes are per service) keeps lending its slices' z to the pods seen serving
      // the service (`rank`) — a pooled service z lent to every pod alike would tell them apart
      // by nothing but their names
      const podZ = new Map<string, number>();
      for (const [pod, pz] of cal.pods) if (Number.isFinite(pz)) podZ.set(pod, pz);
      for (const [pod, pz] of podZ) {
        let pm = podBest.get(pod);
        if (!pm) podBest.set(pod, (pm = new Map()));
        const p = pm.get(name);
        let v = pz;
        if (p) v = eitherZ(this.opt.sliceRule === 'stouffer' ? p.sum / Math.sqrt(p.w2) : maxOfNCorrection(p.z, p.slices), pz);
        pm.set(name, { service: svc, z: v, slices: 1, sum: v, w2: 1 });
      }
    }
  }

  /**
   * Ranks services and pods over a query made of slices (each as long as a normal window).
   * `resourceRanks[i]` false: slice i's resource evidence is not like the null's (its rolling
   * history is shorter than the null windows'), so it only explains starved callers.
   * `resourceBy`: a localizer fitted on the same normal windows with a shorter `historyMs`
   * (and at least the resource family): the resource family's raw scores, nulls and best-of-n
   * nulls are taken from it, so a query whose metrics begin less than `historyMs` before it is
   * judged against normal windows cut to the same history (dataset.ts, `prepareLocalizer`).
   */
  rank(slices: readonly WindowInput[], range?: TimeRange, opt: { resourceRanks?: readonly boolean[]; resourceBy?: EvidenceLocalizer } = {}): Ranking {
    const rl = opt.resourceBy ?? this;
    const best = new Map<string, Map<FamilyName, FamilyEvidence>>();
    // per pod and family: its best slice's z and the slices it had a value in (corrected below)
    const podBest = new Map<string, Map<FamilyName, { service: string; z: number; slices: number; sum: number; w2: number }>>();
    const podSeen = (pod: string, service: string, family: FamilyName, z: number, si: number, counted: Set<string>, w: number) => {
      let m = podBest.get(pod);
      if (!m) podBest.set(pod, (m = new Map()));
      const p = m.get(family);
      const key = `${pod}\t${family}\t${si}`;
      const first = !counted.has(key);
      counted.add(key);
      if (!p) m.set(family, { service, z, slices: 1, sum: w * z, w2: w * w });
      else {
        if (first) ((p.slices += 1), (p.sum += w * z), (p.w2 += w * w));
        if (z > p.z) ((p.z = z), (p.service = service));
      }
    };
    const podCounted = new Set<string>();
    // per callee: the largest raw deviation of its incoming edge from each caller (edge families)
    const callerDev = new Map<string, Map<string, number>>();
    // per callee: how bad each caller felt its calls into it (any error, end-to-end slowness)
    const callerFelt = new Map<string, Map<string, number>>();
    // per callee and caller: the felt z of each slice, combined over the query below (`feltRule`)
    const feltSlices = new Map<string, Map<string, { max: number; sum: number; n: number }>>();
    const podFromService = new Map<string, Set<string>>();
    const seen = new Set<FamilyName>();
    const resource = resourceFamily(rl.opt.historyMs);
    const useResource = this.families.some((f) => f.name === 'resource');
    const summaries = slices.map((w) => resource.summarize(w));
    const loads = summaries.map((x) => x?.load ?? NaN);
    const resourceRaw = summaries.map((x) => (useResource && x ? resource.score(x, null) : undefined));
    // a caller's resource evidence over the whole query (its best slice, as for a suspect's
    // score): starvation that began in the first slice still explains slow calls in the next,
    // when the pod's rolling history already holds the first
    const resourceZ = new Map<string, number>();
    resourceRaw.forEach((raw, i) => {
      for (const [svc, r] of raw ?? []) {
        const z = rl.calibrate('resource', svc, r, loads[i]).z;
        if (Number.isFinite(z) && z > (resourceZ.get(svc) ?? -Infinity)) resourceZ.set(svc, z);
      }
    });
    // the count families' slice summaries, summed after the slices (`pooling`)
    const pooled = new Map<FamilyName, unknown[]>();
    if (this.opt.pooling !== 'none' && slices.length > 1) for (const f of this.families) if (POOLED_FAMILIES.includes(f.name)) pooled.set(f.name, []);
    for (const [si, w] of slices.entries()) {
      const load = loads[si];
      // spans each service and pod started in the slice: the weights of `sliceWeights: 'spans'`
      const spansOf = new Map<string, number>();
      for (const s of w.spans) {
        let set = podFromService.get(s.service);
        if (!set) podFromService.set(s.service, (set = new Set()));
        set.add(s.entity);
        if (s.start >= w.range.start && s.start < w.range.end) for (const k of new Set([s.service, s.entity])) spansOf.set(k, (spansOf.get(k) ?? 0) + 1);
      }
      const weightOf = (family: FamilyName, who: string) => (this.opt.sliceWeights === 'spans' && SPAN_FAMILIES.includes(family) ? Math.sqrt(Math.max(1, spansOf.get(who) ?? 0)) : 1);
      for (const fam of this.families) {
        if (fam.name === 'resource' && opt.resourceRanks?.[si] === false) continue;
        let raw: RawScores | undefined;
        if (fam.name === 'resource') raw = resourceRaw[si];
        else {
          const sum = fam.summarize(w);
          if (sum !== undefined && pooled.has(fam.name)) pooled.get(fam.name)!.push(sum);
          raw = sum === undefined ? undefined : fam.score(sum, this.refs.get(fam.name));
        }
        if (raw === undefined) continue;
        seen.add(fam.name);
        for (const [svc, r0] of raw) {
          // what callers felt through svc counts whatever svc's own score (it may be blameless)
          for (const [caller, fz] of r0.felt ?? []) {
            if (!Number.isFinite(fz)) continue;
            let c = feltSlices.get(svc);
            if (!c) feltSlices.set(svc, (c = new Map()));
            const f = c.get(caller);
            if (!f) c.set(caller, { max: fz, sum: fz, n: 1 });
            else ((f.max = Math.max(f.max, fz)), (f.sum += fz), (f.n += 1));
          }
          if (!Number.isFinite(r0.score)) continue;
          const judge = fam.name === 'resource' ? rl : this;
          let cal = judge.calibrate(fam.name, svc, r0, load);
          let r = r0;
          if (r0.incoming && resourceZ.size) {
            const d = this.withoutStarvedCallers(r0, cal.z, resourceZ);
            if (d === null) continue;
            if (d !== r0) ((r = d), (cal = judge.calibrate(fam.name, svc, r, load)));
          }
          const z = cal.z;
          if (!Number.isFinite(z)) continue;
          if (r.incoming && EDGE_FAMILIES.includes(fam.name)) {
            let c = callerDev.get(svc);
            if (!c) callerDev.set(svc, (c = new Map()));
            for (const [caller, dev] of r.incoming) if (Number.isFinite(dev) && dev > (c.get(caller) ?? -Infinity)) c.set(caller, dev);
          }
          let m = best.get(svc);
          if (!m) best.set(svc, (m = new Map()));
          const prev = m.get(fam.name);
          const sw = weightOf(fam.name, svc);
          if (!prev) m.set(fam.name, { family: fam.name, z, sliceZ: z, slices: 1, sumZ: sw * z, sumW2: sw * sw, correction: 'none', raw: r.score, window: w.range, items: r.items });
          else {
            prev.slices++;
            prev.sumZ += sw * z;
            prev.sumW2 += sw * sw;
            if (z > prev.sliceZ) Object.assign(prev, { z, sliceZ: z, raw: r.score, window: w.range, items: r.items });
          }
          for (const [pod, pz] of cal.pods) if (Number.isFinite(pz)) podSeen(pod, svc, fam.name, pz, si, podCounted, weightOf(fam.name, pod));
          // families without pods (logs) lend the service's z to the pods seen serving it
          if (!r.pods && !r.podParts) for (const pod of podFromService.get(svc) ?? []) podSeen(pod, svc, fam.name, z, si, podCounted, weightOf(fam.name, pod));
        }
      }
    }
    // issue 11 (c): a score is the best of a family's slices while its null holds single
    // slices — each family's best is corrected for the number of slices it had a value in, so a
    // family seen in every slice (metrics) gets no advantage over one seen in two (logs, traces)
    for (const [service, m] of best) for (const e of m.values()) this.correctForSlices(e, service, rl);
    for (const [callee, m] of feltSlices) callerFelt.set(callee, new Map([...m].map(([caller, f]) => [caller, feltZ(f, this.opt.feltRule)])));
    // the pods' caps come from the slices' values, before pooling: a family without pods (call
    // outcomes) lends its slices' z to the pods, so a cap set by a pooled service z would sit
    // above the callee's own pods (`pooling`; computed on a copy: the caps lower z's in place)
    const slicePodCaps = pooled.size ? this.podCaps(best, callerDev, callerFelt, resourceZ) : undefined;
    for (const [name, sums] of pooled) this.applyPooled(name, sums, best, podBest, resourceZ, loads, { start: slices[0].range.start, end: slices[slices.length - 1].range.end });
    const serviceCaps = this.podCaps(best, callerDev, callerFelt, resourceZ, true);
    const { capped, feltCapped } = slicePodCaps ?? serviceCaps;
    const services: Suspect[] = [...best].map(([service, m]) => {
      const evidence = [...m.values()].sort((a, b) => b.z - a.z);
      return { service, score: evidence[0].z, evidence };
    });
    services.sort((a, b) => b.score - a.score || a.service.localeCompare(b.service));
    const podList = [...podBest].map(([pod, m]) => {
      let top = { service: '', score: -Infinity };
      for (const [family, p] of m) {
        let score = this.opt.sliceRule === 'stouffer' ? p.sum / Math.sqrt(p.w2) : maxOfNCorrection(p.z, p.slices);
        const cap = INHERITED_FAMILIES.includes(family) ? capped.get(p.service) : undefined;
        if (cap !== undefined) score = Math.min(score, cap);
        const feltCap = FELT_FAMILIES.includes(family) ? feltCapped.get(p.service) : undefined;
        if (feltCap !== undefined) score = Math.min(score, feltCap);
        if (score > top.score) top = { service: p.service, score };
      }
      return { pod, ...top };
    }).sort((a, b) => b.score - a.score || a.pod.localeCompare(b.pod));
    const r = range ?? { start: Math.min(...slices.map((s) => s.range.start)), end: Math.max(...slices.map((s) => s.range.end)) };
    return { range: r, services, pods: podList, families: [...seen] };
  }
}
