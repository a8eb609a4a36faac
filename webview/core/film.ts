// The latent space forming over training: a fixed subset's posterior means after each epoch, as
// 2-D positions on one fixed basis — the latents themselves up to 2-D, else the principal axes of
// the last frame (centred on its mean) for every frame, so what moves between frames is the
// points, not the axes.

import type { Frame } from './geometry';
import { pca2 } from '../../src/protocol/pca';

/** Per frame, x, y per point. */
export function filmCoords(frames: readonly Float32Array[], count: number, dims: number): Float32Array[] {
  if (frames.length === 0) return [];
  if (dims === 2) return frames.map((f) => f.slice(0, count * 2));
  if (dims === 1) return frames.map((f) => Float32Array.from({ length: count * 2 }, (_, k) => (k % 2 ? 0 : f[k >> 1])));
  const last = pca2(frames[frames.length - 1], count, dims);
  return frames.map((f) => {
    const out = new Float32Array(count * 2);
    for (let i = 0; i < count; i++) {
      let x = 0;
      let y = 0;
      for (let j = 0; j < dims; j++) {
        const v = f[i * dims + j] - last.mean[j];
        x += v * last.axes[0][j];
        y += v * last.axes[1][j];
      }
      out[2 * i] = x;
      out[2 * i + 1] = y;
    }
    return out;
  });
}

/** A square-ish box around every frame's points (robust to a few far outliers: 0.5 % cut each side). */
export function filmFrame(coords: readonly Float32Array[]): Frame {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const c of coords)
    for (let i = 0; i < c.length; i += 2) {
      if (Number.isFinite(c[i]) && Number.isFinite(c[i + 1])) {
        xs.push(c[i]);
        ys.push(c[i + 1]);
      }
    }
  if (xs.length === 0) return { x0: -3, x1: 3, y0: -3, y1: 3 };
  const cut = (v: number[]) => {
    v.sort((a, b) => a - b);
    const k = Math.floor(v.length * 0.005);
    return [v[k], v[v.length - 1 - k]];
  };
  const [x0, x1] = cut(xs);
  const [y0, y1] = cut(ys);
  const half = Math.max(x1 - x0, y1 - y0, 1e-6) * 0.55;
  const cx = (x0 + x1) / 2;
  const cy = (y0 + y1) / 2;
  return { x0: cx - half, x1: cx + half, y0: cy - half, y1: cy + half };
}

/** The positions a fraction t of the way from a to b. */
export function between(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const out = new Float32Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = a[i] + (b[i] - a[i]) * t;
  return out;
}
