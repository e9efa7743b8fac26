/**
 * Matrix-product kernels behind the autograd engine: a pure-JS one (always there, used by the
 * finite-difference tests) and one running Gemm through onnxruntime-node (MLAS; ~200 GFLOPS on
 * two AVX-512 cores here, against ~1–2 for typed-array JS). Products too small for ORT's fixed
 * per-call cost go to the JS kernel. See docs/engine.md for the measurements behind the choice.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import type * as Ort from 'onnxruntime-node';
import { gemmModel } from './onnx-proto.js';

export type EngineName = 'js' | 'ort';

export interface GemmKernel {
  readonly name: EngineName;
  /**
   * `op(A)·op(B)` as a new row-major [m, n] array, where op(A) is [m, k] and op(B) is [k, n].
   * With transA the stored A is [k, m]; with transB the stored B is [n, k].
   */
  gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array;
}

/** Row-major transpose of an [r, c] array. */
export function transposeArray(a: Float32Array, r: number, c: number): Float32Array {
  const out = new Float32Array(r * c);
  // Tiles keep both the reads and the writes within a few cache lines.
  const T = 32;
  for (let i0 = 0; i0 < r; i0 += T) {
    const i1 = Math.min(r, i0 + T);
    for (let j0 = 0; j0 < c; j0 += T) {
      const j1 = Math.min(c, j0 + T);
      for (let i = i0; i < i1; i++) {
        const row = i * c;
        for (let j = j0; j < j1; j++) out[j * r + i] = a[row + j];
      }
    }
  }
  return out;
}

/** C = A·Bᵀ, A [m,k], B [n,k]: contiguous dot products, 2×2 outputs at a time (half the loads). */
function gemmNT(a: Float32Array, b: Float32Array, m: number, k: number, n: number): Float32Array {
  const c = new Float32Array(m * n);
  const m2 = m - (m % 2);
  const n2 = n - (n % 2);
  for (let i = 0; i < m2; i += 2) {
    const a0 = i * k;
    const a1 = a0 + k;
    for (let j = 0; j < n2; j += 2) {
      const b0 = j * k;
      const b1 = b0 + k;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      for (let p = 0; p < k; p++) {
        const x0 = a[a0 + p];
        const x1 = a[a1 + p];
        const y0 = b[b0 + p];
        const y1 = b[b1 + p];
        s00 += x0 * y0;
        s01 += x0 * y1;
        s10 += x1 * y0;
        s11 += x1 * y1;
      }
      c[i * n + j] = s00;
      c[i * n + j + 1] = s01;
      c[(i + 1) * n + j] = s10;
      c[(i + 1) * n + j + 1] = s11;
    }
    if (n2 < n) {
      c[i * n + n2] = dot(a, a0, b, n2 * k, k);
      c[(i + 1) * n + n2] = dot(a, a1, b, n2 * k, k);
    }
  }
  if (m2 < m) {
    const a0 = m2 * k;
    for (let j = 0; j < n; j++) c[m2 * n + j] = dot(a, a0, b, j * k, k);
  }
  return c;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, k: number): number {
  let s = 0;
  for (let p = 0; p < k; p++) s += a[ao + p] * b[bo + p];
  return s;
}

function jsGemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array {
  // Transposes cost O(size) against the product's O(m·k·n), so one kernel serves every layout:
  // contiguous dot products (A·Bᵀ), which V8 runs about twice as fast as the axpy form of A·B.
  const A = transA ? transposeArray(a, k, m) : a;
  const Bt = transB ? b : transposeArray(b, k, n);
  return gemmNT(A, Bt, m, k, n);
}

/** The pure-JS kernel (RS_ENGINE=js). */
export const jsKernel: GemmKernel = { name: 'js', gemm: jsGemm };

/** The synchronous session object of onnxruntime-node's native binding. */
interface NativeSession {
  loadModel(buffer: ArrayBuffer, byteOffset: number, byteLength: number, options: Ort.InferenceSession.SessionOptions): void;
  run(feeds: Record<string, Ort.Tensor>, fetches: Record<string, Ort.Tensor | null>, options: Ort.InferenceSession.RunOptions): Record<string, Ort.Tensor>;
  dispose(): void;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
}

export interface OrtKernelOptions {
  /** Default: the core count (os.availableParallelism()). */
  intraOpThreads?: number;
  /**
   * Products with m·k·n below this run in JS: ORT costs ~7 µs a call whatever the size, which
   * JS matches up to about 16·16·32 (docs/engine.md). 0 sends every product to ORT.
   */
  minWork?: number;
  /** Let ORT's intra-op threads spin between products. Default false (see below); for benchmarks. */
  spinning?: boolean;
}

export const DEFAULT_MIN_ORT_WORK = 8192;

/**
 * Gemm through onnxruntime-node. Uses the package's native binding directly, whose `run` is
 * synchronous (the public `InferenceSession.run` only wraps it in a promise), so the autograd
 * stays synchronous and pays no event-loop hop per product.
 */
export class OrtKernel implements GemmKernel {
  readonly name = 'ort' as const;
  private readonly sessions: NativeSession[] = [];
  readonly minWork: number;

  constructor(
    private readonly ort: typeof Ort,
    native: NativeBinding,
    options: OrtKernelOptions = {},
  ) {
    native.initOrt();
    this.minWork = options.minWork ?? DEFAULT_MIN_ORT_WORK;
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.intraOpThreads ?? availableParallelism(),
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Spinning worker threads would keep both cores busy between products, starving the
      // JS that runs in between (and other processes on a shared two-core machine).
      extra: { session: { intra_op: { allow_spinning: options.spinning ? '1' : '0' } } },
    };
    for (let v = 0; v < 4; v++) {
      const bytes = gemmModel((v & 2) !== 0, (v & 1) !== 0);
      const s = new native.binding.InferenceSession();
      s.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, sessionOptions);
      this.sessions.push(s);
    }
  }

  gemm(a: Float32Array, b: Float32Array, m: number, k: number, n: number, transA: boolean, transB: boolean): Float32Array {
    if (m * k * n < this.minWork || m === 0 || n === 0 || k === 0) return jsGemm(a, b, m, k, n, transA, transB);
    const session = this.sessions[(transA ? 2 : 0) + (transB ? 1 : 0)];
    const A = new this.ort.Tensor('float32', a, transA ? [k, m] : [m, k]);
    const B = new this.ort.Tensor('float32', b, transB ? [n, k] : [k, n]);
    const out = session.run({ A, B }, { Y: null }, {});
    return out.Y.data as Float32Array;
  }

  dispose(): void {
    for (const s of this.sessions) s.dispose();
    this.sessions.length = 0;
  }
}

let ortLoadError: string | undefined;

/**
 * An ORT kernel, or undefined (with `ortUnavailableReason()` saying why) when it cannot load.
 * onnxruntime-node is loaded here, not imported at the top, so the JS engine works without it.
 */
export function createOrtKernel(options: OrtKernelOptions = {}): OrtKernel | undefined {
  try {
    const require = createRequire(import.meta.url);
    // Else onnxruntime's telemetry leaves an empty /tmp/mat-debug-<pid>.log per process.
    process.env.ORT_DISABLE_TELEMETRY ??= '1';
    const ort = require('onnxruntime-node') as typeof Ort;
    const native = require('onnxruntime-node/dist/binding.js') as NativeBinding;
    return new OrtKernel(ort, native, options);
  } catch (e) {
    ortLoadError = e instanceof Error ? e.message : String(e);
    return undefined;
  }
}

export function ortUnavailableReason(): string | undefined {
  return ortLoadError;
}
