/** Writing the report folder: the page under a temporary name, renamed into place. */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sweepStaleTemps, tempPathFor } from '../../sources/index.js';

/** Writes `html` to DIR/index.html atomically (creating DIR); returns the page's path. */
export async function writeReport(dir: string, html: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'index.html');
  await sweepStaleTemps(path);
  const tmp = tempPathFor(path);
  try {
    await writeFile(tmp, html, 'utf8');
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  return path;
}
