/**
 * One interface for every text-embedding backbone: the fast offline `hash`, the pretrained
 * `use`, any ONNX model through transformers.js (`onnx:`), and OpenAI-compatible servers
 * (`openai:`). Built from a spec string by `createBackbone(spec)` (backbones/index.ts).
 */
export interface Backbone {
  /** Stable identity of the weights and settings: part of every cache key. */
  readonly id: string;
  /** Row length; 0 until the first embed for backbones that learn it then (openai: without dim=). */
  readonly dim: number;
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
