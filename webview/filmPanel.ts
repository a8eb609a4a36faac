// "Latent space over training" in the Training view: a fixed subset of the training images drawn
// at their posterior means after each epoch. During a training each new epoch's frame animates the
// points from where they were; afterwards a slider (and Play) replays the epochs. Colours are the
// class colours of the map.

import type { FilmMessage } from '../src/protocol/webview';
import { between, filmCoords, filmFrame } from './core/film';
import type { Frame } from './core/geometry';
import { el, prefersReducedMotion } from './dom';

const SIZE = 280;
const TWEEN_MS = 600;
const PLAY_MS = 700;

export class FilmPanel {
  readonly root: HTMLElement;
  private readonly canvas = el('canvas', {
    class: 'film-canvas',
    width: SIZE,
    height: SIZE,
    'aria-label': 'Latent space at the chosen epoch',
  });
  private readonly slider = el('input', {
    type: 'range',
    class: 'film-slider',
    min: 0,
    max: 0,
    value: 0,
    'aria-label': 'Epoch',
  }) as HTMLInputElement;
  private readonly caption = el('span', { class: 'film-epoch', role: 'status' });
  private readonly playButton = el('vscode-button', { class: 'film-play', secondary: true, title: 'Replay the epochs' }, 'Play');
  private runDir = '';
  private dims = 2;
  private labels: Int32Array<ArrayBufferLike> = new Int32Array(0);
  private labelNames: string[] = [];
  private epochs: number[] = [];
  private frames: Float32Array<ArrayBufferLike>[] = [];
  private coords: Float32Array[] = [];
  private view: Frame = { x0: -3, x1: 3, y0: -3, y1: 3 };
  /** The frame shown (or being tweened to). */
  private index = 0;
  private shown: Float32Array | null = null;
  private tween = 0;
  private playing = 0;

  /** `colourOf(name, index)`: a class's colour on the map (by name), else by its index here. */
  constructor(private readonly colourOf: (labelName: string, index: number) => string) {
    this.slider.addEventListener('input', () => this.go(Number(this.slider.value), false));
    this.playButton.addEventListener('click', () => this.play());
    this.root = el(
      'section',
      { class: 'film', 'aria-label': 'Latent space over training', hidden: true },
      el('h3', {}, 'Latent space over training'),
      el('p', { class: 'hint' }, 'The same training images after each epoch (epoch 0: the untrained encoder).'),
      this.canvas,
      el('div', { class: 'row' }, this.playButton, this.slider, this.caption),
    );
  }

  set(m: FilmMessage): void {
    const sameRun = m.runDir === this.runDir && !m.replace && m.dims === this.dims && m.labels.length === this.labels.length;
    const atEnd = this.index >= this.frames.length - 1;
    if (!sameRun) {
      this.runDir = m.runDir;
      this.dims = m.dims;
      this.labels = m.labels;
      this.labelNames = m.labelNames;
      this.epochs = [];
      this.frames = [];
      this.shown = null;
    }
    for (const f of m.frames) {
      const at = this.epochs.indexOf(f.epoch);
      if (at >= 0) this.frames[at] = f.mu;
      else {
        this.epochs.push(f.epoch);
        this.frames.push(f.mu);
      }
    }
    this.coords = filmCoords(this.frames, this.labels.length, this.dims);
    this.view = filmFrame(this.coords);
    this.root.hidden = this.frames.length === 0;
    this.slider.max = String(Math.max(0, this.frames.length - 1));
    // Following the training: a new epoch animates in; someone replaying keeps their place.
    if (!sameRun || atEnd) this.go(this.frames.length - 1, sameRun);
    else this.go(this.index, false);
  }

  /** Shows frame i, moving the points there from where they are when `animate`. */
  private go(i: number, animate: boolean): void {
    if (this.frames.length === 0) return;
    this.index = Math.max(0, Math.min(this.frames.length - 1, i));
    this.slider.value = String(this.index);
    this.caption.textContent = `epoch ${this.epochs[this.index]} of ${this.epochs[this.epochs.length - 1]}`;
    this.canvas.dataset.epoch = String(this.epochs[this.index]);
    const to = this.coords[this.index];
    const from = this.shown;
    cancelAnimationFrame(this.tween);
    if (!animate || !from || from.length !== to.length || prefersReducedMotion()) {
      this.draw(to);
      return;
    }
    const start = performance.now();
    const step = () => {
      const t = Math.min(1, (performance.now() - start) / TWEEN_MS);
      const eased = t * t * (3 - 2 * t);
      this.draw(t >= 1 ? to : between(from, to, eased));
      if (t < 1) this.tween = requestAnimationFrame(step);
    };
    this.tween = requestAnimationFrame(step);
  }

  private play(): void {
    clearInterval(this.playing);
    if (this.frames.length < 2) return;
    this.go(0, false);
    this.playing = window.setInterval(() => {
      if (this.index >= this.frames.length - 1) clearInterval(this.playing);
      else this.go(this.index + 1, true);
    }, PLAY_MS);
  }

  /** Redraws the frame shown (a theme change). */
  redraw(): void {
    if (this.shown) this.draw(this.shown);
  }

  private draw(c: Float32Array): void {
    this.shown = c;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== SIZE * dpr) {
      this.canvas.width = SIZE * dpr;
      this.canvas.height = SIZE * dpr;
      this.canvas.style.width = `${SIZE}px`;
      this.canvas.style.height = `${SIZE}px`;
    }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, SIZE, SIZE);
    const { x0, x1, y0, y1 } = this.view;
    const sx = SIZE / (x1 - x0);
    const sy = SIZE / (y1 - y0);
    const fallback = getComputedStyle(document.body).color;
    const css = this.labelNames.map((name, i) => this.colourOf(name, i));
    for (let i = 0; i < this.labels.length; i++) {
      const l = this.labels[i];
      ctx.fillStyle = l >= 0 ? (css[l] ?? fallback) : fallback;
      ctx.fillRect(Math.round((c[2 * i] - x0) * sx) - 1, Math.round((y1 - c[2 * i + 1]) * sy) - 1, 3, 3);
    }
  }
}
