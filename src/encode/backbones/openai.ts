import { UserError } from '../../telemetry/index.js';
import type { Backbone, BackboneOptions } from './types.js';

/**
 * `openai:<base url>?model=…`: any server that speaks OpenAI's embeddings protocol (OpenAI,
 * vLLM, llama.cpp server, text-embeddings-inference, Ollama's /v1, LocalAI…).
 *
 * POST `<base>/embeddings` `{model, input: string[]}` → `{data: [{index, embedding}]}`. Texts
 * go in batches, a few requests at a time; 429, 408, 5xx, timeouts and network errors are
 * retried with exponential backoff and full jitter, honouring `Retry-After`; any other 4xx
 * is a one-line UserError at once. Rows are L2-normalised.
 */

export interface OpenAIOptions {
  /** e.g. `http://localhost:8080/v1`; `/embeddings` is appended. */
  baseUrl: string;
  model: string;
  /** Expected row length; checked on every response. Asked of the server by `init()` if absent. */
  dim?: number;
  /** Sent as `dimensions` (models that can shorten their output, e.g. text-embedding-3-*). */
  dimensions?: number;
  /** Texts per request. Default 64. */
  batchSize?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  /** Per attempt, in ms. Default 60 000. */
  timeoutMs?: number;
  /** Retries after the first attempt. Default 5. */
  retries?: number;
  /** First backoff delay in ms (doubled each retry, capped at 30 s). Default 500. */
  backoffMs?: number;
  /** Bearer token; defaults to $RUNTIMESLICER_OPENAI_API_KEY, then $OPENAI_API_KEY. */
  apiKey?: string;
  onProgress?: BackboneOptions['onProgress'];
}

const MAX_BACKOFF_MS = 30_000;
const MAX_RETRY_AFTER_MS = 5 * 60_000;

/** Retryable failure of one attempt; `retryAfterMs` from the server when it said so. */
class TransientError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    /** set when no answer came at all (refused, DNS, reset): the network reason */
    readonly unreachable?: string,
  ) {
    super(message);
  }
}

/** What the one request at creation embeds to learn the row length. */
export const DIMENSION_PROBE_TEXT = 'dimension probe';

export class OpenAIBackbone implements Backbone {
  readonly id: string;
  private learnedDim: number | undefined;
  private readonly url: string;
  private readonly opts: Required<Omit<OpenAIOptions, 'dim' | 'dimensions' | 'apiKey' | 'onProgress'>> &
    Pick<OpenAIOptions, 'dimensions' | 'apiKey' | 'onProgress'>;
  /** Every embed() call's context, so that dispose() can cancel them all. */
  private readonly calls = new Set<CallContext>();

  constructor(options: OpenAIOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new UserError(`openai: expected an http(s) base URL such as http://localhost:8080/v1, got '${options.baseUrl}'`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') {
      throw new UserError(`openai: expected an http(s) base URL, got '${options.baseUrl}'`);
    }
    if (!options.model) throw new UserError(`openai: a model is required, e.g. openai:${options.baseUrl}?model=text-embedding-3-small`);
    const positive = (name: string, v: number | undefined, min = 1): void => {
      if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UserError(`openai: ${name} must be an integer ≥ ${min}, got ${v}`);
    };
    positive('dim', options.dim);
    positive('dimensions', options.dimensions);
    positive('batch', options.batchSize);
    positive('concurrency', options.concurrency);
    positive('timeout', options.timeoutMs);
    positive('retries', options.retries, 0);
    positive('backoff', options.backoffMs, 0);
    if (options.dim !== undefined && options.dimensions !== undefined && options.dim !== options.dimensions) {
      throw new UserError(`openai: dim=${options.dim} contradicts dimensions=${options.dimensions}`);
    }
    this.url = base.href.replace(/\/+$/, '') + '/embeddings';
    this.learnedDim = options.dim ?? options.dimensions;
    this.opts = {
      baseUrl: options.baseUrl,
      model: options.model,
      dimensions: options.dimensions,
      batchSize: options.batchSize ?? 64,
      concurrency: options.concurrency ?? 4,
      timeoutMs: options.timeoutMs ?? 60_000,
      retries: options.retries ?? 5,
      backoffMs: options.backoffMs ?? 500,
      apiKey: options.apiKey ?? process.env.RUNTIMESLICER_OPENAI_API_KEY ?? process.env.OPENAI_API_KEY,
      onProgress: options.onProgress,
    };
    // The server's URL is part of the identity: two servers may serve one model name at
    // different precisions. The key is not (it changes nothing in the vectors).
    const dims = options.dimensions !== undefined ? `&dimensions=${options.dimensions}` : '';
    this.id = `openai:${this.url}?model=${options.model}${dims}`;
  }

