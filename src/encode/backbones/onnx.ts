import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { UserError } from '../../telemetry/index.js';
import type { Backbone, BackboneOptions } from './types.js';

/**
 * `onnx:<folder|hub id>[?key=value&…]`: any feature-extraction ONNX model that transformers.js
 * loads (Qwen3-Embedding, sentence-transformers exports…), run on CPU through onnxruntime-node.
 *
 * Options (all optional):
 * - `pooling=last|mean|cls`: default from the folder's sentence-transformers `1_Pooling/config.json`
 *   when present, else `last` for decoder families (model_type qwen3/qwen2), else `mean`.
 *   Pooling reads the attention mask, so left and right padding give the same vectors.
 * - `normalize=true|false` (default true): L2-normalise each row.
 * - `prefix=…` prepended to every text (`prefix=none` or empty: nothing), or `task=…`, which
 *   makes the Qwen3-Embedding instruction `Instruct: {task}\nQuery:`. Qwen3 models default to
 *   {@link QWEN3_DEFAULT_TASK}; others to no prefix.
 * - `maxLength=N` tokens (default 512, or the tokenizer's model_max_length if lower); longer texts are cut, keeping the tokenizer's closing
 *   special tokens (Qwen3-Embedding pools the `<|endoftext|>` it appends).
 * - `dtype=fp32|fp16|q8|int8|uint8|q4|q4f16|bnb4`: which `onnx/model*.onnx` to load. Default for
 *   a folder: the first present of fp32, q8, int8, uint8, fp16, q4, q4f16, bnb4; for a hub id:
 *   the config's `transformers.js_config.dtype`, else fp32.
 * - `padding=right|left` (default right): where a batch pads shorter texts. Right is safe for
 *   every export: with causal attention the real tokens never see the padding, and ONNX Runtime's
 *   fused GroupQueryAttention (used by some transformers.js exports) assumes right padding.
 * - `batch=N` texts per forward pass (default `opts.batchSize`, else 8); `threads=N` ONNX
 *   Runtime intra-op threads (default min(2, cores)).
 * - hub ids only: `revision=` (default main; pin a commit for stable ids), `cacheDir=` (default
 *   ~/.cache/runtimeslicer/models).
 *
 * Hub ids are fetched only with `opts.allowRemote`; a folder is read with remote loading off.
 */

/**
 * Default task for Qwen3-Embedding. The model card formats queries as
 * `Instruct: {task}\nQuery:{text}` and leaves documents bare; here every text is a window's
 * state and windows are compared with each other (clustering, nearest states), which is how
 * Qwen's own clustering/classification evaluations use the instruction: on every input.
 */
export const QWEN3_DEFAULT_TASK =
  'Given telemetry of a microservice system during a time window, represent the runtime state of the system';

export function qwen3Prefix(task: string): string {
  return `Instruct: ${task}\nQuery:`;
}

export type Pooling = 'last' | 'mean' | 'cls';

const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  fp16: '_fp16',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};
const KNOWN_OPTIONS = ['pooling', 'normalize', 'prefix', 'task', 'maxLength', 'dtype', 'padding', 'batch', 'threads', 'revision', 'cacheDir'];
const DEFAULT_MAX_LENGTH = 512;
const DEFAULT_BATCH = 8;
const HUB_ID = /^[\w.-]+\/[\w.-]+$/;
const DECODER_FAMILIES = new Set(['qwen3', 'qwen2']);

type Transformers = typeof import('@huggingface/transformers');
type Tokenizer = Awaited<ReturnType<Transformers['AutoTokenizer']['from_pretrained']>>;
type Model = Awaited<ReturnType<Transformers['AutoModel']['from_pretrained']>>;

interface ModelConfig {
  model_type?: string;
  hidden_size?: number;
  'transformers.js_config'?: { dtype?: unknown };
}

/** Where the model comes from and what names its weights in the backbone id. */
interface Source {
  /** what transformers.js is given: an absolute folder or a hub id */
  ref: string;
  local: boolean;
  identity: string;
  config: ModelConfig;
  dtype: string;
  stPooling?: Pooling;
  revision?: string;
  cacheDir?: string;
}

