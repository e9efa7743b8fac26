/**
 * Which matrix-product kernel the ops use. `RS_ENGINE=js|ort` picks it when nothing was set in
 * code; without the variable ORT is used when it loads, else JS (with the reason kept for
 * `engineInfo()`). Everything else in the engine is plain typed-array JS either way.
 */
import { UserError } from '../../telemetry/index.js';
import { createOrtKernel, jsKernel, ortUnavailableReason, type EngineName, type GemmKernel, type OrtKernelOptions } from './kernels.js';

let current: GemmKernel | undefined;
let fallbackReason: string | undefined;

function fromEnv(): GemmKernel {
  const want = process.env.RS_ENGINE?.trim().toLowerCase();
  if (want === 'js') return jsKernel;
  if (want && want !== 'ort') throw new UserError(`RS_ENGINE must be "js" or "ort", got "${process.env.RS_ENGINE}"`);
  const ort = createOrtKernel();
  if (ort) return ort;
  if (want === 'ort') throw new UserError(`RS_ENGINE=ort but onnxruntime-node could not load: ${ortUnavailableReason()}`);
  fallbackReason = `onnxruntime-node could not load (${ortUnavailableReason()}); using the JS engine`;
  return jsKernel;
}

/** The kernel in use (chosen from RS_ENGINE on first use). */
export function kernel(): GemmKernel {
  if (!current) current = fromEnv();
  return current;
}

/**
 * Switches the kernel for every later op: 'js', 'ort' (throws a UserError when onnxruntime-node
 * cannot load), or a kernel object (tests use an ORT kernel with `minWork: 0`).
 */
export function setEngine(engine: EngineName | GemmKernel, options: OrtKernelOptions = {}): GemmKernel {
  if (typeof engine !== 'string') {
    current = engine;
  } else if (engine === 'js') {
    current = jsKernel;
  } else if (engine === 'ort') {
    const k = createOrtKernel(options);
    if (!k) throw new UserError(`onnxruntime-node could not load: ${ortUnavailableReason()}`);
    current = k;
  } else {
    throw new UserError(`engine must be "js" or "ort", got "${String(engine)}"`);
  }
  fallbackReason = undefined;
  return current;
}

export interface EngineInfo {
  name: EngineName;
  /** Set when ORT was wanted by default but could not load. */
  fallbackReason?: string;
}

export function engineInfo(): EngineInfo {
  const k = kernel();
  return fallbackReason ? { name: k.name, fallbackReason } : { name: k.name };
}
