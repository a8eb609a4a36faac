// Kernel density of the points on the map, for its contours: the points binned onto a grid over
// the visible region (linear binning: each point's weight split between the four nearest grid
// nodes), then smoothed with a Gaussian kernel, one axis at a time. The bandwidth follows Scott's
// rule on the points' spread (σ·n^(−1/6) per axis), so it is a property of the data, not of the
// zoom. Levels are highest-density regions: the level above which a given share of the mass lies.

export interface DensityGrid {
  /** Grid nodes per row and per column. */
  cols: number;
  rows: number;
  /** Data coordinates of node (0, 0) and the spacing between nodes. */
  x0: number;
  y0: number;
  dx: number;
  dy: number;
  /** rows × cols densities (points per unit area, summing to ≈ n·area over the grid), row 0 at y0. */
  values: Float64Array;
  /** The Gaussian's standard deviation per axis, data units. */
  bandwidth: [number, number];
  /** Points that were counted (drawn and finite). */
  count: number;
}

export interface DensityInput {
  /** x, y per point. */
  coords: Float32Array;
  /** Points to leave out (switched off or isolated away), or null for none. */
  skip?: (i: number) => boolean;
  /** The region to cover, data units. */
  rect: { x0: number; x1: number; y0: number; y1: number };
  cols: number;
  rows: number;
  /** Overrides Scott's rule (tests). */
  bandwidth?: [number, number];
}

/** Scott's rule per axis, σ·n^(−1/6), on the counted points; a small positive value for one point or no spread. */
export function scottBandwidth(coords: Float32Array, skip?: (i: number) => boolean): { bandwidth: [number, number]; count: number } {
  let n = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < coords.length / 2; i++) {
    if (skip?.(i)) continue;
    const x = coords[2 * i];
    const y = coords[2 * i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    n++;
    sx += x;
    sy += y;
    sxx += x * x;
    syy += y * y;
  }
  if (n < 2) return { bandwidth: [1e-3, 1e-3], count: n };
  const vx = Math.max(0, (sxx - (sx * sx) / n) / (n - 1));
  const vy = Math.max(0, (syy - (sy * sy) / n) / (n - 1));
  const f = n ** (-1 / 6);
  return { bandwidth: [Math.max(Math.sqrt(vx) * f, 1e-6), Math.max(Math.sqrt(vy) * f, 1e-6)], count: n };
}

export function densityGrid(input: DensityInput): DensityGrid {
  const { coords, skip, rect, cols, rows } = input;
  const scott = scottBandwidth(coords, skip);
  const bandwidth = input.bandwidth ?? scott.bandwidth;
  const dx = (rect.x1 - rect.x0) / (cols - 1);
  const dy = (rect.y1 - rect.y0) / (rows - 1);
  // Points up to 4 bandwidths outside the region still add density inside it: bin them onto a
  // padded grid, smooth, then keep the inner part.
  const padX = Math.ceil((4 * bandwidth[0]) / dx);
  const padY = Math.ceil((4 * bandwidth[1]) / dy);
  const W = cols + 2 * padX;
  const H = rows + 2 * padY;
  const bins = new Float64Array(W * H);
  const gx0 = rect.x0 - padX * dx;
  const gy0 = rect.y0 - padY * dy;
  let count = 0;
  for (let i = 0; i < coords.length / 2; i++) {
    if (skip?.(i)) continue;
    const fx = (coords[2 * i] - gx0) / dx;
    const fy = (coords[2 * i + 1] - gy0) / dy;
    if (!Number.isFinite(fx) || !Number.isFinite(fy)) continue;
    count++;
    if (fx < 0 || fy < 0 || fx >= W - 1 || fy >= H - 1) continue;
    const ix = Math.floor(fx);
    const iy = Math.floor(fy);
    const ax = fx - ix;
    const ay = fy - iy;
    const k = iy * W + ix;
    bins[k] += (1 - ax) * (1 - ay);
    bins[k + 1] += ax * (1 - ay);
    bins[k + W] += (1 - ax) * ay;
    bins[k + W + 1] += ax * ay;
  }
  const smoothed = convolveRows(convolveColumns(bins, W, H, gaussianKernel(bandwidth[1] / dy)), W, H, gaussianKernel(bandwidth[0] / dx));
  // Kernel weights sum to 1 in node units: divide by the cell area for points per unit area.
  const values = new Float64Array(cols * rows);
  const area = dx * dy;
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[r * cols + c] = smoothed[(r + padY) * W + c + padX] / area;
  return { cols, rows, x0: rect.x0, y0: rect.y0, dx, dy, values, bandwidth, count: input.bandwidth ? count : scott.count };
}

/** A Gaussian of standard deviation `sigma` grid steps, sampled at whole steps out to 4σ, weights summing to 1. */
function gaussianKernel(sigma: number): Float64Array {
  const radius = Math.max(1, Math.ceil(4 * sigma));
  const k = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-0.5 * (i / Math.max(sigma, 1e-9)) ** 2);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

function convolveRows(src: Float64Array, W: number, H: number, k: Float64Array): Float64Array {
  const out = new Float64Array(W * H);
  const r = (k.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      const v = src[row + x];
      if (v === 0) continue;
      const lo = Math.max(0, x - r);
      const hi = Math.min(W - 1, x + r);
      for (let t = lo; t <= hi; t++) out[row + t] += v * k[t - x + r];
    }
  }
  return out;
}

function convolveColumns(src: Float64Array, W: number, H: number, k: Float64Array): Float64Array {
  const out = new Float64Array(W * H);
  const r = (k.length - 1) / 2;
  for (let y = 0; y < H; y++) {
    const lo = Math.max(0, y - r);
    const hi = Math.min(H - 1, y + r);
    for (let t = lo; t <= hi; t++) {
      const w = k[t - y + r];
      const from = y * W;
      const to = t * W;
      for (let x = 0; x < W; x++) out[to + x] += src[from + x] * w;
    }
  }
  return out;
}

/**
 * Density levels of highest-density regions: for each share p, the level above which the grid
 * holds p of the grid's mass (0.5: the densest region holding half of it). Highest share first
 * (the lowest level, the outermost contour).
 */
export function massLevels(grid: DensityGrid, shares: readonly number[]): number[] {
  const sorted = Float64Array.from(grid.values).sort().reverse();
  let total = 0;
  for (const v of sorted) total += v;
  const out: number[] = [];
  for (const p of [...shares].sort((a, b) => b - a)) {
    let acc = 0;
    let level = sorted[0] ?? 0;
    for (const v of sorted) {
      acc += v;
      level = v;
      if (acc >= p * total) break;
    }
    out.push(level);
  }
  return out;
}
