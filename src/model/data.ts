/**
 * Training and inference data of the StateModel: one `EncodedWindow` per window, holding per
 * modality the model input (backbone vector ⊕ numeric features) at system level and, where
 * asked, per service.
 *
 * Windows come from a telemetry folder through the encode stage (`encodeWindows`, no file
 * written) or from an `encode` output file (`readEncodedWindows`), which is how vectors that
 * were embedded once are reused without the backbone. `toStateBatch` builds the model's batch:
 * a modality a window lacks is marked absent (never zero-filled as if present), and `mask`
 * forces modalities absent for every window — needed where a modality's presence is itself a
 * label leak (Nezha: traces and logs exist only near faults).
 */
import {
  FEATURE_LAYOUTS,
  SYSTEM_ENTITY,
  VIEWS_FORMAT_VERSION,
  encodeDataset,
  type Backbone,
  type EmbeddingCache,
  type EncodeProgress,
  type EncodedRow,
  type EvidenceRecord,
  type ViewBuilderState,
} from '../encode/index.js';
import { UserError, type Dataset } from '../telemetry/index.js';
import type { Window, WindowSpec } from '../windows/index.js';
import { MODALITIES, type InputDim, type Modality, type StateBatch, type StateModel } from './model.js';
import type { EmbeddingRow } from '../encode/index.js';
import { MODALITY_VALUES, readViews, type ViewsBatch, type ViewsFileInfo } from '../encode/formats/views.js';

export type ModalityInputs = Partial<Record<Modality, Float32Array>>;

export interface WindowLabelInfo {
  abnormal: boolean;
  rootCause?: string;
  rootCauseService?: string;
  type?: string;
}

export interface EncodedWindow {
  /** Which folder (or file) the window came from: keeps windows of several sources apart. */
  source: string;
  window: Window;
  label: WindowLabelInfo;
  caseId?: string;
  /** The source's own split, for case-based sources that define one. */
  split?: 'train' | 'test';
  /** Case-based sources: the failure the case comes from (cases of one failure stay on one side of a split). */
  group?: string;
  /** System level: backbone vector ⊕ raw features per modality; a missing key = absent. */
  inputs: ModalityInputs;
  /** Per service (only when encoded with entities). */
  entities?: Map<string, ModalityInputs>;
}

export interface EncodeWindowsOptions {
  spec: WindowSpec;
  backbone: Backbone;
  cache?: EmbeddingCache;
  /** Per-service inputs besides the system's. Default false (training needs system rows only). */
  entities?: boolean;
  /** Windows the views' baselines learn from (default all). */
  fitFilter?: (w: Window) => boolean;
  onProgress?: (p: EncodeProgress) => void;
  /** Name of the source (default the dataset's root). */
  source?: string;
  /** Modalities to read (default all three). */
  modalities?: readonly Modality[];
  /** Each window's evidence rows (label-free references of encode; costs the evidence pass). */
  onEvidence?: (rows: readonly EvidenceRecord[]) => void;
  /** Render against this fitted views state instead of fitting on `ds` (`EncodeOptions.fitted`). */
  fitted?: ViewBuilderState;
  /** Called with the views state the windows were rendered against (e.g. for `tune` to save it). */
  onViews?: (state: ViewBuilderState) => void;
}

/** How wide each modality's model input is for a backbone of `backboneDim`. */
export function windowInputDims(backboneDim: number): Record<Modality, { backbone: number; features: number }> {
  return {
    metrics: { backbone: backboneDim, features: FEATURE_LAYOUTS.metrics.length },
    traces: { backbone: backboneDim, features: FEATURE_LAYOUTS.traces.length },
    logs: { backbone: backboneDim, features: FEATURE_LAYOUTS.logs.length },
  };
}

function joinInput(vector: Float32Array, features: Float32Array): Float32Array {
  const x = new Float32Array(vector.length + features.length);
  x.set(vector, 0);
  x.set(features, vector.length);
  return x;
}

/** Groups encode rows into windows, in the order the windows first appear. */
class WindowCollector {
  readonly byIndex = new Map<number, EncodedWindow>();
  constructor(
    private readonly source: string,
    private readonly caseInfo: Map<string, { split?: 'train' | 'test'; group?: string }>,
  ) {}

  add(r: Pick<EncodedRow, 'windowIndex' | 'windowStart' | 'windowEnd' | 'caseId' | 'entity' | 'modality' | 'abnormal' | 'rootCause' | 'rootCauseService' | 'faultType'>, input: Float32Array): void {
    const w = this.byIndex.get(r.windowIndex) ?? this.open(r.windowIndex, r.windowStart, r.windowEnd, r.caseId, { abnormal: r.abnormal, rootCause: r.rootCause, rootCauseService: r.rootCauseService, type: r.faultType });
    this.put(w, r.entity, r.modality, input);
  }

