// The pinned point: what Reconstruct, Sample around point, Traverse and Neighbours act on. The view
// state names its file, (folder, name), so it survives a rebuilt page and a re-encoded folder; this
// keeps its index among the points of every folder shown, its marker on the scatter and its card.

import type { PointFile } from '../src/protocol/webview';
import { findPoint, pointFile, type PointSet } from './core/pointSet';
import type { PinnedFile } from './core/viewState';
import { host } from './host';
import { PointCard } from './pointCard';
import type { Scatter } from './scatter';

export interface PinningHost {
  points(): PointSet | null;
  /** The pinned file as the view state keeps it, and its replacement. */
  saved(): PinnedFile | null;
  save(pin: PinnedFile | null): void;
  /** After every resolve: the pin may have moved or gone. */
  changed(): void;
  message(text: string): void;
}

export class Pinning {
  /** Index of the pinned point among the points shown. */
  index: number | null = null;
  readonly card: PointCard;

  constructor(
    private readonly scatter: Scatter,
    private readonly hostSide: PinningHost,
  ) {
    this.card = new PointCard({ open: () => this.openPinned(), unpin: () => this.pin(null) });
  }

  /** The pinned point's file, when one of the points shown is pinned. */
  file(): PointFile | null {
    const pts = this.hostSide.points();
    return this.index !== null && pts ? pointFile(pts, this.index) : null;
  }

  /** Pins point `i` of the points shown (null unpins). */
  pin(i: number | null): void {
    const pts = this.hostSide.points();
    this.hostSide.save(i !== null && pts ? pointFile(pts, i) : null);
    this.resolve();
  }

  /** Finds the pinned file among the points shown; points that lack it unpin it. */
  resolve(): void {
    const pin = this.hostSide.saved();
    const pts = this.hostSide.points();
    let i: number | null = null;
    if (pin && pts) {
      const found = findPoint(pts, pin);
      if (found >= 0) i = found;
      else this.hostSide.save(null);
    }
    this.index = i;
    this.scatter.setMarks({ pin: i });
    this.card.show(pts, i);
    this.hostSide.changed();
  }

  /** Escape unpins from anywhere but a text field (the scatter handles its own keys first). */
  unpinOnEscape(): void {
    window.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || e.defaultPrevented || this.hostSide.saved() === null) return;
      const t = e.target as HTMLElement | null;
      if (t?.closest('input, textarea, select, vscode-textfield')) return;
      this.pin(null);
    });
  }

  /** Pins point `i` and opens its file beside the explorer. */
  open(i: number): void {
    const pts = this.hostSide.points();
    if (!pts) return;
    this.pin(i);
    host.post({ type: 'openFile', ...pointFile(pts, i) });
  }

  openPinned(): void {
    if (this.index !== null) this.open(this.index);
    else this.hostSide.message('Click a point to pin it, then Enter opens its file.');
  }
}
