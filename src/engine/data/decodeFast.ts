// One file through the fast path without sharp, as the decode threads run it: read with the size
// guards, refuse what is not an image, decode the PNGs pngFast.ts takes, and hand everything else
// back (with its bytes, so it is not read twice) for sharp on the engine's main thread.
import type { Preprocessing } from '../../protocol/model';
import { notAnImageReason, readGuardedSync, sniffFormat, type ReadOutcome } from './fileRead';
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

/**
 * A reader thread's job: read these files (each up to `syncLimit` bytes) for the engine's main
 * thread to decode, so the four system calls per file run on another core.
 */
export interface ReadJob {
  id: number;
  read: string[];
  syncLimit: number;
}

/** One file as a reader thread read it: its bytes at `at` in ReadReply.bytes, or why not. */
export type ReadResult =
  | { at: number; length: number; size: number; mtimeMs: number }
  | { reason: string; cacheable: boolean; size?: number; mtimeMs?: number }
  | 'async';

export interface ReadReply {
  id: number;
  results: ReadResult[];
  /** Every read file's bytes, one after the other (one transfer per batch). */
  bytes: Uint8Array;
}

/**
 * One file, read synchronously when it is at most `syncLimit` bytes (else 'async', nothing read).
 * `into`: where decoded pixels go (the answer's pixels are then that array); it may hold anything
 * after any other answer.
 */
export function decodeFileFast(
  path: string,
  pre: Preprocessing,
  syncLimit?: undefined,
  into?: Uint8Array,
): Exclude<FastFileOutcome, 'async'>;
export function decodeFileFast(path: string, pre: Preprocessing, syncLimit: number, into?: Uint8Array): FastFileOutcome;
export function decodeFileFast(path: string, pre: Preprocessing, syncLimit?: number, into?: Uint8Array): FastFileOutcome {
  syncLimit ??= Infinity;
  const read = readGuardedSync(path, syncLimit, readBuffer);
  if (read === 'async') return read;
  return decodeReadFast(read, pre, into);
}

/** A file read by a reader thread (readFiles), decoded here; `into` as for decodeFileFast. */
export function decodeReadResult(r: ReadResult, bytes: Uint8Array, pre: Preprocessing, into?: Uint8Array): FastFileOutcome {
  if (r === 'async') return r;
  if (!('at' in r)) return { ok: false, ...r };
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset + r.at, r.length);
  return decodeReadFast({ buf, size: r.size, mtimeMs: r.mtimeMs }, pre, into);
}

/** Reads files with the size guards into one buffer (a reader thread's work). */
export function readFiles(paths: string[], syncLimit: number): { results: ReadResult[]; bytes: Uint8Array } {
  let bytes = Buffer.allocUnsafeSlow(1 << 18);
  let used = 0;
  const results = paths.map((path): ReadResult => {
    const read = readGuardedSync(path, syncLimit, bytes.subarray(used));
    if (read === 'async' || !('buf' in read)) return read;
    const { buf, size, mtimeMs } = read;
    if (buf.buffer !== bytes.buffer) {
      // It did not fit in what is left: a larger buffer, the bytes so far copied over.
      const larger = Buffer.allocUnsafeSlow(Math.max(2 * bytes.length, used + buf.length));
      larger.set(bytes.subarray(0, used));
      larger.set(buf, used);
      bytes = larger;
    }
    const at = used;
    used += buf.length;
    return { at, length: buf.length, size, mtimeMs };
  });
  return { results, bytes: bytes.subarray(0, used) };
}

function decodeReadFast(read: ReadOutcome, pre: Preprocessing, into?: Uint8Array): Exclude<FastFileOutcome, 'async'> {
  if (!('buf' in read)) return { ok: false, ...read };
  const { buf, size, mtimeMs } = read;
  // Bytes that leave here are the file's own copy (a decode thread transfers them), never readBuffer.
  const own = () => (buf.buffer === readBuffer.buffer ? copy(buf) : buf);
  const format = sniffFormat(buf);
  if (!format) return { ok: false, reason: notAnImageReason(buf), cacheable: true, size, mtimeMs };
  if (format !== 'png') return { bytes: own(), size, mtimeMs };
  const fast = decodePngFast(buf, pre, into);
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
