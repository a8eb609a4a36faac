// UMAP of latent points for the scatter, run in the worker because it takes seconds (umap/umap.ts:
// exact neighbour graph, layout in slices whose intermediate layouts are reported). PCA and
// latent-axis views are instant and computed by the webview (webview/core/pca.ts).

import type { ProjectResult } from '../protocol/engine';
import { EngineError } from '../protocol/errors';
import { umapLayout } from './umap/umap';

/** Points of one projection at most (the explorer's own limit on points shown). */
export const UMAP_MAX_POINTS = 2_000_000;

export async function umap(
  points: Float32Array,
  dims: number,
  seed = 42,
  signal?: AbortSignal,
  onLayout?: (coords: Float32Array, epoch: number, epochs: number) => void,
): Promise<ProjectResult> {
  if (!Number.isInteger(dims) || dims < 1 || points.length % dims !== 0) {
    throw new EngineError('bad-request', `Cannot project ${points.length} values as points of ${dims} dimensions.`);
  }
  const n = points.length / dims;
  if (n > UMAP_MAX_POINTS) {
    throw new EngineError(
      'bad-request',
      `UMAP takes up to ${UMAP_MAX_POINTS} points and ${n} were given; use PCA or pick two latent dimensions as axes.`,
    );
  }
  const coords = new Float32Array(n * 2);
  if (n < 3) {
    // Too few points for a neighbour graph: their first two latent coordinates.
    for (let i = 0; i < n; i++) for (let c = 0; c < Math.min(2, dims); c++) coords[i * 2 + c] = points[i * dims + c]!;
    return { coords };
  }
  const layout = await umapLayout(points, dims, {
    seed,
    // Lets queued messages (a cancel) in between slices, and stops when cancelled.
    pause: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (signal?.aborted) throw new EngineError('cancelled', 'The projection was cancelled.');
    },
    onLayout,
  });
  return { coords: layout };
}
