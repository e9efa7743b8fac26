// The numeric engine: 2-D Float32 tensors, reverse-mode autograd, Gemm kernels (ORT or JS),
// AdamW and the seeded generator. docs/engine.md says why it is built this way.
export { Tensor, noGrad, isGradEnabled } from './tensor.js';
export * as ops from './ops.js';
export type { Activation } from './ops.js';
export { kernel, setEngine, engineInfo, type EngineInfo } from './engine.js';
export { jsKernel, createOrtKernel, OrtKernel, DEFAULT_MIN_ORT_WORK, transposeArray, type EngineName, type GemmKernel, type OrtKernelOptions } from './kernels.js';
export { AdamW, clipGradNorm, globalGradNorm, type AdamWOptions, type AdamWState, type Param, type StepInfo } from './optim.js';
export { ModelRng } from './rng.js';
export { encodeOnnxModel, gemmModel, matmulModel, ProtoWriter, OnnxType, type OnnxGraph, type OnnxNode, type OnnxValueInfo, type OnnxDim, type OnnxModelOptions } from './onnx-proto.js';
