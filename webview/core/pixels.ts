// Raw decoder pixels (grey or RGB, row-major) to the RGBA that ImageData wants, and batch slicing.

import type { ImageBatch } from '../../src/protocol/engine';

export function imageRgba(batch: ImageBatch, index: number): Uint8ClampedArray<ArrayBuffer> {
  checkBatch(batch);
  if (index < 0 || index >= batch.count) throw new Error(`image ${index} is outside the batch of ${batch.count}`);
  const n = batch.width * batch.height;
  const ch = batch.channels;
  const src = batch.pixels;
  const offset = index * n * ch;
  const out = new Uint8ClampedArray(n * 4);
  for (let p = 0; p < n; p++) {
    const s = offset + p * ch;
    out[p * 4] = src[s];
    out[p * 4 + 1] = ch === 3 ? src[s + 1] : src[s];
    out[p * 4 + 2] = ch === 3 ? src[s + 2] : src[s];
    out[p * 4 + 3] = 255;
  }
  return out;
}

export function sliceBatch(batch: ImageBatch, start: number, count: number): ImageBatch {
  checkBatch(batch);
  const size = batch.width * batch.height * batch.channels;
  return { ...batch, count, pixels: batch.pixels.slice(start * size, (start + count) * size) };
}

export function checkBatch(batch: ImageBatch): void {
  const expected = batch.count * batch.width * batch.height * batch.channels;
  if (batch.pixels.length !== expected) {
    throw new Error(
      `image batch holds ${batch.pixels.length} bytes, expected ${batch.count}×${batch.height}×${batch.width}×${batch.channels} = ${expected}`,
    );
  }
}
