/** Writing the report folder: the page under a temporary name, renamed into place. */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../sources/index.js';

/** Writes `html` to DIR/index.html atomically (creating DIR); returns the page's path. */
export async function writeReport(dir: string, html: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, 'index.html');
  await writeFileAtomic(path, html);
  return path;
}
