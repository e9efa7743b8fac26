import type { LogRecord } from '../../telemetry/index.js';
import type { Window } from '../../windows/index.js';
import { TemplateMiner, type TemplateMinerOptions } from '../templates/index.js';
import { LOG_FEATURES, indexOf } from './layout.js';
import { Reservoir, SeededRandom, Z_CLIP, clipZ, fmt, fmtZ, pct, slog, zOf, type Baseline, type ScaleFloor } from './stats.js';
import { observedMinutes, SYSTEM } from './traces.js';
import { assemble, clip, type Line } from './text.js';

/** Log rates (records per minute): 5% of the level, at least one record per five minutes. */
export const LOG_RATE_FLOOR: ScaleFloor = { rel: 0.05, abs: 0.2 };
/** A known template below this share of its scope's baseline is rare. */
export const RARE_SHARE = 0.002;
/** A template with at least this baseline share is missed when it does not occur. */
export const FREQUENT_SHARE = 0.01;

interface TAgg {
  count: number;
  errors: number;
  warns: number;
}

export interface LogScope {
  records: number;
  errors: number;
  warns: number;
  /** template id → counts; negative ids are templates unseen in training (window-local) */
  tmpl: Map<number, TAgg>;
}

export interface LogWindow {
  minutes: number;
  system: LogScope;
  /** per service */
  services: Map<string, LogScope>;
  /** text of window-local (new) templates, by their negative id */
  newText: Map<number, string>;
}

/**
 * A line's shape: the line with every "part" that holds a digit, or is a hex id (8+ hex
 * digits of one case), replaced by `0`. Parts are what the template miner masks: runs of
 * characters between white space and the separators `= , ; ( ) [ ] { } < > " ' | : / \ @ # .`.
 * Lines of one shape mask alike, so they get the same template: the views ask the miner once
 * per shape instead of once per line (Nezha: ≈95k lines a day, a few hundred shapes).
 */
export function lineShape(body: string): string {
  let out = '';
  forEachPart(body, (a, b, masked) => {
    out += masked ? '0' : body.slice(a, b);
  });
  return out;
}

const SEPARATORS = new Uint8Array(128);
for (const c of ' \t\n\r\v\f=,;()[]{}<>"\'|:/\\@#.') SEPARATORS[c.charCodeAt(0)] = 1;
const isSeparator = (c: number) => c < 128 && SEPARATORS[c] === 1;

/** Calls `fn` for each maximal run of separators (masked false) and each part. */
function forEachPart(body: string, fn: (a: number, b: number, masked: boolean) => void): void {
  const n = body.length;
  let i = 0;
  while (i < n) {
    const a = i;
    if (isSeparator(body.charCodeAt(i))) {
      while (i < n && isSeparator(body.charCodeAt(i))) i++;
      fn(a, i, false);
      continue;
    }
    let digit = false;
    let lower = true;
    let upper = true;
    while (i < n) {
      const c = body.charCodeAt(i);
      if (isSeparator(c)) break;
      if (c >= 48 && c <= 57) digit = true;
      else {
        if (!(c >= 97 && c <= 102)) lower = false;
        if (!(c >= 65 && c <= 70)) upper = false;
      }
      i++;
    }
    fn(a, i, digit || (i - a >= 8 && (lower || upper)));
  }
}

/**
 * A 53-bit hash of `lineShape(body)`, computed without building the shape string (two
 * independent 32-bit multiplicative hashes over the shape's characters). Two different shapes
 * collide with probability ≈ 2⁻⁵³ per pair: about 1e-8 for 10⁴ shapes.
 */
