/**
 * Model checkpoints and trainer resume files: one self-describing binary file each.
 *
 *   offset 0   8 bytes   magic "RSMODEL\0"
 *          8   u32 LE    container format version (CHECKPOINT_VERSION)
 *         12   u32 LE    header length H in bytes
 *         16   32 bytes  sha256 of the header bytes
 *         48   H bytes   header, UTF-8 JSON ({ kind: 'model' | 'resume', arrays, sha256, … })
 *              0–3 bytes zero padding to a multiple of 4
 *              …         the arrays named in header.arrays, float32 little-endian, back to back;
 *                        header.sha256 is the sha256 of these bytes
 *
 * Written to a temporary file beside the target and renamed over it, so a reader sees the old
 * file or the new one, never half of one. Reading checks magic, version, both checksums and the
 * exact length, and refuses anything else with a one-line UserError. docs/training.md has the
 * header fields.
 */
import { DeviationReadout, type ReadoutJSON } from './readout.js';
import { createHash } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { endianness } from 'node:os';
import { sweepStaleTemps, systemErrorCause, tempPathFor } from '../sources/index.js';
import { UserError } from '../telemetry/index.js';
import type { WindowSpec } from '../windows/index.js';
import type { LossOptions } from './losses.js';
import { MODALITIES, StateModel, type Modality, type StateModelJSON } from './model.js';

export const CHECKPOINT_MAGIC = 'RSMODEL\0';
/** Bumped when the container or a header field changes meaning. */
export const CHECKPOINT_VERSION = 1;
const PREFIX = 48;

export interface ArrayEntry {
  name: string;
  length: number;
}

