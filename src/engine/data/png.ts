// Writing pixels as PNG files: samples, interpolation strips, the demo folder.
import { promises as fs } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import type { ImageBatch } from '../../protocol/engine';
import { writeNewFileAtomic } from '../runStore/fs';

export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  if (pixels.length !== width * height * channels) {
    throw new Error(
      `encodePng: ${pixels.length} bytes given for a ${width}×${height}×${channels} image (${width * height * channels} expected).`,
    );
  }
  // Grey pixels stay a grey PNG (sharp would otherwise write them as sRGB, three times the size).
  return sharp(pixels, { raw: { width, height, channels } })
    .toColourspace(channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/**
 * Writes each image of the batch as `<dir>/<stem>-001.png`, `-002`, … and returns the paths.
 * Never overwrites: existing names are skipped, and another writer racing for the same name makes
 * us move on rather than clobber its file. Each file is written atomically (temporary name, fsync,
 * link into place), so a full disk never leaves a partial or empty sample-001.png.
 */
export async function writePngs(batch: ImageBatch, dir: string, stem: string): Promise<string[]> {
  const absDir = resolve(dir);
  await fs.mkdir(absDir, { recursive: true });
  const pixelBytes = batch.width * batch.height * batch.channels;
  if (batch.pixels.length < batch.count * pixelBytes) {
    throw new Error(
      `writePngs: the batch holds ${batch.pixels.length} bytes, ${batch.count * pixelBytes} expected for ${batch.count} images.`,
    );
  }
  const written: string[] = [];
  let n = 1;
  for (let i = 0; i < batch.count; i++) {
    const png = await encodePng(batch.pixels.subarray(i * pixelBytes, (i + 1) * pixelBytes), batch.width, batch.height, batch.channels);
    for (;;) {
      const path = join(absDir, `${stem}-${String(n).padStart(3, '0')}.png`);
      n++;
      try {
        await writeNewFileAtomic(path, png);
        written.push(path);
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
  }
  return written;
}
