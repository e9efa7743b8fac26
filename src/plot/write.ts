/** Chart files are written under a temporary name and renamed: a reader never sees half of one. */
import { rename, rm, writeFile } from 'node:fs/promises';
import { sweepStaleTemps, tempPathFor } from '../sources/index.js';

export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  await sweepStaleTemps(path);
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
