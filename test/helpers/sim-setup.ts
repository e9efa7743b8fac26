import { join } from 'node:path';
import { simulate } from '../../src/simulate/index.js';
import { loadDataset } from '../../src/sources/index.js';
import { createBackbone, type Backbone } from '../../src/encode/index.js';
import { encodeWindows, type EncodedWindow, type EncodeWindowsOptions } from '../../src/model/index.js';
import type { Dataset } from '../../src/telemetry/index.js';

/** The 5-min / 1-min windows every harness test reads. */
export const TEST_SPEC = { lengthMs: 5 * 60_000, strideMs: 60_000 };

/**
 * The small simulator run the harness tests share (4 h, seed 11, 10 faults, under `tmp/sim`),
 * loaded and encoded with a 32-d hash backbone; `extra` adds encode options (entities, evidence).
 */
export async function encodedSim(tmp: string, extra: Partial<EncodeWindowsOptions> = {}): Promise<{ ds: Dataset; backbone: Backbone; windows: EncodedWindow[] }> {
  const sim = join(tmp, 'sim');
  await simulate({ outDir: sim, hours: 4, seed: 11, faults: 10 });
  const ds = await loadDataset(sim);
  const backbone = await createBackbone('hash:dim=32');
  const windows = await encodeWindows(ds, { spec: TEST_SPEC, backbone, ...extra });
  return { ds, backbone, windows };
}
