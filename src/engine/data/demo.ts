// The built-in demo set: anti-aliased shapes drawn procedurally (no download), deterministic
// from the seed, with the continuous factors a 2-D latent space should recover — rotation,
// scale and x/y position — sampled uniformly. The "manifold picture" of Kingma & Welling.
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { Preprocessing } from '../../protocol/model';
import { encodePng } from './png';
import type { LoadedImages } from './types';
import { createRng } from '../rng';

/** Sorted, so a folder written by writeDemoFolder loads with the same label indices. */
export const DEMO_CLASSES = ['circle', 'square', 'triangle'] as const;
export const DEMO_COUNT = 10_000;
export const DEMO_SEED = 1;
export const DEMO_PRE: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'cover' };

/** Factor ranges. Rotation spans 60° (±30°), narrower than the square's (90°) and the
 *  triangle's (120°) symmetry period, so no two rotations in range draw the same image. */
export const DEMO_FACTORS = {
  rotation: [-Math.PI / 6, Math.PI / 6],
  scale: [0.5, 1],
  x: [-1, 1],
  y: [-1, 1],
} as const;

/** Shape size at scale 1 and largest shift, in half-image units: the shape always stays inside. */
const RADIUS = 0.57;
const MAX_SHIFT = 0.3;

export type DemoImages = LoadedImages & { factors: Float32Array };

const SQRT3 = Math.sqrt(3);

/** Signed distance (negative inside) from local point (x, y) to shape `cls` of size r. */
function signedDistance(cls: number, x: number, y: number, r: number): number {
  if (cls === 0) return Math.sqrt(x * x + y * y) - 0.85 * r;
  if (cls === 1) {
    const a = 0.72 * r;
    const qx = Math.abs(x) - a;
    const qy = Math.abs(y) - a;
    const ox = Math.max(qx, 0);
    const oy = Math.max(qy, 0);
    return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0);
  }
  // Equilateral triangle pointing up (image y grows downwards), centred on its centroid; half
  // side 0.95 r gives it an area near the circle's and square's, its corners still inside 1.1 r.
  const h = 0.95 * r;
  let px = Math.abs(x) - h;
  let py = -y + h / SQRT3;
  if (px + SQRT3 * py > 0) {
    const nx = (px - SQRT3 * py) / 2;
    const ny = (-SQRT3 * px - py) / 2;
    px = nx;
    py = ny;
  }
  px -= Math.min(Math.max(px, -2 * h), 0);
  return -Math.sqrt(px * px + py * py) * Math.sign(py);
}

function uniform(next: () => number, [lo, hi]: readonly [number, number]): number {
  return lo + (hi - lo) * next();
}

/**
 * Draws shape `cls` (an index into DEMO_CLASSES) with the given factors into `target` at
 * `offset` (expected black): the image the factors map to.
 */
export function drawShape(
  target: Uint8Array,
  offset: number,
  pre: Pick<Preprocessing, 'width' | 'height' | 'channels'>,
  cls: number,
  rotation: number,
  scale: number,
  fx: number,
  fy: number,
): void {
  const { width, height, channels } = pre;
  const unit = Math.min(width, height) / 2; // pixels per half-image unit
  const aa = 1 / unit; // one pixel in units: the width of the anti-aliased edge
  const r = RADIUS * scale;
  const cx = width / 2 + fx * MAX_SHIFT * unit;
  const cy = height / 2 + fy * MAX_SHIFT * unit;
  const cos = Math.cos(rotation);
  const sin = Math.sin(rotation);
  const reach = (r * 1.2 + aa) * unit + 1; // bounding box in pixels; outside stays black
  const x0 = Math.max(0, Math.floor(cx - reach));
  const x1 = Math.min(width - 1, Math.ceil(cx + reach));
  const y0 = Math.max(0, Math.floor(cy - reach));
  const y1 = Math.min(height - 1, Math.ceil(cy + reach));
  for (let py = y0; py <= y1; py++) {
    const dy = (py + 0.5 - cy) / unit;
    for (let px = x0; px <= x1; px++) {
      const dx = (px + 0.5 - cx) / unit;
      // Into the shape's own frame: rotate by −rotation.
      const lx = cos * dx + sin * dy;
      const ly = -sin * dx + cos * dy;
      const coverage = Math.min(1, Math.max(0, 0.5 - signedDistance(cls, lx, ly, r) / aa));
      if (coverage === 0) continue;
      const v = Math.round(coverage * 255);
      const o = offset + (py * width + px) * channels;
      for (let c = 0; c < channels; c++) target[o + c] = v;
    }
  }
}

/** Draws `count` shapes at any size; the public demoImages uses 28×28 grey. */
export function renderDemo(count = DEMO_COUNT, seed = DEMO_SEED, pre: Preprocessing = DEMO_PRE): DemoImages {
  const { width, height, channels } = pre;
  const next = createRng(seed).next;
  const pixelBytes = width * height * channels;
  const images = new Uint8Array(count * pixelBytes);
  const labels = new Int32Array(count);
  const factors = new Float32Array(count * 4);
  const files: string[] = [];

  for (let i = 0; i < count; i++) {
    const cls = i % DEMO_CLASSES.length;
    const rotation = uniform(next, DEMO_FACTORS.rotation);
    const scale = uniform(next, DEMO_FACTORS.scale);
    const fx = uniform(next, DEMO_FACTORS.x);
    const fy = uniform(next, DEMO_FACTORS.y);
    labels[i] = cls;
    factors.set([rotation, scale, fx, fy], i * 4);
    files.push(`${DEMO_CLASSES[cls]}/${String(i + 1).padStart(5, '0')}.png`);
    drawShape(images, i * pixelBytes, pre, cls, rotation, scale, fx, fy);
  }
  return {
    pre: { ...pre },
    images,
    count,
    files,
    labels,
    labelNames: [...DEMO_CLASSES],
    skipped: [],
    decoded: 0,
    fromCache: 0,
    factors,
  };
}

/** ~10,000 28×28 grey shapes; `factors` is count × 4: rotation (radians), scale, x, y. */
export function demoImages(count = DEMO_COUNT, seed = DEMO_SEED): DemoImages {
  return renderDemo(count, seed, DEMO_PRE);
}

/** Writes the demo set as PNGs, one sub-folder per class (`<dir>/<class>/00001.png`). */
export async function writeDemoFolder(dir: string, count = DEMO_COUNT, seed = DEMO_SEED): Promise<number> {
  const demo = demoImages(count, seed);
  for (const cls of DEMO_CLASSES) await fs.mkdir(join(dir, cls), { recursive: true });
  const { width, height, channels } = demo.pre;
  const pixelBytes = width * height * channels;
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < count) {
        const i = next++;
        const png = await encodePng(demo.images.subarray(i * pixelBytes, (i + 1) * pixelBytes), width, height, channels);
        await fs.writeFile(join(dir, demo.files[i]), png);
      }
    }),
  );
  return count;
}
