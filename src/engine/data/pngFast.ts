// A fast path for PNG files: pngjs (pure JavaScript, no per-call pipeline cost) decodes the PNGs
// whose result can match sharp's byte for byte; every other PNG is handed back to sharp. Small
// images (28×28 grey) decode ~20× faster this way than through a sharp pipeline.
import type { PNG as PngJs } from 'pngjs';
import { crc32, inflateSync } from 'node:zlib';
import type { Preprocessing } from '../../protocol/model';
import { inflateInto } from './inflate';
import { MAX_INPUT_PIXELS } from './types';

/** What the chunk walk learnt from a well-formed PNG. */
export interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  /** 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA. */
  colourType: number;
  /** 0 none, 1 Adam7. */
  interlace: number;
  /** Views of the file: the IDAT chunks' data, the palette and the transparency chunk. */
  idat: Uint8Array[];
  plte?: Uint8Array;
  trns?: Uint8Array;
}

/**
 * The fast decoder's answer: pixels of the run's size and channel count; `sharp` when sharp must
 * decide (an unusual or damaged file: sharp gives today's exact result or error); or a reason the
 * file is refused outright (the declared size is above the pixel limit).
 */
export type FastPngOutcome = { pixels: Uint8Array } | { sharp: string } | { reason: string };

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

// Chunks that do not change the pixels sharp returns. Anything else goes to sharp: iCCP (sharp
// converts through the profile), eXIf (auto-orientation), APNG's acTL/fcTL/fdAT, private chunks.
const HARMLESS = new Set(['PLTE', 'tRNS', 'IDAT', 'gAMA', 'cHRM', 'sRGB', 'sBIT', 'bKGD', 'pHYs', 'tEXt', 'zTXt', 'iTXt', 'tIME']);

const VALID_DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

export function tooManyPixelsReason(width: number, height: number): string {
  return `too large: declares ${width}×${height} pixels, above the ${MAX_INPUT_PIXELS / 1e6}-megapixel limit that guards against decompression bombs`;
}

/**
 * Walks the chunks of a PNG without inflating anything: the header when every chunk is whole, has
 * a good CRC and is one the fast path understands; otherwise why sharp should look at the file.
 */
export function readPngHeader(buf: Uint8Array): PngHeader | { sharp: string } {
  if (typeof crc32 !== 'function') return { sharp: 'zlib.crc32 needs Node 20.15' };
  if (buf.length < 8 || SIGNATURE.some((b, i) => buf[i] !== b)) return { sharp: 'no PNG signature' };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let header: PngHeader | undefined;
  let idat = false;
  let pos = 8;
  for (;;) {
    if (pos + 12 > buf.length) return { sharp: 'truncated chunk' };
    const length = view.getUint32(pos);
    const end = pos + 12 + length;
    if (length > 0x7fffffff || end > buf.length) return { sharp: 'truncated chunk' };
    const type = String.fromCharCode(buf[pos + 4], buf[pos + 5], buf[pos + 6], buf[pos + 7]);
    if (crc32(buf.subarray(pos + 4, pos + 8 + length)) >>> 0 !== view.getUint32(pos + 8 + length)) return { sharp: `bad CRC in ${type}` };
    if (header === undefined) {
      if (type !== 'IHDR' || length !== 13) return { sharp: 'IHDR is not the first chunk' };
      header = {
        width: view.getUint32(pos + 8),
        height: view.getUint32(pos + 12),
        bitDepth: buf[pos + 16],
        colourType: buf[pos + 17],
        interlace: buf[pos + 20],
        idat: [],
      };
      const compression = buf[pos + 18];
      const filter = buf[pos + 19];
      if (!VALID_DEPTHS[header.colourType]?.includes(header.bitDepth) || compression !== 0 || filter !== 0 || header.interlace > 1) {
        return { sharp: 'unusual IHDR' };
      }
      if (header.width === 0 || header.height === 0) return { sharp: 'zero size' };
    } else if (type === 'IEND') {
      if (!idat) return { sharp: 'no IDAT' };
      // Bytes after IEND are tolerated by sharp but not by pngjs.
      return end === buf.length ? header : { sharp: 'data after IEND' };
    } else if (!HARMLESS.has(type)) {
      return { sharp: `${type} chunk` };
    } else if (type === 'IDAT') {
      idat = true;
      header.idat.push(buf.subarray(pos + 8, pos + 8 + length));
    } else if (type === 'PLTE') {
      header.plte = buf.subarray(pos + 8, pos + 8 + length);
    } else if (type === 'tRNS') {
      header.trns = buf.subarray(pos + 8, pos + 8 + length);
    }
    pos = end;
  }
}