  /**
   * Row length. Without `dim=`/`dimensions=` it is 0 until `init()` (which `createBackbone`
   * awaits) or the first response: writers and models size themselves from it up front.
   */
  get dim(): number {
    return this.learnedDim ?? 0;
  }

  /**
   * Learns the row length when the spec did not give it, by embedding one short text: the
   * documented `openai:…?model=…` form has no dim, and every consumer needs it before the
   * first batch. Costs one request; idempotent.
   */
  async init(): Promise<void> {
    if (this.learnedDim !== undefined) return;
    const ctx: CallContext = { stopped: false, controllers: new Set() };
    this.calls.add(ctx);
    try {
      await this.request([DIMENSION_PROBE_TEXT], ctx);
    } finally {
      this.calls.delete(ctx);
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = new Array(texts.length);
    const { batchSize, concurrency } = this.opts;
    const nBatches = Math.ceil(texts.length / batchSize);
    let next = 0;
    let done = 0;
    let failed: unknown;
    const ctx: CallContext = { stopped: false, controllers: new Set() };
    this.calls.add(ctx);
    const worker = async (): Promise<void> => {
      while (!ctx.stopped && next < nBatches) {
        const b = next++;
        const start = b * batchSize;
        const batch = texts.slice(start, start + batchSize);
        try {
          const rows = await this.request(batch, ctx);
          for (let i = 0; i < rows.length; i++) out[start + i] = rows[i];
          done += batch.length;
          this.opts.onProgress?.(done, texts.length);
        } catch (e) {
          if (failed === undefined) failed = e;
          // The other batches' answers are no longer wanted.
          cancel(ctx);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(concurrency, nBatches) }, worker));
    } finally {
      this.calls.delete(ctx);
    }
    if (failed !== undefined) throw failed;
    if (ctx.stopped) throw new Error('openai: embed cancelled by dispose()');
    return out;
  }

  async dispose(): Promise<void> {
    for (const ctx of this.calls) cancel(ctx);
  }

