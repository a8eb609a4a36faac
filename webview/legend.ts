// The class and folder legends over the scatter (entries toggle their class or folder) and the
// theme's label colours.

import type { PointSet } from './core/pointSet';
import { LABEL_COLOUR_VARS, UNLABELLED_COLOUR_VAR, mix, packRgba, parseColour } from './core/palette';
import { el, onActivate, themeVar } from './dom';

export interface ThemePalette {
  /** CSS colour per label (cycling through the palette). */
  css: string[];
  /** Packed RGBA per colour index (0 = unlabelled), full and dimmed towards the background. */
  full: Uint32Array;
  dim: Uint32Array;
}

/** Reads the palette from the current theme's variables. */
export function themePalette(): ThemePalette {
  const bg = parseColour(themeVar('--vscode-editor-background', '#1e1e1e')) ?? [30, 30, 30];
  const vars = [UNLABELLED_COLOUR_VAR, ...LABEL_COLOUR_VARS];
  const rgb = vars.map((v) => parseColour(themeVar(v.name, v.fallback)) ?? parseColour(v.fallback)!);
  // High contrast keeps dimmed points further from the black background.
  const hc = document.body.classList.contains('vscode-high-contrast');
  return {
    css: rgb.slice(1).map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`),
    full: Uint32Array.from(rgb.map((c) => packRgba(c))),
    dim: Uint32Array.from(rgb.map((c) => packRgba(mix(c, bg, hc ? 0.55 : 0.75)))),
  };
}

/** Colour index per point: 0 for unlabelled, else 1 + the label's place in the palette. */
export function labelColourIndex(labels: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < out.length; i++) out[i] = labels[i] < 0 ? 0 : 1 + (labels[i] % LABEL_COLOUR_VARS.length);
  return out;
}

export class Legend {
  readonly root = el('div', { class: 'legend', role: 'group', 'aria-label': 'Labels (toggle to hide)' });

  /**
   * Redraws the entries for `points`, counting those not in a hidden folder (`hiddenPoints`);
   * `toggle(i)` is called when entry i is activated.
   */
  render(
    points: PointSet | null,
    hiddenPoints: Uint8Array | null,
    colours: string[],
    hidden: ReadonlySet<number>,
    toggle: (index: number) => void,
  ): void {
    const names = points?.labelNames ?? [];
    const counts = new Array<number>(names.length).fill(0);
    if (points)
      points.labels.forEach((l, i) => {
        if (l >= 0 && l < counts.length && !hiddenPoints?.[i]) counts[l]++;
      });
    renderLegend(
      this.root,
      names,
      names.map((_, i) => colours[i % colours.length]),
      hidden,
      counts,
      toggle,
    );
  }
}

/**
 * The folders shown, each with its count: an entry toggles the folder's points. Its swatch is the
 * folder's colour when the points are coloured by folder.
 */
export class FolderLegend {
  readonly root = el('div', { class: 'folder-legend', role: 'group', 'aria-label': 'Folders (toggle to hide)', hidden: true });

  render(points: PointSet | null, colours: string[] | null, hidden: ReadonlySet<string>, toggle: (folder: string) => void): void {
    const folders = points?.folders ?? [];
    this.root.hidden = folders.length === 0;
    this.root.replaceChildren(
      ...folders.map((f, k) => {
        const off = hidden.has(f.folder);
        const item = el(
          'div',
          { class: `folder-item${off ? ' off' : ''}`, role: 'button', tabindex: 0, 'aria-pressed': String(!off), title: f.folder },
          swatch(colours ? colours[k % colours.length] : 'transparent'),
          el('span', { class: 'name' }, f.title),
          el('span', { class: 'count' }, String(f.count)),
        );
        item.dataset.folder = f.folder;
        onActivate(item, () => toggle(f.folder));
        return item;
      }),
    );
  }
}

/** Legend entries are buttons: Enter, Space or a click toggles the class. */
export function renderLegend(
  root: HTMLElement,
  names: string[],
  colours: string[],
  hidden: ReadonlySet<number>,
  counts: number[],
  toggle: (index: number) => void,
): void {
  // Labels are numbered by the run's classes; a class with no point in this folder is not listed.
  const shown = names.map((_, i) => i).filter((i) => (counts[i] ?? 0) > 0 || hidden.has(i));
  root.hidden = shown.length === 0;
  root.replaceChildren(
    ...shown.map((i) => {
      const name = names[i];
      const item = el(
        'div',
        {
          class: `legend-item${hidden.has(i) ? ' off' : ''}`,
          role: 'button',
          tabindex: 0,
          'aria-pressed': String(!hidden.has(i)),
          'data-label': i,
        },
        swatch(colours[i]),
        el('span', { class: 'name' }, name),
        el('span', { class: 'count' }, String(counts[i] ?? 0)),
      );
      onActivate(item, () => toggle(i));
      return item;
    }),
  );
}

/** Set through the CSSOM: the CSP forbids inline style attributes. */
function swatch(colour: string): HTMLElement {
  const node = el('span', { class: 'swatch' });
  node.style.background = colour;
  return node;
}
