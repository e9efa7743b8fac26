import type { Window } from '../../windows/index.js';
import { METRIC_CATEGORIES, METRIC_FEATURES, indexOf, metricCategory } from './layout.js';
import { Reservoir, SeededRandom, Z_CLIP, clipZ, fmt, fmtZ, maxFinite, pct, quantileSorted, slog, zOf, type Baseline, type ScaleFloor } from './stats.js';
import { assembleRanked, clip } from './text.js';
import type { MetricParts } from './parts.js';

/** Metric values: a 2% share of the level, else one part in a million of the unit. */
export const METRIC_FLOOR: ScaleFloor = { rel: 0.02, abs: 1e-6 };

const SEP = '\u0000';

/** Baseline key of a series: its service (stable across redeployments) and metric name. */
export function metricKey(service: string, name: string): string {
  return service + SEP + name;
}

/** What a series' (entity, name) maps to, worked out once per pair rather than per window. */
export interface SeriesKeys {
  entity: string;
  name: string;
  service: string;
  /** baseline key: service \0 name */
  key: string;
  /** category index in METRIC_CATEGORIES */
  cat: number;
  /** last point time learned (fit) */
  last: number;
  /** the entity's own record, shared by its series: counts distinct entities per window */
  entityRef: { stamp: number };
  /** shared by the series of one baseline key: counts distinct keys per view */
  keyRef: { stamp: number };
  /** ranking tie-break: key \0 entity */
  tie: string;
  /** position of `tie` among the ties of every series seen (−1: not ranked yet) */
  tieRank: number;
}

export class SeriesKeyCache {
  private byEntity = new Map<string, { stamp: number; names: Map<string, SeriesKeys> }>();
  private keyRefs = new Map<string, { stamp: number }>();
  // series come grouped by entity: the last entity's record saves a lookup
  private lastEntity: string | undefined;
  private lastRecord: { stamp: number; names: Map<string, SeriesKeys> } | undefined;
  /** numbers the windows for `entity.stamp` */
  windowStamp = 0;
  /** numbers the views for `keyRef.stamp` */
  viewStamp = 0;
  private all: SeriesKeys[] = [];

  /**
   * Ranks the tie-break strings of every series seen, so rankings compare numbers: a series
   * set is stable over a run, so this runs again only when new series appear.
   */
  rankTies(): void {
    const sorted = this.all.slice().sort((a, b) => (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0));
    for (let r = 0; r < sorted.length; r++) sorted[r].tieRank = r;
  }
  constructor(private readonly serviceOf: (entity: string) => string) {}
  get(entity: string, name: string): SeriesKeys {
    let e = entity === this.lastEntity ? this.lastRecord : this.byEntity.get(entity);
    if (!e) this.byEntity.set(entity, (e = { stamp: -1, names: new Map() }));
    this.lastEntity = entity;
    this.lastRecord = e;
    let k = e.names.get(name);
    if (!k) {
      const service = this.serviceOf(entity);
      const key = metricKey(service, name);
      let keyRef = this.keyRefs.get(key);
      if (!keyRef) this.keyRefs.set(key, (keyRef = { stamp: -1 }));
      k = { entity, name, service, key, cat: METRIC_CATEGORIES.indexOf(metricCategory(name)), last: -Infinity, entityRef: e, keyRef, tie: key + SEP + entity, tieRank: -1 };
      e.names.set(name, k);
      this.all.push(k);
    }
    return k;
  }
}

/**
 * Learns, per (service, metric), the distribution of point values of training windows.
 * Overlapping windows repeat points; each series point is taken once (by its time).
 */
export class MetricsFit {
  private res = new Map<string, Reservoir>();
  private readonly keys: SeriesKeyCache;

  constructor(private readonly cap: number, private readonly rng: SeededRandom, serviceOf: (entity: string) => string) {
    this.keys = new SeriesKeyCache(serviceOf);
  }

  add(m: MetricParts): void {
    const { chunks, chunk, lo, hi, first } = m;
    for (let j = 0; j < m.count; j++) {
      const s0 = chunks[chunk[first[j]]];
      const k = this.keys.get(s0.entity, s0.name);
      let r = this.res.get(k.key);
      if (!r) this.res.set(k.key, (r = new Reservoir(this.cap, this.rng)));
      const last = k.last;
      let t = last;
      for (let p = first[j]; p < first[j + 1]; p++) {
        const { times, values } = chunks[chunk[p]];
        for (let i = lo[p]; i < hi[p]; i++) {
          if (times[i] <= last) continue;
          r.add(values[i]);
          if (times[i] > t) t = times[i];
        }
      }
      k.last = t;
    }
  }

