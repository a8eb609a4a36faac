// UMAP of latent points for the scatter (umap-js, seeded), run in the worker because it takes
// seconds. PCA and latent-axis views are instant and computed by the webview (webview/core/pca.ts).

import { UMAP } from 'umap-js';
import type { ProjectResult } from '../protocol/engine';
import { EngineError } from '../protocol/errors';
import { createRng } from './rng';

/** UMAP's neighbour search is quadratic-ish in umap-js; beyond this it takes minutes. */
export const UMAP_MAX_POINTS = 20_000;

export async function umap(points: Float32Array, dims: number, seed = 42, signal?: AbortSignal): Promise<ProjectResult> {
  if (!Number.isInteger(dims) || dims < 1 || points.length % dims !== 0) {
    throw new EngineError('bad-request', `Cannot project ${points.length} values as points of ${dims} dimensions.`);
  }
  const n = points.length / dims;
  if (n > UMAP_MAX_POINTS) {
    throw new EngineError(
      'bad-request',
      `UMAP is limited to ${UMAP_MAX_POINTS} points here and ${n} were given; use PCA or pick two latent dimensions as axes.`,
    );
  }
  const coords = new Float32Array(n * 2);
  if (n < 3) {
    // Too few points for a neighbour graph: their first two latent coordinates.
    for (let i = 0; i < n; i++) for (let c = 0; c < Math.min(2, dims); c++) coords[i * 2 + c] = points[i * dims + c]!;
    return { coords };
  }
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) rows.push(Array.from(points.subarray(i * dims, (i + 1) * dims)));
  const layout = new UMAP({ nComponents: 2, nNeighbors: Math.min(15, n - 1), random: createRng(seed).next });
  // fitAsync yields between epochs, so the worker keeps answering (and can be cancelled).
  const embedding = await layout.fitAsync(rows, () => !signal?.aborted);
  if (signal?.aborted) throw new EngineError('cancelled', 'The projection was cancelled.');
  embedding.forEach((p, i) => {
    coords[i * 2] = p[0] ?? 0;
    coords[i * 2 + 1] = p[1] ?? 0;
  });
  return { coords };
}
