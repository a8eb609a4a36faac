// What colours the points: their label or their folder (the theme's categorical palette, with the
// class and folder legends) or one of their figures (−ELBO, reconstruction, KL, mean σ) on a continuous ramp with a colour bar giving
// its range and units. A figure the points do not carry, or folders when one is shown, falls back to labels.

import {
  FIGURES,
  availableFigures,
  colourRange,
  figureValues,
  formatFigure,
  rampColours,
  rampIndex,
  rampSpan,
  type ColourBy,
  type ColourRange,
  type Figure,
} from './core/figures';
import { UNLABELLED_COLOUR_VAR, mix, packRgba, parseColour } from './core/palette';
import type { PointSet } from './core/pointSet';
import { el, themeVar } from './dom';
import { labelColourIndex, themePalette, type ThemePalette } from './legend';

export interface PointPaint {
  /** Colour index per point, into `full` and `dim`. */
  index: Uint8Array;
  full: Uint32Array;
  dim: Uint32Array;
}

export class Colouring {
  readonly bar: HTMLElement;
  private readonly title = el('div', { class: 'colour-bar-title' });
  private readonly ramp = el('canvas', { class: 'colour-bar-ramp', width: 255, height: 1, 'aria-hidden': 'true' });
  private readonly min = el('span', { class: 'colour-bar-min' });
  private readonly max = el('span', { class: 'colour-bar-max' });
  private by: ColourBy = 'label';
  private points: PointSet | null = null;
  private labels: ThemePalette = themePalette();
  private rampFull = new Uint32Array(1);
  private rampDim = new Uint32Array(1);
  private rampCss: string[] = [];
  /** The figure shown, its values and range, worked out once per points and choice. */
  private figure: { key: Figure; range: ColourRange | null; index: Uint8Array } | null = null;
  private labelIndex: Uint8Array = new Uint8Array(0);
  private folderIndex: Uint8Array | null = null;

  constructor() {
    this.bar = el(
      'div',
      { class: 'colour-bar', role: 'img', hidden: true },
      this.title,
      this.ramp,
      el('div', { class: 'colour-bar-ends' }, this.min, this.max),
    );
    this.refreshTheme();
  }

  /** Re-reads the theme's colours (and the ramp's span that stays readable on its background). */
  refreshTheme(): void {
    this.labels = themePalette();
    const bg = parseColour(themeVar('--vscode-editor-background', '#1e1e1e')) ?? [30, 30, 30];
    const none = parseColour(themeVar(UNLABELLED_COLOUR_VAR.name, UNLABELLED_COLOUR_VAR.fallback)) ?? [204, 204, 204];
    const hc = document.body.classList.contains('vscode-high-contrast');
    const colours = rampColours(rampSpan(bg));
    this.rampCss = colours.map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`);
    this.rampFull = Uint32Array.from([none, ...colours].map((c) => packRgba(c)));
    this.rampDim = Uint32Array.from([none, ...colours].map((c) => packRgba(mix(c, bg, hc ? 0.55 : 0.75))));
    this.renderBar();
  }

  setPoints(points: PointSet | null): void {
    this.points = points;
    this.labelIndex = labelColourIndex(points?.labels ?? []);
    this.folderIndex = null;
    this.refigure();
  }

  setBy(by: ColourBy): void {
    this.by = by;
    this.refigure();
  }

  /** What the points are coloured by now: the choice, or labels when the points lack that figure. */
  shown(): ColourBy {
    if (this.by === 'folder' && this.byFolder()) return 'folder';
    return this.figure?.key ?? 'label';
  }

  /** The choices these points allow, for the toolbar: folder only when there are several. */
  choices(): ColourBy[] {
    return ['label', ...(this.byFolder() ? (['folder'] as const) : []), ...availableFigures(this.points)];
  }

  /** CSS colour per label, for the legend (folders take the same palette, in folder order). */
  labelCss(): string[] {
    return this.labels.css;
  }

  paint(): PointPaint {
    if (this.figure) return { index: this.figure.index, full: this.rampFull, dim: this.rampDim };
    if (this.shown() === 'folder') {
      this.folderIndex ??= labelColourIndex(this.points!.folderOf);
      return { index: this.folderIndex, full: this.labels.full, dim: this.labels.dim };
    }
    return { index: this.labelIndex, full: this.labels.full, dim: this.labels.dim };
  }

  private byFolder(): boolean {
    return (this.points?.folders.length ?? 0) > 1;
  }

  private refigure(): void {
    const key = this.by === 'label' || this.by === 'folder' ? null : this.by;
    const values = key ? figureValues(this.points, key) : null;
    if (key && values) {
      const range = colourRange(values);
      this.figure = { key, range, index: rampIndex(values, range) };
    } else this.figure = null;
    this.renderBar();
  }

  private renderBar(): void {
    const f = this.figure;
    this.bar.hidden = f === null;
    if (!f) return;
    const meta = FIGURES.find((m) => m.key === f.key)!;
    this.title.textContent = meta.unit ? `${meta.name} (${meta.unit})` : meta.name;
    const r = f.range;
    this.min.textContent = r ? `${r.clippedLo ? '≤ ' : ''}${formatFigure(r.lo, f.key)}` : '–';
    this.max.textContent = r ? `${r.clippedHi ? '≥ ' : ''}${formatFigure(r.hi, f.key)}` : '–';
    this.bar.setAttribute(
      'aria-label',
      r ? `${meta.name} from ${this.min.textContent} to ${this.max.textContent}${meta.unit ? ` ${meta.unit}` : ''}` : meta.name,
    );
    this.bar.title = r && (r.clippedLo || r.clippedHi) ? 'From the 1st to the 99th percentile; points beyond take the end colours' : '';
    const ctx = this.ramp.getContext('2d');
    if (!ctx) return;
    this.rampCss.forEach((c, i) => {
      ctx.fillStyle = c;
      ctx.fillRect(i, 0, 1, 1);
    });
  }
}
