import { stat, readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { UserError, type Dataset, type DatasetFormat, type LoadOptions } from '../telemetry/index.js';
import { detectNezha, openNezha } from './nezha/index.js';
import { detectAiops22, openAiops22 } from './aiops22/index.js';
import { detectOtlp, openOtlp } from './otlp/index.js';

interface Reader {
  format: DatasetFormat;
  describe: string;
  detect(path: string): Promise<boolean>;
  open(path: string, opts?: LoadOptions): Promise<Dataset>;
}

/** Tried in this order; the first whose detector accepts the path reads it. */
export const READERS: readonly Reader[] = [
  { format: 'nezha', describe: 'Nezha export (rca_data/ or construct_data/ with <YYYY-MM-DD>/metric|trace|log)', detect: detectNezha, open: openNezha },
  { format: 'aiops22', describe: 'AIOps 2022 events (a case CSV index,level,instance,anomaly_type,data_type + metric.json, log.json, trace.json)', detect: detectAiops22, open: openAiops22 },
  { format: 'otlp', describe: 'OTLP/HTTP JSON or protobuf (.json/.jsonl or .binpb/.pb/.protobuf export requests, .gz too, optional faults.json)', detect: detectOtlp, open: openOtlp },
];

/**
 * Opens a telemetry folder (or OTLP file) with the reader its layout calls for.
 * `format` skips detection. Missing, empty or unrecognised paths are UserErrors with one line
 * saying what was expected.
 */
export async function loadDataset(path: string, opts: LoadOptions & { format?: DatasetFormat } = {}): Promise<Dataset> {
  const abs = resolve(path);
  const st = await stat(abs).catch(() => null);
  if (!st) throw new UserError(`no such file or folder: ${path} (expected a telemetry folder: Nezha, AIOps 2022 events or OTLP JSON)`);
  if (st.isDirectory() && (await readdir(abs)).length === 0) {
    throw new UserError(`empty folder: ${path} (expected telemetry files: Nezha, AIOps 2022 events or OTLP JSON)`);
  }
  if (opts.format) {
    const r = READERS.find((x) => x.format === opts.format);
    if (!r) throw new UserError(`unknown format "${opts.format}" (expected one of ${READERS.map((x) => x.format).join(', ')})`);
    return r.open(abs, opts);
  }
  for (const r of READERS) {
    if (await r.detect(abs)) return r.open(abs, opts);
  }
  throw new UserError(`unrecognised layout: ${path} (expected one of: ${READERS.map((r) => r.describe).join('; ')})`);
}
