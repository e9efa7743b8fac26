/**
 * What the top suspect's evidence says, as named numbers for the fault-type classifier: which
 * evidence families fire on the localizer's first suspect, how strongly, and in which direction.
 * A network delay shows as edge gaps into the suspect, a CPU fault as its resources, an exception
 * as its log templates and call outcomes — the kind of evidence is close to the kind of fault, and
 * it is label-free (the localizer's output for the case's own window).
 *
 *   const features = suspectFeatures(prepared.rank(range));   // { 'z:edge-gap': 7.1, 'rise:edge-gap': 4.2, … }
 *
 * Grid sources (the evidence localizer), per family:
 * - `z:<family>`: the family's calibrated z on the suspect, where it fires (above 0);
 * - `rise:<family>` / `fall:<family>`: the largest item deviation above / below normal. The
 *   direction tells faults apart that fire the same family: an exception skips the rest of its
 *   method, so the lines it would have logged *vanish*; a wrong return value is reported by the
 *   caller's or its own error path, so a line *appears*. Likewise a resource falling (a killed
 *   pod) is not one rising (a hog);
 * - `rise:resource:<kind>` / `fall:resource:<kind>`: the same per resource kind (cpu, memory,
 *   process, network, disk, other; `resourceKind` reads the metric's name), since a CPU hog and a memory
 *   leak both fire "resource";
 * - `lead:resource:memory`: a pod whose memory rose beyond `MEMORY_LEADS_Z` — its CPU rise is
 *   then read as the memory's and left out of `rise:resource:cpu` (`leadingResource`: a leak's
 *   garbage collection burns CPU, a CPU hog's memory does not move), and so are the suspect's
 *   self time and call outcomes (`MEMORY_LED_FAMILIES`: the garbage collection's slow work and
 *   failed calls);
 * - `rise:<family>:<kind>`: an item's rise split by the kinds it reports (`EvidenceItem.kinds`;
 *   call-outcome: failed, complained about, slow) — a killed pod's calls fail, a wrong return
 *   value is complained about, a delay or packet loss makes calls slow.
 * - `rise:<family>:in|out|other` and `rise:<family>:<in|out|other>:<kind>` for the edge families
 *   (edge gaps, call outcomes, mesh edges; `edgeDirection`): the same deviations by where the
 *   call sits on the suspect's path — a network delay slows the calls into the pod, packet loss
 *   its own calls out as well;
 * - `rise|fall:log-template:<kind>`: a log-template item split by how the line moved (`appears`,
 *   `vanishes`, `changes`) and by the severity its text names (`error`, `info`, …;
 *   `logTemplateKinds`): a wrong return value makes an ERROR line appear, an exception makes
 *   the INFO lines after the throw vanish.
 * Case sources (AIOps 2022 events): `<family>:<kpi or template>`, the suspect service's events
 * over the incident so far weighted by their IDF, summed over its pods and windows
 * (`EventProfile`: every KPI and template it showed, not only the ranking's three strongest
 * items), and `kind:<family>:<kind>`, the same summed per resource kind of the KPI;
 * `trace:in|out|self|in-max|self-max`, the window's trace events around the suspect
 * (`ServiceCalls`: calls into it, from it, a pod calling itself, the largest scores);
 * `case:trace:<calls|self><|Up|Down>`, the whole incident's trace events by where and which way
 * their score moved (`CaseCalls`: a network fault's pattern, right suspect or not);
 * `next:kind:…` / `next:trace:…`, the same kinds for the next `SUSPECT_RUNNERS_UP` suspects
 * (the largest over them).
 * Beside these, `withSilence` adds what went silent on the suspect (`gone:…`, from its view).
 * Values are compressed, sign(v)·ln(1 + |v|): calibrated z reach
 * hundreds on a CPU hog and a handful on a template change, and both mean "fires". A name without
 * a value is 0 in a row (no evidence is what a calibrated z of 0 says, and an absent KPI had no
 * events).
 */
import type { EventRanking, Ranking } from '../localize/index.js';
import type { EvidenceItem } from '../../encode/evidence/index.js';
import { FEATURE_LAYOUTS } from '../../encode/index.js';
import { SEVERITY_WORD } from '../../encode/evidence/log-templates.js';
import { MODALITIES } from '../../telemetry/index.js';

export type SuspectFeatures = Record<string, number>;