  /** Row i of a views file's batch: its window's fields are decoded only for the window's first row. */
  addView(b: ViewsBatch, i: number, entity: string, input: Float32Array): void {
    const index = b.windowIndex[i];
    const w = this.byIndex.get(index) ?? this.open(index, b.windowStart[i], b.windowEnd[i], b.caseId(i), { abnormal: b.abnormal[i] === 1, rootCause: b.rootCause(i), rootCauseService: b.rootCauseService(i), type: b.faultType(i) });
    this.put(w, entity, MODALITY_VALUES[b.modality[i]], input);
  }

  /** A new window, labelled by its first row. */
  private open(index: number, start: number, end: number, caseId: string | undefined, label: WindowLabelInfo): EncodedWindow {
    const w: EncodedWindow = {
      source: this.source,
      window: { index, start, end, ...(caseId !== undefined ? { caseId } : {}) },
      label,
      inputs: {},
    };
    if (caseId !== undefined) {
      w.caseId = caseId;
      const c = this.caseInfo.get(caseId);
      if (c?.split) w.split = c.split;
      if (c?.group) w.group = c.group;
    }
    this.byIndex.set(index, w);
    return w;
  }

  private put(w: EncodedWindow, entity: string, modality: Modality, input: Float32Array): void {
    if (entity === SYSTEM_ENTITY) w.inputs[modality] = input;
    else {
      w.entities ??= new Map();
      let e = w.entities.get(entity);
      if (!e) w.entities.set(entity, (e = {}));
      e[modality] = input;
    }
  }

  windows(): EncodedWindow[] {
    return [...this.byIndex.values()].sort((a, b) => a.window.index - b.window.index);
  }
}

/**
 * Every window of `ds` that has data in some modality, encoded in memory (views + backbone
 * vectors through `encodeDataset`, no file). Windows without any data are left out, as in the
 * `encode` output.
 */
export async function encodeWindows(ds: Dataset, opts: EncodeWindowsOptions): Promise<EncodedWindow[]> {
  const source = opts.source ?? ds.root;
  const collector = new WindowCollector(source, new Map(ds.cases?.map((c) => [c.id, { split: c.split, group: c.group }])));
  const res = await encodeDataset(ds, {
    spec: opts.spec,
    backbone: opts.backbone,
    cache: opts.cache,
    entities: opts.entities ?? false,
    fitFilter: opts.fitFilter,
    onProgress: opts.onProgress,
    modalities: opts.modalities,
    ...(opts.onEvidence ? { onEvidence: opts.onEvidence } : {}),
    ...(opts.fitted ? { fitted: opts.fitted } : {}),
    onRows: (rows) => {
      for (const r of rows) collector.add(r, joinInput(r.vector, r.features));
    },
  });
  opts.onViews?.(res.builder.toJSON());
  return collector.windows();
}

/** What an `encode` output file says about how it was made (the views file's identity, formats/views.ts). */
export type EncodedFileInfo = ViewsFileInfo;

/**
 * Windows from an `encode` output file (Arrow IPC): the vectors are read, not embedded again.
 * `cases` gives case splits and groups where the caller knows them (the file has neither).
 * The file's format (metadata, columns, errors) is formats/views.ts's `readViews`.
 */
export async function readEncodedWindows(
  path: string,
  opts: { entities?: boolean; source?: string; cases?: Map<string, { split?: 'train' | 'test'; group?: string }> } = {},
): Promise<{ info: EncodedFileInfo; windows: EncodedWindow[] }> {
  const file = await readViews(path);
  const { info } = file;
  const dim = info.dim;
  const withEntities = opts.entities ?? false;
  const collector = new WindowCollector(opts.source ?? info.dataset?.root ?? path, opts.cases ?? new Map());
  for (const b of file.batches()) {
    const { vectors, features, featureOffsets } = b;
    for (let i = 0; i < b.length; i++) {
      const system = b.isSystem(i);
      if (!withEntities && !system) continue;
      // each window keeps its own input (backbone vector ⊕ features), not a view into the file
      const fs = featureOffsets[i];
      const fe = featureOffsets[i + 1];
      const input = new Float32Array(dim + (fe - fs));
      input.set(vectors.subarray(i * dim, (i + 1) * dim), 0);
      input.set(features.subarray(fs, fe), dim);
      collector.addView(b, i, system ? SYSTEM_ENTITY : b.entity(i), input);
    }
  }
  return { info, windows: collector.windows() };
}

/** The views' identity that a checkpoint records and data must match. */
export function currentFeatureLayouts(): { viewsVersion: number; layouts: Record<Modality, readonly string[]> } {
  return { viewsVersion: VIEWS_FORMAT_VERSION, layouts: { metrics: FEATURE_LAYOUTS.metrics, traces: FEATURE_LAYOUTS.traces, logs: FEATURE_LAYOUTS.logs } };
}

