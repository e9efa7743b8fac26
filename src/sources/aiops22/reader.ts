/**
 * Reader of the AIOps Challenge 2022 pod-level failures as extracted by the TVDiag authors
 * (`aiops22-pod/`: a case CSV, raw_label.csv, metric/log/trace.json, nodes.json, edges.json).
 *
 * The source holds *events* an upstream detector already picked out, not raw telemetry. How
 * they map onto the data model:
 * - metric event `[ms, "node-X.<pod>", kpi, score]` → a point of series (pod, kpi), value =
 *   score, unit '1'. The score is an anomaly score (≥ 1) where the authors' detector fired: a
 *   pod/KPI without a point had no alarm, it is not a missing value. The node prefix names
 *   the node entity; it is not kept per point (a pod's node differs between cloudbeds).
 * - log event `[ms, pod, templateId]` → LogRecord: body and attributes.templateId = the
 *   template id (the text was not published), severity 'unknown'.
 * - trace event `[ms, caller, callee, score]` → the client/server span pair an OTLP exporter
 *   would show for one call: a root span on the caller (attributes {callee, synthetic: true})
 *   and its child on the callee carrying the event (attributes {caller, score}); both have
 *   operation `caller->callee`, duration 0 and status 'unset', and their own trace id
 *   `<case>#<n>`, so `edgesFromSpans` recovers caller → callee from any time slice. A
 *   self-call (caller = callee, 43% of the events) is the callee span alone: a pair would
 *   only add a span and no edge. So one event = one non-synthetic span.
 * - Every span and log record carries attributes.case (the case index). The three cloudbeds
 *   share pod names and some of their failures run concurrently, so a time-range read can mix
 *   cases; `caseData(id)` returns exactly one case's events.
 *
 * Case windows come from raw_label.csv, not from the events: window w of a failure injected
 * at T is [T + (w−1)·60 s, T + w·60 s] with both ends inclusive (the authors' extraction puts
 * events stamped exactly T + w·60 s in window w, and half of them again in window w+1), so the
 * exclusive end is T + w·60 s + 1 ms. On the real data every event lies in its case's window;
 * a case whose failure has no raw label falls back to its events' span (reported).
 *
 * The event files are single JSON objects (a few MB here): they are parsed whole at open and
 * served from memory, sorted by time (disorderMs 0).
 */
import { basename, join } from 'node:path';
import {
  ProblemLog,
  UserError,
  sortEntities,
  type CallEdge,
  type Dataset,
  type DatasetCase,
  type Entity,
  type FaultLabel,
  type LoadOptions,
  type LogRecord,
  type MetricSeries,
  type Span,
  type TimeRange,
  type Topology,
} from '../../telemetry/index.js';
import { ReadError, headerIndex, lineBatches, readText, splitCsvLine } from '../io/index.js';
import { EVENT_FILES, locateAiops22, type Aiops22Files, type EventFile } from './files.js';
import {
  AIOPS22_TYPE_NAMES,
  AIOPS22_WINDOW_MS,
  AIOPS22_WINDOWS_PER_FAILURE,
  aiops22TypeName,
  parseCaseIndex,
  serviceOfAiops22Pod,
  workloadsOf,
} from './labels.js';

/** One case's events, mapped like the streams map them. */
export interface Aiops22CaseData {
  case: DatasetCase;
  metrics: MetricSeries[];
  spans: Span[];
  logs: LogRecord[];
}

export interface Aiops22Dataset extends Dataset {
  readonly format: 'aiops22';
  readonly cases: DatasetCase[];
  /** the injections of raw_label.csv (113 here), each active over its five windows */
  readonly rawFailures: FaultLabel[];
  /** pods with a self-loop in edges.json (kept out of topology edges) */
  readonly selfLoops: string[];
  /** events per modality over the exposed cases, as in the files (before span pairing) */
  readonly eventCounts: { metric: number; log: number; trace: number; selfCalls: number };
  /** one case's events; undefined for an unknown case id */
  caseData(id: string): Aiops22CaseData | undefined;
}

interface MetricEv {
  time: number;
  pod: string;
  name: string;
  value: number;
  c: number;
}
interface LogEv {
  time: number;
  pod: string;
  template: string;
  c: number;
}
interface TraceEv {
  time: number;
  caller: string;
  callee: string;
  score: number;
  c: number;
  /** position in the case's list in the file: makes the trace id */
  seq: number;
}

