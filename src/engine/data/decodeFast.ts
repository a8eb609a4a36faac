// One file through the fast path without sharp, as the decode threads run it: read with the size
// guards, refuse what is not an image, decode the PNGs pngFast.ts takes, and hand everything else
// back (with its bytes, so it is not read twice) for sharp on the engine's main thread.
import type { Preprocessing } from '../../protocol/model';
import { notAnImageReason, readGuardedSync, sniffFormat } from './fileRead';
import { decodePngFast } from './pngFast';

/** A file that is neither decoded nor refused here: sharp decides, from these bytes. */
export interface NeedsSharp {
  bytes: Uint8Array;
  size: number;
  mtimeMs: number;
}

export type FastFileOutcome =
  | { pixels: Uint8Array; size: number; mtimeMs: number }
  | { ok: false; reason: string; cacheable: boolean; size?: number; mtimeMs?: number }
  | NeedsSharp
  /** Larger than the caller reads synchronously: nothing was read. */
  | 'async';

/** A decode thread's outcome for one file; the pixels of decoded files travel in ThreadReply.pixels. */
export type ThreadOutcome = { ok: true; size: number; mtimeMs: number } | Exclude<FastFileOutcome, { pixels: Uint8Array } | 'async'>;

export interface ThreadJob {
  id: number;
  paths: string[];
  pre: Preprocessing;
}

export interface ThreadReply {
  id: number;
  outcomes: ThreadOutcome[];
  /** paths.length × the image's bytes; image k at k × pixel bytes where outcome k is ok. */
  pixels: Uint8Array;
}

/** One file, read synchronously when it is at most `syncLimit` bytes (else 'async', nothing read). */
export function decodeFileFast(path: string, pre: Preprocessing): Exclude<FastFileOutcome, 'async'>;
export function decodeFileFast(path: string, pre: Preprocessing, syncLimit: number): FastFileOutcome;
export function decodeFileFast(path: string, pre: Preprocessing, syncLimit = Infinity): FastFileOutcome {
  const read = readGuardedSync(path, syncLimit, readBuffer);
  if (read === 'async') return read;
  if (!('buf' in read)) return { ok: false, ...read };
  const { buf, size, mtimeMs } = read;
  // Bytes that leave here are the file's own copy (a decode thread transfers them), never readBuffer.
  const own = () => (buf.buffer === readBuffer.buffer ? copy(buf) : buf);
  const format = sniffFormat(buf);
  if (!format) return { ok: false, reason: notAnImageReason(buf), cacheable: true, size, mtimeMs };
  if (format !== 'png') return { bytes: own(), size, mtimeMs };
  const fast = decodePngFast(buf, pre);
  if ('pixels' in fast) return { pixels: fast.pixels, size, mtimeMs };
  if ('reason' in fast) return { ok: false, reason: fast.reason, cacheable: true, size, mtimeMs };
  return { bytes: own(), size, mtimeMs };
}

/** Small files are read into this buffer: no allocation (and later collection) per file. */
const readBuffer = Buffer.allocUnsafeSlow(1 << 16);

function copy(view: Buffer): Buffer {
  const out = Buffer.allocUnsafeSlow(view.length);
  out.set(view);
  return out;
}
