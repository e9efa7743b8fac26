/**
 * Evidence rows for detection (docs/tasks.md, "Detection on the evidence"): per window, each
 * service's evidence features — edge gaps into and out of it, self time, log templates per span,
 * log rates, resources against each pod's own history and the global baseline — in one fixed
 * layout (service × feature), for the tuned detectors to calibrate per column.
 *
 * The values come from `encode` (src/encode/views/evidence.ts), whose references are fitted over
 * every window of the dataset without reading a label (`ViewBuilder` never sees one; resources
 * are judged against each pod's own preceding 30 min). So no fold's label reaches them; the
 * detectors then fit their baselines and thresholds on training-fold normal windows only, as on
 * raw features.
 *
 * Why per service and not the max over services: each column's own normal tail is what the
 * robust-z detector divides by, and services differ (a busy service's edge deviations swing more
 * than a quiet one's); the max over services before calibration lets the noisiest service set
 * every window's score. Pod rows are left out: pods come and go with redeploys, services stay.
 */
import { EVIDENCE_FEATURES, type EvidenceRecord } from '../../encode/index.js';
import type { Modality } from '../../telemetry/index.js';
import type { EncodedWindow } from '../../model/index.js';

/**
 * Which evidence features detection reads: a rule over EVIDENCE_FEATURES' names, so a family
 * that adds columns flows in without an edit here. Read: every deviation. Left out: volumes (how
 * busy a service is — counts of calls, edges, spans, records and metric series, `*_<what>_log`),
 * which the raw features carry and which swing with load, not faults; and levels (`*_logms`,
 * a service's typical gap or self time in ln ms), which say what the service is, not how far it
 * is from its reference. Counts of new, vanished or appeared things (`edge_in_new_log`,
 * `logt_vanished_log`) are deviations and stay.
 */
export const DETECTION_EVIDENCE_EXCLUDED = /(_(calls|edges|spans|records|metrics)_log|_logms)$/;

/**
 * The modalities a feature needs, by its family's prefix. A prefix not listed needs traces and
 * logs: it is read only when no modality is masked, never on a guess about its source.
 */
const NEEDS_BY_PREFIX: readonly [string, readonly Modality[]][] = [
  ['edge_', ['traces']],
  ['self_', ['traces']],
  ['out_', ['traces']],
  ['struct_', ['traces']],
  ['mesh_', ['traces']],
  ['logt_', ['traces', 'logs']],
  ['lograte_', ['logs']],
  ['res_', ['metrics']],
];

export function evidenceFeatureNeeds(name: string): readonly Modality[] {
  return NEEDS_BY_PREFIX.find(([p]) => name.startsWith(p))?.[1] ?? ['traces', 'logs'];
}

/** The evidence features detection reads (`DETECTION_EVIDENCE_EXCLUDED`), each with the modalities it needs. */
export const DETECTION_EVIDENCE: readonly { name: string; needs: readonly Modality[] }[] = EVIDENCE_FEATURES.filter((n) => !DETECTION_EVIDENCE_EXCLUDED.test(n)).map((name) => ({ name, needs: evidenceFeatureNeeds(name) }));

/**
 * Whether a detection set gets evidence rows: only when it keeps traces or logs. With both masked
 * (metrics-only) the evidence is the five resource features of the same metric series the raw
 * features read; offered as candidates there they lost (Nezha metrics-only event-F1 0.696 → 0.652,
 * simulator chain seed 7 0.545 → 0.522: the inner CV picked them in a fold where they then did
 * worse), so that experiment was reverted (docs/tasks.md, measured on the evaluation data).
 */
export function evidenceDetects(mask: readonly Modality[]): boolean {
  return !mask.includes('traces') || !mask.includes('logs');
}

/** The features of `DETECTION_EVIDENCE` whose modalities are all outside `mask`. */
export function detectionEvidenceFeatures(mask: readonly Modality[]): string[] {
  return DETECTION_EVIDENCE.filter((f) => f.needs.every((m) => !mask.includes(m))).map((f) => f.name);
}

/** The columns of evidence rows: `services` × `features`, service-major. */
export interface EvidenceDetectionLayout {
  services: string[];
  features: string[];
}

/** The layout over some windows: the services any window's evidence names (in name order) × the features `mask` keeps. */
export function evidenceDetectionLayout(windows: readonly EncodedWindow[], evidenceOf: (w: EncodedWindow) => readonly EvidenceRecord[] | undefined, mask: readonly Modality[]): EvidenceDetectionLayout {
  const services = new Set<string>();
  for (const w of windows) for (const r of evidenceOf(w) ?? []) if (r.pod === undefined) services.add(r.entity);
  return { services: [...services].sort(), features: detectionEvidenceFeatures(mask) };
}

/**
 * One row per window in `layout` (NaN where a service has no value; a service outside the layout
 * is not read); undefined for a window without evidence or with no value in the layout. A
 * feature this runtimeslicer's encode does not write is an error (a layout saved by another
 * version: the caller says what to do).
 */
export function evidenceRowsIn(layout: EvidenceDetectionLayout, windows: readonly EncodedWindow[], evidenceOf: (w: EncodedWindow) => readonly EvidenceRecord[] | undefined): (Float64Array | undefined)[] {
  const names = layout.features;
  const at = names.map((n) => EVIDENCE_FEATURES.indexOf(n));
  if (at.some((j) => j < 0)) throw new Error(`evidence rows: unknown evidence feature ${names[at.indexOf(-1)]}`);
  const col = new Map(layout.services.map((s, i) => [s, i * names.length]));
  const width = col.size * names.length;
  if (width === 0) return windows.map(() => undefined);
  return windows.map((w) => {
    const recs = evidenceOf(w);
    if (!recs || recs.length === 0) return undefined;
    const out = new Float64Array(width).fill(NaN);
    let any = false;
    for (const r of recs) {
      const base = r.pod === undefined ? col.get(r.entity) : undefined;
      if (base === undefined) continue;
      at.forEach((j, k) => {
        const v = r.features[j];
        if (Number.isFinite(v)) {
          out[base + k] = v;
          any = true;
        }
      });
    }
    return any ? out : undefined;
  });
}

/** One row per window in the layout of these windows (`evidenceDetectionLayout`, `evidenceRowsIn`). */
export function evidenceDetectionRows(windows: readonly EncodedWindow[], evidenceOf: (w: EncodedWindow) => readonly EvidenceRecord[] | undefined, mask: readonly Modality[]): (Float64Array | undefined)[] {
  return evidenceRowsIn(evidenceDetectionLayout(windows, evidenceOf, mask), windows, evidenceOf);
}

/** Evidence records by window, collected from `encodeWindows`' `onEvidence` (window index → rows). */
export class EvidenceByWindow {
  private readonly byIndex = new Map<number, EvidenceRecord[]>();
  readonly add = (rows: readonly EvidenceRecord[]): void => {
    for (const r of rows) {
      let l = this.byIndex.get(r.windowIndex);
      if (!l) this.byIndex.set(r.windowIndex, (l = []));
      l.push(r);
    }
  };
  of(w: EncodedWindow): readonly EvidenceRecord[] | undefined {
    return this.byIndex.get(w.window.index);
  }
  get size(): number {
    return this.byIndex.size;
  }
}