export async function createOnnxBackbone(
  target: string,
  options: Record<string, string>,
  opts: BackboneOptions,
): Promise<Backbone> {
  for (const k of Object.keys(options)) {
    if (!KNOWN_OPTIONS.includes(k)) throw new UserError(`onnx: unknown option '${k}' (known: ${KNOWN_OPTIONS.join(', ')})`);
  }
  const dtype = options.dtype;
  if (dtype !== undefined && !(dtype in DTYPE_SUFFIX)) {
    throw new UserError(`onnx: dtype must be one of ${Object.keys(DTYPE_SUFFIX).join(', ')}; got '${dtype}'`);
  }
  const pooling = options.pooling;
  if (pooling !== undefined && pooling !== 'last' && pooling !== 'mean' && pooling !== 'cls') {
    throw new UserError(`onnx: pooling must be last, mean or cls; got '${pooling}'`);
  }
  const padding = options.padding ?? 'right';
  if (padding !== 'right' && padding !== 'left') throw new UserError(`onnx: padding must be right or left; got '${padding}'`);
  if (options.prefix !== undefined && options.task !== undefined) {
    throw new UserError('onnx: give either prefix= or task=, not both');
  }
  const normalize = options.normalize === undefined ? true : parseBool('normalize', options.normalize);
  const askedMaxLength = parseInt('maxLength', options.maxLength, 2);
  const batch = parseInt('batch', options.batch, 1) ?? opts.batchSize ?? DEFAULT_BATCH;
  const threads = parseInt('threads', options.threads, 1) ?? Math.min(2, availableParallelism());

  const src = resolveSource(target, options, opts);
  // onnxruntime ≥ 1.2x on Linux starts Microsoft's 1DS telemetry with each environment, which
  // leaves an empty /tmp/mat-debug-<pid>.log per process; it reads this variable at that point.
  // A user who set it (to anything) keeps their choice.
  process.env.ORT_DISABLE_TELEMETRY ??= '1';
  const tf = await import('@huggingface/transformers');
  const previous = { allowRemote: tf.env.allowRemoteModels, allowLocal: tf.env.allowLocalModels };
  let tokenizer: Tokenizer;
  let model: Model;
  try {
    // transformers.js reads these globals on every file it fetches; a folder must never fall
    // back to the network, a hub id may only when asked.
    tf.env.allowRemoteModels = !src.local;
    tf.env.allowLocalModels = true;
    const load = { local_files_only: src.local, revision: src.revision, cache_dir: src.cacheDir };
    if (!src.local) src.config = await fetchConfig(tf, src.ref, load);
    if (!src.local && dtype === undefined) src.dtype = configDtype(src.config) ?? 'fp32';
    tokenizer = await tf.AutoTokenizer.from_pretrained(src.ref, load);
    model = await tf.AutoModel.from_pretrained(src.ref, {
      ...load,
      device: 'cpu',
      dtype: src.dtype as 'fp32',
      session_options: { intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential' },
    });
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`onnx: cannot load ${src.local ? 'model folder' : 'hub model'} ${src.ref}: ${firstLine(e)}`);
  } finally {
    tf.env.allowRemoteModels = previous.allowRemote;
    tf.env.allowLocalModels = previous.allowLocal;
  }

  const family = src.config.model_type ?? '';
  const pool: Pooling = (pooling as Pooling | undefined) ?? src.stPooling ?? (DECODER_FAMILIES.has(family) ? 'last' : 'mean');
  let prefix: string;
  if (options.task !== undefined) prefix = qwen3Prefix(options.task);
  else if (options.prefix !== undefined) prefix = options.prefix === 'none' ? '' : options.prefix;
  else prefix = family === 'qwen3' ? qwen3Prefix(QWEN3_DEFAULT_TASK) : '';

  // Past the tokenizer's limit an encoder runs off its position table.
  const modelMax = (tokenizer as { model_max_length?: number }).model_max_length;
  const limit = typeof modelMax === 'number' && Number.isFinite(modelMax) && modelMax > 0 ? modelMax : Infinity;
  if (askedMaxLength !== undefined && askedMaxLength > limit) {
    throw new UserError(`onnx: maxLength ${askedMaxLength} exceeds the model's limit of ${limit} tokens`);
  }
  const maxLength = askedMaxLength ?? Math.min(DEFAULT_MAX_LENGTH, limit);
  const prefixTag = prefix === '' ? 'none' : sha256(prefix).slice(0, 8);
  const id = `onnx:${src.identity}:${src.dtype}:${pool}:${normalize ? 'norm' : 'raw'}:len${maxLength}:prefix-${prefixTag}`;
  const backbone = new OnnxBackbone(tf, tokenizer, model, {
    id,
    pooling: pool,
    normalize,
    prefix,
    maxLength,
    padLeft: padding === 'left',
    batch,
    onProgress: opts.onProgress,
  });
  backbone.dim = src.config.hidden_size ?? (await backbone.embed(['']))[0].length;
  return backbone;
}

interface Settings {
  id: string;
  pooling: Pooling;
  normalize: boolean;
  prefix: string;
  maxLength: number;
  padLeft: boolean;
  batch: number;
  onProgress?: BackboneOptions['onProgress'];
}

class OnnxBackbone implements Backbone {
  readonly id: string;
  dim = 0;
  private disposed = false;
  /** onnxruntime sessions are not re-entrant: one forward pass at a time. */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly head: number[];
  private readonly tail: number[];
  private readonly padId: number;

