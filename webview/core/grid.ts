// Latent grids for the decoded manifold and per-dimension traversals.

/** Inverse of the standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
export function inverseNormalCdf(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new Error(`inverseNormalCdf: p must be in [0, 1], got ${p}`);
  }
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}

/** Complementary error function (Numerical Recipes erfcc, relative error < 1.2e-7), for checks. */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

export interface LatentRect {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * A rows × cols grid of 2-D latents at cell centres over the rectangle, row-major from the top
 * row (largest y) down, so row r, column c is drawn at screen row r, column c.
 */
export function regularGrid(rect: LatentRect, cols: number, rows: number): Float32Array {
  const out = new Float32Array(rows * cols * 2);
  for (let r = 0; r < rows; r++) {
    const y = rect.y1 - ((r + 0.5) / rows) * (rect.y1 - rect.y0);
    for (let c = 0; c < cols; c++) {
      const i = (r * cols + c) * 2;
      out[i] = rect.x0 + ((c + 0.5) / cols) * (rect.x1 - rect.x0);
      out[i + 1] = y;
    }
  }
  return out;
}

/**
 * Kingma & Welling's manifold figure: n × n latents at the standard normal quantiles of evenly
 * spaced probabilities, so each cell holds equal prior mass. Same row order as regularGrid.
 */
export function gaussianGrid(n: number, margin = 0.05): Float32Array {
  const q = Array.from({ length: n }, (_, i) => inverseNormalCdf(margin + ((1 - 2 * margin) * i) / Math.max(n - 1, 1)));
  const out = new Float32Array(n * n * 2);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      out[(r * n + c) * 2] = q[c];
      out[(r * n + c) * 2 + 1] = q[n - 1 - r];
    }
  }
  return out;
}

/**
 * Per-dimension traversal: for each dimension d a row of `steps` latents equal to the centre
 * except in d, which sweeps centre[d] − range … centre[d] + range. Row-major dims × steps × dims.
 */
export function traversalLatents(center: ArrayLike<number>, steps: number, range: number): Float32Array {
  const dims = center.length;
  const out = new Float32Array(dims * steps * dims);
  for (let d = 0; d < dims; d++) {
    for (let s = 0; s < steps; s++) {
      const base = (d * steps + s) * dims;
      for (let j = 0; j < dims; j++) out[base + j] = center[j];
      out[base + d] = center[d] - range + (2 * range * s) / Math.max(steps - 1, 1);
    }
  }
  return out;
}

/** Grid size for the visible region: about one decoded tile per `tilePx` screen pixels. */
export function gridSizeFor(widthPx: number, heightPx: number, tilePx: number, max = 24): { cols: number; rows: number } {
  const clamp = (v: number) => Math.max(2, Math.min(max, Math.round(v)));
  return { cols: clamp(widthPx / tilePx), rows: clamp(heightPx / tilePx) };
}

/**
 * Cell edges (n + 1, ascending) for gaussianGrid(n, margin): boundaries at the normal quantiles
 * halfway between neighbouring grid probabilities, so every cell holds its grid point and the
 * cells tile the central part of the prior with equal mass per row and column.
 */
export function gaussianEdges(n: number, margin = 0.05): number[] {
  const step = (1 - 2 * margin) / Math.max(n - 1, 1);
  return Array.from({ length: n + 1 }, (_, i) => inverseNormalCdf(Math.min(Math.max(margin + (i - 0.5) * step, 1e-6), 1 - 1e-6)));
}

/** Cell edges (count + 1, ascending) of regularGrid along one axis. */
export function regularEdges(lo: number, hi: number, count: number): number[] {
  return Array.from({ length: count + 1 }, (_, i) => lo + ((hi - lo) * i) / count);
}