/**
 * Resource kinds by metric name, first match wins. Names from Kubernetes/cAdvisor, Prometheus
 * node exporter, OpenTelemetry semantic conventions and the Nezha/AIOps exports all carry one of
 * these stems; anything else is `other`.
 */
const RESOURCE_KINDS: readonly [string, RegExp][] = [
  ['cpu', /cpu|processor|load/i],
  ['memory', /mem|rss|heap|swap|oom|page/i],
  ['process', /thread|process|pid|fd|file_desc/i],
  ['network', /net|rx|tx|receive|transmit|packet|tcp|udp|socket|conn/i],
  ['disk', /disk|fs|(^|[^a-z])io|read|write|block|storage|volume|inode/i],
];

export function resourceKind(metric: string): string {
  for (const [kind, re] of RESOURCE_KINDS) if (re.test(metric)) return kind;
  return 'other';
}

/**
 * What kind of log line moved, from a log-template item's subject (`<operation> | <how>: <text>`):
 * how (`appears`, `vanishes`, `changes`: a line never seen in normal windows, one that stopped,
 * one whose rate moved) and the severity its text names, when it names one (ERROR, WARN, INFO,
 * DEBUG as an upper-case token, as logback/log4j/Python layouts print it). The log-template
 * family leads the text with the severity its records carry where the text names none
 * (`templateLine`: OpenTelemetry's `severityText`), so both kinds of source read alike here.
 */
export function logTemplateKinds(subject: string): string[] {
  const out: string[] = [];
  const how = /\| (appears|vanishes|changes): /.exec(subject);
  if (how) out.push(how[1]);
  const sev = SEVERITY_WORD.exec(subject.slice(how ? how.index : 0));
  if (sev) out.push(sev[1] === 'WARNING' ? 'warn' : sev[1].toLowerCase());
  return out;
}

/** Families whose items are calls between services (subject `caller → callee …`). */
const EDGE_FAMILIES: ReadonlySet<string> = new Set(['edge-gap', 'call-outcome', 'mesh-edge']);

/**
 * Where an edge item sits on the suspect's call path: `in` (calls into it), `out` (its own calls
 * out), `other` (an edge between two other services, blamed on it). A delay on the way into a
 * pod slows only the calls into it; a lossy or starved pod's own calls out suffer too; a dead
 * or wrong callee shows on the calls into it.
 */