  finish(): Map<string, Baseline> {
    const out = new Map<string, Baseline>();
    for (const k of [...this.res.keys()].sort()) {
      const r = this.res.get(k)!;
      if (r.seen > 0) out.set(k, r.summarize(METRIC_FLOOR));
    }
    return out;
  }
}

/** Per-window figures of every series, column-wise (one typed array per statistic). */
export interface MetricWindow {
  /** series in the window */
  count: number;
  /** where `refs` come from */
  cache: SeriesKeyCache;
  /** per series: its entity, name, service and baseline key (records shared across windows) */
  refs: SeriesKeys[];
  /** mean of the window's valid points (NaN when none) */
  level: Float64Array;
  z: Float64Array;
  peak: Float64Array;
  /** change across the window (least-squares slope × window length), in baseline scales */
  trend: Float64Array;
  valid: Int32Array;
  points: Int32Array;
  base: Float64Array;
  hasBase: Uint8Array;
  cat: Uint8Array;
  /** series indices per service */
  byService: Map<string, number[]>;
  /** distinct entities per service, to tell replicas apart in text */
  entitiesPerService: Map<string, number>;
}

export function metricWindow(m: MetricParts, w: Window, baselines: Map<string, Baseline>, keys: SeriesKeyCache): MetricWindow {
  const n = m.count;
  const mw: MetricWindow = {
    count: n,
    cache: keys,
    refs: new Array(n),
    level: new Float64Array(n),
    z: new Float64Array(n),
    peak: new Float64Array(n),
    trend: new Float64Array(n),
    valid: new Int32Array(n),
    points: new Int32Array(n),
    base: new Float64Array(n),
    hasBase: new Uint8Array(n),
    cat: new Uint8Array(n),
    byService: new Map(),
    entitiesPerService: new Map(),
  };
  const stamp = ++keys.windowStamp;
  const lengthMin = (w.end - w.start) / 60_000;
  const { chunks, chunk, lo, hi, first } = m;
  for (let i = 0; i < n; i++) {
    const s0 = chunks[chunk[first[i]]];
    const sk = keys.get(s0.entity, s0.name);
    const service = sk.service;
    const key = sk.key;
    mw.refs[i] = sk;
    mw.cat[i] = sk.cat;
    let list = mw.byService.get(service);
    if (!list) mw.byService.set(service, (list = []));
    list.push(i);
    if (sk.entityRef.stamp !== stamp) {
      sk.entityRef.stamp = stamp;
      mw.entitiesPerService.set(service, (mw.entitiesPerService.get(service) ?? 0) + 1);
    }
    const b = baselines.get(key);
    // One pass: mean, least-squares slope (time in minutes from the window start), peak.
    let k = 0;
    let points = 0;
    let sum = 0;
    let st = 0;
    let stt = 0;
    let stv = 0;
    let peak = NaN;
    let peakAbs = -1;
    for (let p = first[i]; p < first[i + 1]; p++) {
      const { times, values } = chunks[chunk[p]];
      points += hi[p] - lo[p];
      for (let j = lo[p]; j < hi[p]; j++) {
        const v = values[j];
        if (!Number.isFinite(v)) continue;
        const t = (times[j] - w.start) / 60_000;
        k++;
        sum += v;
        st += t;
        stt += t * t;
        stv += t * v;
        if (b) {
          const zp = (v - b.median) / b.scale;
          const a = Math.abs(zp);
          if (a > peakAbs) {
            peakAbs = a;
            peak = zp;
          }
        }
      }
    }
    mw.points[i] = points;
    mw.valid[i] = k;
    const level = k > 0 ? sum / k : NaN;
    mw.level[i] = level;
    mw.hasBase[i] = b ? 1 : 0;
    mw.base[i] = b ? b.median : NaN;
    mw.z[i] = k > 0 && b ? zOf(level, b) : NaN;
    mw.peak[i] = k > 0 && b ? clipZ(peak) : NaN;
    let trend = NaN;
    if (k >= 2 && b) {
      const den = k * stt - st * st;
      const slope = den > 0 ? (k * stv - st * sum) / den : 0;
      trend = clipZ((slope * lengthMin) / b.scale);
    }
    mw.trend[i] = trend;
  }
  return mw;
}

