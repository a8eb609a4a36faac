// Painting the points: one ImageData per frame, each point a small disc of whole device pixels,
// dimmed points first and full-colour points on top. Fast enough for a million points.

import { DIM, FULL } from './core/drawClass';
import type { Frame } from './core/geometry';

export interface PointsPaint {
  coords: Float32Array;
  colourIndex: Uint8Array;
  drawClass: Uint8Array;
  /** Points per draw class, so a pass with nothing to draw costs nothing. */
  classCounts: number[];
  /** Packed RGBA per colour index, full and dimmed. */
  fullColours: Uint32Array;
  dimColours: Uint32Array;
  frame: Frame;
  transform: { k: number; x: number; y: number };
  /** CSS pixels of the plot, and device pixels per CSS pixel. */
  width: number;
  height: number;
  dpr: number;
}

/** Paints into `buffer` (reused between frames when its size still fits) and returns it. */
export function paintPoints(ctx: CanvasRenderingContext2D, buffer: ImageData | null, p: PointsPaint): ImageData {
  const w = ctx.canvas.width;
  const h = ctx.canvas.height;
  if (!buffer || buffer.width !== w || buffer.height !== h) buffer = ctx.createImageData(w, h);
  const px = new Uint32Array(buffer.data.buffer);
  px.fill(0);
  const n = p.coords.length / 2;
  // Screen = k·(a·x + b) + t, folded into one multiply-add per axis, in device pixels.
  const { frame, width, height, dpr: d } = p;
  const { k, x: tx, y: ty } = p.transform;
  const ax = (width / (frame.x1 - frame.x0)) * k * d;
  const bx = (-frame.x0 * (width / (frame.x1 - frame.x0)) * k + tx) * d;
  const ay = (-height / (frame.y1 - frame.y0)) * k * d;
  const by = ((height + (frame.y0 * height) / (frame.y1 - frame.y0)) * k + ty) * d;
  const r = pointRadius(n, d);
  const stamp = discOffsets(r, w);
  const coords = p.coords;
  const cls = p.drawClass;
  const ci = p.colourIndex;
  const small = r <= 1;
  for (const pass of [DIM, FULL]) {
    if (!p.classCounts[pass]) continue;
    const colours = pass === FULL ? p.fullColours : p.dimColours;
    for (let i = 0; i < n; i++) {
      if (cls[i] !== pass) continue;
      // x | 0 after + 0.5 rounds as Math.round does for the on-screen (non-negative) range.
      const sx = (coords[2 * i] * ax + bx + 0.5) | 0;
      const sy = (coords[2 * i + 1] * ay + by + 0.5) | 0;
      if (sx < r || sy < r || sx >= w - r || sy >= h - r) continue;
      const colour = colours[ci[i]];
      const base = sy * w + sx;
      if (small) {
        px[base] = colour;
        px[base + 1] = colour;
        px[base + w] = colour;
        px[base + w + 1] = colour;
      } else {
        for (let s = 0; s < stamp.length; s++) px[base + stamp[s]] = colour;
      }
    }
  }
  ctx.putImageData(buffer, 0, 0);
  return buffer;
}

/** The disc radius in device pixels for n points (1 is a 2×2 square): smaller as they crowd. */
export function pointRadius(n: number, dpr: number): number {
  return Math.max(1, Math.round(dpr * (n <= 2000 ? 3 : n <= 20000 ? 2 : n <= 200000 ? 1.5 : 1)));
}

const stampCache = new Map<string, Int32Array>();

/** Buffer offsets of a filled disc of radius r on a row of width w (r = 1 is a 2×2 square). */
function discOffsets(r: number, w: number): Int32Array {
  const key = `${r}:${w}`;
  let offsets = stampCache.get(key);
  if (!offsets) {
    const list: number[] = [];
    if (r <= 1) list.push(0, 1, w, w + 1);
    else {
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r + r * 0.5) list.push(dy * w + dx);
      }
    }
    offsets = Int32Array.from(list);
    stampCache.set(key, offsets);
  }
  return offsets;
}
