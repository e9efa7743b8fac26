export { renderSvg, renderPng, svgToPng, scopeSvgIds, inlineSvg, PNG_FONT_CANDIDATES, type PngOptions, type TopLevelSpec } from './render.js';
export { groupedBarSpec, scatterGridSpec, timelineSpec, type BarDatum, type ScatterPoint, type ScatterPanel, type TimelineSpan } from './charts.js';
export { project2d, PROJECTION_METHODS, type ProjectionMethod, type ProjectOptions } from './project.js';
export {
  embeddingPlot,
  sampleWindows,
  faultClass,
  formatMeasure,
  DEFAULT_MAX_POINTS,
  STATE_K_RANGE,
  type EmbeddingPlot,
  type EmbeddingPlotOptions,
  type EmbeddingSpace,
} from './embedding.js';
export { writeFileAtomic } from './write.js';