  constructor(
    private readonly tf: Transformers,
    private readonly tokenizer: Tokenizer,
    private readonly model: Model,
    private readonly s: Settings,
  ) {
    this.id = s.id;
    // The tokenizer's template adds special tokens around every text (Qwen3-Embedding appends
    // <|endoftext|>, BERT wraps in [CLS]…[SEP]); truncation must keep them, and transformers.js
    // would cut the closing one. Comparing the encodings of '' and 'a' tells which are which.
    const empty = tokenizer.encode('');
    const one = tokenizer.encode('a');
    let p = 0;
    while (p < empty.length && empty[p] === one[p]) p++;
    this.head = empty.slice(0, p);
    this.tail = empty.slice(p);
    if (this.head.length + this.tail.length >= s.maxLength) {
      throw new UserError(`onnx: maxLength ${s.maxLength} leaves no room for text next to the special tokens`);
    }
    const pad = (tokenizer as { pad_token_id?: number | null }).pad_token_id;
    this.padId = typeof pad === 'number' ? pad : 0;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    const run = this.queue.then(() => this.embedNow(texts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.queue;
    await this.model.dispose();
  }

  private async embedNow(texts: string[]): Promise<Float32Array[]> {
    if (this.disposed) throw new Error('onnx backbone used after dispose()');
    const out = new Array<Float32Array>(texts.length);
    // Similar lengths in one batch waste less compute on padding; results go back in order.
    const order = texts.map((_, i) => i).sort((a, b) => texts[a].length - texts[b].length || a - b);
    for (let start = 0; start < order.length; start += this.s.batch) {
      const idx = order.slice(start, start + this.s.batch);
      const rows = await this.forward(idx.map((i) => this.s.prefix + texts[i]));
      idx.forEach((i, k) => (out[i] = rows[k]));
      this.s.onProgress?.(Math.min(start + this.s.batch, texts.length), texts.length);
    }
    return out;
  }

  private tokenize(text: string): number[] {
    const ids = this.tokenizer.encode(text);
    if (ids.length <= this.s.maxLength) return ids;
    const keep = this.s.maxLength - this.tail.length;
    return [...ids.slice(0, keep), ...this.tail];
  }

  private async forward(texts: string[]): Promise<Float32Array[]> {
    const seqs = texts.map((t) => this.tokenize(t));
    const b = seqs.length;
    const len = Math.max(...seqs.map((s) => s.length));
    const ids = new BigInt64Array(b * len).fill(BigInt(this.padId));
    const mask = new BigInt64Array(b * len);
    seqs.forEach((s, r) => {
      const off = r * len + (this.s.padLeft ? len - s.length : 0);
      for (let j = 0; j < s.length; j++) {
        ids[off + j] = BigInt(s[j]);
        mask[off + j] = 1n;
      }
    });
    const { Tensor } = this.tf;
    const output = (await this.model({
      input_ids: new Tensor('int64', ids, [b, len]),
      attention_mask: new Tensor('int64', mask, [b, len]),
    })) as Record<string, InstanceType<Transformers['Tensor']> | undefined>;
    let hidden = output.last_hidden_state ?? output.token_embeddings;
    if (!hidden) throw new UserError(`onnx: the model has no last_hidden_state output (outputs: ${Object.keys(output).join(', ')})`);
    if (hidden.type !== 'float32') hidden = hidden.to('float32');
    const [, seq, dim] = hidden.dims;
    const data = hidden.data as Float32Array;
    const rows: Float32Array[] = [];
    for (let r = 0; r < b; r++) {
      const row = new Float32Array(dim);
      const base = r * seq;
      if (this.s.pooling === 'mean') {
        let n = 0;
        for (let j = 0; j < seq; j++) {
          if (mask[base + j] === 0n) continue;
          n++;
          const off = (base + j) * dim;
          for (let d = 0; d < dim; d++) row[d] += data[off + d];
        }
        for (let d = 0; d < dim; d++) row[d] /= n;
      } else {
        // first/last position the mask marks as real, wherever the padding went
        let j = this.s.pooling === 'last' ? seq - 1 : 0;
        const step = this.s.pooling === 'last' ? -1 : 1;
        while (mask[base + j] === 0n) j += step;
        row.set(data.subarray((base + j) * dim, (base + j + 1) * dim));
      }
      if (this.s.normalize) {
        let ss = 0;
        for (let d = 0; d < dim; d++) ss += row[d] * row[d];
        const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
        for (let d = 0; d < dim; d++) row[d] *= inv;
      }
      rows.push(row);
    }
    return rows;
  }
}

function resolveSource(target: string, options: Record<string, string>, opts: BackboneOptions): Source {
  const expanded = target.startsWith('~/') ? join(homedir(), target.slice(2)) : target;
  const abs = resolve(expanded);
  const pathLike = isAbsolute(expanded) || target.startsWith('.') || target.startsWith('~') || target.includes('\\');
  if (existsSync(abs)) return localSource(abs, options);
  if (pathLike || !HUB_ID.test(target)) {
    throw new UserError(`onnx: model folder not found: ${abs} (expected a folder with config.json, tokenizer.json and onnx/model*.onnx, or a hub id like onnx-community/Qwen3-Embedding-0.6B-ONNX)`);
  }
  if (!opts.allowRemote) {
    throw new UserError(
      `onnx: '${target}' is a hub model id and remote model loading is off; allow remote loading (allowRemote, e.g. the CLI's --allow-remote) or download the model elsewhere and give its folder: onnx:/path/to/folder (see docs/qwen3.md)`,
    );
  }
  for (const k of ['revision', 'cacheDir']) {
    if (options[k] === '') throw new UserError(`onnx: ${k}= must not be empty`);
  }
  const revision = options.revision ?? 'main';
  return {
    ref: target,
    local: false,
    identity: `${target}@${revision}`,
    config: {},
    dtype: options.dtype ?? '',
    revision,
    cacheDir: options.cacheDir ?? join(homedir(), '.cache', 'runtimeslicer', 'models'),
  };
}

function localSource(dir: string, options: Record<string, string>): Source {
  if (!statSync(dir).isDirectory()) throw new UserError(`onnx: ${dir} is not a folder (expected a model folder with config.json, tokenizer.json and onnx/model*.onnx)`);
  for (const k of ['revision', 'cacheDir']) {
    if (options[k] !== undefined) throw new UserError(`onnx: ${k}= applies to hub ids only, not to the folder ${dir}`);
  }
  const missing = ['config.json', 'tokenizer.json', 'tokenizer_config.json'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new UserError(`onnx: model folder ${dir} lacks ${missing.join(', ')}`);
  const onnxDir = join(dir, 'onnx');
  const files = existsSync(onnxDir) ? readdirSync(onnxDir).sort() : [];
  const present = Object.keys(DTYPE_SUFFIX).filter((d) => files.includes(`model${DTYPE_SUFFIX[d]}.onnx`));
  const dtype = options.dtype ?? present[0];
  if (!dtype || !present.includes(dtype)) {
    const want = dtype ? `onnx/model${DTYPE_SUFFIX[dtype]}.onnx (dtype=${dtype})` : 'onnx/model*.onnx';
    throw new UserError(`onnx: model folder ${dir} has no ${want}; present dtypes: ${present.join(', ') || 'none'}`);
  }
  let config: ModelConfig;
  try {
    config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as ModelConfig;
  } catch (e) {
    throw new UserError(`onnx: cannot read ${join(dir, 'config.json')}: ${firstLine(e)}`);
  }
  // Identity without reading gigabytes: the small files' bytes, the weights' names and sizes
  // (external data chunks included).
  const h = createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) h.update(`${f}\0`).update(readFileSync(join(dir, f)));
  const base = `model${DTYPE_SUFFIX[dtype]}.onnx`;
  for (const f of files.filter((f) => f === base || f.startsWith(`${base}_data`))) {
    h.update(`${f}\0${statSync(join(onnxDir, f)).size}\0`);
  }
  return {
    ref: dir,
    local: true,
    identity: `${basename(dir)}@${h.digest('hex').slice(0, 12)}`,
    config,
    dtype,
    stPooling: sentenceTransformersPooling(dir),
  };
}

/** sentence-transformers folders say how they pool in 1_Pooling/config.json. */
function sentenceTransformersPooling(dir: string): Pooling | undefined {
  const file = join(dir, '1_Pooling', 'config.json');
  if (!existsSync(file)) return undefined;
  try {
    const c = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    if (c.pooling_mode_lasttoken) return 'last';
    if (c.pooling_mode_cls_token) return 'cls';
    if (c.pooling_mode_mean_tokens) return 'mean';
  } catch {
    // an unreadable pooling file only loses the hint; the model-type default still applies
  }
  return undefined;
}

async function fetchConfig(tf: Transformers, ref: string, load: { revision?: string; cache_dir?: string }): Promise<ModelConfig> {
  const config = await tf.AutoConfig.from_pretrained(ref, load);
  return config as unknown as ModelConfig;
}

function configDtype(config: ModelConfig): string | undefined {
  const d = config['transformers.js_config']?.dtype;
  return typeof d === 'string' && d in DTYPE_SUFFIX ? d : undefined;
}

function parseBool(key: string, v: string): boolean {
  if (v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  throw new UserError(`onnx: ${key} must be true or false, got '${v}'`);
}

function parseInt(key: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UserError(`onnx: ${key} must be an integer ≥ ${min}, got '${v}'`);
  return Number(v);
}

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0];
}
