// Writes decoded images as PNG files, never overwriting. A tiny PNG encoder on node:zlib keeps
// the extension host free of native modules (sharp stays in the engine worker).

import { open } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import type { ImageBatch } from '../protocol/engine';

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit greyscale (1 channel) or RGB (3 channels) PNG of row-major pixels. */
export function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Buffer {
  if (pixels.length !== width * height * channels) {
    throw new Error(`encodePng: ${pixels.length} bytes do not make a ${width}×${height}×${channels} image.`);
  }
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0; // filter type None
    raw.set(pixels.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = channels === 1 ? 0 : 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())]);
}

/**
 * Writes each image of the batch as `<stem>-001.png`, `<stem>-002.png`, … in `dir`, skipping
 * numbers whose file exists. Files are created with the exclusive flag, so even a file that
 * appears meanwhile is never overwritten. Returns the paths written, in image order.
 */
export async function writePngFiles(batch: ImageBatch, dir: string, stem: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const imageBytes = batch.width * batch.height * batch.channels;
  const written: string[] = [];
  let n = 1;
  for (let i = 0; i < batch.count; i++) {
    const png = encodePng(batch.pixels.subarray(i * imageBytes, (i + 1) * imageBytes), batch.width, batch.height, batch.channels);
    for (;; n++) {
      const file = join(dir, `${stem}-${String(n).padStart(3, '0')}.png`);
      try {
        const handle = await open(file, 'wx');
        try {
          await handle.writeFile(png);
        } finally {
          await handle.close();
        }
        written.push(file);
        n++;
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }
  return written;
}
