/**
 * The Vega-Lite specs the plots and the report draw. Data is always inline and times are UTC,
 * so a chart renders the same on any machine, in any time zone.
 */
import type { TopLevelSpec } from 'vega-lite';

const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';
/** Small, readable defaults shared by every chart. */
const CONFIG = { font: 'DejaVu Sans, Helvetica, Arial, sans-serif', view: { stroke: '#ccc' }, axis: { labelFontSize: 11, titleFontSize: 12 }, title: { fontSize: 13 } };

export interface BarDatum {
  /** the bar group along x (a fault type) */
  group: string;
  /** the bar within the group (a method) */
  series: string;
  /** null: not measurable, drawn as an "n/m" label, never as a bar */
  value: number | null;
  n?: number;
}

/**
 * Grouped bars: one group per `group`, one bar per `series`; values in [0, 1] unless `yMax` says
 * otherwise. Values that are not measurable get an "n/m" mark at the foot of their slot.
 */
export function groupedBarSpec(data: readonly BarDatum[], opts: { title: string; yTitle: string; yMax?: number; width?: number }): TopLevelSpec {
  const values = data.map((d) => ({ group: d.group, series: d.series, value: d.value, n: d.n ?? null, shown: d.value === null ? 'n/m' : d.value.toFixed(2) }));
  const x = { field: 'group', type: 'nominal' as const, title: null, axis: { labelAngle: -30, labelLimit: 160 } };
  const xOffset = { field: 'series', type: 'nominal' as const };
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: opts.title,
    width: opts.width ?? Math.max(240, Math.min(900, 24 * values.length)),
    height: 220,
    data: { values },
    layer: [
      {
        transform: [{ filter: 'datum.value !== null' }],
        mark: { type: 'bar' },
        encoding: {
          x,
          xOffset,
          y: { field: 'value', type: 'quantitative', title: opts.yTitle, scale: { domain: [0, opts.yMax ?? 1] } },
          color: { field: 'series', type: 'nominal', title: 'method' },
          tooltip: [{ field: 'group' }, { field: 'series' }, { field: 'shown', title: 'value' }, { field: 'n' }],
        },
      },
      {
        transform: [{ filter: 'datum.value === null' }],
        mark: { type: 'text', angle: 270, align: 'left', dx: 0, dy: 0, fontSize: 9, color: '#666' },
        encoding: { x, xOffset, y: { datum: 0.02 }, text: { value: 'n/m' } },
      },
    ],
  } as TopLevelSpec;
}

export interface ScatterPoint {
  x: number;
  y: number;
  /** the colour class (a k-means state, a fault type) */
  colour: string;
}

export interface ScatterPanel {
  title: string;
  /** a second title line (the silhouette) */
  subtitle?: string;
  points: readonly ScatterPoint[];
  colourTitle: string;
}

function scatter(panel: ScatterPanel, size: number): Record<string, unknown> {
  return {
    title: panel.subtitle ? { text: panel.title, subtitle: panel.subtitle } : panel.title,
    width: size,
    height: size,
    data: { values: panel.points.map((p) => ({ x: round(p.x), y: round(p.y), c: p.colour })) },
    mark: { type: 'circle', size: 14, opacity: 0.75 },
    encoding: {
      x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false, nice: false } },
      y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false, nice: false } },
      color: { field: 'c', type: 'nominal', title: panel.colourTitle, sort: 'ascending' },
    },
  };
}

/** Fewer digits keep the inlined SVG and the spec small; a 2-D layout needs no more. */
function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/**
 * Rows of scatter panels side by side (the paper's Figure 4 shape): each row shares its colour
 * meaning (state, fault type); panels in a row have `sharedColours` legends or one each.
 */
export function scatterGridSpec(rows: readonly { panels: readonly ScatterPanel[]; sharedColours: boolean }[], opts: { title?: string; size?: number } = {}): TopLevelSpec {
  const size = opts.size ?? 260;
  return {
    $schema: SCHEMA,
    config: { ...CONFIG, legend: { symbolLimit: 24, labelLimit: 140 } },
    ...(opts.title ? { title: opts.title } : {}),
    vconcat: rows.map((r) => ({ hconcat: r.panels.map((p) => scatter(p, size)), resolve: { scale: { color: r.sharedColours ? 'shared' : 'independent' } } })),
    resolve: { scale: { color: 'independent' } },
  } as unknown as TopLevelSpec;
}

export interface TimelineSpan {
  /** epoch ms */
  start: number;
  end: number;
  /** the lane: 'state', 'fault', 'alarm: <method>' */
  lane: string;
  /** the colour class within the lane (state id, fault type, alarm) */
  label: string;
  /** tooltip text */
  detail?: string;
}

/**
 * Lanes of time spans on one UTC time axis: runtime states, faults, and each method's alarms.
 * Spans shorter than a pixel are still drawn (a minimum width), so a one-window alarm shows.
 */
export function timelineSpec(spans: readonly TimelineSpan[], opts: { title: string; lanes: readonly string[]; width?: number }): TopLevelSpec {
  const values = spans.map((s) => ({ start: s.start, end: Math.max(s.end, s.start + 1), lane: s.lane, label: s.label, detail: s.detail ?? s.label, when: new Date(s.start).toISOString().slice(0, 19).replace('T', ' ') }));
  return {
    $schema: SCHEMA,
    config: CONFIG,
    title: opts.title,
    width: opts.width ?? 860,
    height: { step: 26 },
    data: { values },
    mark: { type: 'bar', minBandSize: 2 },
    encoding: {
      y: { field: 'lane', type: 'nominal', title: null, sort: [...opts.lanes], scale: { domain: [...opts.lanes] } },
      x: { field: 'start', type: 'temporal', title: 'time (UTC)', scale: { type: 'utc' }, axis: { format: '%m-%d %H:%M', labelAngle: -30 } },
      x2: { field: 'end' },
      color: { field: 'label', type: 'nominal', title: null, legend: { columns: 2, symbolLimit: 30 } },
      tooltip: [{ field: 'lane' }, { field: 'detail' }, { field: 'when', title: 'start (UTC)' }],
    },
  } as TopLevelSpec;
}
