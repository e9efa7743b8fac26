/**
 * The `tuned` columns (issue 12, deliverable 2): the state-aware task models of src/tasks/tuned
 * fitted inside each fold on training folds only, and `tuned-global`, the same without states.
 * Detection: the robust-z max detector or the kNN density, on the raw rows or the evidence rows,
 * with states or not, chosen per fold by an inner cross-validation on the training folds
 * (`tunedDetect`, tuned-detect.ts); classification: per-state
 * prototypes over the window ⊕ the root-cause suspect's view ⊕ what the suspect's evidence
 * says, each dimension weighed by how well it separates the training types, all blocks or the
 * evidence alone as an inner cross-validation chooses (`tunedClassify`, tuned-classify.ts); localization: the evidence localizer's ranking unchanged (the column's own
 * deviation ranking when there is no evidence column). docs/tasks.md.
 *
 * States: k-means (k by silhouette, 2..4) fitted per fold on training rows of the same
 * representation — for detection the training-normal reference windows themselves; for
 * classification the training-fold normal windows with traces and logs masked (the training
 * cases when a protocol has no normal windows, as AIOps 2022).
 */
import type { EncodedWindow } from '../../model/index.js';
import type { Representation } from './represent.js';
import { evenly } from './scoring.js';

/** Training windows the classification states are fitted on per fold. */
export const TUNED_STATE_POOL = 400;

export const tunedName = (rep: Representation, global: boolean) => `${global ? 'tuned-global' : 'tuned'}${rep.name === 'raw-features' ? '' : `:${rep.name}`}`;

/** Representations that get tuned columns: raw features and each model (raw-backbone adds nothing new). */
export const tunedReps = (reps: readonly Representation[]) => reps.filter((r) => r.name !== 'raw-backbone');

// detection lives in tuned-detect.ts; re-exported so callers keep one import
export {
  tunedDetect,
  crossValidateDetectors,
  detectorCandidates,
  candidateName,
  SETTLE_MS,
  referenceCandidates,
  TUNED_DETECTION_REFERENCES,
  type TunedDetection,
  type DetectorCandidate,
  type DetectorFamily,
  type DetectorInput,
  type DetectorRows,
} from './tuned-detect.js';

// classification lives in tuned-classify.ts; re-exported so callers keep one import
export { tunedClassify, correlationRatios, weightedDistance, CLASSIFY_CANDIDATES, type ClassifyBlocks, type TunedClassifyInput, type TunedClassification } from './tuned-classify.js';

/** The label-free pool the classification states come from: training-fold normal windows. */
export function statePoolOf(windows: readonly EncodedWindow[], trainWindow: (i: number) => boolean): EncodedWindow[] {
  const idx = windows.map((w, i) => (trainWindow(i) && !w.label.abnormal ? i : -1)).filter((i) => i >= 0);
  return evenly(idx, TUNED_STATE_POOL).map((i) => windows[i]);
}

/** Time spans of equal consecutive values (windows sorted by start; a span ends where the next window starts). */
export function spansOf<T>(windows: readonly EncodedWindow[], values: readonly (T | undefined)[], keep: (v: T) => boolean): { start: number; end: number; value: T }[] {
  const idx = windows.map((_, i) => i).filter((i) => values[i] !== undefined && keep(values[i] as T)).sort((a, b) => windows[a].window.start - windows[b].window.start);
  const all = windows.map((w) => w.window.start).sort((a, b) => a - b);
  let step = Infinity;
  for (let i = 1; i < all.length; i++) if (all[i] > all[i - 1]) step = Math.min(step, all[i] - all[i - 1]);
  const out: { start: number; end: number; value: T }[] = [];
  for (const i of idx) {
    const w = windows[i].window;
    const end = Number.isFinite(step) ? w.start + step : w.end;
    const last = out[out.length - 1];
    if (last && last.value === values[i] && w.start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start: w.start, end, value: values[i] as T });
  }
  return out;
}
