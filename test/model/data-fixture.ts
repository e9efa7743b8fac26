/**
 * Shared fixtures of the data/sampler/trainer tests: a small simulated folder written once per
 * test file, and hand-made EncodedWindows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import type { EncodedWindow } from '../../src/model/data.js';
import type { Modality } from '../../src/model/index.js';

export const SPEC = { lengthMs: 5 * 60_000, strideMs: 60_000 };

/** Simulates `hours` into a fresh temp folder; returns it and a cleanup. */
export async function simulatedFolder(hours = 2, seed = 3, faults = 3): Promise<{ dir: string; root: string; cleanup: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'rs-train-'));
  const dir = join(root, 'sim');
  await simulate({ hours, seed, faults, outDir: dir });
  return { dir, root, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A window of `source` starting at minute `minute`, with the given modalities (width `dim`). */
export function fakeWindow(source: string, minute: number, modalities: readonly Modality[], dim = 4, opts: { abnormal?: boolean; caseId?: string; split?: 'train' | 'test'; index?: number; lengthMin?: number } = {}): EncodedWindow {
  const inputs: Partial<Record<Modality, Float32Array>> = {};
  for (const m of modalities) inputs[m] = Float32Array.from({ length: dim }, (_, j) => minute + j / 10 + (m === 'metrics' ? 0 : m === 'traces' ? 100 : 200));
  const start = minute * 60_000;
  const end = start + (opts.lengthMin ?? 5) * 60_000;
  return {
    source,
    window: { index: opts.index ?? minute, start, end, ...(opts.caseId ? { caseId: opts.caseId } : {}) },
    label: { abnormal: opts.abnormal ?? false },
    caseId: opts.caseId,
    split: opts.split,
    inputs,
  };
}
