// What the Images tab's buttons do with the points: interpolation endpoints (kept as latents, drawn
// on the scatter), the decoded strip, traversals around the pin, the pin's reconstruction and
// samples around it. The pinned point may be in any folder shown.

import { traversalLatents } from './core/grid';
import { baseName, type Point2 } from './core/hitTest';
import { pointFile, type PointSet } from './core/pointSet';
import type { ViewState } from './core/viewState';
import type { ImageRequests } from './imageRequests';
import type { ImagesPanel } from './imagesPanel';
import type { Notice } from './notice';
import type { ProjectionStore } from './projection';
import type { Scatter } from './scatter';

export interface PointActionsHost {
  state(): ViewState;
  update(patch: Partial<ViewState>): void;
  points(): PointSet | null;
  /** Index of the pinned point among the points, or null. */
  pinned(): number | null;
  pin(i: number): void;
  dims(): number;
  projection: ProjectionStore;
  scatter: Scatter;
  images: ImagesPanel;
  requests: ImageRequests;
  notice: Notice;
}

export class PointActions {
  constructor(private readonly h: PointActionsHost) {}

  /** A click on point i (null: the background at p): pins it, or makes it (or the spot) an endpoint. */
  click(i: number | null, p: Point2, shift: boolean): void {
    const pts = this.h.points();
    const { mode, projection } = this.h.state();
    if (mode === 'interpolate') {
      const z = i !== null && pts ? this.latentOf(i) : this.h.projection.latentAt(projection, p);
      if (z) this.addEndpoint(z);
    } else if (i !== null && pts) {
      if (shift) this.addEndpoint(this.latentOf(i));
      else this.h.pin(i);
    }
  }

  latentOf(i: number): number[] {
    const pts = this.h.points()!;
    return Array.from(pts.mu.subarray(i * pts.dims, (i + 1) * pts.dims));
  }

  addEndpoint(z: number[]): void {
    this.setEndpoints([...this.h.state().endpoints, z].slice(-2));
    if (this.h.state().endpoints.length === 2) this.decodeStrip();
  }

  setEndpoints(endpoints: number[][]): void {
    this.h.update({ endpoints });
    this.refreshMarks();
  }

  /** The pin and the endpoints on the scatter, and the endpoints in words. */
  refreshMarks(): void {
    const { endpoints: ends, projection } = this.h.state();
    this.h.scatter.setMarks({
      pin: this.h.pinned(),
      endpoints: ends.map((z) => this.h.projection.project(projection, z)).filter((p): p is Point2 => p !== null),
    });
    const fmt = (z: number[]) =>
      `(${z
        .slice(0, 4)
        .map((v) => v.toFixed(2))
        .join(', ')}${z.length > 4 ? ', …' : ''})`;
    this.h.images.setEndpoints(
      ends.length === 0 ? 'No endpoints yet.' : ends.map((z, i) => `${i === 0 ? 'A' : 'B'} ${fmt(z)}`).join('  →  '),
    );
  }

  decodeStrip(): void {
    const [a, b] = this.h.state().endpoints;
    if (a && b) this.h.requests.strip(a, b, this.h.images.steps());
    else this.h.notice.show('info', 'Pick two endpoints first: shift-click two points, or use Interpolate mode.');
  }

  traverse(): void {
    const dims = this.h.dims();
    if (dims === 0) return;
    const pts = this.h.points();
    const pinned = pts ? this.h.pinned() : null;
    const around = pinned !== null ? baseName(pts!.names.at(pinned)) : 'the origin';
    const centre = pinned !== null ? this.latentOf(pinned) : new Array<number>(dims).fill(0);
    // A row per dimension: the saved files and the sheet's rows are named z0, z1, …
    const rows = Array.from({ length: dims }, (_, d) => `z${d}`);
    this.h.requests.grid(`Traversals around ${around} (±3 per dimension)`, traversalLatents(centre, 9, 3), 9, {
      baseName: 'traversal',
      rows,
    });
  }

  /** The pinned point's original beside its reconstruction; the request names its folder. */
  reconstruct(): void {
    const pts = this.h.points();
    const pinned = this.h.pinned();
    if (pinned === null || !pts) this.h.notice.show('info', 'Click a point to pin it, then Reconstruct.');
    else this.h.requests.reconstruct(pointFile(pts, pinned));
  }

  sample(kind: 'prior' | 'around' | 'label', count: number, label: string): void {
    const pinned = this.h.pinned();
    if (kind === 'around') {
      if (pinned === null || !this.h.points()) this.h.notice.show('info', 'Click a point to pin it, then Sample around point.');
      else this.h.requests.sample(count, { kind: 'around', center: this.latentOf(pinned), radius: 0.5 });
    } else if (kind === 'label') this.h.requests.sample(count, { kind: 'label', label });
    else this.h.requests.sample(count, { kind: 'prior' });
  }
}
