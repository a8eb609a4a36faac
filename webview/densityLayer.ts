// Density contours over the scatter (issue 10, item 3): the aggregate posterior as kernel density
// of the points drawn, and — where the view is a linear image of the latent space (2-D latents,
// two latent dimensions, PCA) — the prior N(0, I) beside it. Both at the same shares of mass
// (39 %, 86 % and 99 %: the prior's circles of radius 1, 2 and 3), so a region inside a prior
// circle but outside the matching posterior contour is where samples land far from any data.
// Levels come from the density over every drawn point; the shapes from a grid over the view,
// recomputed when pan or zoom comes to rest; in between, the paths follow the view.

import { contours } from 'd3-contour';
import type { ScaleLinear } from 'd3-scale';
import type { Selection } from 'd3-selection';
import { densityGrid, massLevels, scottBandwidth, type DensityGrid } from './core/density';
import { HIDDEN as HIDDEN_CLASS } from './core/drawClass';
import { fitFrame } from './core/geometry';
import type { Point2 } from './core/hitTest';

/** Radii of the prior's circles and the mass inside each in 2-D, 1 − exp(−r²/2). */
export const PRIOR_RADII = [1, 2, 3];
export const SHARES = PRIOR_RADII.map((r) => 1 - Math.exp(-(r * r) / 2));

export interface DensityShapes {
  /** Per share (outermost first), the contour rings in data coordinates. */
  aggregate: Point2[][][];
  /** Centre of the prior in map coordinates, or null where the map has no linear image of it (UMAP). */
  priorCentre: Point2 | null;
}

/** Cell size of the view grid, CSS pixels. */
const CELL_PX = 5;

/**
 * The contours of the drawn points over `rect` at the levels of `levelsFrom` (a grid over every
 * drawn point), in data coordinates.
 */
export function densityShapes(
  coords: Float32Array,
  skip: (i: number) => boolean,
  rect: { x0: number; x1: number; y0: number; y1: number },
  size: { width: number; height: number },
  levels: number[],
): Point2[][][] {
  // No finer than a quarter of the bandwidth: the density is smooth below it, and a finer grid only
  // widens the kernel (in nodes) the smoothing has to sweep.
  const { bandwidth } = scottBandwidth(coords, skip);
  const cols = Math.max(8, Math.min(400, Math.round(size.width / CELL_PX), Math.ceil((4 * (rect.x1 - rect.x0)) / bandwidth[0]) + 1));
  const rows = Math.max(8, Math.min(400, Math.round(size.height / CELL_PX), Math.ceil((4 * (rect.y1 - rect.y0)) / bandwidth[1]) + 1));
  const grid = densityGrid({ coords, skip, rect, cols, rows, bandwidth });
  return levels.map((level) => ringsAt(grid, level));
}

/** The density levels holding SHARES of the mass of every drawn point (a grid over all of them). */
export function densityLevels(coords: Float32Array, skip: (i: number) => boolean): number[] {
  const frame = fitFrame(coords, 400, 400);
  // Room for the kernel's tails around the points.
  const padX = (frame.x1 - frame.x0) * 0.25;
  const padY = (frame.y1 - frame.y0) * 0.25;
  const grid = densityGrid({
    coords,
    skip,
    rect: { x0: frame.x0 - padX, x1: frame.x1 + padX, y0: frame.y0 - padY, y1: frame.y1 + padY },
    cols: 200,
    rows: 200,
  });
  return massLevels(grid, SHARES);
}

function ringsAt(grid: DensityGrid, level: number): Point2[][] {
  if (!(level > 0)) return [];
  const [shape] = contours().size([grid.cols, grid.rows]).thresholds([level])(Array.from(grid.values));
  // d3-contour puts node (c, r) at (c + ½, r + ½).
  return shape.coordinates.flatMap((polygon) =>
    polygon.map((ring) => ring.map(([cx, cy]) => [grid.x0 + (cx - 0.5) * grid.dx, grid.y0 + (cy - 0.5) * grid.dy] as Point2)),
  );
}

