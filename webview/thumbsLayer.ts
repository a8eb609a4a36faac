// Images on the map (issue 10, item 5): zoomed in until few enough points are in view, each drawn
// point is shown as its own image, framed in its colour, instead of a dot. Images load on demand
// from the points' webview URIs and are kept (up to a cap) while the view moves; a point whose
// image has not arrived yet stays a dot. Zoomed out again, only dots.

import { DIM, HIDDEN } from './core/drawClass';

/** Points in view at or below which the points become their images, once zoomed in at least ZOOM_MIN×. */
export const THUMBS_MAX = 250;
export const ZOOM_MIN = 2;
/** Images kept loaded, least recently drawn dropped first. */
const CACHE_MAX = 1500;

export interface ThumbsPaint {
  coords: Float32Array;
  drawClass: Uint8Array;
  colourIndex: Uint8Array;
  /** CSS colour per colour index (the frame around an image). */
  css: (colourIndex: number) => string;
  /** Data → CSS pixel mapping of the view and back (y grows upwards in data, downwards on screen), and its size. */
  toScreen: (x: number, y: number) => [number, number];
  toData: (sx: number, sy: number) => [number, number];
  width: number;
  height: number;
  dpr: number;
  /** The view's zoom factor (1: every point fitted). */
  zoom: number;
}

export class ThumbsLayer {
  readonly canvas: HTMLCanvasElement;
  private source: ((i: number) => string | null) | null = null;
  private readonly images = new Map<number, HTMLImageElement>();
  private redraw: () => void;
  /** Points drawn as images in the last frame (tests and the bench read it from the canvas). */
  shown = 0;

  constructor(redraw: () => void) {
    this.redraw = redraw;
    this.canvas = document.createElement('canvas');
    this.canvas.className = 'layer thumbs-layer';
    this.canvas.setAttribute('aria-hidden', 'true');
  }

  /** Where point i's image is; null to turn images off. New points forget the old images. */
  setSource(source: ((i: number) => string | null) | null): void {
    this.source = source;
    this.images.clear();
  }

  /** Which points are in view, up to THUMBS_MAX + 1 (more means: too many for images). */
  private inView(p: ThumbsPaint, margin: number): number[] {
    const out: number[] = [];
    const n = p.coords.length / 2;
    // The view's corners in data units: a point is tested with four comparisons, no mapping.
    const [x0, y0] = p.toData(-margin, p.height + margin);
    const [x1, y1] = p.toData(p.width + margin, -margin);
    const c = p.coords;
    for (let i = 0; i < n; i++) {
      const x = c[2 * i];
      const y = c[2 * i + 1];
      if (x < x0 || x > x1 || y < y0 || y > y1 || p.drawClass[i] === HIDDEN) continue;
      out.push(i);
      if (out.length > THUMBS_MAX) break;
    }
    return out;
  }

  /** Draws the images of the points in view when there are few enough; returns how many it drew. */
  paint(p: ThumbsPaint): number {
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return 0;
    ctx.setTransform(p.dpr, 0, 0, p.dpr, 0, 0);
    ctx.clearRect(0, 0, p.width, p.height);
    this.shown = 0;
    const source = this.source;
    if (!source || p.zoom < ZOOM_MIN) return this.done();
    const points = this.inView(p, 40);
    if (points.length === 0 || points.length > THUMBS_MAX) return this.done();
    // Big enough to see, small enough that neighbours overlap little: the view's area shared out.
    const size = Math.round(Math.max(24, Math.min(72, 0.7 * Math.sqrt((p.width * p.height) / points.length))));
    ctx.imageSmoothingEnabled = false;
    // Dimmed points first, full ones on top (as the dots).
    points.sort((a, b) => p.drawClass[a] - p.drawClass[b]);
    for (const i of points) {
      const img = this.image(i, source);
      if (!img || !img.complete || img.naturalWidth === 0) continue;
      const [sx, sy] = p.toScreen(p.coords[2 * i], p.coords[2 * i + 1]);
      const x = Math.round(sx - size / 2);
      const y = Math.round(sy - size / 2);
      ctx.globalAlpha = p.drawClass[i] === DIM ? 0.3 : 1;
      ctx.fillStyle = p.css(p.colourIndex[i]);
      ctx.fillRect(x - 2, y - 2, size + 4, size + 4);
      ctx.drawImage(img, x, y, size, size);
      this.shown++;
    }
    ctx.globalAlpha = 1;
    return this.done();
  }

  private done(): number {
    this.canvas.dataset.thumbs = String(this.shown);
    return this.shown;
  }

  private image(i: number, source: (i: number) => string | null): HTMLImageElement | null {
    let img = this.images.get(i);
    if (img) {
      // Most recently drawn last: the first entries are the ones to drop.
      this.images.delete(i);
      this.images.set(i, img);
      return img;
    }
    const src = source(i);
    if (!src) return null;
    img = new Image();
    img.decoding = 'async';
    img.onload = () => this.redraw();
    img.src = src;
    this.images.set(i, img);
    while (this.images.size > CACHE_MAX) this.images.delete(this.images.keys().next().value!);
    return img;
  }
}
