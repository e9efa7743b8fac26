import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

/**
 * An exclusive lock file next to a pack: created with O_EXCL, holding `pid host`. Appenders
 * take it around "re-read the tail, drop keys now present, append", which is what keeps two
 * processes embedding the same texts from storing every row twice.
 *
 * A lock whose process is gone (same host, pid not alive) or that is older than
 * {@link STALE_MS} is stale and taken over. Waiting longer than {@link WAIT_MS} gives up on the
 * lock and appends anyway: the worst a lost race costs is a duplicate record, which readers
 * already tolerate (first record of a key wins), so no writer ever hangs on a lock.
 */

const STALE_MS = 10 * 60_000;
const WAIT_MS = 30_000;
const host = hostname();
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export class PackLock {
  private constructor(
    private readonly path: string,
    private readonly held: boolean,
  ) {}

  /** Takes the lock (waiting for it); errors other than "exists" (e.g. EROFS) are thrown. */
  static acquire(path: string): PackLock {
    const t0 = Date.now();
    for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
      try {
        const fd = openSync(path, 'wx');
        try {
          writeSync(fd, `${process.pid} ${host}\n`);
        } finally {
          closeSync(fd);
        }
        return new PackLock(path, true);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (isStale(path)) {
        try {
          unlinkSync(path);
        } catch {
          // another process took it over first
        }
        continue;
      }
      if (Date.now() - t0 > WAIT_MS) return new PackLock(path, false);
      sleepSync(wait);
    }
  }

  release(): void {
    if (!this.held) return;
    try {
      unlinkSync(this.path);
    } catch {
      // taken over as stale meanwhile: nothing of ours left to remove
    }
  }
}

function isStale(path: string): boolean {
  let text: string;
  let mtimeMs: number;
  try {
    text = readFileSync(path, 'utf8');
    mtimeMs = statSync(path).mtimeMs;
  } catch {
    return false; // released meanwhile: just try again
  }
  if (Date.now() - mtimeMs > STALE_MS) return true;
  const [pidText, lockHost] = text.trim().split(' ');
  const pid = Number(pidText);
  // Empty: its owner is between create and write; give it time (the age rule covers a crash there).
  if (!Number.isInteger(pid) || pid <= 0 || lockHost !== host) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

const UNWRITABLE = new Set(['EROFS', 'EACCES', 'EPERM', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'ENOENT', 'EEXIST']);

/** Errors that mean "this folder cannot hold the cache", as opposed to bugs. */
export function isUnwritable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && UNWRITABLE.has(code);
}

/** The cause in words, e.g. "read-only file system: mkdir /x/y". */
export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const what: Record<string, string> = {
    EROFS: 'read-only file system',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'a file is in the way of a folder',
    // mkdir of a missing folder whose parent exists: a pseudo file system such as /proc
    ENOENT: 'folders cannot be created there',
    EEXIST: 'a file is in the way of a folder',
  };
  const cause = (err.code && what[err.code]) ?? err.message;
  return err.syscall && err.path ? `${cause}: ${err.syscall} ${err.path}` : cause;
}

/**
 * mkdir -p without `{ recursive: true }`: Node 20's recursive mkdir loops forever under /proc
 * (it retries the ENOENT). Creates each missing level in turn, so the error names the first
 * folder that could not be made.
 */
export function mkdirs(dir: string): void {
  const missing: string[] = [];
  let d = dir;
  for (;;) {
    try {
      if (!statSync(d).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR', syscall: 'mkdir', path: d });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    missing.push(d);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  for (let i = missing.length - 1; i >= 0; i--) {
    try {
      mkdirSync(missing[i]);
    } catch (e) {
      // Made by a concurrent writer: fine.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !statSync(missing[i]).isDirectory()) throw e;
    }
  }
}
