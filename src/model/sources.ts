/**
 * The training data of several `--data` sources at once: each a telemetry folder (encoded in
 * memory through the encode stage) or an `encode` output file (vectors read, not embedded
 * again), all with one backbone and this version's feature layouts. Library logic behind
 * `runtimeslicer train`; the CLI only adds progress bars and warnings through the hooks.
 */
import { existsSync, statSync } from 'node:fs';
import type { Backbone, EmbeddingCache, EncodeProgress } from '../encode/index.js';
import { loadDataset } from '../sources/index.js';
import { UserError, type Dataset } from '../telemetry/index.js';
import { trainingWindowFilter, type Exclusions, type WindowSpec } from '../windows/index.js';
import { currentFeatureLayouts, encodeWindows, readEncodedWindows, type EncodedWindow } from './data.js';
import { MODALITIES } from './model.js';

export interface TrainingSourceInfo {
  /** The folder's root (or the encode file's path). */
  path: string;
  /** Windows this source contributed, in order, to `windows`. */
  windows: number;
  /** The dataset format, or 'encoded' for an encode output file. */
  format: string;
}

export interface LoadTrainingSourcesOptions {
  backbone: Backbone;
  cache?: EmbeddingCache;
  spec: WindowSpec;
  /** Active period of a Nezha fault, ms. */
  faultDuration: number;
  /** Windows kept out of the views' baselines (and, later, of training). */
  exclude?: Exclusions;
  /** Case-based sources: only this split's cases feed the views' baselines. */
  trainSplit?: 'train' | 'test';
  /** Per-service inputs besides the system's. Default false. */
  entities?: boolean;
  /** Opens a folder (default `loadDataset`); the CLI passes one that warns about unreadable labels. */
  open?: (path: string, faultDurationMs: number) => Promise<Dataset>;
  /** Called after each folder is read (e.g. to report its data problems). */
  onDataset?: (ds: Dataset, path: string) => void;
  /** Progress of one folder's encoding; `stop` is called when it ends. */
  progress?: (path: string) => { onProgress: (p: EncodeProgress) => void; stop: () => void };
}

/** Whether `path` names an encode output (.arrow/.feather/.ipc file) rather than a telemetry folder. */
export function isEncodedPath(path: string): boolean {
  return /\.(arrow|feather|ipc)$/i.test(path) && existsSync(path) && statSync(path).isFile();
}

/** Encodes (or reads) every source with one backbone; windows carry their source. */
export async function loadTrainingSources(paths: readonly string[], o: LoadTrainingSourcesOptions): Promise<{ windows: EncodedWindow[]; sources: TrainingSourceInfo[] }> {
  const open = o.open ?? ((path: string, faultDurationMs: number) => loadDataset(path, { faultDurationMs }));
  const windows: EncodedWindow[] = [];
  const sources: TrainingSourceInfo[] = [];
  for (const path of paths) {
    if (isEncodedPath(path)) {
      const r = await readEncodedWindows(path, { entities: o.entities });
      const { viewsVersion, layouts } = currentFeatureLayouts();
      if (r.info.backboneId !== o.backbone.id) throw new UserError(`${path} was encoded with backbone ${r.info.backboneId}, not ${o.backbone.id} (--backbone): every source must use one backbone`);
      if (r.info.viewsVersion !== viewsVersion) throw new UserError(`${path} has views format version ${r.info.viewsVersion}, this RuntimeSlicer writes ${viewsVersion}: re-encode it`);
      for (const m of MODALITIES) {
        if (JSON.stringify(r.info.featureLayouts[m]) !== JSON.stringify(layouts[m])) throw new UserError(`${path}: its ${m} feature layout differs from this RuntimeSlicer's: re-encode it`);
      }
      const root = r.info.dataset?.root;
      if (r.windows.some((w) => w.caseId !== undefined) && root && existsSync(root)) {
        // The file has no case splits or groups: take them from the folder it was encoded from.
        const cases = new Map((await open(root, o.faultDuration)).cases?.map((c) => [c.id, c]));
        for (const w of r.windows) {
          const c = w.caseId !== undefined ? cases.get(w.caseId) : undefined;
          if (c?.split) w.split = c.split;
          if (c?.group) w.group = c.group;
        }
      } else if (o.trainSplit && r.windows.some((w) => w.caseId !== undefined)) {
        throw new UserError(`${path}: --train-split needs the cases' splits, but the folder it was encoded from (${root ?? 'unrecorded'}) is not there; pass the folder instead`);
      }
      for (const w of r.windows) windows.push(w);
      sources.push({ path, windows: r.windows.length, format: 'encoded' });
      continue;
    }
    const ds = await open(path, o.faultDuration);
    const splitOf = new Map(ds.cases?.map((c) => [c.id, c.split]));
    const progress = o.progress?.(path);
    try {
      const ws = await encodeWindows(ds, {
        spec: o.spec,
        backbone: o.backbone,
        cache: o.cache,
        entities: o.entities,
        // the views' baselines learn from training windows only
        fitFilter: trainingWindowFilter(ds.root, { exclude: o.exclude, trainSplit: o.trainSplit }, (id) => splitOf.get(id)),
        onProgress: progress?.onProgress,
      });
      for (const w of ws) windows.push(w);
      sources.push({ path: ds.root, windows: ws.length, format: ds.format });
      o.onDataset?.(ds, path);
    } finally {
      progress?.stop();
    }
  }
  return { windows, sources };
}
