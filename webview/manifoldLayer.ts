// The decoded-manifold tile layer behind the scatter: a canvas of decoded images, tile (r, c) of
// which is drawn over the latent cell [xEdges[c], xEdges[c+1]] × [yEdges[r+1], yEdges[r]].
// A regular grid has evenly spaced edges; the inverse-CDF grid has cells of equal prior mass,
// wide in the tails and narrow near the origin, so its tiles are drawn where they fall.

import type { ScaleLinear } from 'd3-scale';

export interface ManifoldTiles {
  image: CanvasImageSource;
  cols: number;
  rows: number;
  /** Pixel size of one decoded image inside `image`. */
  tileWidth: number;
  tileHeight: number;
  /** cols + 1 latent x edges, ascending. */
  xEdges: number[];
  /** rows + 1 latent y edges, descending: row 0 is the top row. */
  yEdges: number[];
  /** Equal spacing: the whole image can be drawn in one call. */
  uniform: boolean;
}

export function drawManifoldTiles(
  ctx: CanvasRenderingContext2D,
  tiles: ManifoldTiles,
  x: ScaleLinear<number, number>,
  y: ScaleLinear<number, number>,
): void {
  ctx.imageSmoothingEnabled = false;
  const { xEdges: xe, yEdges: ye, image, cols, rows, tileWidth: tw, tileHeight: th } = tiles;
  if (tiles.uniform) {
    ctx.drawImage(image, x(xe[0]), y(ye[0]), x(xe[cols]) - x(xe[0]), y(ye[rows]) - y(ye[0]));
    return;
  }
  // Whole-pixel edges shared by neighbouring tiles, so no seams open between them.
  const sx = xe.map((v) => Math.round(x(v)));
  const sy = ye.map((v) => Math.round(y(v)));
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      ctx.drawImage(image, c * tw, r * th, tw, th, sx[c], sy[r], sx[c + 1] - sx[c], sy[r + 1] - sy[r]);
    }
  }
}
