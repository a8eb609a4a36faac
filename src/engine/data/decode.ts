// Decoding one image file to uint8 pixels of the run's size and channel count, with sharp, and
// the plain-words reason when a file cannot be used.
import { promises as fs } from 'node:fs';
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { Preprocessing } from '../../protocol/model';
import { describeFsError } from './scan';
import { MAX_FILE_BYTES, MAX_INPUT_PIXELS } from './types';

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif';

/** Outcome of decoding one file. `cacheable` problems depend only on the file's bytes. */
export type DecodeOutcome =
  | { ok: true; pixels: Uint8Array; size: number; mtimeMs: number }
  | { ok: false; reason: string; cacheable: boolean; size?: number; mtimeMs?: number };

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

function notAnImageReason(buf: Uint8Array): string {
  const hint = looksLikeText(buf) ? ' (it looks like text)' : '';
  return `not an image: the content is not PNG, JPEG, WebP or GIF${hint}`;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(bytes < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

/** Reads a file with the size guards; a string is the reason it cannot be used. */
async function readGuarded(
  path: string,
): Promise<{ buf: Buffer; size: number; mtimeMs: number } | { reason: string; cacheable: boolean; size?: number; mtimeMs?: number }> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(path, 'r');
    const st = await handle.stat();
    if (st.size === 0) return { reason: 'empty file (0 bytes)', cacheable: true, size: 0, mtimeMs: st.mtimeMs };
    if (st.size > MAX_FILE_BYTES) {
      return {
        reason: `too large: ${megabytes(st.size)}, above the ${megabytes(MAX_FILE_BYTES)} file-size limit`,
        cacheable: true,
        size: st.size,
        mtimeMs: st.mtimeMs,
      };
    }
    const buf = await handle.readFile();
    return { buf, size: st.size, mtimeMs: st.mtimeMs };
  } catch (err) {
    return { reason: `cannot be read: ${describeFsError(err)}`, cacheable: false };
  } finally {
    await handle?.close();
  }
}

/** The format, or why the content is unusable (not an image, a decompression bomb, a bad header). */
async function checkHeader(buf: Buffer): Promise<{ format: ImageFormat } | { reason: string }> {
  const format = sniffFormat(buf);
  if (!format) return { reason: notAnImageReason(buf) };
  let meta: Metadata;
  try {
    // No pixel limit here: the header is read to compare the declared size with the limit ourselves.
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (err) {
    return { reason: `truncated or corrupt ${format.toUpperCase()} file (${sharpMessage(err)})` };
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (width * height > MAX_INPUT_PIXELS) {
    return {
      reason: `too large: declares ${width}×${height} pixels, above the ${MAX_INPUT_PIXELS / 1e6}-megapixel limit that guards against decompression bombs`,
    };
  }
  return { format };
}

function sharpMessage(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.split('\n')[0].trim();
}

function pipeline(buf: Buffer, pre: Preprocessing): Sharp {
  // failOn 'error' rejects truncated or corrupt data instead of returning a half-grey image,
  // yet accepts files with harmless warnings (e.g. an odd colour profile).
  let img = sharp(buf, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true, pages: 1, page: 0 });
  // Transparent pixels become black, not white: "nothing there" is 0, as in MNIST-like data and
  // the demo set, and a Bernoulli decoder sees empty background as off pixels.
  img = img.flatten({ background: { r: 0, g: 0, b: 0 } });
  img = img.resize(pre.width, pre.height, { fit: pre.fit, position: 'centre', background: { r: 0, g: 0, b: 0 } });
  // 'b-w' (not greyscale(), which converts through sRGB) is about a third cheaper on grey input.
  img = img.toColourspace(pre.channels === 1 ? 'b-w' : 'srgb');
  // 16-bit input is scaled to 8 bits here.
  return img.raw({ depth: 'uchar' });
}

export async function decodeImage(path: string, pre: Preprocessing): Promise<DecodeOutcome> {
  const read = await readGuarded(path);
  if (!('buf' in read)) return { ok: false, ...read };
  const { buf, size, mtimeMs } = read;
  const format = sniffFormat(buf);
  if (!format) return { ok: false, reason: notAnImageReason(buf), cacheable: true, size, mtimeMs };
  try {
    // One sharp call on the happy path; the header is examined only when decoding fails.
    const { data, info } = await pipeline(buf, pre).toBuffer({ resolveWithObject: true });
    const expected = pre.width * pre.height * pre.channels;
    if (info.width !== pre.width || info.height !== pre.height || info.channels !== pre.channels || data.length !== expected) {
      return {
        ok: false,
        reason: `could not be converted to ${pre.width}×${pre.height}×${pre.channels} (got ${info.width}×${info.height}×${info.channels})`,
        cacheable: true,
        size,
        mtimeMs,
      };
    }
    return { ok: true, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length), size, mtimeMs };
  } catch (err) {
    const header = await checkHeader(buf);
    const reason = 'reason' in header ? header.reason : `truncated or corrupt ${format.toUpperCase()} file (${sharpMessage(err)})`;
    return { ok: false, reason, cacheable: true, size, mtimeMs };
  }
}

/** What the preprocessing defaults need from one image: its size and whether it is grey. */
export interface ImageProbe {
  width: number;
  height: number;
  grey: boolean;
}

export async function probeImage(path: string): Promise<ImageProbe | null> {
  const read = await readGuarded(path);
  if (!('buf' in read)) return null;
  const header = await checkHeader(read.buf);
  if ('reason' in header) return null;
  try {
    const img = sharp(read.buf, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, autoOrient: true, pages: 1 });
    const meta = await img.metadata();
    const width = meta.autoOrient?.width ?? meta.width ?? 0;
    const height = meta.autoOrient?.height ?? meta.height ?? 0;
    const colourChannels = meta.hasAlpha ? meta.channels - 1 : meta.channels;
    if (colourChannels === 1 || meta.space === 'b-w' || meta.space === 'grey16') return { width, height, grey: true };
    return { width, height, grey: await pixelsAreGrey(read.buf) };
  } catch {
    return null;
  }
}

/** RGB files whose pixels are all grey (common for scans and JPEG exports) count as grey. */
async function pixelsAreGrey(buf: Buffer): Promise<boolean> {
  const { data } = await sharp(buf, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, pages: 1 })
    .flatten({ background: { r: 0, g: 0, b: 0 } })
    .resize(32, 32, { fit: 'fill' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // A few levels of tolerance absorb JPEG chroma rounding.
  for (let i = 0; i + 2 < data.length; i += 3) {
    if (Math.abs(data[i] - data[i + 1]) > 4 || Math.abs(data[i + 1] - data[i + 2]) > 4) return false;
  }
  return true;
}