export interface ContainerHeader {
  kind: 'model' | 'resume';
  arrays: ArrayEntry[];
  /** sha256 (hex) of the array bytes. */
  sha256: string;
  [key: string]: unknown;
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

function asBytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Writes header + arrays atomically (temp file, fsync, rename). */
export async function writeContainer(path: string, kind: ContainerHeader['kind'], fields: Record<string, unknown>, arrays: ReadonlyArray<readonly [string, Float32Array]>): Promise<void> {
  if (endianness() !== 'LE') throw new Error('checkpoint: only little-endian machines are supported');
  const hash = createHash('sha256');
  for (const [, a] of arrays) hash.update(asBytes(a));
  const header: ContainerHeader = { ...fields, kind, arrays: arrays.map(([name, a]) => ({ name, length: a.length })), sha256: hash.digest('hex') };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX);
  prefix.write(CHECKPOINT_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(CHECKPOINT_VERSION, 8);
  prefix.writeUInt32LE(headerBytes.length, 12);
  sha256(headerBytes).copy(prefix, 16);
  const pad = Buffer.alloc((4 - ((PREFIX + headerBytes.length) % 4)) % 4);
  const tmp = tempPathFor(path);
  await sweepStaleTemps(path);
  let fh;
  try {
    fh = await open(tmp, 'w');
  } catch (e) {
    throw new UserError(`cannot write ${path}: ${systemErrorCause((e as NodeJS.ErrnoException).code) ?? (e as Error).message}`);
  }
  try {
    await fh.write(prefix);
    await fh.write(headerBytes);
    if (pad.length) await fh.write(pad);
    for (const [, a] of arrays) await fh.write(asBytes(a));
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Reads and verifies a container of `kind`; every refusal is a one-line UserError naming the file. */
export async function readContainer(path: string, kind: ContainerHeader['kind']): Promise<{ header: ContainerHeader; arrays: Map<string, Float32Array> }> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw new UserError(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0]}`);
  }
  const what = kind === 'model' ? 'model checkpoint' : 'resume file';
  if (buf.length < PREFIX || buf.toString('latin1', 0, 8) !== CHECKPOINT_MAGIC) throw new UserError(`${path}: not a RuntimeSlicer ${what} (bad magic)`);
  const version = buf.readUInt32LE(8);
  if (version !== CHECKPOINT_VERSION) throw new UserError(`${path}: ${what} format version ${version}, this RuntimeSlicer reads version ${CHECKPOINT_VERSION}`);
  const hlen = buf.readUInt32LE(12);
  if (PREFIX + hlen > buf.length) throw new UserError(`${path}: truncated ${what} (header cut off)`);
  const headerBytes = buf.subarray(PREFIX, PREFIX + hlen);
  if (!sha256(headerBytes).equals(buf.subarray(16, 48))) throw new UserError(`${path}: corrupt ${what} (header checksum mismatch)`);
  let header: ContainerHeader;
  try {
    header = JSON.parse(headerBytes.toString('utf8')) as ContainerHeader;
  } catch {
    throw new UserError(`${path}: corrupt ${what} (header is not JSON)`);
  }
  if (header.kind !== kind) throw new UserError(`${path}: is a ${header.kind === 'resume' ? 'trainer resume file' : header.kind === 'model' ? 'model checkpoint' : 'file of unknown kind'}, expected a ${what}`);
  if (!Array.isArray(header.arrays) || !header.arrays.every((a) => typeof a?.name === 'string' && Number.isInteger(a.length) && a.length >= 0)) {
    throw new UserError(`${path}: corrupt ${what} (bad array list)`);
  }
  const start = PREFIX + hlen + ((4 - ((PREFIX + hlen) % 4)) % 4);
  const total = header.arrays.reduce((s, a) => s + a.length, 0);
  const expected = start + total * 4;
  if (buf.length < expected) throw new UserError(`${path}: truncated ${what} (${buf.length} bytes, expected ${expected})`);
  if (buf.length > expected) throw new UserError(`${path}: corrupt ${what} (${buf.length - expected} unexpected trailing bytes)`);
  const data = buf.subarray(start, expected);
  if (sha256(data).toString('hex') !== header.sha256) throw new UserError(`${path}: corrupt ${what} (weights checksum mismatch)`);
  // Copy into fresh aligned buffers: the file buffer's offset need not be a multiple of 4.
  const all = new Float32Array(total);
  new Uint8Array(all.buffer).set(data);
  const arrays = new Map<string, Float32Array>();
  let o = 0;
  for (const a of header.arrays) {
    arrays.set(a.name, all.subarray(o, o + a.length));
    o += a.length;
  }
  return { header, arrays };
}

// ---------------------------------------------------------------------------------------------
// Model checkpoints

export interface BackboneInfo {
  id: string;
  spec: string;
  dim: number;
}

export interface FeatureInfo {
  viewsVersion: number;
  layouts: Record<Modality, readonly string[]>;
}

export interface TrainingSummary {
  epochs: number;
  bestEpoch: number;
  steps: number;
  bestValLoss?: number;
  stopReason: string;
  trainWindows: number;
  valWindows: number;
  sources: string[];
  seed: number;
  [key: string]: unknown;
}

export interface ModelHeader extends ContainerHeader {
  kind: 'model';
  format: 'runtimeslicer-model';
  created: string;
  model: StateModelJSON;
  /** Parameter names and shapes, in the order of the weights. */
  layout: { name: string; rows: number; cols: number }[];
  backbone: BackboneInfo;
  window: WindowSpec;
  features: FeatureInfo;
  loss: { options: LossOptions; terms: { modal: boolean; temporal: boolean; anomaly: boolean; deviation?: boolean; view?: boolean } };
  training: TrainingSummary;
  /** MODEL_FORMAT of the writer; absent in files of format 1 (no readout) */
  modelFormat?: number;
  /** the deviation readout's layout (its weights: array `readout`); format ≥ 2 */
  readout?: ReadoutJSON;
}

export interface CheckpointContent {
  model: StateModel;
  backbone: BackboneInfo;
  window: WindowSpec;
  features: FeatureInfo;
  loss: ModelHeader['loss'];
  training: TrainingSummary;
}

/**
 * The model file's own format (inside container version 1): 2 adds the deviation readout that
 * the tasks' combined embedding needs (combined.ts). Format-1 files still load (no readout);
 * what needs the readout refuses them with a message saying to retrain.
 */
export const MODEL_FORMAT = 2;

export async function saveCheckpoint(path: string, c: CheckpointContent): Promise<void> {
  const fields: Omit<ModelHeader, 'kind' | 'arrays' | 'sha256'> = {
    format: 'runtimeslicer-model',
    created: new Date().toISOString(),
    model: c.model.toJSON(),
    layout: c.model.layout().map(({ name, rows, cols }) => ({ name, rows, cols })),
    backbone: c.backbone,
    window: c.window,
    features: { viewsVersion: c.features.viewsVersion, layouts: c.features.layouts },
    loss: c.loss,
    training: c.training,
    modelFormat: MODEL_FORMAT,
    ...(c.model.readout ? { readout: c.model.readout.toJSON() } : {}),
  };
  const arrays: [string, Float32Array][] = [['weights', c.model.getFlat()]];
  if (c.model.readout) arrays.push(['readout', c.model.readout.flat()]);
  await writeContainer(path, 'model', fields, arrays);
}

export interface LoadedCheckpoint {
  header: ModelHeader;
  model: StateModel;
}

export async function loadCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { header: h, arrays } = await readContainer(path, 'model');
  const header = h as ModelHeader;
  if (header.format !== 'runtimeslicer-model' || !header.model?.config || !header.backbone?.id || !header.features?.layouts || !header.window) {
    throw new UserError(`${path}: corrupt model checkpoint (header lacks model, backbone, features or window)`);
  }
  const weights = arrays.get('weights');
  if (!weights) throw new UserError(`${path}: corrupt model checkpoint (no weights)`);
  let model: StateModel;
  try {
    model = StateModel.fromJSON(header.model);
  } catch (e) {
    throw new UserError(`${path}: model config not usable by this RuntimeSlicer (${(e as Error).message.split('\n')[0]})`);
  }
  const layout = model.layout();
  if (layout.length !== header.layout?.length || layout.some((e, k) => e.name !== header.layout[k].name || e.rows !== header.layout[k].rows || e.cols !== header.layout[k].cols)) {
    throw new UserError(`${path}: parameter layout differs from this RuntimeSlicer's StateModel (saved by an incompatible version)`);
  }
  if (weights.length !== model.parameterCount()) throw new UserError(`${path}: ${weights.length} weights for a model of ${model.parameterCount()} parameters`);
  model.setFlat(weights);
  if ((header.modelFormat ?? 1) > MODEL_FORMAT) throw new UserError(`${path}: model format ${header.modelFormat} is newer than this RuntimeSlicer reads (${MODEL_FORMAT}); upgrade`);
  if (header.readout) {
    const flat = arrays.get('readout');
    if (!flat) throw new UserError(`${path}: corrupt model checkpoint (readout declared, no readout weights)`);
    try {
      if (header.readout.stateDim !== model.config.stateDim) throw new RangeError(`stateDim ${header.readout.stateDim}, model ${model.config.stateDim}`);
      model.readout = DeviationReadout.fromFlat(header.readout, flat);
    } catch (e) {
      throw new UserError(`${path}: corrupt model checkpoint (readout: ${(e as Error).message})`);
    }
  }
  return { header, model };
}

