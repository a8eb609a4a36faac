// Which points "Export…" hands to the host: the selected points that are drawn (a brush or lasso
// selection, less classes and folders switched off), or every drawn point when nothing is
// selected — grouped by folder, each with where the map draws it. Search only dims points, so it
// does not narrow an export.

import { HIDDEN } from './drawClass';
import type { PointSet } from './pointSet';

export interface ExportPart {
  folder: string;
  names: string[];
  coords: Float32Array;
}

export function exportParts(set: PointSet, coords: Float32Array, drawClass: Uint8Array, selected: Uint8Array | null): ExportPart[] {
  const byFolder = set.folders.map(() => [] as number[]);
  const n = Math.min(drawClass.length, set.folderOf.length);
  for (let i = 0; i < n; i++) if (drawClass[i] !== HIDDEN && (!selected || selected[i])) byFolder[set.folderOf[i]].push(i);
  const parts: ExportPart[] = [];
  byFolder.forEach((points, k) => {
    if (points.length === 0) return;
    const xy = new Float32Array(points.length * 2);
    points.forEach((i, j) => {
      xy[2 * j] = coords[2 * i];
      xy[2 * j + 1] = coords[2 * i + 1];
    });
    parts.push({ folder: set.folders[k].folder, names: points.map((i) => set.names.at(i)), coords: xy });
  });
  return parts;
}