interface CaseRow {
  id: string;
  line: number;
  group: string;
  window: number;
  level: string;
  instance: string;
  typeOriginal: string;
  split?: 'train' | 'test';
  service?: string;
}

interface RawRow {
  id: string;
  line: number;
  time: number;
  level: string;
  pod: string;
  typeOriginal: string;
}

const BATCH = 4096;

export async function detectAiops22(path: string): Promise<boolean> {
  return (await locateAiops22(path)) !== null;
}

export async function openAiops22(path: string, opts: LoadOptions = {}): Promise<Aiops22Dataset> {
  const files = await locateAiops22(path);
  if (!files) {
    throw new UserError(
      `not an AIOps 2022 events folder: ${path} (expected a case CSV with columns index,level,instance,anomaly_type,data_type plus metric.json, log.json and trace.json)`,
    );
  }
  const problems = opts.problems ?? new ProblemLog();
  const notes: string[] = [];
  const unknownTypes = new Set<string>();
  const typeOf = (original: string, file: string, line: number) => {
    if (!(original in AIOPS22_TYPE_NAMES) && !unknownTypes.has(original)) {
      unknownTypes.add(original);
      problems.add(file, line, `unknown failure type "${original}" (kept verbatim)`);
    }
    return aiops22TypeName(original);
  };

  if (files.otherCaseCsvs.length) {
    problems.add('', 0, `several case CSVs (${[files.caseCsv, ...files.otherCaseCsvs].join(', ')}); read ${files.caseCsv} only`);
  }
  const labelIssues: string[] = [];
  const rows = await readCaseCsv(files, problems, labelIssues);
  const raw = files.rawLabelCsv ? await readRawLabels(files, problems, labelIssues) : new Map<string, RawRow>();
  if (!files.rawLabelCsv) problems.add('', 0, 'no raw_label.csv (timestamp,cmdb_id,failure_type,index): case windows taken from their events');

  // Graph: nodes.json names the pods; edges.json indexes into it.
  const graphPods = files.nodes ? await readNodes(files, problems) : undefined;
  const graphEdges = files.nodes && files.edges && graphPods ? await readEdges(files, graphPods, problems) : [];

  // Events of the exposed cases, per case, in file order.
  const caseIndex = new Map(rows.map((r, i) => [r.id, i]));
  const perCase = rows.map(() => ({ metric: [] as MetricEv[], log: [] as LogEv[], trace: [] as TraceEv[] }));
  const podNodes = new Map<string, Set<string>>();
  const seen = new Map<string, { file: string; count: number }>();
  const see = (pod: string, file: string) => {
    const s = seen.get(pod);
    if (s) s.count++;
    else seen.set(pod, { file, count: 1 });
  };
  const droppedKeys = new Set<string>();
  // An event far from its failure (or no epoch ms at all: 1e24, negative) would stretch the
  // time range to millions of windows: such events are dropped and reported once per file.
  const timeBounds = (ci: number): [number, number] => {
    const f = raw.get(rows[ci].group);
    return f ? [f.time - EVENT_SLACK_MS, f.time + EVENT_SLACK_MS] : [PLAUSIBLE_MS[0], PLAUSIBLE_MS[1]];
  };
  for (const kind of EVENT_FILES) {
    const file = files.events[kind];
    const obj = await readJsonObject(join(files.root, file), file, problems);
    if (!obj) continue;
    let outside = 0;
    let outsideExample = '';
    const present = new Set<string>();
    for (const [key, list] of Object.entries(obj)) {
      const ci = caseIndex.get(key);
      if (ci === undefined) {
        droppedKeys.add(key);
        continue;
      }
      present.add(key);
      if (!Array.isArray(list)) {
        problems.add(file, 0, `case ${key}: expected a list of events`, 'malformed-record');
        continue;
      }
      const into = perCase[ci];
      for (let i = 0; i < list.length; i++) {
        const e: unknown = list[i];
        const parsed = parseEvent(kind, e, ci, i);
        if (!parsed) {
          problems.add(file, 0, `case ${key} event #${i}: expected ${EVENT_SHAPES[kind]}`, 'malformed-record');
          continue;
        }
        const [lo, hi] = timeBounds(ci);
        if (!(parsed.ev.time >= lo && parsed.ev.time < hi)) {
          if (outside++ === 0) outsideExample = `case ${key} event #${i}: ${parsed.ev.time}`;
          continue;
        }
        if (parsed.kind === 'metric') {
          const m = parsed.ev;
          if (parsed.node) {
            let s = podNodes.get(m.pod);
            if (!s) podNodes.set(m.pod, (s = new Set()));
            s.add(parsed.node);
          }
          into.metric.push(m);
          see(m.pod, file);
        } else if (parsed.kind === 'log') {
          into.log.push(parsed.ev);
          see(parsed.ev.pod, file);
        } else {
          const t = parsed.ev;
          into.trace.push(t);
          see(t.caller, file);
          if (t.callee !== t.caller) see(t.callee, file);
        }
      }
    }
    if (outside > 0) {
      problems.add(file, 0, `${outside} event(s) with a time more than a day from their failure, or not epoch ms (e.g. ${outsideExample}); skipped`, 'time');
    }
    const missing = rows.filter((r) => !present.has(r.id)).length;
    if (missing) problems.add(file, 0, `${missing} case(s) of ${files.caseCsv} have no key here (no ${kind} events for them)`);
  }
  if (droppedKeys.size) {
    notes.push(`${droppedKeys.size} windows of the event files are not cases of ${files.caseCsv} (the authors dropped them) and are ignored.`);
  }

  // Services: the CSV's own service column first, the authors' folding rule for the rest.
  const workloads = workloadsOf([...(graphPods ?? []), ...seen.keys(), ...rows.map((r) => r.instance)]);
  const serviceByPod = new Map<string, string>();
  for (const r of rows) {
    if (!r.service) continue;
    const prev = serviceByPod.get(r.instance);
    if (prev === undefined) serviceByPod.set(r.instance, r.service);
    else if (prev !== r.service) problems.add(files.caseCsv, r.line, `pod ${r.instance} has service "${r.service}" here but "${prev}" earlier; keeping "${prev}"`);
  }
  const serviceOf = (pod: string) => {
    let s = serviceByPod.get(pod);
    if (s === undefined) serviceByPod.set(pod, (s = serviceOfAiops22Pod(pod, workloads)));
    return s;
  };

  // Cases and their windows.
  const cases: DatasetCase[] = [];
  const kept: number[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const ev = perCase[i];
    const failure = raw.get(r.group);
    let start: number;
    let end: number;
    if (failure) {
      start = failure.time + (r.window - 1) * AIOPS22_WINDOW_MS;
      end = start + AIOPS22_WINDOW_MS + 1;
      if (failure.pod !== r.instance || failure.typeOriginal !== r.typeOriginal) {
        problems.add(files.caseCsv, r.line, `case ${r.id} names ${r.instance} / ${r.typeOriginal} but raw label ${r.group} names ${failure.pod} / ${failure.typeOriginal}; keeping the case's`);
      }
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (const list of [ev.metric, ev.log, ev.trace]) for (const e of list) (lo = Math.min(lo, e.time), (hi = Math.max(hi, e.time)));
      if (lo > hi) {
        problems.add(files.caseCsv, r.line, `case ${r.id}: no raw label for failure ${r.group} and no events; skipped`);
        continue;
      }
      if (files.rawLabelCsv) problems.add(files.caseCsv, r.line, `case ${r.id}: no raw label for failure ${r.group}; window taken from its events`);
      start = lo;
      end = Math.max(lo + AIOPS22_WINDOW_MS, hi) + 1;
    }
    const label: FaultLabel = {
      id: r.id,
      start,
      end,
      rootCause: r.instance,
      rootCauseService: serviceOf(r.instance),
      type: typeOf(r.typeOriginal, files.caseCsv, r.line),
      typeOriginal: r.typeOriginal,
      level: r.level,
      ...(r.split ? { split: r.split } : {}),
    };
    cases.push({ id: r.id, start, end, label, group: r.group, ...(r.split ? { split: r.split } : {}) });
    kept.push(i);
    for (const kind of EVENT_FILES) {
      let outside = 0;
      for (const e of ev[kind]) if (e.time < start || e.time >= end) outside++;
      if (outside) problems.add(files.events[kind], 0, `case ${r.id}: ${outside} ${kind} event(s) outside its window [${start}, ${end}); kept`);
    }
  }
  const labels = cases.map((c) => c.label);

  const rawFailures: FaultLabel[] = [...raw.values()].map((f) => ({
    id: f.id,
    start: f.time,
    end: f.time + AIOPS22_WINDOWS_PER_FAILURE * AIOPS22_WINDOW_MS + 1,
    rootCause: f.pod,
    rootCauseService: serviceOf(f.pod),
    type: typeOf(f.typeOriginal, files.rawLabelCsv ?? '', f.line),
    typeOriginal: f.typeOriginal,
    level: f.level,
  }));

  // Time-sorted event arrays of the exposed cases (stable: ties keep case, then file, order).
  const metricEvs: MetricEv[] = [];
  const logEvs: LogEv[] = [];
  const traceEvs: TraceEv[] = [];
  for (const i of kept) {
    for (const e of perCase[i].metric) metricEvs.push(e);
    for (const e of perCase[i].log) logEvs.push(e);
    for (const e of perCase[i].trace) traceEvs.push(e);
  }
  const byTime = (a: { time: number }, b: { time: number }) => a.time - b.time;
  metricEvs.sort(byTime);
  logEvs.sort(byTime);
  traceEvs.sort(byTime);
  let selfCalls = 0;
  for (const t of traceEvs) if (t.caller === t.callee) selfCalls++;
  const eventCounts = { metric: metricEvs.length, log: logEvs.length, trace: traceEvs.length, selfCalls };
  const eventPods = new Set<string>();
  for (const e of metricEvs) eventPods.add(e.pod);
  for (const e of logEvs) eventPods.add(e.pod);
  for (const e of traceEvs) (eventPods.add(e.caller), eventPods.add(e.callee));

  // Entities: the graph's pods, pods only events or cases name (reported), services, nodes.
  const graphSet = new Set(graphPods ?? []);
  const podIds = [...(graphPods ?? [])];
  for (const p of [...eventPods, ...cases.map((c) => c.label.rootCause)]) {
    if (graphSet.has(p) || podIds.includes(p)) continue;
    podIds.push(p);
    if (graphPods) {
      const s = seen.get(p);
      problems.add(
        s?.file ?? files.caseCsv,
        0,
        `pod ${p} is not among the ${graphPods.length} pods of ${files.nodes}; kept as an extra entity (${s ? `${s.count} event(s)` : 'a root cause'})`,
      );
    }
  }
  const entities: Entity[] = [];
  const services = new Set<string>();
  const nodes = new Set<string>();
  for (const p of podIds) {
    const service = serviceOf(p);
    services.add(service);
    const ns = podNodes.get(p);
    if (ns) for (const n of ns) nodes.add(n);
    // A pod name recurs in every cloudbed, placed on different nodes: a node only when unique.
    entities.push({ id: p, kind: 'pod', service, ...(ns && ns.size === 1 ? { node: [...ns][0] } : {}) });
  }
  for (const s of services) entities.push({ id: s, kind: 'service', service: s });
  for (const n of nodes) entities.push({ id: n, kind: 'node' });
  const sortedEntities = sortEntities(entities);

  // Topology: the source's graph, weighted by observed calls; derived from events without one.
  const callCounts = new Map<string, number>();
  for (const t of traceEvs) {
    const k = t.caller + '\u0000' + t.callee;
    callCounts.set(k, (callCounts.get(k) ?? 0) + 1);
  }
  const selfLoops: string[] = [];
  const edges: CallEdge[] = [];
  if (files.edges && graphPods) {
    for (const [caller, callee] of graphEdges) {
      if (caller === callee) selfLoops.push(caller);
      else edges.push({ caller, callee, count: callCounts.get(caller + '\u0000' + callee) ?? 0 });
    }
    const stated = new Set(graphEdges.map(([a, b]) => a + '\u0000' + b));
    const unstated = [...callCounts.keys()].filter((k) => !stated.has(k) && k.split('\u0000')[0] !== k.split('\u0000')[1]);
    if (unstated.length) problems.add(files.edges, 0, `${unstated.length} caller→callee pair(s) of trace events are not edges of the graph (e.g. ${unstated[0].replace('\u0000', '→')})`);
    notes.push(
      `${files.edges}: ${graphEdges.length} edges, of which ${selfLoops.length} self-loops (kept out of topology edges, listed in selfLoops); edge counts are the trace events of the cases (0 = stated but never observed: ${edges.filter((e) => e.count === 0).length}).`,
    );
  } else {
    for (const [k, count] of callCounts) {
      const [caller, callee] = k.split('\u0000');
      if (caller === callee) selfLoops.push(caller);
      else edges.push({ caller, callee, count });
    }
  }

  // Time range over the windows and every event.
  let lo = Infinity;
  let hi = -Infinity;
  for (const c of cases) (lo = Math.min(lo, c.start), (hi = Math.max(hi, c.end)));
  for (const list of [metricEvs, logEvs, traceEvs]) {
    if (list.length) (lo = Math.min(lo, list[0].time), (hi = Math.max(hi, list[list.length - 1].time + 1)));
  }
  const timeRange: TimeRange = lo < hi ? { start: lo, end: hi } : { start: 0, end: 0 };

  // Notes a user needs before trusting a number.
  const groups = new Map<string, Set<string>>();
  for (const c of cases) {
    let s = groups.get(c.group);
    if (!s) groups.set(c.group, (s = new Set()));
    if (c.split) s.add(c.split);
  }
  const leaking = [...groups.values()].filter((s) => s.size > 1).length;
  notes.unshift(
    'Events, not raw telemetry: metric points are anomaly scores (>= 1) of kpi_container_* KPIs where the authors\' detector fired (no point = no alarm, not a missing value); logs carry template ids only; each trace event is a caller/callee span pair of duration 0 (self-calls a single span).',
    `${cases.length} cases from ${groups.size} failures. The authors' split (data_type) has ${leaking} failures with windows on both sides: use a split grouped by failure (DatasetCase.group) for headline figures and label the authors' split as leaking.`,
    'Every case is a window after an injection: there are no fault-free windows (no detection task), and the presence of data is not a signal.',
  );
  const overl = crossFailureOverlaps(cases);
  notes.push(
    `Case windows are [injection + (w-1)*60 s, injection + w*60 s] with both ends inclusive (end + 1 ms exclusive), so neighbouring windows share one ms; ${overl} pairs of windows of different failures overlap in time (concurrent cloudbeds with the same pod names). A time-range read may mix cases: spans and logs carry attributes.case, and caseData(id) gives one case's events.`,
  );

  const svc = (pod: string) => serviceOf(pod);
  const caseById = new Map(cases.map((c) => [c.id, c]));
  const rowOfCase = new Map(kept.map((rowIdx, k) => [cases[k].id, rowIdx]));
  const caseIdOfRow = (ci: number) => rows[ci].id;

  const ds: Aiops22Dataset = {
    format: 'aiops22',
    root: files.root,
    entities: sortedEntities,
    timeRange,
    labels,
    cases,
    rawFailures,
    selfLoops,
    eventCounts,
    problems,
    labelIssues,
    disorderMs: 0,
    notes,
    async topology(): Promise<Topology> {
      return { entities: sortedEntities, edges: edges.map((e) => ({ ...e })) };
    },
    async *metrics(range?: TimeRange) {
      const [a, b] = bounds(metricEvs, range);
      for (let i = a; i < b; i += BATCH) yield toSeries(metricEvs, i, Math.min(b, i + BATCH));
    },
    async *spans(range?: TimeRange) {
      const [a, b] = bounds(traceEvs, range);
      for (let i = a; i < b; i += BATCH) {
        const out: Span[] = [];
        for (let j = i; j < Math.min(b, i + BATCH); j++) pushSpans(out, traceEvs[j], caseIdOfRow(traceEvs[j].c), svc);
        yield out;
      }
    },
    async *logs(range?: TimeRange) {
      const [a, b] = bounds(logEvs, range);
      for (let i = a; i < b; i += BATCH) {
        const out: LogRecord[] = [];
        for (let j = i; j < Math.min(b, i + BATCH); j++) out.push(toLog(logEvs[j], caseIdOfRow(logEvs[j].c), svc));
        yield out;
      }
    },
    caseData(id: string): Aiops22CaseData | undefined {
      const c = caseById.get(id);
      const ri = rowOfCase.get(id);
      if (!c || ri === undefined) return undefined;
      const ev = perCase[ri];
      const m = [...ev.metric].sort(byTime);
      const t = [...ev.trace].sort(byTime);
      const spans: Span[] = [];
      for (const e of t) pushSpans(spans, e, id, svc);
      const logs = [...ev.log].sort(byTime).map((e) => toLog(e, id, svc));
      return { case: c, metrics: toSeries(m, 0, m.length), spans, logs };
    },
  };
  return ds;
}

