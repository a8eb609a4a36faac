// The explorer's toolbar: search, pointer modes, selection actions, projection, what colours the
// points, and manifold toggles. Plain callbacks out; the explorer owns the state.

import { FIGURES, type ColourBy } from './core/figures';
import type { PointerMode, Projection } from './core/viewState';
import { el } from './dom';

export interface ToolbarActions {
  search(query: string): void;
  mode(mode: PointerMode): void;
  isolate(): void;
  clearSelection(): void;
  /** Hand the selected points (or every point shown) to the host: paths, CSV or copies. */
  exportSelection(): void;
  projection(p: Projection): void;
  colourBy(by: ColourBy): void;
  manifold(on: boolean): void;
  density(on: boolean): void;
  /** true: the prior's inverse-CDF grid; false: a regular grid over the visible region. */
  manifoldGrid(prior: boolean): void;
  conditionLabel(index: number): void;
}

const MODES: { mode: PointerMode; text: string; title: string }[] = [
  { mode: 'pan', text: 'Pan', title: 'Drag to pan, wheel to zoom; shift-click points to interpolate' },
  { mode: 'brush', text: 'Brush', title: 'Drag a rectangle to select points' },
  { mode: 'lasso', text: 'Lasso', title: 'Draw a free shape to select points' },
  { mode: 'interpolate', text: 'Interpolate', title: 'Click two places in latent space' },
];

export class Toolbar {
  readonly root: HTMLElement;
  readonly info = el('span', { class: 'info', role: 'status' });
  private readonly searchField: HTMLElement;
  private readonly modeButtons = new Map<PointerMode, HTMLElement>();
  private readonly projectionSelect: HTMLSelectElement;
  private readonly dimX: HTMLSelectElement;
  private readonly dimY: HTMLSelectElement;
  private readonly dimsGroup: HTMLElement;
  private readonly manifoldBox: HTMLElement;
  private readonly densityBox: HTMLElement;
  private readonly manifoldGrid: HTMLSelectElement;
  private readonly conditionSelect: HTMLSelectElement;
  private readonly conditionGroup: HTMLElement;
  private readonly colourSelect: HTMLSelectElement;

  constructor(actions: ToolbarActions) {
    this.searchField = el('vscode-textfield', {
      type: 'search',
      placeholder: 'Search file names',
      class: 'search',
      'aria-label': 'Search file names',
    });
    this.searchField.addEventListener('input', () => actions.search((this.searchField as HTMLInputElement).value ?? ''));
    const modes = el('div', { class: 'modes', role: 'group', 'aria-label': 'Pointer mode' });
    for (const m of MODES) {
      const b = el('vscode-button', { class: `mode mode-${m.mode}`, title: m.title, secondary: true }, m.text);
      b.addEventListener('click', () => actions.mode(m.mode));
      this.modeButtons.set(m.mode, b);
      modes.append(b);
    }
    const isolate = el('vscode-button', { class: 'isolate', secondary: true, title: 'Show only the selected points' }, 'Isolate');
    const clear = el('vscode-button', { class: 'clear-selection', secondary: true, title: 'Clear the selection' }, 'Clear');
    const exportButton = el(
      'vscode-button',
      {
        class: 'export-selection',
        secondary: true,
        title: 'Copy the paths, save a CSV table or copy the images of the selected points (all shown points without a selection)',
      },
      'Export…',
    );
    exportButton.addEventListener('click', () => actions.exportSelection());
    isolate.addEventListener('click', () => actions.isolate());
    clear.addEventListener('click', () => actions.clearSelection());

    this.projectionSelect = el(
      'select',
      { class: 'projection', 'aria-label': 'Projection' },
      el('option', { value: 'pca' }, 'PCA'),
      el('option', { value: 'umap' }, 'UMAP'),
      el('option', { value: 'dims' }, 'Two dimensions'),
    );
    this.dimX = el('select', { class: 'dim-x', 'aria-label': 'Horizontal latent dimension' });
    this.dimY = el('select', { class: 'dim-y', 'aria-label': 'Vertical latent dimension' });
    this.dimsGroup = el('span', { class: 'dims', hidden: true }, this.dimX, ' × ', this.dimY);
    const projectionChanged = () => {
      const kind = this.projectionSelect.value;
      this.dimsGroup.hidden = kind !== 'dims';
      actions.projection(
        kind === 'dims' ? { kind, x: Number(this.dimX.value), y: Number(this.dimY.value) } : { kind: kind as 'pca' | 'umap' },
      );
    };
    for (const s of [this.projectionSelect, this.dimX, this.dimY]) s.addEventListener('change', projectionChanged);

    this.colourSelect = el('select', { class: 'colour-by', 'aria-label': 'Colour points by' });
    this.colourSelect.addEventListener('change', () => actions.colourBy(this.colourSelect.value as ColourBy));

    this.manifoldBox = el('vscode-checkbox', {
      class: 'manifold-toggle',
      label: 'Manifold',
      title: 'The decoded manifold behind the points',
    });
    this.densityBox = el('vscode-checkbox', {
      class: 'density-toggle',
      label: 'Density',
      title: 'Contours of the points’ density (solid) and of the prior N(0, I) (dashed), at 39 %, 86 % and 99 % of the mass',
    });
    this.densityBox.addEventListener('change', () => actions.density(Boolean((this.densityBox as HTMLInputElement).checked)));
    this.manifoldBox.addEventListener('change', () => actions.manifold(Boolean((this.manifoldBox as HTMLInputElement).checked)));
    this.manifoldGrid = el(
      'select',
      { class: 'manifold-grid', 'aria-label': 'Manifold grid', title: 'Where the decoded grid sits in latent space' },
      el('option', { value: 'view' }, 'Visible region'),
      el('option', { value: 'prior' }, 'Prior quantiles (inverse CDF)'),
    );
    this.manifoldGrid.addEventListener('change', () => actions.manifoldGrid(this.manifoldGrid.value === 'prior'));
    this.conditionSelect = el('select', { class: 'condition', 'aria-label': 'Label used when decoding' });
    this.conditionSelect.addEventListener('change', () => actions.conditionLabel(Number(this.conditionSelect.value)));
    this.conditionGroup = el('label', { class: 'condition-group', hidden: true }, 'Decode as ', this.conditionSelect);

    this.root = el(
      'header',
      { class: 'toolbar' },
      this.searchField,
      modes,
      isolate,
      clear,
      exportButton,
      el('span', { class: 'projection-group', hidden: true }, this.projectionSelect, this.dimsGroup),
      el(
        'label',
        { class: 'colour-group', hidden: true, title: 'Colour the points by their label or by a figure of each image' },
        'Colour ',
        this.colourSelect,
      ),
      this.densityBox,
      this.manifoldBox,
      this.manifoldGrid,
      this.conditionGroup,
      this.info,
    );
  }