export interface BatchOptions {
  /** Modalities forced absent in every row. */
  mask?: readonly Modality[];
  /** Build the batch from this service's inputs instead of the system's (absent where the window has none). */
  entity?: string;
  /** Expected input width per modality (e.g. the model's); a window that differs is an error. */
  widths?: Partial<Record<Modality, number>>;
}

function inputsOf(w: EncodedWindow, entity: string | undefined): ModalityInputs | undefined {
  if (entity === undefined || entity === SYSTEM_ENTITY) return w.inputs;
  return w.entities?.get(entity);
}

/**
 * The StateModel batch of `windows`: per modality, [n, width] rows and a presence mask. Rows of
 * absent windows stay 0 and are never read by the model (masked). A modality no window has
 * (or that `mask` names) is left out of the batch.
 */
export function toStateBatch(windows: readonly EncodedWindow[], opts: BatchOptions = {}): StateBatch {
  const n = windows.length;
  if (n === 0) throw new RangeError('toStateBatch: no windows');
  const masked = new Set(opts.mask ?? []);
  const batch: StateBatch = { size: n };
  for (const m of MODALITIES) {
    if (masked.has(m)) continue;
    let width = opts.widths?.[m] ?? 0;
    for (let i = 0; i < n && width === 0; i++) width = inputsOf(windows[i], opts.entity)?.[m]?.length ?? 0;
    if (width === 0) continue;
    const x = new Float32Array(n * width);
    const present = new Uint8Array(n);
    let any = false;
    for (let i = 0; i < n; i++) {
      const v = inputsOf(windows[i], opts.entity)?.[m];
      if (!v) continue;
      if (v.length !== width) {
        throw new UserError(`${windows[i].source}: window at ${new Date(windows[i].window.start).toISOString()} has a ${v.length}-wide ${m} input, expected ${width} (different backbone or feature layout?)`);
      }
      x.set(v, i * width);
      present[i] = 1;
      any = true;
    }
    if (any) batch[m] = { x, present };
  }
  return batch;
}

export interface WindowEmbeddings {
  size: number;
  stateDim: number;
  modalityDim: number;
  /** One unit row per window. */
  state: Float32Array[];
  /** One unit row per window and modality; undefined where the modality is absent. */
  modalities: Record<Modality, (Float32Array | undefined)[]>;
}

/** The model's input widths per modality (0 where it has no head). */
export function modelWidths(model: StateModel): Partial<Record<Modality, number>> {
  const out: Partial<Record<Modality, number>> = {};
  for (const m of MODALITIES) {
    const d: InputDim | undefined = model.config.inputDims[m];
    if (d !== undefined) out[m] = model.inputWidth(m);
  }
  return out;
}

/**
 * State and modality embeddings of `windows` in batches (inference: no graph, no dropout).
 * Modalities the model has no head for, or that `mask` names, are absent.
 */
export function embedWindows(
  model: StateModel,
  windows: readonly EncodedWindow[],
  opts: { mask?: readonly Modality[]; batchSize?: number; entity?: string } = {},
): WindowEmbeddings {
  const bs = opts.batchSize ?? 1024;
  if (!(Number.isInteger(bs) && bs > 0)) throw new RangeError(`embedWindows: batchSize must be a positive integer, got ${bs}`);
  const widths = modelWidths(model);
  const mask = [...(opts.mask ?? []), ...MODALITIES.filter((m) => widths[m] === undefined)];
  const { stateDim, modalityDim } = model.config;
  const out: WindowEmbeddings = {
    size: windows.length,
    stateDim,
    modalityDim,
    state: [],
    modalities: { metrics: [], traces: [], logs: [] },
  };
  for (let b = 0; b < windows.length; b += bs) {
    const part = windows.slice(b, b + bs);
    const e = model.embed(toStateBatch(part, { mask, entity: opts.entity, widths }));
    for (let i = 0; i < part.length; i++) {
      out.state.push(e.s.slice(i * stateDim, (i + 1) * stateDim));
      for (const m of MODALITIES) out.modalities[m].push(e.present[m][i] ? e.z[m].slice(i * modalityDim, (i + 1) * modalityDim) : undefined);
    }
  }
  return out;
}

/** Names of every service that has inputs in some window, sorted. */
export function entityNames(windows: readonly EncodedWindow[]): string[] {
  const s = new Set<string>();
  for (const w of windows) for (const k of w.entities?.keys() ?? []) s.add(k);
  return [...s].sort();
}

/** The rows of one embedWindows result: state always, a modality where present. */
export function embeddingRows(windows: readonly EncodedWindow[], e: WindowEmbeddings, entity: string = SYSTEM_ENTITY): EmbeddingRow[] {
  const out: EmbeddingRow[] = [];
  for (let i = 0; i < windows.length; i++) {
    out.push({ window: windows[i], entity, kind: 'state', vector: e.state[i] });
    for (const m of MODALITIES) {
      const v = e.modalities[m][i];
      if (v) out.push({ window: windows[i], entity, kind: m, vector: v });
    }
  }
  return out;
}
