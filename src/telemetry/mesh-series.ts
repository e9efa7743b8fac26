/**
 * Per-edge latency series, as service meshes export them and as readers name them. One shared
 * vocabulary for the readers that produce such series (OTLP data points, the Nezha export's
 * edge-latency tables), the simulator that writes them and the evidence family that reads them
 * (src/encode/evidence/mesh-edges.ts).
 */

/**
 * How per-edge latency metrics are recognised. A service mesh (Istio, Linkerd) exports request
 * latency per (source, destination) pair twice: measured by the caller's proxy and by the
 * callee's. Readers name a series with data-point attributes `metric{k=v,...}` (OTLP), so an
 * edge series is one whose name says latency/duration and whose attributes name both ends and
 * the side that measured it:
 * - side: `reporter=source|destination` (Istio) or `direction=outbound|inbound` (Linkerd);
 * - ends: `source_workload`, `source_canonical_service`, `source_service`, `src_deployment`,
 *   `src_service` and the `destination_…`/`dst_…` counterparts (a workload is taken as the
 *   service of that name);
 * - percentile: a `p50`/`p90`/`p95`/`p99` suffix of the metric name or a `quantile`
 *   attribute; the lowest one both sides export is used (the bulk of calls, as the trace
 *   edge-gap family uses the median gap).
 */
export const MESH_LATENCY_NAME = /latency|duration/i;
const SOURCE_KEYS = ['source_workload', 'source_canonical_service', 'source_service', 'src_deployment', 'src_service'];
const DEST_KEYS = ['destination_workload', 'destination_canonical_service', 'destination_service_name', 'destination_service', 'dst_deployment', 'dst_service'];

export interface MeshSeries {
  source: string;
  destination: string;
  /** measured by the caller's side */
  callerSide: boolean;
  /** percentile, 0–100 */
  percentile: number;
}

const parsed = new Map<string, MeshSeries | null>();

/**
 * Milliseconds per unit of a latency series (UCUM as OTLP writes it: `s`, `ms`, `us`; also
 * `seconds`). Without a unit, a Prometheus-style name says it (`…_seconds`, `…_milliseconds`);
 * otherwise ms, the unit of the mesh series the simulator and the Nezha reader write.
 */
export function msPerUnit(unit: string | undefined, name = ''): number {
  const u = (unit ?? '').trim().toLowerCase();
  if (u === '') {
    const base = name.split('{')[0];
    if (/_seconds(?:$|[._])/.test(base)) return 1000;
    if (/_microseconds(?:$|[._])/.test(base)) return 0.001;
    return 1;
  }
  switch (u) {
    case 's':
    case 'sec':
    case 'second':
    case 'seconds':
      return 1000;
    case 'us':
    case 'µs':
    case 'microseconds':
      return 0.001;
    case 'ns':
    case 'nanoseconds':
      return 1e-6;
    default:
      return 1;
  }
}

/** The edge a series name describes, or null when it is not a per-edge latency series. */
export function parseMeshSeries(name: string): MeshSeries | null {
  const hit = parsed.get(name);
  if (hit !== undefined) return hit;
  const out = parse(name);
  parsed.set(name, out);
  return out;
}

/**
 * The OpenTelemetry Collector's service graph connector (and Grafana Tempo's processor, whose
 * names it took): per (client, server) pair, histograms of the client span's duration
 * (`traces_service_graph_request_client`, `…_client_seconds` once scraped) and the server span's
 * (`…_server`); the OTLP reader turns a histogram into `.count`, `.sum` and `.mean` per window,
 * and the mean is what is compared — the difference of the two means is the mean edge gap.
 */
const SERVICE_GRAPH = /(?:^|[._])service_graph_request_(client|server)(?:_seconds|_milliseconds)?\.mean$/;

function parse(name: string): MeshSeries | null {
  const m = /^([^{}]+)\{([^{}]*)\}$/.exec(name);
  if (!m) return null;
  const graph = SERVICE_GRAPH.exec(m[1]);
  if (!graph && !MESH_LATENCY_NAME.test(m[1])) return null;
  const attrs = new Map<string, string>();
  for (const part of m[2].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) attrs.set(part.slice(0, eq), part.slice(eq + 1));
  }
  if (graph) {
    const source = attrs.get('client');
    const destination = attrs.get('server');
    if (!source || !destination || source === destination) return null;
    return { source, destination, callerSide: graph[1] === 'client', percentile: 50 };
  }
  const side = attrs.get('reporter') ?? attrs.get('direction');
  const callerSide = side === 'source' || side === 'outbound' ? true : side === 'destination' || side === 'inbound' ? false : undefined;
  const source = SOURCE_KEYS.map((k) => attrs.get(k)).find((v) => v && v !== 'unknown');
  const destination = DEST_KEYS.map((k) => attrs.get(k)).find((v) => v && v !== 'unknown');
  if (callerSide === undefined || !source || !destination || source === destination) return null;
  const q = attrs.get('quantile');
  const suffix = /[._]p(\d{2,3})$/i.exec(m[1]);
  const percentile = q !== undefined ? Number(q) * (Number(q) <= 1 ? 100 : 1) : suffix ? Number(suffix[1]) : 50;
  if (!Number.isFinite(percentile)) return null;
  return { source, destination, callerSide, percentile };
}


/** The metric name of the per-edge latency series this project writes (simulator) and reads into (Nezha tables). */
export const MESH_REQUEST_DURATION = 'mesh.request.duration';

/**
 * The name a reader gives a per-edge latency series: `metric{destination_workload=…,
 * reporter=source|destination,source_workload=…}`, attributes in key order as the OTLP reader
 * writes data-point attributes; `metric` should end in `.p<percentile>`.
 */
export function meshSeriesName(metric: string, source: string, destination: string, callerSide: boolean): string {
  return `${metric}{destination_workload=${destination},reporter=${callerSide ? 'source' : 'destination'},source_workload=${source}}`;
}