/**
 * Refuses data that the model was not trained for: another backbone (id, or vector width) or
 * another feature layout. `what` names the data in the message.
 */
export function checkCompatible(header: ModelHeader, data: { backboneId?: string; dim?: number; viewsVersion?: number; layouts?: Partial<Record<Modality, readonly string[]>> }, what: string): void {
  if (data.backboneId !== undefined && data.backboneId !== header.backbone.id) {
    throw new UserError(`${what} was embedded with backbone ${data.backboneId}, the model with ${header.backbone.id}: re-encode with --backbone ${header.backbone.spec}`);
  }
  if (data.dim !== undefined && data.dim !== header.backbone.dim) throw new UserError(`${what} has ${data.dim}-d backbone vectors, the model expects ${header.backbone.dim}`);
  if (data.viewsVersion !== undefined && data.viewsVersion !== header.features.viewsVersion) {
    throw new UserError(`${what} has views format version ${data.viewsVersion}, the model was trained on version ${header.features.viewsVersion}`);
  }
  for (const m of MODALITIES) {
    const a = data.layouts?.[m];
    const b = header.features.layouts[m];
    if (a === undefined || b === undefined) continue;
    if (a.length !== b.length || a.some((x, k) => x !== b[k])) {
      throw new UserError(`${what}: the ${m} feature layout (${a.length} features) differs from the model's (${b.length}); re-encode or retrain`);
    }
  }
}
