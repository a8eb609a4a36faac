// Which 2-D coordinates the scatter shows for the loaded latents: the latents themselves (2-D),
// PCA (computed here), UMAP (computed by the engine) or any two latent dimensions; and the way
// back from a spot on the screen to a latent vector, where one exists.

import type { PointsMessage } from '../src/protocol/webview';
import type { Point2 } from './core/hitTest';
import { pca2, pcaInverse, type Pca2 } from './core/pca';
import type { Projection } from './core/viewState';

export class ProjectionStore {
  private points: PointsMessage | null = null;
  private pca: Pca2 | null = null;
  private umap: Float32Array | null = null;
  private dimsCache = new Map<string, Float32Array>();
  private meanLatent: Float64Array | null = null;

  setPoints(points: PointsMessage): void {
    const expected = points.names.length * points.dims;
    if (points.mu.length !== expected) {
      throw new Error(`points message: mu holds ${points.mu.length} values, expected ${points.names.length} files × ${points.dims} dims`);
    }
    this.points = points;
    this.pca = null;
    this.umap = null;
    this.dimsCache.clear();
    this.meanLatent = null;
  }

  hasUmap(): boolean {
    return this.umap !== null;
  }

  setUmap(coords: Float32Array): void {
    if (this.points && coords.length === this.points.names.length * 2) this.umap = coords;
  }

  /** The coordinates to draw, and a note for the status line (variance explained). */
  coords(p: Projection): { coords: Float32Array; note: string } {
    const pts = this.points;
    if (!pts) return { coords: new Float32Array(0), note: '' };
    if (pts.dims === 2) return { coords: pts.mu, note: '' };
    if (pts.dims === 1) return { coords: this.pair(0, -1), note: '' };
    if (p.kind === 'umap') return { coords: this.umap ?? this.getPca().coords, note: this.note(p) };
    if (p.kind === 'dims') return { coords: this.pair(p.x, p.y), note: '' };
    return { coords: this.getPca().coords, note: this.note(p) };
  }

  note(p: Projection): string {
    const pts = this.points;
    if (!pts || pts.dims <= 2) return '';
    if (p.kind === 'umap') return this.umap ? 'UMAP' : 'UMAP pending (showing PCA)';
    if (p.kind === 'dims') return `z${p.x} × z${p.y}`;
    const [a, b] = this.getPca().explained;
    return `PCA explains ${(a * 100).toFixed(1)}% + ${(b * 100).toFixed(1)}% of the variance`;
  }

  /** Screen-space position of a latent vector, or null where the projection has no formula (UMAP). */
  project(p: Projection, z: readonly number[]): Point2 | null {
    const pts = this.points;
    if (!pts || z.length !== pts.dims) return null;
    if (pts.dims === 2) return [z[0], z[1]];
    if (pts.dims === 1) return [z[0], 0];
    if (p.kind === 'dims') return [z[p.x], z[p.y]];
    if (p.kind === 'umap') return null;
    const pca = this.getPca();
    let x = 0;
    let y = 0;
    for (let j = 0; j < z.length; j++) {
      x += (z[j] - pca.mean[j]) * pca.axes[0][j];
      y += (z[j] - pca.mean[j]) * pca.axes[1][j];
    }
    return [x, y];
  }

  /** A latent vector for a spot in the plot: exact in 2-D, in the PCA plane, or the mean elsewhere. */
  latentAt(p: Projection, [x, y]: Point2): number[] | null {
    const pts = this.points;
    if (!pts) return null;
    if (pts.dims === 2) return [x, y];
    if (pts.dims === 1) return [x];
    if (p.kind === 'pca') return Array.from(pcaInverse(this.getPca(), x, y));
    if (p.kind === 'dims') {
      const z = Array.from(this.mean());
      z[p.x] = x;
      z[p.y] = y;
      return z;
    }
    return null;
  }

  private getPca(): Pca2 {
    const pts = this.points!;
    this.pca ??= pca2(pts.mu, pts.names.length, pts.dims);
    return this.pca;
  }

  private mean(): Float64Array {
    const pts = this.points!;
    if (!this.meanLatent) {
      const m = new Float64Array(pts.dims);
      const n = pts.names.length;
      for (let i = 0; i < n; i++) for (let j = 0; j < pts.dims; j++) m[j] += pts.mu[i * pts.dims + j] / n;
      this.meanLatent = m;
    }
    return this.meanLatent;
  }

  private pair(a: number, b: number): Float32Array {
    const pts = this.points!;
    const key = `${a}:${b}`;
    let c = this.dimsCache.get(key);
    if (!c) {
      const n = pts.names.length;
      c = new Float32Array(n * 2);
      for (let i = 0; i < n; i++) {
        c[2 * i] = pts.mu[i * pts.dims + a];
        c[2 * i + 1] = b < 0 ? 0 : pts.mu[i * pts.dims + b];
      }
      this.dimsCache.set(key, c);
    }
    return c;
  }
}
