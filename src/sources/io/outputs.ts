/**
 * Output safety: an output never replaces one of the run's inputs, and a run learns that its
 * output cannot be written before it does any work (not after an hour of encoding). Also the one
 * naming and sweeping of the temporary files our atomic writers rename into place.
 */
import { accessSync, closeSync, constants, existsSync, openSync, realpathSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep, isAbsolute } from 'node:path';
import { randomBytes } from 'node:crypto';
import { UserError } from '../../telemetry/index.js';

/** Plain-words causes of the file-system errors a user can do something about. */
const CAUSES: Readonly<Record<string, string>> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EISDIR: 'it is a folder',
  ENOTDIR: 'a part of the path is not a folder',
  EEXIST: 'it already exists',
  ENOENT: 'no such file or folder',
  EMFILE: 'too many open files',
};

/** The plain cause of a Node system error code, or undefined for codes we do not explain. */
export function systemErrorCause(code: string | undefined): string | undefined {
  return code === undefined ? undefined : CAUSES[code];
}

export interface CheckOutputOptions {
  /** how the output is named on the command line, for messages (default --out) */
  label?: string;
  /** the output is a folder to create or fill (simulate), not a file */
  folder?: boolean;
}

/** `path` resolved through symbolic links as far as it exists (the rest appended as given). */
function realish(path: string): string {
  const abs = resolve(path);
  if (existsSync(abs)) return realpathSync(abs);
  const parent = dirname(abs);
  return parent === abs ? abs : join(realish(parent), basename(abs));
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function inside(child: string, folder: string): boolean {
  const rel = relative(folder, child);
  return rel === '' || (!rel.startsWith('..' + sep) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Refuses (one-line UserError, exit 1) an output that would replace or land inside one of
 * `inputs`, or that cannot be written: the same file by real path or by device and inode
 * (symbolic and hard links), any path inside an input folder (a reader of that folder could read
 * it back), an existing folder where a file is wanted, a missing or unwritable parent folder.
 * Writability is tried, not guessed: a tiny file of our temp naming is created and removed.
 * Returns the absolute output path.
 */
export function checkOutput(out: string, inputs: readonly (string | undefined)[], opts: CheckOutputOptions = {}): string {
  const label = opts.label ?? '--out';
  const abs = resolve(out);
  const real = realish(abs);
  const outStat = statOrUndefined(abs);
  for (const input of inputs) {
    if (input === undefined) continue;
    const inStat = statOrUndefined(input);
    if (!inStat) continue; // a missing input is its reader's error, reported in its own words
    const inReal = realpathSync(resolve(input));
    const same = real === inReal || (outStat !== undefined && outStat.dev === inStat.dev && outStat.ino === inStat.ino);
    if (same) throw new UserError(`${label} ${out} is the input ${input}: refusing to overwrite an input (choose another output path)`);
    if (inStat.isDirectory() && inside(real, inReal)) throw new UserError(`${label} ${out} lies inside the input folder ${input}: refusing to write where the input is read from (choose a path outside it)`);
    if (opts.folder && inside(inReal, real)) throw new UserError(`${label} ${out} contains the input ${input}: refusing to write over an input (choose another folder)`);
  }
  if (opts.folder) {
    checkFolderWritable(abs, label);
    return abs;
  }
  if (outStat?.isDirectory()) throw new UserError(`cannot write ${label} ${out}: it is an existing folder (expected a file path)`);
  const parent = dirname(abs);
  const ps = statOrUndefined(parent);
  if (!ps) throw new UserError(`cannot write ${label} ${out}: the folder ${parent} does not exist`);
  if (!ps.isDirectory()) throw new UserError(`cannot write ${label} ${out}: ${parent} is not a folder`);
  probeWritable(parent, basename(abs), `${label} ${out}`);
  return abs;
}

/** A folder output: it may exist (as a folder) or be created under its nearest existing ancestor. */
function checkFolderWritable(abs: string, label: string): void {
  const s = statOrUndefined(abs);
  if (s) {
    if (!s.isDirectory()) throw new UserError(`cannot write ${label} ${abs}: it exists and is not a folder`);
    probeWritable(abs, 'probe', `${label} ${abs}`);
    return;
  }
  let up = dirname(abs);
  for (;;) {
    const us = statOrUndefined(up);
    if (us) {
      if (!us.isDirectory()) throw new UserError(`cannot create ${label} ${abs}: ${up} is not a folder`);
      probeWritable(up, basename(abs), `${label} ${abs}`);
      return;
    }
    const next = dirname(up);
    if (next === up) throw new UserError(`cannot create ${label} ${abs}: no existing parent folder`);
    up = next;
  }
}

function probeWritable(folder: string, name: string, what: string): void {
  const fail = (e: unknown): never => {
    const code = (e as NodeJS.ErrnoException).code;
    // ENOENT when creating in an existing folder: a pseudo file system (/proc) that takes no files
    const cause = code === 'ENOENT' ? 'files cannot be created in that folder' : systemErrorCause(code) ?? (e as Error).message;
    throw new UserError(`cannot write ${what}: ${cause} (${folder})`);
  };
  try {
    accessSync(folder, constants.W_OK);
  } catch (e) {
    fail(e);
  }
  const probe = tempPathFor(join(folder, name));
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (e) {
    fail(e);
  }
  try {
    unlinkSync(probe);
  } catch {
    // a probe we could create but not remove is swept by the next writer (stale temp file)
  }
}

/** Temp files older than this are stale whoever made them (a reused pid cannot keep them). */
export const STALE_TEMP_MS = 60 * 60_000;

const TEMP_MARK = '.tmp-';

/**
 * The temporary file an atomic writer fills beside `target` before renaming it: hidden and with
 * no data-file extension (readers of the folder skip it), named after the target and the writing
 * process, so leftovers of a killed run can be told from files being written now.
 */
export function tempPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** The pid in a temp-file name of ours for `target`, or undefined if the name is not ours. */
export function tempFileOwner(name: string, target: string): number | undefined {
  const prefix = `.${basename(target)}${TEMP_MARK}`;
  if (!name.startsWith(prefix)) return undefined;
  const m = /^(\d+)-[0-9a-f]+$/.exec(name.slice(prefix.length));
  return m ? Number(m[1]) : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes stale temp files of ours for `target` (their process is gone, or they are older than
 * STALE_TEMP_MS); best effort, never throws. This process's own temp files are left alone: they
 * may be in the middle of being written (a writer thread). Returns the names removed.
 */
export async function sweepStaleTemps(target: string, now = Date.now()): Promise<string[]> {
  const dir = dirname(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const pid = tempFileOwner(name, target);
    if (pid === undefined || pid === process.pid) continue;
    const path = join(dir, name);
    try {
      const s = await stat(path);
      if (!s.isFile()) continue;
      if (alive(pid) && now - s.mtimeMs < STALE_TEMP_MS) continue;
      await rm(path, { force: true });
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: leave it
    }
  }
  return removed;
}

/** Names in `dir` that are temp files of ours (for any target): hidden, with our mark and a pid. */
export function isTempFileName(name: string): boolean {
  return name.startsWith('.') && /\.tmp-\d+-[0-9a-f]+$/.test(name);
}

/**
 * A whole file written under a temporary name in the same folder and renamed on success, so a
 * reader never sees half of it and a failure leaves the old file as it was (stale temporaries
 * of killed runs are swept first). Text is written as UTF-8.
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(path);
  await sweepStaleTemps(path);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}
