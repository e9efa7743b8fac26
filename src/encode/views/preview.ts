import type { Dataset, Modality } from '../../telemetry/index.js';
import { windowStream, type Window, type WindowLabel, type WindowSpec } from '../../windows/index.js';
import { ViewBuilder, type ModalityViews, type ViewBuilderOptions, type WindowViews } from './builder.js';
import { SYSTEM } from './traces.js';

/** Entity column value of whole-system rows (and of system views in previews): the views' own scope name. */
export const SYSTEM_ENTITY = SYSTEM;

/**
 * Service of each entity the dataset declares (a pod's `service`, else the entity itself), for
 * `ViewBuilderOptions.serviceOf`.
 */
export function datasetServiceOf(ds: Dataset): (entity: string) => string {
  const map = new Map<string, string>();
  for (const e of ds.entities) map.set(e.id, e.service || e.id);
  return (entity) => map.get(entity) ?? entity;
}

export interface ViewText {
  /** SYSTEM_ENTITY or a service */
  entity: string;
  modality: Modality;
  text: string;
}

/** The texts of a window's views: the system first, then services in name order; metrics, traces, logs. */
export function viewTexts(v: WindowViews): ViewText[] {
  const out: ViewText[] = [];
  const push = (entity: string, mv: ModalityViews) => {
    if (mv.metrics) out.push({ entity, modality: 'metrics', text: mv.metrics.text });
    if (mv.traces) out.push({ entity, modality: 'traces', text: mv.traces.text });
    if (mv.logs) out.push({ entity, modality: 'logs', text: mv.logs.text });
  };
  push(SYSTEM_ENTITY, v.system);
  for (const [e, mv] of v.entities) push(e, mv);
  return out;
}

export interface PreviewWindow {
  window: Window;
  label: WindowLabel;
  texts: ViewText[];
}

export interface PreviewOptions extends ViewBuilderOptions {
  /** Windows whose data the baselines learn from (default all; labels are never used). */
  fitFilter?: (w: Window) => boolean;
  /** Keep only windows with at least one view (default true): a timeline's empty nights say nothing. */
  skipEmpty?: boolean;
}

/**
 * The view texts of the first `n` windows, for `runtimeslicer encode --show-text`: baselines
 * are fitted as `encode` fits them (a full pass), then windows are transformed until `n` are had.
 */
export async function previewViews(ds: Dataset, spec: WindowSpec, n: number, opts: PreviewOptions = {}): Promise<PreviewWindow[]> {
  const builder = new ViewBuilder({ serviceOf: datasetServiceOf(ds), ...opts });
  await builder.fit(windowStream(ds, spec), opts.fitFilter);
  const out: PreviewWindow[] = [];
  if (n <= 0) return out;
  const skipEmpty = opts.skipEmpty ?? true;
  const it = windowStream(ds, spec);
  for await (const slice of it) {
    const v = builder.transform(slice);
    const texts = viewTexts(v);
    if (skipEmpty && texts.length === 0) continue;
    out.push({ window: v.window, label: v.label, texts });
    if (out.length >= n) break;
  }
  return out;
}

/** A preview as plain text, one block per view, for a terminal. */
export function formatPreview(windows: readonly PreviewWindow[]): string {
  const parts: string[] = [];
  for (const p of windows) {
    const when = `${new Date(p.window.start).toISOString()} – ${new Date(p.window.end).toISOString()}`;
    const lab = p.label.abnormal ? ` abnormal (${p.label.type ?? '?'} at ${p.label.rootCause ?? '?'})` : '';
    parts.push(`=== window ${p.window.index} ${when}${p.window.caseId ? ` case ${p.window.caseId}` : ''}${lab}`);
    for (const t of p.texts) parts.push(`--- ${t.entity} / ${t.modality}\n${t.text}`);
  }
  return parts.join('\n') + '\n';
}