/** How far an event may lie from its failure's raw-label time. */
const EVENT_SLACK_MS = 86_400_000;
/** Event times of a case without a raw label: epoch ms between 2000 and 2100. */
const PLAUSIBLE_MS = [Date.UTC(2000, 0, 1), Date.UTC(2100, 0, 1)] as const;

const EVENT_SHAPES: Record<EventFile, string> = {
  metric: '[ms, "node.pod", kpi, score]',
  log: '[ms, pod, template id]',
  trace: '[ms, caller pod, callee pod, score]',
};

const isTime = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isName = (x: unknown): x is string => typeof x === 'string' && x.length > 0;
/** JSON has no NaN: a null score is a missing value. */
const scoreOf = (x: unknown): number | undefined => (typeof x === 'number' ? x : x === null ? NaN : undefined);

type ParsedEvent =
  | { kind: 'metric'; ev: MetricEv; node?: string }
  | { kind: 'log'; ev: LogEv }
  | { kind: 'trace'; ev: TraceEv };

function parseEvent(kind: EventFile, e: unknown, c: number, seq: number): ParsedEvent | null {
  if (!Array.isArray(e) || !isTime(e[0])) return null;
  if (kind === 'metric') {
    const value = scoreOf(e[3]);
    if (e.length !== 4 || !isName(e[1]) || !isName(e[2]) || value === undefined) return null;
    // "node-6.shippingservice-1": pod names hold no dot, node names may.
    const dot = e[1].lastIndexOf('.');
    const pod = dot >= 0 ? e[1].slice(dot + 1) : e[1];
    if (!pod) return null;
    return { kind, ev: { time: e[0], pod, name: e[2], value, c }, ...(dot > 0 ? { node: e[1].slice(0, dot) } : {}) };
  }
  if (kind === 'log') {
    if (e.length !== 3 || !isName(e[1]) || !(isName(e[2]) || typeof e[2] === 'number')) return null;
    return { kind, ev: { time: e[0], pod: e[1], template: String(e[2]), c } };
  }
  const score = scoreOf(e[3]);
  if (e.length !== 4 || !isName(e[1]) || !isName(e[2]) || score === undefined) return null;
  return { kind, ev: { time: e[0], caller: e[1], callee: e[2], score, c, seq } };
}

