// Which 2-D coordinates the scatter shows for the loaded latents: the latents themselves (2-D),
// PCA (computed here), UMAP (computed by the engine) or any two latent dimensions; and the way
// back from a spot on the screen to a latent vector, where one exists. PCA and the latent axes
// cover every folder loaded (switching a folder off does not move the others' points); UMAP is
// fitted per folder by the engine, from the run's encoding of that folder.

import type { Point2 } from './core/hitTest';
import { pca2, pcaInverse, type Pca2 } from '../src/protocol/pca';
import type { PointSet } from './core/pointSet';
import type { Projection } from './core/viewState';

export class ProjectionStore {
  private points: PointSet | null = null;
  private pca: Pca2 | null = null;
  /** UMAP coordinates by folder, as the engine gave them. */
  private umapOf = new Map<string, Float32Array>();
  private umap: Float32Array | null = null;
  /** Folders whose UMAP layout shown is an intermediate one. */
  private readonly converging = new Set<string>();
  private dimsCache = new Map<string, Float32Array>();
  private meanLatent: Float64Array | null = null;

  /** New points; `kept` folders' points are unchanged since the last set (their UMAP stays). */
  setPoints(points: PointSet, kept: ReadonlySet<string> = new Set()): void {
    this.points = points;
    this.pca = null;
    this.umap = null;
    for (const folder of [...this.umapOf.keys()]) if (!kept.has(folder)) this.umapOf.delete(folder);
    this.assembleUmap();
    this.dimsCache.clear();
    this.meanLatent = null;
  }

  hasUmap(): boolean {
    return this.umap !== null;
  }

  /** The folders still without UMAP coordinates. */
  umapMissing(): string[] {
    return (this.points?.folders ?? []).filter((f) => !this.umapOf.has(f.folder)).map((f) => f.folder);
  }

  /** A folder's UMAP layout; `partial` while the engine is still converging (the final one follows). */
  setUmap(folder: string, coords: Float32Array, partial = false): void {
    const f = this.points?.folders.find((s) => s.folder === folder);
    if (!f || coords.length !== f.count * 2) return;
    this.umapOf.set(folder, coords);
    if (partial) this.converging.add(folder);
    else this.converging.delete(folder);
    this.assembleUmap();
  }

  /** Every folder's UMAP coordinates in point order, once each folder has them. */
  private assembleUmap(): void {
    const pts = this.points;
    if (!pts || pts.folders.length === 0 || this.umapMissing().length > 0) return;
    const all = new Float32Array(pts.names.length * 2);
    for (const f of pts.folders) all.set(this.umapOf.get(f.folder)!, f.start * 2);
    this.umap = all;
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
    const several = pts.folders.length > 1;
    if (p.kind === 'umap') {
      if (!this.umap) return 'UMAP pending (showing PCA)';
      const what = several ? 'UMAP of each folder on its own' : 'UMAP';
      return this.converging.size > 0 ? `${what}, converging…` : what;
    }
    if (p.kind === 'dims') return `z${p.x} × z${p.y}`;
    const [a, b] = this.getPca().explained;
    return `PCA explains ${(a * 100).toFixed(1)}% + ${(b * 100).toFixed(1)}% of the variance`;
  }

  /** What the horizontal and vertical axes show, named as the toolbar names them. */
  axisTitles(p: Projection): [string, string] {
    const pts = this.points;
    if (!pts || pts.folders.length === 0) return ['', ''];
    if (pts.dims === 1) return ['z0', ''];
    if (pts.dims === 2) return ['z0', 'z1'];
    if (p.kind === 'dims') return [`z${p.x}`, `z${p.y}`];
    if (p.kind === 'umap' && this.umap) return ['UMAP 1', 'UMAP 2'];
    const [a, b] = this.getPca().explained;
    return [`PC1 · ${(a * 100).toFixed(1)}% of variance`, `PC2 · ${(b * 100).toFixed(1)}% of variance`];
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
