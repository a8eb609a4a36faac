// The hover card: the point's image (its webview URI), file name, path in the folder (and the
// folder, when several are shown), label and figures (−ELBO and its terms, mean σ) when the encoding has them.

import { describeFigures } from './core/figures';
import { pointImage, type PointSet } from './core/pointSet';
import { baseName } from './core/hitTest';
import { el } from './dom';

export class HoverTooltip {
  readonly root = el('div', { class: 'tooltip', hidden: true, role: 'tooltip' });

  /** Shows point `i` next to the pointer, kept inside `container`; returns a one-line description. */
  show(points: PointSet, i: number, clientX: number, clientY: number, container: HTMLElement): string {
    const file = points.names.at(i);
    const label = points.labels[i] >= 0 ? points.labelNames[points.labels[i]] : '';
    const figures = describeFigures(points, i);
    const folder = points.folders.length > 1 ? points.folders[points.folderOf[i]].title : '';
    this.root.replaceChildren(
      el('img', { src: pointImage(points, i), alt: '' }),
      el('div', { class: 'tooltip-name' }, baseName(file)),
      el('div', { class: 'tooltip-path' }, file),
      ...(folder ? [el('div', { class: 'tooltip-folder' }, `in ${folder}`)] : []),
      ...(label ? [el('div', { class: 'tooltip-label' }, label)] : []),
      ...(figures ? [el('div', { class: 'tooltip-figures' }, figures)] : []),
    );
    this.root.dataset.index = String(i);
    this.root.hidden = false;
    const box = container.getBoundingClientRect();
    // Set through the CSSOM: the CSP forbids inline style attributes.
    this.root.style.left = `${Math.min(clientX - box.left + 14, box.width - 240)}px`;
    this.root.style.top = `${Math.min(clientY - box.top + 14, box.height - 200)}px`;
    return `${baseName(file)}${label ? ` (${label})` : ''}`;
  }

  hide(): void {
    this.root.hidden = true;
  }
}