/** Draws the shapes through the zoomed scales (every frame: a few hundred points). */
export function drawDensity(
  svg: Selection<SVGSVGElement, unknown, null, undefined>,
  shapes: DensityShapes | null,
  x: ScaleLinear<number, number>,
  y: ScaleLinear<number, number>,
): void {
  const g = svg.select<SVGGElement>('.density');
  const path = (rings: Point2[][]) =>
    rings.map((ring) => 'M' + ring.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join('L') + 'Z').join('');
  g.selectAll<SVGPathElement, Point2[][]>('path.aggregate')
    .data(shapes?.aggregate ?? [])
    .join('path')
    .attr('class', (_, i) => `aggregate level-${i}`)
    .attr('data-share', (_, i) => SHARES[SHARES.length - 1 - i].toFixed(3))
    .attr('d', path);
  const centre = shapes?.priorCentre;
  const unit = Math.abs(x(1) - x(0));
  const unitY = Math.abs(y(1) - y(0));
  g.selectAll<SVGEllipseElement, number>('ellipse.prior')
    .data(centre ? [...PRIOR_RADII].reverse() : [])
    .join('ellipse')
    .attr('class', (r) => `prior radius-${r}`)
    .attr('cx', centre ? x(centre[0]) : 0)
    .attr('cy', centre ? y(centre[1]) : 0)
    .attr('rx', (r) => r * unit)
    .attr('ry', (r) => r * unitY);
}

export interface DensityHost {
  /** The map coordinates of every point, and what each is drawn as (HIDDEN ones are left out). */
  coords(): Float32Array;
  drawn(): Uint8Array;
  /** The prior's centre on the map, or null where the map is not a linear image of the latents. */
  priorCentre(): Point2 | null;
  visibleRect(): { x0: number; x1: number; y0: number; y1: number };
  size(): { width: number; height: number };
  show(shapes: DensityShapes | null): void;
}

/** Keeps the contours in step with the points, what is drawn, and the view (after it settles). */
export class DensityController {
  private on = false;
  private levels: number[] | null = null;
  private timer = 0;
  /** The points and hidden set the levels were made for. */
  private keyCoords: Float32Array | null = null;
  private keyHidden = '';

  constructor(private readonly host: DensityHost) {}

  set(on: boolean): void {
    this.on = on;
    this.refresh();
  }

  /**
   * What is drawn changed. Only new points, another projection or points hidden or shown again
   * change the density; dimming (a search, a selection) does not, so typing a search recomputes
   * nothing.
   */
  pointsChanged(): void {
    const coords = this.host.coords();
    const hidden = hiddenKey(this.host.drawn());
    if (coords === this.keyCoords && hidden === this.keyHidden) return;
    this.keyCoords = coords;
    this.keyHidden = hidden;
    this.levels = null;
    if (this.on) this.refresh();
  }

  /** Pan or zoom came to rest: the shapes for the new view, soon (the paths already follow it). */
  viewChanged(): void {
    if (!this.on) return;
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.refresh(), 60);
  }

  private refresh(): void {
    clearTimeout(this.timer);
    if (!this.on) {
      this.host.show(null);
      return;
    }
    performance.mark('density-start');
    const coords = this.host.coords();
    const drawn = this.host.drawn();
    const skip = (i: number) => drawn[i] === HIDDEN_CLASS;
    if (coords.length === 0) {
      this.host.show({ aggregate: [], priorCentre: this.host.priorCentre() });
      return;
    }
    this.levels ??= densityLevels(coords, skip);
    const aggregate = densityShapes(coords, skip, this.host.visibleRect(), this.host.size(), this.levels);
    this.host.show({ aggregate, priorCentre: this.host.priorCentre() });
    performance.measure('density', 'density-start');
  }
}

/** Which points are hidden, as a short key: their count and a hash of their indices (FNV-1a). */
function hiddenKey(drawn: Uint8Array): string {
  let h = 0x811c9dc5;
  let count = 0;
  for (let i = 0; i < drawn.length; i++) {
    if (drawn[i] !== HIDDEN_CLASS) continue;
    count++;
    h = Math.imul(h ^ i, 0x01000193);
  }
  return `${drawn.length}:${count}:${h >>> 0}`;
}