const F = indexOf(METRIC_FEATURES);
const NC = METRIC_CATEGORIES.length;
/** feature positions of each category: share, absz_max, z_mean */
const CAT_SHARE = Int32Array.from(METRIC_CATEGORIES, (c) => F[`${c}_share`]);
const CAT_ABSZ_MAX = Int32Array.from(METRIC_CATEGORIES, (c) => F[`${c}_absz_max`]);
const CAT_Z_MEAN = Int32Array.from(METRIC_CATEGORIES, (c) => F[`${c}_z_mean`]);
// Scratch of metricFeatures (called for every view; single-threaded, not re-entrant).
let absz = new Float64Array(1024);
const catN = new Float64Array(NC);
const catMax = new Float64Array(NC);
const catSum = new Float64Array(NC);
const catZn = new Float64Array(NC);

/**
 * Features of a set of series (the whole window, or one service's). `baselineKeys` are the
 * keys the scope had in training, for the share of series absent now.
 */
export function metricFeatures(mw: MetricWindow, idx: readonly number[], baselineKeys: number, presentBaselineKeys: number): Float32Array {
  const f = new Float32Array(METRIC_FEATURES.length);
  const n = idx.length;
  let points = 0;
  let valid = 0;
  let fresh = 0;
  if (absz.length < n) absz = new Float64Array(Math.max(n, 2 * absz.length));
  let na = 0;
  let zsum = 0;
  let peakMax = 0;
  let trendSum = 0;
  let trendMax = 0;
  let trendN = 0;
  let trendGt3 = 0;
  catN.fill(0);
  catMax.fill(0);
  catSum.fill(0);
  catZn.fill(0);
  for (let q = 0; q < n; q++) {
    const i = idx[q];
    points += mw.points[i];
    valid += mw.valid[i];
    if (!mw.hasBase[i]) fresh++;
    const c = mw.cat[i];
    catN[c]++;
    const z = mw.z[i];
    if (Number.isFinite(z)) {
      const a = Math.abs(z);
      absz[na++] = a;
      zsum += z;
      if (a > catMax[c]) catMax[c] = a;
      catSum[c] += z;
      catZn[c]++;
    }
    const p = Math.abs(mw.peak[i]);
    if (p > peakMax) peakMax = p;
    const t = Math.abs(mw.trend[i]);
    if (Number.isFinite(t)) {
      trendSum += t;
      trendN++;
      if (t > trendMax) trendMax = t;
      if (t > 3) trendGt3++;
    }
  }
  f[F.series_log] = Math.log1p(n);
  f[F.missing_share] = points > 0 ? 1 - valid / points : 0;
  f[F.new_series_share] = n > 0 ? fresh / n : 0;
  f[F.absent_series_share] = baselineKeys > 0 ? Math.max(0, baselineKeys - presentBaselineKeys) / baselineKeys : 0;
  if (na > 0) {
    const s = absz.subarray(0, na).sort();
    let mean = 0;
    let gt3 = 0;
    let gt6 = 0;
    for (let q = 0; q < na; q++) {
      const a = s[q];
      mean += a;
      if (a > 3) gt3++;
      if (a > 6) gt6++;
    }
    mean /= na;
    f[F.absz_mean] = Math.log1p(mean);
    f[F.absz_p50] = Math.log1p(quantileSorted(s, 0.5));
    f[F.absz_p90] = Math.log1p(quantileSorted(s, 0.9));
    f[F.absz_max] = Math.log1p(s[na - 1]);
    f[F.share_absz_gt3] = gt3 / na;
    f[F.share_absz_gt6] = gt6 / na;
    f[F.z_mean] = slog(zsum / na);
  }
  f[F.peak_absz_max] = Math.log1p(Math.min(peakMax, Z_CLIP));
  if (trendN > 0) {
    f[F.trend_absz_mean] = Math.log1p(trendSum / trendN);
    f[F.trend_absz_max] = Math.log1p(trendMax);
    f[F.share_trend_gt3] = trendGt3 / trendN;
  }
  for (let c = 0; c < NC; c++) {
    f[CAT_SHARE[c]] = n > 0 ? catN[c] / n : 0;
    f[CAT_ABSZ_MAX[c]] = Math.log1p(catMax[c]);
    f[CAT_Z_MEAN[c]] = catZn[c] > 0 ? slog(catSum[c] / catZn[c]) : 0;
  }
  return f;
}

interface Ranking {
  score: Float64Array;
  /** series with valid points, most deviant first (ties: key, then entity) */
  all: number[];
  byService: Map<string, number[]>;
}
const rankings = new WeakMap<MetricWindow, Ranking>();

