/**
 * One interface for every text-embedding backbone: the fast offline `hash`, the pretrained
 * `use`, any ONNX model through transformers.js (`onnx:`), and OpenAI-compatible servers
 * (`openai:`). Built from a spec string by `createBackbone(spec)` (backbones/index.ts).
 */
export interface Backbone {
  /** Stable identity of the weights and settings: part of every cache key. */
  readonly id: string;
  /** Row length; known once `createBackbone` returns (openai: asks the server when the spec has no dim=). */
  readonly dim: number;
  /**
   * false when recomputing a row is cheaper than reading it back from the embedding cache
   * (`hash`): the cache is then skipped, neither read nor written. Absent means true.
   */
  readonly cacheable?: boolean;
  /** One row per text, each of length `dim`, in input order. */
  embed(texts: string[]): Promise<Float32Array[]>;
  /** Frees native resources (sessions, sockets); safe to call twice. */
  dispose?(): Promise<void>;
}

export interface BackboneOptions {
  /** Allow fetching a model from a hub (onnx: hub ids). Off unless the user asks. */
  allowRemote?: boolean;
  /** For onnx:/openai: texts per request/batch. */
  batchSize?: number;
  /** Progress callback: texts done so far. */
  onProgress?: (done: number, total: number) => void;
}
