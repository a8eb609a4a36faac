// The Embedding Projector's sprite: one image holding a thumbnail per point, in a square grid
// filled row by row, at most 8192 pixels a side (the Projector refuses larger ones). Thumbnails
// keep the images' size when they all fit, and shrink (box-averaged) when they do not.

import { dirname, resolve } from 'node:path';
import { promises as fs } from 'node:fs';
import type { FileProblem } from '../../protocol/engine';
import type { Preprocessing } from '../../protocol/model';
import { writeFileAtomic } from '../runStore/fs';
import { loadFiles } from './load';
import { encodePng } from './png';

export const MAX_SPRITE_SIDE = 8192;
/** Images read between two cancel checks. */
const CHUNK = 512;

export interface SpriteLayout {
  columns: number;
  /** One thumbnail's size. */
  width: number;
  height: number;
}

/** The grid and thumbnail size for `count` images of width × height. */
export function spriteLayout(count: number, width: number, height: number, maxSide = MAX_SPRITE_SIDE): SpriteLayout {
  const columns = Math.max(1, Math.ceil(Math.sqrt(count)));
  const cell = Math.floor(maxSide / columns);
  if (cell < 1) throw new Error(`${count} images do not fit one sprite of ${maxSide}×${maxSide} pixels, even at one pixel each.`);
  const scale = Math.min(1, cell / Math.max(width, height));
  return { columns, width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/** Shrinks (or keeps) an image to tw × th by averaging each thumbnail pixel's source box. */
export function shrinkImage(pixels: Uint8Array, w: number, h: number, c: number, tw: number, th: number): Uint8Array {
  if (tw === w && th === h) return pixels;
  const out = new Uint8Array(tw * th * c);
  for (let ty = 0; ty < th; ty++) {
    const y0 = Math.floor((ty * h) / th);
    const y1 = Math.max(y0 + 1, Math.floor(((ty + 1) * h) / th));
    for (let tx = 0; tx < tw; tx++) {
      const x0 = Math.floor((tx * w) / tw);
      const x1 = Math.max(x0 + 1, Math.floor(((tx + 1) * w) / tw));
      const n = (y1 - y0) * (x1 - x0);
      for (let k = 0; k < c; k++) {
        let sum = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += pixels[(y * w + x) * c + k]!;
        out[(ty * tw + tx) * c + k] = Math.round(sum / n);
      }
    }
  }
  return out;
}

/**
 * Reads `files` as the run reads its images (`pre`) and writes their sprite to `path`; a file
 * that cannot be read leaves its cell empty (black) and is reported.
 */
export async function writeSprite(
  files: string[],
  pre: Preprocessing,
  path: string,
  signal?: AbortSignal,
): Promise<SpriteLayout & { skipped: FileProblem[] }> {
  const layout = spriteLayout(files.length, pre.width, pre.height);
  const { columns, width: tw, height: th } = layout;
  const c = pre.channels;
  const side = [columns * tw, columns * th] as const;
  const sprite = new Uint8Array(side[0] * side[1] * c);
  const skipped: FileProblem[] = [];
  const image = pre.width * pre.height * c;
  for (let start = 0; start < files.length; start += CHUNK) {
    signal?.throwIfAborted();
    const chunk = files.slice(start, start + CHUNK);
    const loaded = await loadFiles(chunk, pre, { signal });
    skipped.push(...loaded.skipped);
    const at = new Map(loaded.files.map((f, i) => [f, i]));
    chunk.forEach((file, j) => {
      const i = at.get(resolve(file));
      if (i === undefined) return;
      const thumb = shrinkImage(loaded.images.subarray(i * image, (i + 1) * image), pre.width, pre.height, c, tw, th);
      const cellIndex = start + j;
      const x0 = (cellIndex % columns) * tw;
      const y0 = Math.floor(cellIndex / columns) * th;
      for (let y = 0; y < th; y++) sprite.set(thumb.subarray(y * tw * c, (y + 1) * tw * c), ((y0 + y) * side[0] + x0) * c);
    });
  }
  await fs.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await encodePng(sprite, side[0], side[1], c));
  return { ...layout, skipped };
}