function pushSpans(out: Span[], e: TraceEv, caseId: string, svc: (pod: string) => string): void {
  const traceId = `${caseId}#${e.seq}`;
  const operation = `${e.caller}->${e.callee}`;
  const self = e.caller === e.callee;
  if (!self) {
    out.push({
      traceId,
      spanId: '1',
      entity: e.caller,
      service: svc(e.caller),
      operation,
      start: e.time,
      duration: 0,
      status: 'unset',
      attributes: { callee: e.callee, synthetic: true, case: caseId },
    });
  }
  out.push({
    traceId,
    spanId: '2',
    ...(self ? {} : { parentId: '1' }),
    entity: e.callee,
    service: svc(e.callee),
    operation,
    start: e.time,
    duration: 0,
    status: 'unset',
    attributes: { caller: e.caller, score: e.score, case: caseId },
  });
}

function toLog(e: LogEv, caseId: string, svc: (pod: string) => string): LogRecord {
  return {
    time: e.time,
    entity: e.pod,
    service: svc(e.pod),
    severity: 'unknown',
    body: e.template,
    attributes: { templateId: e.template, case: caseId },
  };
}

/** Metric events [a, b) (time-sorted) as one series chunk per (pod, KPI). */
function toSeries(evs: readonly MetricEv[], a: number, b: number): MetricSeries[] {
  const groups = new Map<string, MetricEv[]>();
  for (let i = a; i < b; i++) {
    const e = evs[i];
    const k = e.pod + '\u0000' + e.name;
    const g = groups.get(k);
    if (g) g.push(e);
    else groups.set(k, [e]);
  }
  const out: MetricSeries[] = [];
  for (const g of groups.values()) {
    const times = new Float64Array(g.length);
    const values = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) (times[i] = g[i].time), (values[i] = g[i].value);
    out.push({ entity: g[0].pod, name: g[0].name, unit: '1', times, values });
  }
  return out;
}