  /** The count and notes at the end of the row; cut short to fit, whole in its tooltip. */
  setInfo(text: string): void {
    this.info.textContent = text;
    this.info.title = text;
  }

  setMode(mode: PointerMode): void {
    for (const [m, b] of this.modeButtons) {
      if (m === mode) b.removeAttribute('secondary');
      else b.setAttribute('secondary', '');
      b.setAttribute('aria-pressed', String(m === mode));
    }
  }

  setSearch(query: string): void {
    (this.searchField as HTMLInputElement).value = query;
  }

  setDims(dims: number, projection: Projection): void {
    const names = Array.from({ length: dims }, (_, i) => el('option', { value: i }, `z${i}`));
    this.dimX.replaceChildren(...names.map((o) => o.cloneNode(true)));
    this.dimY.replaceChildren(...names);
    this.projectionSelect.value = projection.kind;
    this.projectionSelect.parentElement!.hidden = dims <= 2;
    this.dimsGroup.hidden = projection.kind !== 'dims';
    this.dimX.value = String(projection.kind === 'dims' ? projection.x : 0);
    this.dimY.value = String(projection.kind === 'dims' ? projection.y : Math.min(1, dims - 1));
  }

  setDensity(on: boolean): void {
    (this.densityBox as HTMLInputElement).checked = on;
  }

  setManifold(available: boolean, on: boolean, prior: boolean): void {
    this.manifoldBox.hidden = !available;
    (this.manifoldBox as HTMLInputElement).checked = on;
    this.manifoldGrid.hidden = !available || !on;
    this.manifoldGrid.value = prior ? 'prior' : 'view';
  }

  /** The choices the points allow (hidden when labels are the only one) and the one in use. */
  setColourBy(choices: ColourBy[], selected: ColourBy): void {
    const name = (c: ColourBy) => (c === 'label' ? 'Label' : c === 'folder' ? 'Folder' : FIGURES.find((f) => f.key === c)!.name);
    this.colourSelect.replaceChildren(...choices.map((c) => el('option', { value: c }, name(c))));
    this.colourSelect.value = selected;
    this.colourSelect.parentElement!.hidden = choices.length < 2;
  }

  setConditionLabels(labels: string[], selected: number): void {
    this.conditionGroup.hidden = labels.length === 0;
    this.conditionSelect.replaceChildren(...labels.map((l, i) => el('option', { value: i }, l)));
    this.conditionSelect.value = String(Math.min(selected, Math.max(0, labels.length - 1)));
  }
}
