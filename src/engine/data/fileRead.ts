// Reading one image file with the size guards, and telling its format from its first bytes. No
// sharp here: the decode threads (decodeThread.ts) use this too.
import { closeSync, fstatSync, openSync, readSync, promises as fs } from 'node:fs';
import { describeFsError } from './scan';
import { MAX_FILE_BYTES } from './types';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

/** A file's bytes, or the reason it cannot be used (`cacheable`: the reason depends on the bytes). */
export type ReadOutcome =
  { buf: Buffer; size: number; mtimeMs: number } | { reason: string; cacheable: boolean; size?: number; mtimeMs?: number };

/** The format from the file's first bytes, so a file is decoded by what it is, not its name. */
export function sniffFormat(head: Uint8Array): ImageFormat | null {
  const b = head;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif';
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 12) === 'WEBP') return 'webp';
  return null;
}

function ascii(b: Uint8Array, from: number, to: number): string {
  return String.fromCharCode(...b.subarray(from, to));
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c < 9 || (c > 13 && c < 32 && c !== 27)) return false;
  }
  return n > 0;
}

export function notAnImageReason(buf: Uint8Array): string {
  const hint = looksLikeText(buf) ? ' (it looks like text)' : '';
  return `not an image: the content is not PNG, JPEG, WebP or GIF${hint}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

function sizeProblem(size: number, mtimeMs: number): ReadOutcome | null {
  if (size === 0) return { reason: 'empty file (0 bytes)', cacheable: true, size: 0, mtimeMs };
  if (size > MAX_FILE_BYTES) {
    return {
      reason: `too large: ${megabytes(size)}, above the ${megabytes(MAX_FILE_BYTES)} file-size limit`,
      cacheable: true,
      size,
      mtimeMs,
    };
  }
  return null;
}

/** Reads a file with the size guards: an empty or oversized file is refused without being read. */
export async function readGuarded(path: string): Promise<ReadOutcome> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const st = await handle.stat();
    const problem = sizeProblem(st.size, st.mtimeMs);
    if (problem) return problem;
    const buf = await handle.readFile();
    return { buf, size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    return { reason: `cannot be read: ${describeFsError(err)}`, cacheable: false };
  } finally {
    await handle?.close();
  }
}

/**
 * readGuarded without the event loop: for the decode threads, where blocking costs nothing, and
 * for small files on the engine's main thread (a third of the cost: no round trip per system
 * call). 'async': the file is larger than `syncLimit` bytes and was not read; read it with
 * readGuarded so the main thread does not block on it. `into`: read into this buffer when the file
 * fits (the answer is then a view of it, valid until the caller reads into it again).
 */
export function readGuardedSync(path: string, syncLimit = Infinity, into?: Buffer): ReadOutcome | 'async' {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    const problem = sizeProblem(st.size, st.mtimeMs);
    if (problem) return problem;
    if (st.size > syncLimit) return 'async';
    // `into` when it is large enough (the caller copies what it keeps); else not from the shared
    // pool: a decode thread transfers this memory to the main thread.
    const buf = into && into.length >= st.size ? into : Buffer.allocUnsafeSlow(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    // A file that shrank while being read is decoded as what was read (and found truncated).
    return { buf: got === buf.length ? buf : buf.subarray(0, got), size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    return { reason: `cannot be read: ${describeFsError(err)}`, cacheable: false };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
