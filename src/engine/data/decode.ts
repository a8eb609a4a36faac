// Decoding one image file to uint8 pixels of the run's size and channel count — PNGs that need no
// resizing through pngFast.ts, everything else with sharp — and the plain-words reason when a file
// cannot be used.
import sharp, { type Metadata, type Sharp } from 'sharp';
import type { Preprocessing } from '../../protocol/model';
import { notAnImageReason, readGuarded, readGuardedSync, sniffFormat, type ImageFormat } from './fileRead';
import { decodePngFast, readPngHeader, tooManyPixelsReason } from './pngFast';
import { MAX_INPUT_PIXELS } from './types';

export { sniffFormat, type ImageFormat };

/** Outcome of decoding one file. `cacheable` problems depend only on the file's bytes. */
export type DecodeOutcome =
  | { ok: true; pixels: Uint8Array; size: number; mtimeMs: number }
  | { ok: false; reason: string; cacheable: boolean; size?: number; mtimeMs?: number };

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
    return { reason: tooManyPixelsReason(width, height) };
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
  return decodeBuffer(read.buf, read.size, read.mtimeMs, pre);
}

/**
 * Decodes a file's bytes: PNGs through the fast path when it applies (pngFast.ts), everything
 * else, and every PNG the fast path leaves alone, through sharp. `fastTried`: a decode thread
 * already tried the fast path on these bytes.
 */
export async function decodeBuffer(
  buf: Buffer,
  size: number,
  mtimeMs: number,
  pre: Preprocessing,
  fastTried = false,
): Promise<DecodeOutcome> {
  const format = sniffFormat(buf);
  if (!format) return { ok: false, reason: notAnImageReason(buf), cacheable: true, size, mtimeMs };
  if (format === 'png' && !fastTried) {
    const fast = decodePngFast(buf, pre);
    if ('pixels' in fast) return { ok: true, pixels: fast.pixels, size, mtimeMs };
    if ('reason' in fast) return { ok: false, reason: fast.reason, cacheable: true, size, mtimeMs };
  }
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

/** Files up to this size are read for a probe without a round trip through the event loop per call. */
const PROBE_SYNC_BYTES = 1 << 20;

export async function probeImage(path: string): Promise<ImageProbe | null> {
  const quick = readGuardedSync(path, PROBE_SYNC_BYTES);
  const read = quick === 'async' ? await readGuarded(path) : quick;
  if (!('buf' in read)) return null;
  // A well-formed PNG's size and colour type are in its IHDR: no sharp call unless it is in colour.
  const png = sniffFormat(read.buf) === 'png' ? readPngHeader(read.buf) : null;
  if (png && !('sharp' in png)) {
    if (png.width * png.height > MAX_INPUT_PIXELS) return null;
    const { width, height } = png;
    // Colour PNGs whose pixels are all exactly grey decode on the fast path as grey; sharp judges
    // the rest (with its tolerance for near-grey pixels).
    const grey =
      png.colourType === 0 ||
      png.colourType === 4 ||
      'pixels' in decodePngFast(read.buf, { width, height, channels: 1, fit: 'fill' }) ||
      undefined;
    try {
      return { width, height, grey: grey ?? (await pixelsAreGrey(read.buf)) };
    } catch {
      return null;
    }
  }
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
