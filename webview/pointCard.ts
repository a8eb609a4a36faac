// The pinned point in the side panel: its image, file name, path and label, and the buttons that
// open it beside the explorer or unpin it. Hovering never changes it; only a click does.

import { baseName } from './core/hitTest';
import { pointImage, type PointSet } from './core/pointSet';
import { el } from './dom';
import { enlargeable } from './lightbox';

export interface PointCardActions {
  open(): void;
  unpin(): void;
}

export class PointCard {
  readonly root: HTMLElement;
  private readonly hint = el(
    'p',
    { class: 'point-text' },
    'Click a point to pin it; Reconstruct, Sample around point, Traverse and Find neighbours use it.',
  );
  private readonly card: HTMLElement;
  private readonly image = enlargeable(el('img', { class: 'pin-image', alt: '' }), () => this.path.textContent ?? '');
  private readonly name = el('div', { class: 'pin-name' });
  private readonly path = el('div', { class: 'pin-path' });
  private readonly label = el('div', { class: 'pin-label' });
  private readonly folder = el('div', { class: 'pin-folder' });

  constructor(actions: PointCardActions) {
    const open = el(
      'vscode-button',
      { class: 'open-file', secondary: true, title: 'Open the image beside the explorer (double-click the point, or Enter)' },
      'Open beside',
    );
    const unpin = el('vscode-button', { class: 'unpin', secondary: true, title: 'Unpin the point (Escape)' }, 'Unpin');
    open.addEventListener('click', () => actions.open());
    unpin.addEventListener('click', () => actions.unpin());
    this.card = el(
      'div',
      { class: 'pin-card', hidden: true },
      this.image,
      el('div', { class: 'pin-text' }, this.name, this.path, this.folder, this.label, el('div', { class: 'row' }, open, unpin)),
    );
    this.root = el('div', { class: 'pinned-point' }, this.hint, this.card);
  }

  /** Shows point `i` of `points`, or nothing pinned. */
  show(points: PointSet | null, i: number | null): void {
    const pinned = points !== null && i !== null;
    this.card.hidden = !pinned;
    this.hint.hidden = pinned;
    if (!pinned) {
      this.image.removeAttribute('src');
      return;
    }
    const file = points.names.at(i);
    const label = points.labels[i] >= 0 ? points.labelNames[points.labels[i]] : '';
    this.image.src = pointImage(points, i);
    this.name.textContent = baseName(file);
    this.path.textContent = file;
    const folder = points.folders[points.folderOf[i]];
    this.folder.textContent = `in ${folder.title}`;
    this.folder.title = folder.folder;
    this.folder.hidden = points.folders.length < 2;
    this.label.textContent = label;
    this.label.hidden = !label;
  }
}
