// Decoded images are raw pixels: painted with ImageData, never round-tripped through PNG.

import type { ImageBatch } from '../src/protocol/engine';
import { imageRgba } from './core/pixels';

/** All images of the batch tiled into one canvas at native size, `cols` per row. */
export function batchToCanvas(batch: ImageBatch, cols: number): HTMLCanvasElement {
  const rows = Math.ceil(batch.count / cols);
  const canvas = document.createElement('canvas');
  canvas.width = cols * batch.width;
  canvas.height = rows * batch.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('imageCanvas: the webview could not create a 2-D canvas context');
  for (let i = 0; i < batch.count; i++) {
    const image = new ImageData(imageRgba(batch, i), batch.width, batch.height);
    ctx.putImageData(image, (i % cols) * batch.width, Math.floor(i / cols) * batch.height);
  }
  return canvas;
}

/** Shows the tiled batch in `target`, scaled by whole pixels (crisp) to about `cellPx` per image. */
export function showBatch(target: HTMLCanvasElement, batch: ImageBatch, cols: number, cellPx: number): void {
  const tiles = batchToCanvas(batch, cols);
  const scale = Math.max(1, Math.floor(cellPx / Math.max(batch.width, batch.height)));
  target.width = tiles.width * scale;
  target.height = tiles.height * scale;
  const ctx = target.getContext('2d');
  if (!ctx) return;
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(tiles, 0, 0, target.width, target.height);
  target.dataset.images = String(batch.count);
  target.dataset.scale = String(scale);
}
