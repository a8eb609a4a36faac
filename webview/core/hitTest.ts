// Selection geometry in data coordinates: rectangles (brush) and polygons (lasso).

import type { NameList } from '../../src/protocol/pointNames';

export type Point2 = [number, number];

/** Even-odd rule; points on an edge may fall either way, which a lasso never notices. */
export function pointInPolygon(x: number, y: number, polygon: readonly Point2[]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i];
    const [xj, yj] = polygon[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** The rectangle spanned by two corners, as a closed polygon. */
export function rectPolygon(a: Point2, b: Point2): Point2[] {
  const [x0, x1] = a[0] < b[0] ? [a[0], b[0]] : [b[0], a[0]];
  const [y0, y1] = a[1] < b[1] ? [a[1], b[1]] : [b[1], a[1]];
  return [
    [x0, y0],
    [x1, y0],
    [x1, y1],
    [x0, y1],
  ];
}

/** Indices of the points (count × 2 coords) inside the polygon; a bounding-box test first. */
export function pointsInPolygon(coords: Float32Array, polygon: readonly Point2[]): Uint32Array {
  if (polygon.length < 3) return new Uint32Array(0);
  let minX = Infinity,
    minY = Infinity,
    maxX = -Infinity,
    maxY = -Infinity;
  for (const [x, y] of polygon) {
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  const hits: number[] = [];
  const count = coords.length / 2;
  for (let i = 0; i < count; i++) {
    const x = coords[i * 2];
    const y = coords[i * 2 + 1];
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    if (pointInPolygon(x, y, polygon)) hits.push(i);
  }
  return Uint32Array.from(hits);
}

/** Case-insensitive file-name search: indices whose base name contains the query. */
export function searchFileNames(files: NameList, query: string): Uint32Array {
  const q = query.trim().toLowerCase();
  if (!q) return new Uint32Array(0);
  const hits: number[] = [];
  for (let i = 0; i < files.length; i++) if (baseName(files.at(i)).toLowerCase().includes(q)) hits.push(i);
  return Uint32Array.from(hits);
}

export function baseName(path: string): string {
  const cut = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return cut >= 0 ? path.slice(cut + 1) : path;
}
