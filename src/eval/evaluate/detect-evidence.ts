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
 * The evidence features detection reads, each with the modalities it needs: the deviations only
 * (counts of calls, spans and records say how busy a service is, which raw features carry).
 */
export const DETECTION_EVIDENCE: readonly { name: string; needs: readonly Modality[] }[] = [
  { name: 'edge_in_dev_median', needs: ['traces'] },
  { name: 'edge_in_dev_max', needs: ['traces'] },
  { name: 'edge_in_new_log', needs: ['traces'] },
  { name: 'edge_out_dev_median', needs: ['traces'] },
  { name: 'self_dev_max', needs: ['traces'] },
  { name: 'self_dev_median', needs: ['traces'] },
  { name: 'logt_t_max', needs: ['traces', 'logs'] },
  { name: 'logt_t_min', needs: ['traces', 'logs'] },
  { name: 'logt_vanished_log', needs: ['traces', 'logs'] },
  { name: 'logt_appeared_log', needs: ['traces', 'logs'] },
  { name: 'lograte_z_max', needs: ['logs'] },
  { name: 'lograte_z_min', needs: ['logs'] },
  { name: 'res_own_z_max', needs: ['metrics'] },
  { name: 'res_cpu_own_z', needs: ['metrics'] },
  { name: 'res_mem_own_z', needs: ['metrics'] },
  { name: 'res_global_z_max', needs: ['metrics'] },
  { name: 'res_cpu_global_z', needs: ['metrics'] },
];

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

/**
 * One row per window: service × feature (services in name order, the services any window's
 * evidence names), NaN where a service has no value; undefined for a window without evidence
 * or with no kept feature.
 */
export function evidenceDetectionRows(windows: readonly EncodedWindow[], evidenceOf: (w: EncodedWindow) => readonly EvidenceRecord[] | undefined, mask: readonly Modality[]): (Float64Array | undefined)[] {
  const names = detectionEvidenceFeatures(mask);
  const at = names.map((n) => EVIDENCE_FEATURES.indexOf(n));
  if (at.some((j) => j < 0)) throw new Error(`evidenceDetectionRows: unknown evidence feature ${names[at.indexOf(-1)]}`);
  const services = new Set<string>();
  for (const w of windows) for (const r of evidenceOf(w) ?? []) if (r.pod === undefined) services.add(r.entity);
  const col = new Map([...services].sort().map((s, i) => [s, i * names.length]));
  const width = col.size * names.length;
  if (width === 0) return windows.map(() => undefined);
  return windows.map((w) => {
    const recs = evidenceOf(w);
    if (!recs || recs.length === 0) return undefined;
    const out = new Float64Array(width).fill(NaN);
    let any = false;
    for (const r of recs) {
      if (r.pod !== undefined) continue;
      const base = col.get(r.entity) as number;
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