/** One ranking per window: a service's ranking is the window's restricted to its series. */
function rankingOf(mw: MetricWindow): Ranking {
  let r = rankings.get(mw);
  if (r) return r;
  const n = mw.count;
  const score = new Float64Array(n);
  const all: number[] = [];
  const tie = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    if (mw.valid[i] === 0) continue;
    score[i] = mw.hasBase[i] ? maxFinite(Math.abs(mw.z[i]), 0.5 * Math.abs(mw.peak[i]), 0.5 * Math.abs(mw.trend[i])) : 3;
    if (mw.refs[i].tieRank < 0) mw.cache.rankTies();
    tie[i] = mw.refs[i].tieRank;
    all.push(i);
  }
  // ties by key, then entity: ranks of those strings (all distinct), compared as numbers
  all.sort((a, b) => score[b] - score[a] || tie[a] - tie[b]);
  const byService = new Map<string, number[]>();
  for (const i of all) {
    const svc = mw.refs[i].service;
    const l = byService.get(svc);
    if (l) l.push(i);
    else byService.set(svc, [i]);
  }
  r = { score, all, byService };
  rankings.set(mw, r);
  return r;
}

/** Lines whose deviation is below this are kept only among the first few. */
const CALM = 2;
const ALWAYS = 3;

const catBest = new Float64Array(NC);
const catOrder: number[] = [];

export function metricText(mw: MetricWindow, idx: readonly number[], scope: string | undefined, budget: number, baselineKeys: number, presentBaselineKeys: number): string {
  let valid = 0;
  let points = 0;
  let fresh = 0;
  let gt3 = 0;
  catBest.fill(NaN);
  for (let q = 0; q < idx.length; q++) {
    const i = idx[q];
    valid += mw.valid[i];
    points += mw.points[i];
    if (!mw.hasBase[i]) fresh++;
    const z = mw.z[i];
    if (Math.abs(z) > 3) gt3++;
    const c = mw.cat[i];
    if (Number.isFinite(z) && !(Math.abs(catBest[c]) >= Math.abs(z))) catBest[c] = z;
  }
  const { score, all, byService } = rankingOf(mw);
  const ranked = scope === undefined ? all : (byService.get(scope) ?? []);
  const shown: number[] = [];
  let calm = 0;
  for (let r = 0; r < ranked.length; r++) {
    const i = ranked[r];
    if (score[i] < CALM && r >= ALWAYS) calm++;
    else shown.push(i);
  }
  catOrder.length = 0;
  for (let c = 0; c < NC; c++) if (Number.isFinite(catBest[c]) && Math.abs(catBest[c]) >= 1) catOrder.push(c);
  catOrder.sort((a, b) => Math.abs(catBest[b]) - Math.abs(catBest[a]) || a - b);
  let cats = '';
  for (let k = 0; k < catOrder.length && k < 4; k++) cats += `${k > 0 ? ', ' : ''}${METRIC_CATEGORIES[catOrder[k]]} ${fmtZ(catBest[catOrder[k]])}`;
  const absent = Math.max(0, baselineKeys - presentBaselineKeys);
  const extra = fresh > 0 && absent > 0 ? ` (${fresh} new, ${absent} absent)` : fresh > 0 ? ` (${fresh} new)` : absent > 0 ? ` (${absent} absent)` : '';
  const header =
    `metrics ${scope ?? 'system'}: ${idx.length} series, ${pct(points > 0 ? 1 - valid / points : 0)} missing` +
    extra +
    `; |z|>3: ${gt3}` +
    (cats ? `; strongest: ${cats}` : '');
  return assembleRanked(header, shown.length, (r) => seriesLine(mw, shown[r], scope === undefined), budget, calm > 0 ? `${calm} calm series (|z|<${CALM})` : undefined);
}

function seriesLine(mw: MetricWindow, i: number, withService: boolean): string {
  const ref = mw.refs[i];
  const entity = ref.entity;
  const service = ref.service;
  const replicas = (mw.entitiesPerService.get(service) ?? 1) > 1 && entity !== service;
  const who = withService ? (replicas ? `${service} (${entity}) ` : `${service} `) : replicas ? `(${entity}) ` : '';
  const name = clip(ref.name, 80);
  if (!mw.hasBase[i]) return `${who}${name} ${fmt(mw.level[i])} (new series)`;
  const parts = [`base ${fmt(mw.base[i])}`, `z ${fmtZ(mw.z[i])}`];
  if (Math.abs(mw.peak[i] - mw.z[i]) >= 1) parts.push(`peak ${fmtZ(mw.peak[i])}`);
  if (Math.abs(mw.trend[i]) >= 1) parts.push(`trend ${fmtZ(mw.trend[i])}`);
  return `${who}${name} ${fmt(mw.level[i])} (${parts.join(', ')})`;
}
