/**
 * Fixed numeric layouts of the three views. They depend on nothing in the data (no metric
 * names, no service count), so one model trains on any mix of sources. docs/views.md describes
 * every entry; change both together and bump VIEWS_FORMAT_VERSION.
 *
 * Conventions: `*_log` = ln(1 + x); `*_z` = signed log of a clipped robust z,
 * sign(z)·ln(1 + |z|); `*_absz` = ln(1 + |z|); shares are in [0, 1]. A statistic that cannot be
 * computed (no baseline yet, nothing to average) is 0.
 */

export const VIEWS_FORMAT_VERSION = 1;

/**
 * Metric categories, assigned from the metric name (lower-cased) by the first rule that
 * matches, in this order. Names that match none are `other`.
 */
export const METRIC_CATEGORIES = ['errors', 'latency', 'cpu', 'memory', 'network', 'io', 'traffic', 'other'] as const;
export type MetricCategory = (typeof METRIC_CATEGORIES)[number];

export const CATEGORY_RULES: readonly (readonly [MetricCategory, RegExp])[] = [
  ['errors', /error|fail|exception|fault|success|5xx|4xx|reject|timeout|retr(y|ies)|drop|restart|oom|kill/],
  ['latency', /latency|duration|response.?time|resp.?time|delay|elapsed|wait|rtt|p(50|75|90|95|99|999)\b|p(50|75|90|95|99)[^0-9]|seconds_(bucket|sum)/],
  ['cpu', /cpu|processor|load.?avg|loadavg|throttl/],
  ['memory', /mem|heap|rss|swap|gc_|garbage|page.?fault|cache_bytes/],
  ['network', /net|receive|transmit|recv|sent|packet|tcp|udp|socket|bandwidth|conn/],
  ['io', /disk|\bio\b|_io|io_|fs_|fs\b|filesystem|(?<!th)read|write|syscall|iops|blkio|inode|storage|volume/],
  ['traffic', /workload|request|qps|rps|tps|throughput|ops|calls|count|traffic|hits|rate|total|invocation/],
];

const categoryCache = new Map<string, MetricCategory>();

export function metricCategory(name: string): MetricCategory {
  let c = categoryCache.get(name);
  if (c !== undefined) return c;
  const lower = name.toLowerCase();
  c = 'other';
  for (const [cat, re] of CATEGORY_RULES) {
    if (re.test(lower)) {
      c = cat;
      break;
    }
  }
  if (categoryCache.size > 10_000) categoryCache.clear();
  categoryCache.set(name, c);
  return c;
}

export const METRIC_FEATURES: readonly string[] = [
  'series_log',
  'missing_share',
  'new_series_share',
  'absent_series_share',
  'absz_mean',
  'absz_p50',
  'absz_p90',
  'absz_max',
  'share_absz_gt3',
  'share_absz_gt6',
  'z_mean',
  'peak_absz_max',
  'trend_absz_mean',
  'trend_absz_max',
  'share_trend_gt3',
  ...METRIC_CATEGORIES.flatMap((c) => [`${c}_share`, `${c}_absz_max`, `${c}_z_mean`]),
];

export const TRACE_FEATURES: readonly string[] = [
  'span_count_log',
  'trace_count_log',
  'span_rate_z',
  'edges_log',
  'new_edge_share',
  'absent_edges_log',
  'absent_edge_share',
  'error_share',
  'error_share_z',
  'duration_p50_logms',
  'duration_p90_logms',
  'duration_p99_logms',
  'duration_p50_z',
  'duration_p90_z',
  'duration_p99_z',
  'edge_latency_absz_max',
  'edge_latency_z_mean',
  'edge_latency_share_gt3',
  'edge_rate_absz_max',
  'edge_rate_z_mean',
  'edge_error_absz_max',
  'edge_deviant_share',
];

export const LOG_FEATURES: readonly string[] = [
  'record_count_log',
  'record_rate_z',
  'templates_log',
  'new_template_record_share',
  'new_templates_log',
  'rare_template_record_share',
  'error_share',
  'warn_share',
  'error_count_log',
  'error_rate_z',
  'warn_rate_z',
  'template_divergence',
  'template_entropy',
  'top_template_share',
  'template_absz_max',
  'template_share_absz_gt3',
  'absent_template_mass',
];

export const FEATURE_LAYOUTS = {
  metrics: METRIC_FEATURES,
  traces: TRACE_FEATURES,
  logs: LOG_FEATURES,
} as const;

/** name → index, for code that fills a vector */
export function indexOf(layout: readonly string[]): Record<string, number> {
  return Object.fromEntries(layout.map((n, i) => [n, i]));
}
