import { UserError } from '../../telemetry/index.js';
import { HashBackbone, type HashOptions } from './hash.js';
import { OpenAIBackbone, type OpenAIOptions } from './openai.js';
import { UseBackbone } from './use.js';
import type { Backbone, BackboneOptions } from './types.js';

export type { Backbone, BackboneOptions } from './types.js';
export { embedDistinct } from './distinct.js';
export { HashBackbone, HASH_BACKBONE_VERSION, type HashOptions } from './hash.js';
export { UseBackbone, useAvailable } from './use.js';
export { OpenAIBackbone, DIMENSION_PROBE_TEXT, type OpenAIOptions } from './openai.js';

export const BACKBONE_SPEC_FORMS = [
  'hash[:dim=1024,chars=3-5,bigrams=1,seed=0]',
  'use',
  'onnx:<folder|hub id>[?key=value&...]',
  'openai:<base url>?model=<name>[&dim=N&dimensions=N&batch=64&concurrency=4&timeout=60000&retries=5&backoff=500]',
];

function invalid(spec: string, why: string): UserError {
  return new UserError(`backbone '${spec}': ${why}; expected one of: ${BACKBONE_SPEC_FORMS.join(' | ')}`);
}

/**
 * Builds a backbone from its spec string (see docs/backbones.md). Heavy modules (tfjs for
 * `use`, transformers.js for `onnx:`) load only when that backbone embeds or is created.
 */
export async function createBackbone(spec: string, opts: BackboneOptions = {}): Promise<Backbone> {
  const s = spec.trim();
  const colon = s.indexOf(':');
  const kind = (colon < 0 ? s : s.slice(0, colon)).toLowerCase();
  const rest = colon < 0 ? undefined : s.slice(colon + 1);
  switch (kind) {
    case 'hash':
      return new HashBackbone(parseHashOptions(spec, rest ?? ''));
    case 'use':
      if (rest !== undefined && rest !== '') throw invalid(spec, "'use' takes no options");
      return new UseBackbone(opts);
    case 'onnx': {
      if (!rest) throw invalid(spec, 'onnx: needs a model folder or hub id');
      const q = rest.indexOf('?');
      const target = q < 0 ? rest : rest.slice(0, q);
      if (!target) throw invalid(spec, 'onnx: needs a model folder or hub id');
      const options = q < 0 ? {} : parseQuery(spec, rest.slice(q + 1));
      // transformers.js is large: import it only when an onnx backbone is asked for.
      const { createOnnxBackbone } = await import('./onnx.js');
      return createOnnxBackbone(target, options, opts);
    }
    case 'openai': {
      if (!rest) throw invalid(spec, 'openai: needs a base URL');
      const b = new OpenAIBackbone(parseOpenAISpec(spec, rest, opts));
      // Callers size writers and models from `dim`: without dim= in the spec, ask now.
      await b.init();
      return b;
    }
    default:
      throw invalid(spec, 'unknown backbone');
  }
}

function parseHashOptions(spec: string, rest: string): HashOptions {
  const kv = rest === '' ? {} : parsePairs(spec, rest, /[,&]/);
  const out: HashOptions = {};
  for (const [k, v] of Object.entries(kv)) {
    switch (k) {
      case 'dim':
        out.dim = parseInteger(spec, k, v, 1);
        break;
      case 'chars': {
        if (v === '0' || v === 'off') out.chars = [0, 0];
        else {
          const m = /^(\d+)(?:-(\d+))?$/.exec(v);
          if (!m) throw invalid(spec, `chars must be a range like 3-5, a single length, or 0; got '${v}'`);
          const a = Number(m[1]);
          const b = m[2] === undefined ? a : Number(m[2]);
          if (a < 1 || b < a || b > 8) throw invalid(spec, `chars must satisfy 1 ≤ min ≤ max ≤ 8; got '${v}'`);
          out.chars = [a, b];
        }
        break;
      }
      case 'bigrams':
        out.bigrams = parseBool(spec, k, v);
        break;
      case 'seed':
        out.seed = parseInteger(spec, k, v, 0, 0xffffffff);
        break;
      default:
        throw invalid(spec, `unknown hash option '${k}' (known: dim, chars, bigrams, seed)`);
    }
  }
  return out;
}

const OPENAI_KEYS = ['model', 'dim', 'dimensions', 'batch', 'concurrency', 'timeout', 'retries', 'backoff'];

function parseOpenAISpec(spec: string, rest: string, opts: BackboneOptions): OpenAIOptions {
  const q = rest.indexOf('?');
  const baseUrl = q < 0 ? rest : rest.slice(0, q);
  const kv = q < 0 ? {} : parseQuery(spec, rest.slice(q + 1));
  for (const k of Object.keys(kv)) {
    if (!OPENAI_KEYS.includes(k)) throw invalid(spec, `unknown openai option '${k}' (known: ${OPENAI_KEYS.join(', ')})`);
  }
  if (!kv.model) throw invalid(spec, 'openai: needs ?model=<name>');
  const int = (k: string, min: number): number | undefined => (kv[k] === undefined ? undefined : parseInteger(spec, k, kv[k], min));
  return {
    baseUrl,
    model: kv.model,
    dim: int('dim', 1),
    dimensions: int('dimensions', 1),
    batchSize: int('batch', 1) ?? opts.batchSize,
    concurrency: int('concurrency', 1),
    timeoutMs: int('timeout', 1),
    retries: int('retries', 0),
    backoffMs: int('backoff', 0),
    onProgress: opts.onProgress,
  };
}

/** `a=1&b=2`, values URL-decoded (a model name may be given as `Qwen%2FQwen3-Embedding-0.6B` or plainly). */
function parseQuery(spec: string, query: string): Record<string, string> {
  return parsePairs(spec, query, /&/, true);
}

function parsePairs(spec: string, text: string, sep: RegExp, decode = false): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of text.split(sep)) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw invalid(spec, `expected key=value, got '${part}'`);
    const k = part.slice(0, eq).trim();
    let v = part.slice(eq + 1).trim();
    if (decode) {
      try {
        v = decodeURIComponent(v);
      } catch {
        throw invalid(spec, `bad %-escape in '${part}'`);
      }
    }
    if (k in out) throw invalid(spec, `option '${k}' given twice`);
    out[k] = v;
  }
  return out;
}

function parseInteger(spec: string, key: string, v: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^\d+$/.test(v)) throw invalid(spec, `${key} must be an integer, got '${v}'`);
  const n = Number(v);
  if (n < min || n > max) throw invalid(spec, `${key} must be in [${min}, ${max}], got ${n}`);
  return n;
}

function parseBool(spec: string, key: string, v: string): boolean {
  if (v === '1' || v === 'true' || v === 'on') return true;
  if (v === '0' || v === 'false' || v === 'off') return false;
  throw invalid(spec, `${key} must be 1/0 (or true/false), got '${v}'`);
}