export function shapeKey(body: string): number {
  const n = body.length;
  let h1 = 0x811c9dc5 | 0;
  let h2 = 0x2545f491 | 0;
  let i = 0;
  while (i < n) {
    let c = body.charCodeAt(i);
    if (c < 128 && SEPARATORS[c] === 1) {
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      i++;
      continue;
    }
    // hash the part as it is read; undo if it turns out to be masked
    const s1 = h1;
    const s2 = h2;
    const a = i;
    let digit = false;
    let lower = true;
    let upper = true;
    do {
      if (c >= 48 && c <= 57) digit = true;
      else {
        if (c < 97 || c > 102) lower = false;
        if (c < 65 || c > 70) upper = false;
      }
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
      i++;
      if (i >= n) break;
      c = body.charCodeAt(i);
    } while (!(c < 128 && SEPARATORS[c] === 1));
    if (digit || (i - a >= 8 && (lower || upper))) {
      h1 = Math.imul(s1 ^ 48, 0x01000193);
      h2 = Math.imul(s2 ^ 48, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
  }
  h1 ^= h1 >>> 16;
  h1 = Math.imul(h1, 0x85ebca6b);
  h1 ^= h1 >>> 13;
  h2 ^= h2 >>> 16;
  h2 = Math.imul(h2, 0xc2b2ae35);
  h2 ^= h2 >>> 13;
  return (h1 >>> 0) * 2097152 + (h2 >>> 11);
}

/**
 * A copy of `s` that shares no memory with the text it was cut from (V8 keeps a substring as a
 * view of its parent): a body kept for a whole pass must not pin a decoded block of the file.
 */
export function ownCopy(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

/**
 * The line shapes a builder has seen, numbered in order of first sight, each with the body of
 * its first line: a window's logs are summarised as counts per (service, shape), and the shape
 * is what decides a line's template (see `lineShape`).
 */
export class ShapeTable {
  private byKey = new Map<number, number>();
  private keys: number[] = [];
  readonly bodies: string[] = [];

  /** The shape number of a line (a new one for a shape not seen before). */
  idOf(body: string): number {
    return this.idOfKey(shapeKey(body), body);
  }

  /** The shape number of a line whose `shapeKey` is known (another table's entry). */
  idOfKey(key: number, body: string): number {
    let i = this.byKey.get(key);
    if (i === undefined) {
      i = this.bodies.length;
      this.byKey.set(key, i);
      this.keys.push(key);
      this.bodies.push(ownCopy(body));
    }
    return i;
  }

  get size(): number {
    return this.bodies.length;
  }

  /** The key of shape `i`. */
  keyOf(i: number): number {
    return this.keys[i];
  }
}

/**
 * A window's logs without reference to any baseline or template: record counts per (service,
 * line shape), in order of each pair's first record. Small (a window holds a few hundred such
 * pairs where it holds thousands of records) and enough to build the window's `LogWindow` once
 * the templates are known: lines of one shape get one template.
 */
export interface LogSummary {
  /** observed minutes (first to last record, at least a minute) */
  minutes: number;
  /** per (service, shape) group */
  services: string[];
  shapes: Int32Array;
  counts: Int32Array;
  errors: Int32Array;
  warns: Int32Array;
}

/** Shapes below this bound and service numbers combine into one exact numeric group key. */
const SHAPE_KEY_SPAN = 2 ** 26;

/** Numbers services for group keys; shared by the windows of a builder. */
export class ServiceNumbers {
  private ids = new Map<string, number>();
  of(service: string): number {
    let i = this.ids.get(service);
    if (i === undefined) this.ids.set(service, (i = this.ids.size));
    return i;
  }
}

/** Summarises a window's logs; `shapes[i]` is record i's shape number (ShapeTable). */
export function summarizeLogs(logs: readonly LogRecord[], w: Window, serviceOf: (entity: string) => string, shapes: readonly number[], services: ServiceNumbers): LogSummary {
  const n = logs.length;
  let min = Infinity;
  let max = -Infinity;
  const groupOf = new Map<number, number>();
  const svc: string[] = [];
  let gShape = new Int32Array(64);
  let gCount = new Int32Array(64);
  let gErr = new Int32Array(64);
  let gWarn = new Int32Array(64);
  let lastSvc = '';
  let lastSvcId = -1;
  for (let i = 0; i < n; i++) {
    const r = logs[i];
    if (r.time < min) min = r.time;
    if (r.time > max) max = r.time;
    const s = r.service || serviceOf(r.entity);
    if (s !== lastSvc || lastSvcId < 0) {
      lastSvc = s;
      lastSvcId = services.of(s);
    }
    const shape = shapes[i];
    if (shape >= SHAPE_KEY_SPAN) throw new RangeError(`logs: more than ${SHAPE_KEY_SPAN} line shapes`);
    const key = lastSvcId * SHAPE_KEY_SPAN + shape;
    let g = groupOf.get(key);
    if (g === undefined) {
      g = svc.length;
      groupOf.set(key, g);
      svc.push(s);
      if (g >= gShape.length) {
        const grow = (a: Int32Array) => {
          const b = new Int32Array(a.length * 2);
          b.set(a);
          return b;
        };
        gShape = grow(gShape);
        gCount = grow(gCount);
        gErr = grow(gErr);
        gWarn = grow(gWarn);
      }
      gShape[g] = shape;
    }
    gCount[g]++;
    if (isError(r)) gErr[g]++;
    else if (r.severity === 'warn') gWarn[g]++;
  }
  const m = svc.length;
  return { minutes: observedMinutes(min, max, w), services: svc, shapes: gShape.slice(0, m), counts: gCount.slice(0, m), errors: gErr.slice(0, m), warns: gWarn.slice(0, m) };
}

/**
 * A window's per-scope template counts from its summary. `idOf(shape)` is the shape's template
 * id, or −1 when no known template matches: such shapes are grouped by a miner local to the
 * window (one line per shape, in order of first record: deterministic) and get negative ids.
 */
export function logWindowOf(ls: LogSummary, idOf: (shape: number) => number, bodyOf: (shape: number) => string, minerOptions: TemplateMinerOptions): LogWindow {
  const system = newScope();
  const services = new Map<string, LogScope>();
  const newText = new Map<number, string>();
  let local: TemplateMiner | undefined;
  let localIds: Map<number, number> | undefined;
  const m = ls.services.length;
  let lastSvc = '';
  let lastScope: LogScope | undefined;
  for (let g = 0; g < m; g++) {
    const shape = ls.shapes[g];
    let id = idOf(shape);
    if (id < 0) {
      local ??= new TemplateMiner(minerOptions);
      localIds ??= new Map();
      let lid = localIds.get(shape);
      if (lid === undefined) {
        const r = local.add(bodyOf(shape));
        lid = -r.templateId;
        localIds.set(shape, lid);
        newText.set(lid, r.template);
      }
      id = lid;
    }
    const svc = ls.services[g];
    let s = svc === lastSvc ? lastScope : services.get(svc);
    if (!s) services.set(svc, (s = newScope()));
    lastSvc = svc;
    lastScope = s;
    bumpN(s, id, ls.counts[g], ls.errors[g], ls.warns[g]);
    bumpN(system, id, ls.counts[g], ls.errors[g], ls.warns[g]);
  }
  if (local) remapLocal(local, system, services, newText);
  const sorted = new Map([...services.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  return { minutes: ls.minutes, system, services: sorted, newText };
}

function bumpN(s: LogScope, id: number, count: number, err: number, warn: number): void {
  s.records += count;
  s.errors += err;
  s.warns += warn;
  const t = s.tmpl.get(id);
  if (t) {
    t.count += count;
    t.errors += err;
    t.warns += warn;
  } else s.tmpl.set(id, { count, errors: err, warns: warn });
}

/** Local templates merge as the window goes on: counts move under the surviving id. */
function remapLocal(local: TemplateMiner, system: LogScope, services: Map<string, LogScope>, newText: Map<number, string>): void {
  const remap = (s: LogScope) => {
    for (const [id, t] of [...s.tmpl]) {
      if (id >= 0) continue;
      const to = -local.resolve(-id);
      if (to === id) continue;
      s.tmpl.delete(id);
      const into = s.tmpl.get(to);
      if (into) {
        into.count += t.count;
        into.errors += t.errors;
        into.warns += t.warns;
      } else s.tmpl.set(to, t);
    }
  };
  remap(system);
  for (const s of services.values()) remap(s);
  for (const id of [...newText.keys()]) newText.set(id, local.template(-id) ?? newText.get(id)!);
}

const isError = (r: LogRecord) => r.severity === 'error' || r.severity === 'fatal';

function newScope(): LogScope {
  return { records: 0, errors: 0, warns: 0, tmpl: new Map() };
}

export interface TemplateBaseline {
  /** mean records per minute over the scope's training windows */
  mean: number;
  sd: number;
}

export interface LogScopeBaseline {
  windows: number;
  rate: Baseline;
  errRate: Baseline;
  warnRate: Baseline;
  templates: Map<number, TemplateBaseline>;
  /** Σ mean over templates */
  total: number;
}

export interface LogBaselines {
  scopes: Map<string, LogScopeBaseline>;
  texts: Map<number, string>;
}

interface ScopeAcc {
  windows: number;
  rate: Reservoir;
  errRate: Reservoir;
  warnRate: Reservoir;
  sums: Map<number, [number, number]>;
}

export class LogsFit {
  private scopes = new Map<string, ScopeAcc>();

  constructor(private readonly cap: number, private readonly rng: SeededRandom) {}

  add(lw: LogWindow): void {
    if (lw.system.records === 0) return;
    this.addScope(SYSTEM, lw.system, lw.minutes);
    for (const [svc, s] of lw.services) this.addScope(svc, s, lw.minutes);
  }

  private addScope(key: string, s: LogScope, minutes: number): void {
    let a = this.scopes.get(key);
    if (!a) this.scopes.set(key, (a = { windows: 0, rate: new Reservoir(this.cap, this.rng), errRate: new Reservoir(this.cap, this.rng), warnRate: new Reservoir(this.cap, this.rng), sums: new Map() }));
    a.windows++;
    a.rate.add(s.records / minutes);
    a.errRate.add(s.errors / minutes);
    a.warnRate.add(s.warns / minutes);
    for (const [id, t] of s.tmpl) {
      const r = t.count / minutes;
      const e = a.sums.get(id);
      if (e) {
        e[0] += r;
        e[1] += r * r;
      } else a.sums.set(id, [r, r * r]);
    }
  }

  /** `resolve` maps ids seen during training to the ids the finished miner answers to. */
  finish(resolve: (id: number) => number, textOf: (id: number) => string | undefined): LogBaselines {
    const scopes = new Map<string, LogScopeBaseline>();
    const texts = new Map<number, string>();
    for (const key of [...this.scopes.keys()].sort()) {
      const a = this.scopes.get(key)!;
      const merged = new Map<number, [number, number]>();
      for (const [id, [s, sq]] of a.sums) {
        const to = resolve(id);
        const m = merged.get(to);
        if (m) {
          m[0] += s;
          m[1] += sq;
        } else merged.set(to, [s, sq]);
      }
      const templates = new Map<number, TemplateBaseline>();
      let total = 0;
      for (const id of [...merged.keys()].sort((x, y) => x - y)) {
        const [s, sq] = merged.get(id)!;
        const mean = s / a.windows;
        const sd = Math.sqrt(Math.max(0, sq / a.windows - mean * mean));
        templates.set(id, { mean, sd });
        total += mean;
        if (!texts.has(id)) {
          const t = textOf(id);
          if (t !== undefined) texts.set(id, t);
        }
      }
      scopes.set(key, { windows: a.windows, rate: a.rate.summarize(LOG_RATE_FLOOR), errRate: a.errRate.summarize(LOG_RATE_FLOOR), warnRate: a.warnRate.summarize(LOG_RATE_FLOOR), templates, total });
    }
    return { scopes, texts: new Map([...texts.entries()].sort((x, y) => x[0] - y[0])) };
  }
}

/** Poisson-like z of a template count: the spread is at least √λ, and at least 10% of λ. */
export function templateZ(count: number, minutes: number, b: TemplateBaseline | undefined): number {
  const mean = b?.mean ?? 0;
  const lambda = mean * minutes;
  const scale = Math.max((b?.sd ?? 0) * minutes, Math.sqrt(lambda + 1), 0.1 * lambda);
  return clipZ((count - lambda) / scale);
}

const F = indexOf(LOG_FEATURES);

/** Jensen–Shannon divergence in bits (0 = same distribution, 1 = disjoint). */
function jensenShannon(p: Map<number, number>, q: Map<number, number>): number {
  const keys = new Set([...p.keys(), ...q.keys()]);
  let d = 0;
  for (const k of keys) {
    const a = p.get(k) ?? 0;
    const b = q.get(k) ?? 0;
    const m = (a + b) / 2;
    if (a > 0) d += 0.5 * a * Math.log2(a / m);
    if (b > 0) d += 0.5 * b * Math.log2(b / m);
  }
  return Math.min(1, Math.max(0, d));
}

const NEW_BUCKET = -1;

/** A view of the system (`service` undefined) or of one service; undefined when it has no logs. */
export function logView(lw: LogWindow, lb: LogBaselines, service: string | undefined, budget: number): { text: string; features: Float32Array } | undefined {
  const s = service === undefined ? lw.system : lw.services.get(service);
  if (!s || s.records === 0) return undefined;
  const sb = lb.scopes.get(service ?? SYSTEM);
  const m = lw.minutes;
  const f = new Float32Array(LOG_FEATURES.length);
  const rateZ = zOf(s.records / m, sb?.rate);
  const errZ = zOf(s.errors / m, sb?.errRate);
  const warnZ = zOf(s.warns / m, sb?.warnRate);
  let newRecords = 0;
  let newTemplates = 0;
  let rareRecords = 0;
  let top = 0;
  let entropy = 0;
  const q = new Map<number, number>();
  const zs: number[] = [];
  const total = sb?.total ?? 0;
  const share = (id: number) => (total > 0 ? (sb!.templates.get(id)?.mean ?? 0) / total : 0);
  for (const [id, t] of s.tmpl) {
    const p = t.count / s.records;
    if (p > top) top = p;
    entropy -= p * Math.log(p);
    if (id < 0) {
      newRecords += t.count;
      newTemplates++;
      q.set(NEW_BUCKET, (q.get(NEW_BUCKET) ?? 0) + p);
      continue;
    }
    q.set(id, p);
    if (share(id) < RARE_SHARE) rareRecords += t.count;
    zs.push(templateZ(t.count, m, sb?.templates.get(id)));
  }
  const pBase = new Map<number, number>();
  let absentMass = 0;
  if (sb && total > 0) {
    for (const [id, tb] of sb.templates) {
      const p = tb.mean / total;
      pBase.set(id, p);
      if (p >= FREQUENT_SHARE && !s.tmpl.has(id)) {
        absentMass += p;
        zs.push(templateZ(0, m, tb));
      }
    }
  }
  const k = s.tmpl.size;
  let zMax = 0;
  let gt3 = 0;
  for (const z of zs) {
    const a = Math.abs(z);
    if (a > zMax) zMax = a;
    if (a > 3) gt3++;
  }
  const divergence = pBase.size > 0 ? jensenShannon(pBase, q) : 0;
  f[F.record_count_log] = Math.log1p(s.records);
  f[F.record_rate_z] = slog(rateZ);
  f[F.templates_log] = Math.log1p(k);
  f[F.new_template_record_share] = newRecords / s.records;
  f[F.new_templates_log] = Math.log1p(newTemplates);
  f[F.rare_template_record_share] = rareRecords / s.records;
  f[F.error_share] = s.errors / s.records;
  f[F.warn_share] = s.warns / s.records;
  f[F.error_count_log] = Math.log1p(s.errors);
  f[F.error_rate_z] = slog(errZ);
  f[F.warn_rate_z] = slog(warnZ);
  f[F.template_divergence] = divergence;
  f[F.template_entropy] = k > 1 ? entropy / Math.log(k) : 0;
  f[F.top_template_share] = top;
  f[F.template_absz_max] = Math.log1p(Math.min(zMax, Z_CLIP));
  f[F.template_share_absz_gt3] = zs.length ? gt3 / zs.length : 0;
  f[F.absent_template_mass] = absentMass;

  const z1 = (z: number) => (Number.isFinite(z) && Math.abs(z) >= 1 ? ` (z ${fmtZ(z)})` : '');
  const header =
    `logs ${service ?? 'system'}: ${s.records} records, ${fmt(s.records / m)}/min (z ${fmtZ(rateZ)}); ` +
    `${k} templates (${newTemplates} new, ${rareRecords} records of rare ones); ` +
    `error ${pct(s.errors / s.records)} (${s.errors}${Number.isFinite(errZ) ? `, z ${fmtZ(errZ)}` : ''}), warn ${pct(s.warns / s.records)}${z1(warnZ)}` +
    (pBase.size > 0 ? `; divergence ${fmt(divergence)}` : '');
  const lines: Line[] = [];
  const scopes: [string | undefined, LogScope][] = service === undefined ? [...lw.services] : [[undefined, s]];
  for (const [svc, sc] of scopes) {
    const who = svc === undefined ? '' : `${svc}: `;
    const base = lb.scopes.get(svc ?? service ?? SYSTEM);
    const btotal = base?.total ?? 0;
    for (const [id, t] of sc.tmpl) {
      const sev = () => (t.errors > 0 ? ` [error ${t.errors}]` : t.warns > 0 ? ` [warn ${t.warns}]` : '');
      const sevBoost = t.errors > 0 ? 5 : t.warns > 0 ? 2 : 0;
      const tie = `${svc ?? ''}\u0000${id < 0 ? 'n' : 't'}${Math.abs(id)}`;
      if (id < 0) {
        lines.push({ score: 30 + sevBoost + Math.log1p(t.count), tie, text: () => `NEW x${t.count}${sev()} ${who}${clip(lw.newText.get(id) ?? '')}` });
        continue;
      }
      const tb = base?.templates.get(id);
      const text = () => clip(lb.texts.get(id) ?? `template ${id}`);
      const pb = btotal > 0 ? (tb?.mean ?? 0) / btotal : 0;
      if (pb < RARE_SHARE) {
        lines.push({ score: 10 + sevBoost + Math.log1p(t.count), tie, text: () => `RARE x${t.count}${sev()} ${who}${text()} (base ${fmt(tb?.mean ?? 0)}/min)` });
        continue;
      }
      const z = templateZ(t.count, m, tb);
      lines.push({ score: Math.min(Math.abs(z), 25) + sevBoost / 2, tie, text: () => `x${t.count}${sev()} ${who}${text()} (base ${fmt((tb?.mean ?? 0) * m)}, z ${fmtZ(z)})` });
    }
    if (base && btotal > 0) {
      for (const [id, tb] of base.templates) {
        if (tb.mean / btotal < FREQUENT_SHARE || sc.tmpl.has(id)) continue;
        const z = templateZ(0, m, tb);
        lines.push({ score: Math.min(Math.abs(z), 25), tie: `${svc ?? ''}\u0000m${id}`, text: () => `MISSING ${who}${clip(lb.texts.get(id) ?? `template ${id}`)} (base ${fmt(tb.mean * m)}, z ${fmtZ(z)})` });
      }
    }
  }
  return { text: assemble(header, lines, budget), features: f };
}
