// The decoded manifold behind a 2-D scatter. Two grids: the visible region (refreshed after
// pan/zoom comes to rest, debounced) or the prior's quantiles (Kingma & Welling's inverse-CDF
// grid, fixed in latent space, drawn where its points fall). At most one decode is in flight;
// only the newest wish is kept, and a request with no answer in 15 s frees the slot.

import type { ImageBatch } from '../src/protocol/engine';
import { gaussianEdges, gaussianGrid, gridSizeFor, regularEdges, regularGrid } from './core/grid';
import { LatestOnly } from './core/latestOnly';
import { batchToCanvas } from './imageCanvas';
import type { ManifoldTiles } from './manifoldLayer';
import type { Scatter } from './scatter';

export const MANIFOLD_TIMEOUT_MS = 15_000;
/** Rows and columns of the inverse-CDF grid. */
export const PRIOR_GRID_SIZE = 15;

export interface ManifoldHost {
  readonly scatter: Scatter;
  decode(requestId: number, latents: Float32Array): void;
  requestId(): number;
  /** Latent dimensions of the points or model (the layer needs exactly 2). */
  dims(): number;
  /** Decoded image width in pixels. */
  imageWidth(): number;
  message(text: string): void;
}

type Wish = Omit<ManifoldTiles, 'image' | 'tileWidth' | 'tileHeight'> & { latents: Float32Array };

export class ManifoldController {
  private on = false;
  private prior = false;
  private timer = 0;
  private readonly sent = new Map<number, Wish>();
  private readonly gate: LatestOnly<Wish>;

  constructor(private readonly host: ManifoldHost) {
    this.gate = new LatestOnly<Wish>(
      (id, wish) => {
        this.sent.set(id, wish);
        host.decode(id, wish.latents);
      },
      () => host.requestId(),
      {
        timeoutMs: MANIFOLD_TIMEOUT_MS,
        onTimeout: (id) => {
          this.sent.delete(id);
          host.message(`The decoded manifold got no answer within ${MANIFOLD_TIMEOUT_MS / 1000} s; the next view will ask again.`);
        },
      },
    );
  }

  /** Turns the layer on or off and picks its grid; a change asks for a fresh decode. */
  set(on: boolean, prior: boolean): void {
    const changed = on !== this.on || prior !== this.prior;
    this.on = on;
    this.prior = prior;
    if (!on) {
      clearTimeout(this.timer);
      this.gate.cancelPending();
      this.host.scatter.setManifold(null);
    } else if (changed) this.refresh(0);
  }

  /** Pan or zoom came to rest: only the visible-region grid depends on the view. */
  viewChanged(): void {
    if (this.on && !this.prior) this.refresh(200);
  }

  /** Asks again after `delayMs` (debounced: a burst of calls yields one request). */
  refresh(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      if (!this.on || this.host.dims() !== 2) return;
      this.gate.request(this.prior ? priorWish() : this.viewWish());
    }, delayMs);
  }

  owns(requestId: number): boolean {
    return this.sent.has(requestId);
  }

  onImages(requestId: number, batch: ImageBatch): void {
    const wish = this.sent.get(requestId);
    this.sent.delete(requestId);
    // Only the newest wish's grid is drawn; an older one is dropped when a newer wish waits.
    if (!wish || !this.gate.settle(requestId) || !this.on) return;
    const { latents: _, ...layout } = wish;
    this.host.scatter.setManifold({ ...layout, image: batchToCanvas(batch, wish.cols), tileWidth: batch.width, tileHeight: batch.height });
  }

  onError(requestId: number): void {
    this.sent.delete(requestId);
    this.gate.settle(requestId);
  }

  private viewWish(): Wish {
    const { width, height } = this.host.scatter.size();
    const { cols, rows } = gridSizeFor(width, height, Math.max(36, this.host.imageWidth() * 1.5));
    const rect = this.host.scatter.visibleRect();
    return {
      latents: regularGrid(rect, cols, rows),
      cols,
      rows,
      xEdges: regularEdges(rect.x0, rect.x1, cols),
      yEdges: regularEdges(rect.y1, rect.y0, rows),
      uniform: true,
    };
  }
}

function priorWish(): Wish {
  const n = PRIOR_GRID_SIZE;
  const edges = gaussianEdges(n);
  return { latents: gaussianGrid(n), cols: n, rows: n, xEdges: edges, yEdges: [...edges].reverse(), uniform: false };
}