export function edgeDirection(subject: string, service: string): 'in' | 'out' | 'other' | undefined {
  const m = /^(.+?) → (.+?)(?: \(|$)/.exec(subject);
  if (!m) return undefined;
  return m[2] === service ? 'in' : m[1] === service ? 'out' : 'other';
}

const compress = (v: number) => Math.sign(v) * Math.log1p(Math.abs(v));

function keepMax(out: SuspectFeatures, key: string, v: number): void {
  if (Number.isFinite(v) && v > 0) out[key] = Math.max(out[key] ?? 0, v);
}

/**
 * A memory rise beyond this many robust scales of its pod's own history (the usual outlier cut)
 * leads the CPU rise of the same pod (`leadingResource`).
 */
export const MEMORY_LEADS_Z = 3;

/**
 * Which resource leads on each pod of the suspect's resource items, memory before CPU: a pod
 * whose memory grows (a leak) spends CPU on garbage collection as it nears its limit, so its CPU
 * rises with it — a CPU hog's memory does not move, a restarted pod's falls. Where a pod's memory
 * rose beyond `MEMORY_LEADS_Z`, its CPU rise is read as the memory's: `lead:resource:memory` is
 * set and that pod's CPU is left out of `rise:resource:cpu`; elsewhere a CPU rise is
 * `rise:resource:cpu` as before. Without it the nearest prototype of a leak that has reached its
 * garbage-collection stage is CPU contention's: its CPU, slow calls and failures outweigh the one
 * name that says memory (docs/tasks.md, "Which resource leads"). `rise:resource` (every kind's
 * largest rise) is unchanged.
 */
function leadingResource(out: SuspectFeatures, items: readonly EvidenceItem[]): void {
  const pods = new Map<string, { memory: number; cpu: number }>();
  for (const it of items) {
    const kind = resourceKind(it.subject);
    if ((kind !== 'memory' && kind !== 'cpu') || !Number.isFinite(it.deviation)) continue;
    const key = it.pod ?? it.service;
    let p = pods.get(key);
    if (!p) pods.set(key, (p = { memory: 0, cpu: 0 }));
    p[kind] = Math.max(p[kind], it.deviation);
  }
  for (const p of pods.values()) {
    if (p.memory > MEMORY_LEADS_Z) keepMax(out, 'lead:resource:memory', p.memory);
    else keepMax(out, 'rise:resource:cpu', p.cpu);
  }
}

/**
 * Families whose names are left out of a suspect's features where memory leads on one of its
 * pods (`lead:resource:memory` set): a leak near its limit collects garbage, which slows the
 * pod's own work (self time) and fails or slows the calls into it (call outcomes). Those names
 * say how far the leak has got when its window is read — the simulator's leaks, like a real
 * one, reach that stage at a time set by their growth, not by their type — while its memory says
 * what it is. A classifier trained on leaks read before that stage otherwise finds a later one
 * nearer CPU contention (CPU, slow work, failures: everything but the memory; docs/tasks.md,
 * "Which resource leads"). A CPU hog's memory does not lead, so its names stay.
 */
export const MEMORY_LED_FAMILIES: readonly string[] = ['self-time', 'call-outcome'];

function dropMemoryLed(out: SuspectFeatures): void {
  if (out['lead:resource:memory'] === undefined) return;
  for (const k of Object.keys(out)) if (MEMORY_LED_FAMILIES.includes(k.split(':')[1])) delete out[k];
}

/** Case sources: the suspects after the first whose kinds of evidence are read too (`next:`). */
export const SUSPECT_RUNNERS_UP = 2;

export function suspectFeatures(r: Ranking | EventRanking | undefined): SuspectFeatures | undefined {
  const top = r?.services[0];
  if (!top || !r) return undefined;
  const out: SuspectFeatures = {};
  if (!('evidence' in top)) {
    const er = r as EventRanking;
    // the whole incident's trace events, by where and which way (`CaseCalls`): a network fault's
    // pattern, whether or not the suspect is right
    if (er.calls) for (const [k, v] of Object.entries(er.calls)) keepMax(out, `case:trace:${k}`, v);
    // the runners-up's kinds of evidence, each name the largest over them (already compressed):
    // where the first suspect is wrong, the right one is often second or third
    for (const s of er.services.slice(1, 1 + SUSPECT_RUNNERS_UP)) {
      const f = suspectFeatures({ services: [s], pods: [] }) ?? {};
      for (const [k, v] of Object.entries(f)) if (k.startsWith('kind:') || k.startsWith('trace:')) out[`next:${k}`] = Math.max(out[`next:${k}`] ?? 0, v);
    }
    for (const k of Object.keys(out)) if (k.startsWith('case:')) out[k] = compress(out[k]);
  }
  const done = new Set(Object.keys(out));
  if ('evidence' in top) {
    for (const e of top.evidence) {
      // only a family that fires: a calibrated z below 0 says the suspect is quieter than its
      // null, which is mostly what the service is (a leaf has no child calls to change), not
      // what went wrong — as a value it set apart services, not fault types
      if (Number.isFinite(e.z) && e.z > 0) keepMax(out, `z:${e.family}`, e.z);
      for (const it of e.items) {
        keepMax(out, `rise:${e.family}`, it.deviation);
        keepMax(out, `fall:${e.family}`, -it.deviation);
        const dir = EDGE_FAMILIES.has(e.family) ? edgeDirection(it.subject, top.service) : undefined;
        if (dir) keepMax(out, `rise:${e.family}:${dir}`, it.deviation);
        // a bad-call deviation split by what went bad: failed (a dead callee), complained about
        // (a wrong answer), slow (delay, loss and retries) — shares of the item's bad calls —
        // overall and by where on the call path
        if (it.kinds && it.deviation > 0) {
          const total = Object.values(it.kinds).reduce((a, b) => a + b, 0);
          if (total > 0)
            for (const [kind, share] of Object.entries(it.kinds)) {
              keepMax(out, `rise:${e.family}:${kind}`, (it.deviation * share) / total);
              if (dir) keepMax(out, `rise:${e.family}:${dir}:${kind}`, (it.deviation * share) / total);
            }
        }
        if (e.family === 'log-template') {
          for (const kind of logTemplateKinds(it.subject)) {
            keepMax(out, `rise:log-template:${kind}`, it.deviation);
            keepMax(out, `fall:log-template:${kind}`, -it.deviation);
          }
        }
        if (e.family === 'resource') {
          const kind = resourceKind(it.subject);
          // a CPU rise waits for `leadingResource`: it may be a memory rise's
          if (kind !== 'cpu') keepMax(out, `rise:resource:${kind}`, it.deviation);
          keepMax(out, `fall:resource:${kind}`, -it.deviation);
        }
      }
    }
    leadingResource(out, top.evidence.filter((e) => e.family === 'resource').flatMap((e) => e.items));
    dropMemoryLed(out);
  } else {
    // the calls around the suspect (trace events): counts and largest scores, compressed below
    if (top.calls) {
      const c = top.calls;
      for (const [k, v] of [['trace:in', c.in], ['trace:out', c.out], ['trace:self', c.self], ['trace:in-max', c.inMax], ['trace:self-max', c.selfMax]] as const) keepMax(out, k, v);
    }
    // the service's whole event pattern over the incident so far where the ranking has it (the
    // items are only its best window's three strongest pairs)
    const events: [string, number][] = top.profile ? Object.entries(top.profile) : top.items.map((it) => [`${it.family}:${it.kpi}`, it.events * it.idf]);
    for (const [k, w] of events) {
      out[k] = (out[k] ?? 0) + w;
      const [family, kpi] = [k.slice(0, k.indexOf(':')), k.slice(k.indexOf(':') + 1)];
      if (family === 'metric') {
        const g = `kind:${family}:${resourceKind(kpi)}`;
        out[g] = (out[g] ?? 0) + w;
      }
    }
  }
  for (const k of Object.keys(out)) if (!done.has(k)) out[k] = compress(out[k]);
  return out;
}

/**
 * What went silent on the suspect, from its window view (the raw view features of its service:
 * metrics ⊕ traces ⊕ logs, as `rawFeatures` lays them out), as names beside its evidence:
 * `gone:<modality>:<feature>`. A killed or restarting pod stops being scraped and serving for a
 * while, which no evidence family reads (they compare the values that are there): its
 * CPU rises on restart like a hog's, but its metric points go missing. A name is set only when
 * the share is above 0 (no silence is no evidence). Values are the share in percent, compressed
 * like the rest: a fifth of the points gone reads 3.0, as a calibrated z of 20 does; one missed
 * scrape in 250 reads 0.3 — a share in [0, 1] as it is would weigh nothing beside the z's.
 */
const GONE: readonly [string, string][] = [
  ['metrics', 'missing_share'],
  ['metrics', 'absent_series_share'],
  ['traces', 'absent_edge_share'],
  ['logs', 'absent_template_mass'],
];

/** the width of a view row (metrics ⊕ traces ⊕ logs raw features); a row of another width is not one */
const VIEW_WIDTH = MODALITIES.reduce((a, m) => a + FEATURE_LAYOUTS[m].length, 0);

const GONE_AT: readonly { name: string; at: number }[] = (() => {
  const out: { name: string; at: number }[] = [];
  let off = 0;
  for (const m of MODALITIES) {
    const layout = FEATURE_LAYOUTS[m];
    for (const [gm, f] of GONE) if (gm === m) out.push({ name: `gone:${m}:${f}`, at: off + layout.indexOf(f) });
    off += layout.length;
  }
  return out;
})();

/**
 * The suspect's silence (`GONE`) read from its view row, merged into its evidence features; the
 * evidence as it is without a view row (or with a row of another representation's width).
 */
export function withSilence(evidence: SuspectFeatures | undefined, view: Float64Array | undefined): SuspectFeatures | undefined {
  if (!view || view.length !== VIEW_WIDTH) return evidence;
  const out: SuspectFeatures = { ...evidence };
  for (const g of GONE_AT) {
    const v = view[g.at];
    if (Number.isFinite(v) && v > 0) out[g.name] = compress(100 * v);
  }
  return out;
}

/** A fixed layout over the names seen (sorted), for rows; a name never seen stays out. */
export function suspectLayout(all: readonly (SuspectFeatures | undefined)[]): string[] {
  const names = new Set<string>();
  for (const f of all) if (f) for (const k of Object.keys(f)) names.add(k);
  return [...names].sort();
}

/** The row of one case in a layout (a name without a value: 0, no evidence). */
export function suspectRow(f: SuspectFeatures | undefined, layout: readonly string[]): Float64Array | undefined {
  if (!f) return undefined;
  return Float64Array.from(layout, (k) => f[k] ?? 0);
}
