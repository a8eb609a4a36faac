// Side-panel images are small (a 28-pixel image at 2–3× in a strip): a click on any image marked
// `enlargeable` shows it over the explorer at the largest whole-pixel scale that fits, crisp, with
// its caption. Escape, a click or the Close button puts it away and gives focus back.

import { el } from './dom';

/** Marks an image or canvas as one that enlarges on click; `caption` names it in the enlarged view. */
export function enlargeable<T extends HTMLElement>(node: T, caption?: () => string): T {
  node.classList.add('enlargeable');
  node.title = 'Click to enlarge';
  if (caption) captions.set(node, caption);
  return node;
}

const captions = new WeakMap<HTMLElement, () => string>();

export class Lightbox {
  readonly root: HTMLElement;
  private readonly canvas = el('canvas', { class: 'lightbox-image' });
  private readonly caption = el('p', { class: 'lightbox-caption' });
  private readonly closeButton = el('vscode-button', { class: 'lightbox-close', secondary: true }, 'Close');
  private returnFocus: HTMLElement | null = null;

  constructor() {
    this.root = el(
      'div',
      { class: 'lightbox', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Enlarged image', hidden: true },
      this.canvas,
      el('div', { class: 'lightbox-bar' }, this.caption, this.closeButton),
    );
    this.root.addEventListener('click', () => this.close());
    // Capture, so Escape closes this and does not also unpin the point or reach the scatter.
    window.addEventListener(
      'keydown',
      (e) => {
        if (this.root.hidden || e.key !== 'Escape') return;
        e.preventDefault();
        e.stopPropagation();
        this.close();
      },
      true,
    );
  }

  /** Clicks on enlargeable images inside `container` open them here. */
  attach(container: HTMLElement): void {
    container.addEventListener('click', (e) => {
      const node = (e.target as HTMLElement | null)?.closest<HTMLElement>('.enlargeable');
      if (!node || !container.contains(node)) return;
      if (node instanceof HTMLCanvasElement || node instanceof HTMLImageElement) this.open(node);
    });
  }

  get isOpen(): boolean {
    return !this.root.hidden;
  }

  open(source: HTMLCanvasElement | HTMLImageElement): void {
    const w = source instanceof HTMLImageElement ? source.naturalWidth : source.width;
    const h = source instanceof HTMLImageElement ? source.naturalHeight : source.height;
    if (w === 0 || h === 0) return;
    // The source canvases are already scaled by whole pixels; scaling again by a whole factor keeps every pixel square.
    const room = { w: window.innerWidth * 0.9, h: window.innerHeight * 0.8 };
    const scale = Math.max(1, Math.floor(Math.min(room.w / w, room.h / h)));
    this.canvas.width = w * scale;
    this.canvas.height = h * scale;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(source, 0, 0, this.canvas.width, this.canvas.height);
    this.canvas.dataset.scale = String(scale);
    const text = captions.get(source)?.() || source.getAttribute('aria-label') || source.getAttribute('alt') || '';
    this.caption.textContent = text;
    this.root.setAttribute('aria-label', text ? `Enlarged: ${text}` : 'Enlarged image');
    this.returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    this.root.hidden = false;
    this.closeButton.focus();
  }

  close(): void {
    if (this.root.hidden) return;
    this.root.hidden = true;
    this.canvas.width = 0;
    this.canvas.height = 0;
    this.returnFocus?.focus();
    this.returnFocus = null;
  }
}