/** Index range [a, b) of time-sorted events inside `range`. */
function bounds(evs: readonly { time: number }[], range?: TimeRange): [number, number] {
  if (!range) return [0, evs.length];
  const lower = (t: number) => {
    let lo = 0;
    let hi = evs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (evs[mid].time < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  return [lower(range.start), lower(range.end)];
}

function crossFailureOverlaps(cases: readonly DatasetCase[]): number {
  const s = [...cases].sort((a, b) => a.start - b.start);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    for (let j = i + 1; j < s.length && s[j].start < s[i].end; j++) if (s[j].group !== s[i].group) n++;
  }
  return n;
}

async function readCsvRows(
  path: string,
  file: string,
  columns: readonly string[],
  problems: ProblemLog,
  each: (f: string[], line: number, col: (name: string) => string) => void,
  labelIssues?: string[],
): Promise<void> {
  let header: string[] | null = null;
  let idx: number[] = [];
  const fields: string[] = [];
  // A damaged file (truncated gzip, ...) keeps the rows before the damage and is reported.
  // Both CSVs read here are label files: their damage is also a label issue (Dataset.labelIssues).
  const onError = (d: { linesRead: number; bytesRead: number; reason: string }) => {
    const what = `damaged file: ${d.reason} after ${d.linesRead} line(s) (${d.bytesRead} bytes); the lines before it were kept`;
    problems.add(file, d.linesRead, what, 'damaged-file');
    labelIssues?.push(`${file}: ${what}, the rest of its labels are lost`);
  };
  for await (const { lines, firstLine } of lineBatches(path, { onError })) {
    for (let k = 0; k < lines.length; k++) {
      const line = firstLine + k;
      const text = lines[k];
      if (!header) {
        header = splitCsvLine(text.replace(/^\uFEFF/, ''))?.map((h) => h.trim()) ?? [];
        idx = headerIndex(header, columns);
        continue;
      }
      if (text.trim() === '') continue;
      const f = splitCsvLine(text, fields);
      if (!f) {
        problems.add(file, line, 'malformed CSV line (unbalanced quotes); skipped', 'malformed-record');
        continue;
      }
      if (f.length !== header.length) {
        problems.add(file, line, `expected ${header.length} fields, found ${f.length}; skipped`, 'malformed-record');
        continue;
      }
      each(f, line, (name) => {
        const i = idx[columns.indexOf(name)];
        return i >= 0 ? f[i].trim() : '';
      });
    }
  }
}

async function readCaseCsv(files: Aiops22Files, problems: ProblemLog, labelIssues: string[]): Promise<CaseRow[]> {
  const file = files.caseCsv;
  const rows: CaseRow[] = [];
  const firstLine = new Map<string, number>();
  await readCsvRows(join(files.root, file), file, ['index', 'level', 'instance', 'anomaly_type', 'data_type', 'service'], problems, (_f, line, col) => {
    const id = col('index');
    const ix = parseCaseIndex(id);
    if (!ix) return problems.add(file, line, `index "${id}" is not <cloudbed>_<failure>_<window>; skipped`);
    const instance = col('instance');
    const typeOriginal = col('anomaly_type');
    if (!instance || !typeOriginal) return problems.add(file, line, `case ${id}: empty instance or anomaly_type; skipped`);
    const prev = firstLine.get(id);
    if (prev !== undefined) return problems.add(file, line, `duplicate case ${id} (first on line ${prev}); skipped`);
    firstLine.set(id, line);
    const dt = col('data_type');
    const split = dt === 'train' || dt === 'test' ? dt : undefined;
    if (!split) problems.add(file, line, `case ${id}: data_type "${dt}" is neither train nor test; kept without a split`);
    const service = col('service');
    rows.push({ id, line, group: ix.group, window: ix.window, level: col('level'), instance, typeOriginal, ...(split ? { split } : {}), ...(service ? { service } : {}) });
  }, labelIssues);
  return rows;
}

async function readRawLabels(files: Aiops22Files, problems: ProblemLog, labelIssues: string[]): Promise<Map<string, RawRow>> {
  const file = files.rawLabelCsv ?? '';
  const out = new Map<string, RawRow>();
  await readCsvRows(join(files.root, file), file, ['timestamp', 'level', 'cmdb_id', 'failure_type', 'index'], problems, (_f, line, col) => {
    const id = col('index');
    const ts = Number(col('timestamp'));
    const pod = col('cmdb_id');
    const typeOriginal = col('failure_type');
    if (!/^\d+_\d+$/.test(id)) return problems.add(file, line, `index "${id}" is not <cloudbed>_<failure>; skipped`);
    if (!col('timestamp') || !Number.isFinite(ts)) return problems.add(file, line, `timestamp "${col('timestamp')}" is not epoch seconds; skipped`);
    if (!pod || !typeOriginal) return problems.add(file, line, `failure ${id}: empty cmdb_id or failure_type; skipped`);
    if (out.has(id)) return problems.add(file, line, `duplicate failure ${id} (first on line ${out.get(id)?.line}); skipped`);
    out.set(id, { id, line, time: ts * 1000, level: col('level'), pod, typeOriginal });
  }, labelIssues);
  return out;
}

/** Why a JSON file could not be read: damaged on disk (gzip) or not JSON. */
function jsonFailure(e: unknown): string {
  return e instanceof ReadError ? `damaged file: ${e.damage.reason}` : `not valid JSON (${(e as Error).message})`;
}

async function readJsonObject(path: string, file: string, problems: ProblemLog): Promise<Record<string, unknown> | null> {
  let v: unknown;
  try {
    v = JSON.parse(await readText(path));
  } catch (e) {
    problems.add(file, 0, `${jsonFailure(e)}; no events read from it`, e instanceof ReadError ? 'damaged-file' : 'unreadable-file');
    return null;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    problems.add(file, 0, 'expected a JSON object keyed by case index; no events read from it', 'unreadable-file');
    return null;
  }
  return v as Record<string, unknown>;
}

async function readNodes(files: Aiops22Files, problems: ProblemLog): Promise<string[] | undefined> {
  const file = files.nodes ?? '';
  let v: unknown;
  try {
    v = JSON.parse(await readText(join(files.root, file)));
  } catch (e) {
    problems.add(file, 0, `${jsonFailure(e)}; pods taken from the events`, e instanceof ReadError ? 'damaged-file' : 'unreadable-file');
    return undefined;
  }
  if (!Array.isArray(v) || !v.every(isName)) {
    problems.add(file, 0, 'expected a JSON list of pod names; pods taken from the events', 'unreadable-file');
    return undefined;
  }
  const dup = v.length - new Set(v).size;
  if (dup) problems.add(file, 0, `${dup} duplicate pod name(s)`);
  return v;
}

async function readEdges(files: Aiops22Files, pods: readonly string[], problems: ProblemLog): Promise<[string, string][]> {
  const file = files.edges ?? '';
  let v: unknown;
  try {
    v = JSON.parse(await readText(join(files.root, file)));
  } catch (e) {
    problems.add(file, 0, `${jsonFailure(e)}; no stated edges`, e instanceof ReadError ? 'damaged-file' : 'unreadable-file');
    return [];
  }
  const o = v as { src?: unknown; dst?: unknown } | null;
  if (!o || typeof o !== 'object' || !Array.isArray(o.src) || !Array.isArray(o.dst)) {
    problems.add(file, 0, 'expected {"src": [...], "dst": [...]} (indices into nodes.json); no stated edges', 'unreadable-file');
    return [];
  }
  if (o.src.length !== o.dst.length) problems.add(file, 0, `src has ${o.src.length} entries but dst ${o.dst.length}; extra entries ignored`);
  const out: [string, string][] = [];
  const have = new Set<string>();
  const n = Math.min(o.src.length, o.dst.length);
  for (let i = 0; i < n; i++) {
    const a = o.src[i];
    const b = o.dst[i];
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0 || a >= pods.length || b >= pods.length) {
      problems.add(file, 0, `edge #${i}: ${String(a)} → ${String(b)} is not a pair of indices into ${basename(files.nodes ?? 'nodes.json')}; skipped`);
      continue;
    }
    const k = a + '>' + b;
    if (have.has(k)) {
      problems.add(file, 0, `edge #${i}: duplicate ${pods[a]} → ${pods[b]}; skipped`);
      continue;
    }
    have.add(k);
    out.push([pods[a], pods[b]]);
  }
  return out;
}