/**
 * Decodes a PNG to `pre`'s size and channels as sharp's pipeline in decode.ts does: alpha flattened
 * onto black as ⌊v·a/max⌋, 16-bit samples brought to 8 bits as v >> 8, grey repeated into RGB.
 * Left to sharp: a size other than the run's (sharp resizes), 16-bit to grey (libvips goes through
 * a colour table there), and colour to grey unless every pixel is already grey (libvips weighs
 * linear-light Rec. 709 luminance through its own tables).
 */
export function decodePngFast(buf: Uint8Array, pre: Preprocessing, into?: Uint8Array): FastPngOutcome {
  const header = readPngHeader(buf);
  if ('sharp' in header) return header;
  const { width, height, bitDepth } = header;
  if (width * height > MAX_INPUT_PIXELS) return { reason: tooManyPixelsReason(width, height) };
  if (width !== pre.width || height !== pre.height) return { sharp: 'needs resizing' };
  if (bitDepth === 16 && pre.channels === 1) return { sharp: '16-bit to grey' };

  // `into`, when given, receives the pixels (the answer is then that array); it may hold anything
  // after an answer that is not pixels.
  const n = width * height;
  const dest = into?.length === n * pre.channels ? into : undefined;
  let png: { data: Uint8Array | Uint16Array; alpha: boolean; grey?: Uint8Array } | null = decodeSimple(header, pre.channels === 1, dest);
  if (png?.grey) return { pixels: png.grey };
  if (!png) {
    try {
      const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
      // CRCs were checked above (natively, every chunk); pngjs would check some again in JavaScript.
      png = pngjs().sync.read(b, { skipRescale: bitDepth === 16, checkCRC: false }) as unknown as { data: Uint8Array; alpha: boolean };
    } catch (err) {
      return { sharp: err instanceof Error ? err.message : String(err) };
    }
  }
  // RGBA at the file's depth (pngjs scales low depths to 8 bits), alpha = max when absent.
  const rgba = png.data;
  if (rgba.length !== n * 4) return { sharp: 'unexpected pixel count' };
  const max = bitDepth === 16 ? 65535 : 255;
  const shift = bitDepth === 16 ? 8 : 0;
  const hasAlpha = png.alpha;
  const sample = (i: number): number => {
    const v = rgba[i];
    return (hasAlpha ? Math.floor((v * rgba[(i & ~3) + 3]) / max) : v) >> shift;
  };
  const out = dest ?? new Uint8Array(n * pre.channels);
  const colour = header.colourType === 2 || header.colourType === 3 || header.colourType === 6;
  if (!hasAlpha && shift === 0 && !colour) {
    // The common case (8-bit grey, no transparency) without the per-sample arithmetic.
    if (pre.channels === 1) for (let p = 0, o = 0; p < n * 4; p += 4, o++) out[o] = rgba[p];
    else for (let p = 0, o = 0; p < n * 4; p += 4, o += 3) out[o] = out[o + 1] = out[o + 2] = rgba[p];
  } else if (pre.channels === 3) {
    for (let p = 0, o = 0; p < n * 4; p += 4, o += 3) {
      out[o] = sample(p);
      out[o + 1] = sample(p + 1);
      out[o + 2] = sample(p + 2);
    }
  } else if (!colour) {
    for (let p = 0, o = 0; p < n * 4; p += 4, o++) out[o] = sample(p);
  } else {
    for (let p = 0, o = 0; p < n * 4; p += 4, o++) {
      const r = sample(p);
      if (r !== sample(p + 1) || r !== sample(p + 2)) return { sharp: 'colour to grey' };
      out[o] = r;
    }
  }
  return { pixels: out };
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const SCRATCH_MAX_BYTES = 1 << 20;
let scratch = new Uint8Array(1 << 16);

/**
 * The common case without pngjs: an 8-bit, non-interlaced PNG is inflated (inflate.ts, or zlib for
 * a stream that one leaves alone) and the scanline filters undone here, into RGBA as pngjs returns
 * it (alpha 255 where the file has none) — or, for a grey file wanted grey (`grey`), the samples
 * themselves. Null hands the file to pngjs: another depth, interlacing, a tRNS colour key, a palette
 * index past the palette, a stream that does not inflate to exactly the image's rows.
 */
/** `greyInto`: where a grey file wanted grey goes (width × height bytes), if given. */
function decodeSimple(
  h: PngHeader,
  wantGrey: boolean,
  greyInto?: Uint8Array,
): { data: Uint8Array; alpha: boolean; grey?: Uint8Array } | null {
  const { width, height, colourType } = h;
  if (h.bitDepth !== 8 || h.interlace !== 0) return null;
  if ((colourType === 0 || colourType === 2) && h.trns) return null;
  if (colourType === 3 && !h.plte) return null;
  const bpp = CHANNELS[colourType];
  const stride = width * bpp;
  const idat = h.idat.length === 1 ? h.idat[0] : Buffer.concat(h.idat);
  const rawBytes = (stride + 1) * height;
  // The inflated rows only live until they are unfiltered: small images share one buffer.
  if (scratch.length < rawBytes && rawBytes <= SCRATCH_MAX_BYTES) scratch = new Uint8Array(rawBytes);
  const into = scratch.length >= rawBytes ? scratch : new Uint8Array(rawBytes);
  let raw: Uint8Array = into;
  if (!inflateInto(idat, into, rawBytes)) {
    try {
      // Never more than one byte past the image's rows: that already says the stream is wrong.
      raw = inflateSync(idat, { maxOutputLength: rawBytes + 1 });
    } catch {
      return null;
    }
    if (raw.length !== rawBytes) return null;
  }
  const px = greyInto && colourType === 0 && wantGrey ? greyInto : new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const up = row - stride;
    switch (raw[src - 1]) {
      case 0:
        // A loop, not set(subarray()): rows are short, and a view per row costs more than the copy.
        for (let i = 0; i < stride; i++) px[row + i] = raw[src + i];
        break;
      case 1:
        for (let i = 0; i < stride; i++) px[row + i] = raw[src + i] + (i >= bpp ? px[row + i - bpp] : 0);
        break;
      case 2:
        for (let i = 0; i < stride; i++) px[row + i] = raw[src + i] + (y > 0 ? px[up + i] : 0);
        break;
      case 3:
        for (let i = 0; i < stride; i++) {
          const left = i >= bpp ? px[row + i - bpp] : 0;
          const above = y > 0 ? px[up + i] : 0;
          px[row + i] = raw[src + i] + ((left + above) >> 1);
        }
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? px[row + i - bpp] : 0;
          const b = y > 0 ? px[up + i] : 0;
          const c = i >= bpp && y > 0 ? px[up + i - bpp] : 0;
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          px[row + i] = raw[src + i] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return null;
    }
  }
  if (colourType === 0 && wantGrey) return { data: px, alpha: false, grey: px };
  const n = width * height;
  const rgba = new Uint8Array(n * 4);
  switch (colourType) {
    case 0:
      for (let p = 0; p < n; p++) {
        const v = px[p];
        rgba[p * 4] = rgba[p * 4 + 1] = rgba[p * 4 + 2] = v;
        rgba[p * 4 + 3] = 255;
      }
      return { data: rgba, alpha: false };
    case 2:
      for (let p = 0; p < n; p++) {
        rgba[p * 4] = px[p * 3];
        rgba[p * 4 + 1] = px[p * 3 + 1];
        rgba[p * 4 + 2] = px[p * 3 + 2];
        rgba[p * 4 + 3] = 255;
      }
      return { data: rgba, alpha: false };
    case 3: {
      const plte = h.plte!;
      const trns = h.trns;
      const entries = Math.floor(plte.length / 3);
      for (let p = 0; p < n; p++) {
        const k = px[p];
        if (k >= entries) return null;
        rgba[p * 4] = plte[k * 3];
        rgba[p * 4 + 1] = plte[k * 3 + 1];
        rgba[p * 4 + 2] = plte[k * 3 + 2];
        rgba[p * 4 + 3] = trns && k < trns.length ? trns[k] : 255;
      }
      return { data: rgba, alpha: trns !== undefined };
    }
    case 4:
      for (let p = 0; p < n; p++) {
        rgba[p * 4] = rgba[p * 4 + 1] = rgba[p * 4 + 2] = px[p * 2];
        rgba[p * 4 + 3] = px[p * 2 + 1];
      }
      return { data: rgba, alpha: true };
    default:
      rgba.set(px);
      return { data: rgba, alpha: true };
  }
}

let pngjsModule: typeof PngJs | undefined;

/**
 * pngjs, loaded on first use: the common PNGs never need it, and a reader or decode thread starts
 * ~10 ms sooner without it (it brings zlib, stream and util along).
 */
function pngjs(): typeof PngJs {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pngjsModule ??= (require('pngjs') as typeof import('pngjs')).PNG;
  return pngjsModule;
}
