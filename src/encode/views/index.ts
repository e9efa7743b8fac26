export { ViewBuilder, type View, type ModalityViews, type WindowViews, type ViewBuilderOptions, type ViewBuilderState, type WindowSummary, type ViewFitPass, type ForeignLogs, type ViewInput } from './builder.js';
export { MetricWindows, type MetricParts, type MetricData } from './parts.js';
export {
  VIEWS_FORMAT_VERSION,
  METRIC_FEATURES,
  TRACE_FEATURES,
  LOG_FEATURES,
  FEATURE_LAYOUTS,
  METRIC_CATEGORIES,
  CATEGORY_RULES,
  metricCategory,
  type MetricCategory,
} from './layout.js';
export { previewViews, formatPreview, viewTexts, datasetServiceOf, SYSTEM_ENTITY, type PreviewWindow, type PreviewOptions, type ViewText } from './preview.js';
export { Z_CLIP, SeededRandom, Reservoir, type Baseline, type ScaleFloor } from './stats.js';
export { DEFAULT_TEXT_BUDGET } from './text.js';
export { EVIDENCE_FEATURES, EVIDENCE_VERSION, EVIDENCE_REFERENCE_WINDOWS, type EvidenceRow, type EvidenceWindow, type EvidenceState, type EvidenceReferences } from './evidence.js';
