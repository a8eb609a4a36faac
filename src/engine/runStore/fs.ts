// Durable, atomic file writes for the run store: every file is written under a temporary name,
// flushed to disk, then renamed over its final name, so a reader (or a crash) sees either the old
// content or the new one, never a half-written file.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Prefix of temporary names; anything starting with it is a leftover of an interrupted write. */
export const TEMP_PREFIX = '.tmp-';

export function tempName(finalPath: string): string {
  return join(dirname(finalPath), `${TEMP_PREFIX}${basename(finalPath)}-${randomBytes(4).toString('hex')}`);
}

/** Writes a file and flushes it to disk (no rename). */
export async function writeDurable(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await fs.open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes a directory entry table, so a rename inside it survives a power cut. */
export async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, 'r');
    await handle.sync();
  } catch {
    // Some file systems (and Windows) do not allow fsync on directories; the rename is still atomic.
  } finally {
    await handle?.close();
  }
}

/** Replaces `path` with `data` atomically (temp file + fsync + rename). */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  try {
    await writeDurable(tmp, data);
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/** Codes of link() on file systems without hard links (FAT, exFAT, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Writes a new file atomically and never over an existing one (then it fails with EEXIST): temp
 * file + fsync, then a hard link to the final name, which fails if that name is taken. So a full
 * disk or a crash leaves no partial file under the final name, and racing writers never clobber.
 */
export async function writeNewFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(path);
  try {
    await writeDurable(tmp, data);
    try {
      await fs.link(tmp, path);
    } catch (err) {
      if (!NO_HARD_LINKS.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      // No hard links here: check, then rename (a racing writer could slip in between).
      if (await exists(path)) throw Object.assign(new Error(`EEXIST: file already exists, '${path}'`), { code: 'EEXIST' });
      await fs.rename(tmp, path);
    }
  } finally {
    await fs.rm(tmp, { force: true });
  }
  await syncDir(dirname(path));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await fs.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a file, or returns null when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
