/**
 * Reader of the Nezha export layout (IntelligentDDS/Nezha: `rca_data/<day>/`,
 * `construct_data/<day>/`, per-pod metric CSVs, per-minute trace and log CSVs, fault lists).
 * Pod → service follows `serviceOfPod` (`<service>-<replicaset hash>-<suffix>`).
 */
import { findDays } from './layout.js';

export { openNezha, readNezhaLogs } from './dataset.js';
export type { NezhaDataset, NezhaLogStream } from './dataset.js';
export { dockerLogBody, severityOf } from './minutes.js';

/** True when `path` is a Nezha export root, its rca_data/ or construct_data/ folder, or one day folder. */
export async function detectNezha(path: string): Promise<boolean> {
  return (await findDays(path)) !== null;
}
