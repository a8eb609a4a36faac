// The scatter's base view: an equal-aspect frame around the points, so the isotropic prior
// N(0, I) looks round and a hover radius in pixels is one radius in data units.

export interface Frame {
  /** Data units shown across the plot at zoom 1. */
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

export function fitFrame(coords: Float32Array, widthPx: number, heightPx: number, padding = 0.06): Frame {
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (let i = 0; i < coords.length; i += 2) {
    const x = coords[i];
    const y = coords[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (minX > maxX) {
    minX = -3;
    maxX = 3;
    minY = -3;
    maxY = 3;
  }
  const cx = (minX + maxX) / 2;
  const cy = (minY + maxY) / 2;
  const spanX = Math.max(maxX - minX, 1e-6) * (1 + 2 * padding);
  const spanY = Math.max(maxY - minY, 1e-6) * (1 + 2 * padding);
  const aspect = Math.max(widthPx, 1) / Math.max(heightPx, 1);
  // Grow whichever span is too small for the screen's aspect ratio.
  const w = Math.max(spanX, spanY * aspect);
  const h = w / aspect;
  return { x0: cx - w / 2, x1: cx + w / 2, y0: cy - h / 2, y1: cy + h / 2 };
}
