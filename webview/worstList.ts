// "Worst reconstructed": the images of the folders shown with the largest reconstruction term, each
// with its thumbnail (the image file through its webview URI), name and figures. Activating one
// pins it and shows its original beside its reconstruction.

import { describeFigures, figureValues, topK } from './core/figures';
import { pointImage, type PointSet } from './core/pointSet';
import { baseName } from './core/hitTest';
import { el, onActivate } from './dom';
import { enlargeable } from './lightbox';

export const WORST_COUNT = 10;

export class WorstList {
  readonly root: HTMLElement;
  private readonly note = el('p', { class: 'hint worst-note' });
  private readonly list = el('ol', { class: 'thumb-list worst-list', 'aria-label': 'Worst-reconstructed images' });
  private shownFor: { points: PointSet | null; hidden: Uint8Array | null } | null = null;

  constructor(private readonly pick: (index: number) => void) {
    this.root = el('div', { class: 'worst' }, this.note, this.list);
    this.render(null);
  }

  /** Lists the worst of `points` outside hidden folders (`hidden`: 1 per point of one). */
  render(points: PointSet | null, hidden: Uint8Array | null = null): void {
    if (this.shownFor && points === this.shownFor.points && hidden === this.shownFor.hidden && points !== null) return;
    this.shownFor = { points, hidden };
    let rec = figureValues(points, 'reconstruction');
    if (rec && hidden) rec = rec.map((v, i) => (hidden[i] ? NaN : v));
    if (!points || points.names.length === 0) this.note.textContent = 'Encode a folder to list its worst-reconstructed images.';
    else if (!rec) this.note.textContent = 'This model gives no reconstruction term per image.';
    else this.note.textContent = 'Largest reconstruction term (−log p(x|z)) first; pick one to pin it and see its reconstruction.';
    const top = points && rec ? topK(rec, WORST_COUNT) : [];
    this.list.replaceChildren(...top.map((i) => this.item(points!, i)));
  }

  private item(points: PointSet, i: number): HTMLElement {
    const name = points.names.at(i);
    const item = el(
      'li',
      { class: 'thumb-item', role: 'button', tabindex: 0, 'data-name': name, title: name },
      enlargeable(el('img', { class: 'thumb', src: pointImage(points, i), alt: '' }), () => name),
      el(
        'span',
        { class: 'thumb-text' },
        el('span', { class: 'thumb-name' }, baseName(name)),
        el('span', { class: 'thumb-figures' }, describeFigures(points, i)),
      ),
    );
    onActivate(item, () => this.pick(i));
    return item;
  }
}
