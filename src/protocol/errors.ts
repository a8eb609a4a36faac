// The one error type of Latent Atlas: a code a program can act on and a message a person can.
// The engine throws it, the worker sends its code and message as a failure, the client rejects
// with it again; the CLI maps codes to exit codes and the extension to its messages, each in one
// place (src/cli.ts, src/host/feedback.ts).

import type { EngineErrorCode } from './engine';

/** The engine's failure codes, and the client's own for a worker that died. */
export type ErrorCode = EngineErrorCode | 'worker-crashed';

export class EngineError extends Error {
  constructor(
    readonly code: ErrorCode,
    /** Plain words: what went wrong, which file, what to do. */
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** errno codes of a disk that refuses a write (not of a wrong path: ENOENT stays a bad request). */
const DISK_FULL = ['ENOSPC', 'EDQUOT', 'EFBIG'];
const NOT_WRITABLE = ['EACCES', 'EPERM', 'EROFS'];
const DISK_TROUBLE = ['EIO', 'ENOTDIR', 'EISDIR', 'EEXIST', 'EMFILE', 'ENFILE', 'EBUSY'];

/**
 * What a disk error means for a person, naming `where` (the error's own path when it has one), or
 * undefined when `err` is not a disk refusing a write. The engine turns it into a 'file-system'
 * failure; the CLI uses it for its own writes.
 */
export function diskProblem(err: unknown, where: string): string | undefined {
  const e = err as { code?: unknown; path?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const file = typeof e?.path === 'string' ? e.path : where;
  if (DISK_FULL.includes(code)) return `Disk full while writing ${file}: free space on that disk`;
  if (NOT_WRITABLE.includes(code)) {
    return `Cannot write ${file} (${code}: a read-only disk or a folder without write permission): make it writable`;
  }
  if (DISK_TROUBLE.includes(code)) return `Cannot write ${file} (${String(e?.message)}): fix that`;
  return undefined;
}