  /** One batch, with retries. */
  private async request(input: string[], ctx: CallContext): Promise<Float32Array[]> {
    const { retries, backoffMs } = this.opts;
    let lastMessage = '';
    let lastRetryAfter: number | undefined;
    let unreachable: string | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) await sleep(this.delay(attempt, lastRetryAfter));
      if (ctx.stopped) throw new Error('openai: request cancelled');
      try {
        return await this.attempt(input, ctx);
      } catch (e) {
        if (!(e instanceof TransientError)) throw e;
        lastMessage = e.message;
        lastRetryAfter = e.retryAfterMs;
        unreachable = e.unreachable;
      }
    }
    const tries = `gave up after ${retries + 1} attempts; backoff from ${backoffMs} ms`;
    if (unreachable !== undefined) throw new UserError(`cannot reach embeddings server at ${this.url}: ${unreachable} (${tries})`);
    throw new UserError(`openai: ${lastMessage} (${tries})`);
  }

  private delay(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, MAX_RETRY_AFTER_MS);
    const cap = Math.min(MAX_BACKOFF_MS, this.opts.backoffMs * 2 ** (attempt - 1));
    // Jitter only spreads out retries of concurrent clients; it changes no number we produce,
    // and a seeded generator would make every process jitter alike, which defeats it.
    return cap / 2 + Math.random() * (cap / 2);
  }

  private async attempt(input: string[], ctx: CallContext): Promise<Float32Array[]> {
    const controller = new AbortController();
    ctx.controllers.add(controller);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.opts.timeoutMs);
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const body: Record<string, unknown> = { model: this.opts.model, input };
    if (this.opts.dimensions !== undefined) body.dimensions = this.opts.dimensions;
    let status: number;
    let text: string;
    let retryAfter: string | null = null;
    let retryAfterMs: string | null = null;
    try {
      const res = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify(body), signal: controller.signal });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      retryAfterMs = res.headers.get('retry-after-ms');
      text = await res.text();
    } catch (e) {
      if (timedOut) throw new TransientError(`${this.url} did not answer within ${this.opts.timeoutMs} ms`);
      if (controller.signal.aborted) throw new Error('openai: request cancelled');
      const reason = networkReason(e);
      throw new TransientError(`cannot reach ${this.url}: ${reason}`, undefined, reason);
    } finally {
      clearTimeout(timer);
      ctx.controllers.delete(controller);
    }
    if (status === 429 || status === 408 || status >= 500) {
      throw new TransientError(`${this.url} answered ${status}${serverMessage(text)}`, parseRetryAfter(retryAfter, retryAfterMs));
    }
    if (status === 401 || status === 403) {
      throw new UserError(
        `openai: ${this.url} answered ${status}${serverMessage(text)}; set RUNTIMESLICER_OPENAI_API_KEY (or OPENAI_API_KEY) to a valid key`,
      );
    }
    if (status < 200 || status >= 300) throw new UserError(`openai: ${this.url} answered ${status}${serverMessage(text)}`);
    return this.parse(text, input.length);
  }

  private parse(text: string, n: number): Float32Array[] {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UserError(`openai: ${this.url} answered 200 with a body that is not JSON: ${oneLine(text, 120)}`);
    }
    const data = (json as { data?: unknown }).data;
    if (!Array.isArray(data)) throw new UserError(`openai: expected {data: [{index, embedding}]} from ${this.url}, got ${oneLine(text, 120)}`);
    if (data.length !== n) throw new UserError(`openai: ${this.url} returned ${data.length} embeddings for ${n} inputs`);
    const rows: Float32Array[] = new Array(n);
    for (let k = 0; k < data.length; k++) {
      const item = data[k] as { index?: unknown; embedding?: unknown };
      // Servers that omit `index` answer in input order.
      const index = item.index === undefined ? k : item.index;
      if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= n || rows[index] !== undefined) {
        throw new UserError(`openai: ${this.url} returned a bad or repeated index ${String(index)} (batch of ${n})`);
      }
      const row = toRow(item.embedding);
      if (!row) throw new UserError(`openai: ${this.url} returned an embedding that is neither a number array nor base64 floats (index ${index})`);
      if (row.length === 0) throw new UserError(`openai: ${this.url} returned an empty embedding (index ${index}, model=${this.opts.model})`);
      if (this.learnedDim === undefined) this.learnedDim = row.length;
      else if (row.length !== this.learnedDim) {
        throw new UserError(`openai: ${this.url} returned a ${row.length}-d embedding, expected ${this.learnedDim}-d (model=${this.opts.model})`);
      }
      rows[index] = normalise(row);
    }
    return rows;
  }
}

interface CallContext {
  stopped: boolean;
  controllers: Set<AbortController>;
}

function cancel(ctx: CallContext): void {
  ctx.stopped = true;
  for (const c of ctx.controllers) c.abort();
}

function toRow(e: unknown): Float32Array | undefined {
  if (Array.isArray(e)) {
    const row = new Float32Array(e.length);
    for (let i = 0; i < e.length; i++) {
      const x = e[i];
      if (typeof x !== 'number' || !Number.isFinite(x)) return undefined;
      row[i] = x;
    }
    return row;
  }
  if (typeof e === 'string') {
    // encoding_format=base64: little-endian float32
    const buf = Buffer.from(e, 'base64');
    if (buf.length % 4 !== 0) return undefined;
    const row = new Float32Array(buf.length / 4);
    for (let i = 0; i < row.length; i++) row[i] = buf.readFloatLE(i * 4);
    return row;
  }
  return undefined;
}

function normalise(v: Float32Array): Float32Array {
  let sq = 0;
  for (let i = 0; i < v.length; i++) sq += v[i] * v[i];
  if (sq > 0) {
    const inv = 1 / Math.sqrt(sq);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

function parseRetryAfter(header: string | null, msHeader: string | null): number | undefined {
  if (msHeader !== null && msHeader.trim() !== '' && Number.isFinite(Number(msHeader))) return Math.max(0, Number(msHeader));
  if (header === null || header.trim() === '') return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isFinite(date) ? Math.max(0, date - Date.now()) : undefined;
}

/** `: <message>` from an OpenAI-style error body, or the start of the body, or nothing. */
function serverMessage(text: string): string {
  if (!text) return '';
  try {
    const j = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const m = typeof j.error === 'string' ? j.error : (j.error?.message ?? j.message);
    if (typeof m === 'string' && m) return `: ${oneLine(m, 200)}`;
  } catch {
    // not JSON: show it raw
  }
  return `: ${oneLine(text, 200)}`;
}

function oneLine(s: string, max: number): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

function networkReason(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return e instanceof Error ? e.message : String(e);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
