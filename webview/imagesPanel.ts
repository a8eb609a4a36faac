// The "Images" tab: interpolation strips, the pinned point and its reconstruction and neighbours,
// the worst-reconstructed images, samples, the inverse-CDF manifold and per-dimension traversals. Only layout and painting here; the explorer decides what to ask.

import type { ImageBatch } from '../src/protocol/engine';
import type { ElboTerms } from '../src/protocol/model';
import { formatNats } from './core/format';
import { baseName } from './core/hitTest';
import { el } from './dom';
import { showBatch } from './imageCanvas';
import { enlargeable } from './lightbox';

export interface ImagesPanelActions {
  decodeStrip(): void;
  saveStrip(): void;
  clearEndpoints(): void;
  stepsChanged(steps: number): void;
  reconstruct(): void;
  sample(kind: 'prior' | 'around' | 'label', count: number, label: string): void;
  saveSamples(): void;
  gaussianManifold(): void;
  saveGrid(): void;
  traverse(): void;
}

const button = (text: string, cls: string, secondary = false) => el('vscode-button', { class: cls, secondary }, text);

export class ImagesPanel {
  readonly root: HTMLElement;
  readonly lerpCanvas = enlargeable(el('canvas', { class: 'strip strip-lerp', 'aria-label': 'Linear interpolation strip' }));
  readonly slerpCanvas = enlargeable(el('canvas', { class: 'strip strip-slerp', 'aria-label': 'Spherical interpolation strip' }));
  readonly originalCanvas = enlargeable(
    el('canvas', { class: 'recon recon-original', 'aria-label': 'Original image' }),
    () => `Original: ${this.reconName.title}`,
  );
  readonly reconCanvas = enlargeable(
    el('canvas', { class: 'recon recon-decoded', 'aria-label': 'Reconstruction' }),
    () => `Reconstruction of ${this.reconName.title}`,
  );
  readonly samplesCanvas = enlargeable(el('canvas', { class: 'samples', 'aria-label': 'Sampled images' }));
  readonly gridCanvas = enlargeable(
    el('canvas', { class: 'manifold-grid', 'aria-label': 'Decoded manifold or traversal' }),
    () => this.gridTitle.textContent ?? '',
  );
  private readonly endpointsText = el('p', { class: 'endpoints-text' });
  private readonly reconName = el('p', { class: 'recon-name' });
  private readonly reconTerms = el('p', { class: 'recon-terms' });
  private readonly gridTitle = el('h3', {}, 'Manifold and traversals');
  private readonly stepsField: HTMLElement;
  private readonly countField: HTMLElement;
  private readonly labelSelect: HTMLSelectElement;
  private readonly labelRow: HTMLElement;
  private readonly gaussianButton: HTMLElement;
  private readonly traverseButton: HTMLElement;

  /** The point card, the neighbours and the worst-reconstructed list are built by their own modules. */
  constructor(actions: ImagesPanelActions, parts: { pointCard: HTMLElement; neighbours: HTMLElement; worst: HTMLElement }) {
    this.stepsField = el('vscode-textfield', {
      type: 'number',
      min: 2,
      max: 32,
      value: 8,
      class: 'steps-field',
      'aria-label': 'Interpolation steps',
    });
    this.stepsField.addEventListener('change', () => actions.stepsChanged(this.steps()));
    this.countField = el('vscode-textfield', {
      type: 'number',
      min: 1,
      max: 64,
      value: 16,
      class: 'count-field',
      'aria-label': 'Number of samples',
    });
    this.labelSelect = el('select', { class: 'label-select', 'aria-label': 'Label to sample' });
    const sampleLabel = button('Sample for label', 'sample-label', true);
    this.labelRow = el('div', { class: 'row', hidden: true }, this.labelSelect, sampleLabel);
    this.gaussianButton = button('Prior grid (inverse CDF)', 'gaussian-grid', true);
    this.traverseButton = button('Traverse dimensions', 'traverse', true);

    const decode = button('Decode strip', 'decode-strip');
    const save = button('Save strip to workspace', 'save-strip', true);
    const clear = button('Clear endpoints', 'clear-endpoints', true);
    const recon = button('Reconstruct', 'reconstruct', true);
    const prior = button('Sample from prior', 'sample-prior', true);
    const around = button('Sample around point', 'sample-around', true);
    const saveSamples = button('Save samples', 'save-samples', true);
    const saveGrid = button('Save grid', 'save-grid', true);
    click(decode, () => actions.decodeStrip());
    click(save, () => actions.saveStrip());
    click(clear, () => actions.clearEndpoints());
    click(recon, () => actions.reconstruct());
    click(prior, () => actions.sample('prior', this.count(), ''));
    click(around, () => actions.sample('around', this.count(), ''));
    click(sampleLabel, () => actions.sample('label', this.count(), this.labelSelect.value));
    click(saveSamples, () => actions.saveSamples());
    click(saveGrid, () => actions.saveGrid());
    click(this.gaussianButton, () => actions.gaussianManifold());
    click(this.traverseButton, () => actions.traverse());

    this.root = el(
      'section',
      { class: 'images-panel', 'aria-label': 'Images' },
      el('h3', {}, 'Interpolation'),
      el('p', { class: 'hint' }, 'Shift-click two points, or use Interpolate mode and click twice anywhere.'),
      this.endpointsText,
      el('div', { class: 'row' }, el('label', {}, 'Steps ', this.stepsField), decode, clear),
      el('div', { class: 'strip-row' }, el('span', { class: 'strip-label' }, 'lerp'), this.lerpCanvas),
      el('div', { class: 'strip-row' }, el('span', { class: 'strip-label' }, 'slerp'), this.slerpCanvas),
      el('div', { class: 'row' }, save),
      el('h3', {}, 'Point'),
      parts.pointCard,
      el('div', { class: 'row' }, recon),
      this.reconName,
      el('div', { class: 'row recon-row' }, this.originalCanvas, this.reconCanvas),
      this.reconTerms,
      el('h3', {}, 'Neighbours'),
      parts.neighbours,
      el('h3', {}, 'Worst reconstructed'),
      parts.worst,
      el('h3', {}, 'Samples'),
      el('div', { class: 'row' }, el('label', {}, 'N ', this.countField), prior, around),
      this.labelRow,
      this.samplesCanvas,
      el('div', { class: 'row' }, saveSamples),
      this.gridTitle,
      el('div', { class: 'row' }, this.gaussianButton, this.traverseButton),
      this.gridCanvas,
      el('div', { class: 'row' }, saveGrid),
    );
  }

  steps(): number {
    const v = Math.round(Number((this.stepsField as HTMLInputElement).value));
    return Number.isFinite(v) ? Math.min(32, Math.max(2, v)) : 8;
  }

  setSteps(steps: number): void {
    (this.stepsField as HTMLInputElement).value = String(steps);
  }

  count(): number {
    const v = Math.round(Number((this.countField as HTMLInputElement).value));
    return Number.isFinite(v) ? Math.min(64, Math.max(1, v)) : 16;
  }

  setModel(latentSize: number, conditional: boolean, labels: string[]): void {
    this.labelRow.hidden = !conditional || labels.length === 0;
    this.labelSelect.replaceChildren(...labels.map((l) => el('option', { value: l }, l)));
    this.gaussianButton.hidden = latentSize !== 2;
    this.traverseButton.hidden = latentSize < 2;
  }

  setEndpoints(text: string): void {
    this.endpointsText.textContent = text;
  }

  showStrips(lerp: ImageBatch, slerp: ImageBatch): void {
    // Whole-pixel scaling that keeps a strip of up to 32 images inside the panel.
    const cell = Math.max(8, Math.min(48, Math.floor(320 / Math.max(lerp.count, 1))));
    showBatch(this.lerpCanvas, lerp, lerp.count, cell);
    showBatch(this.slerpCanvas, slerp, slerp.count, cell);
  }

  /** The original of `name` beside its reconstruction: the caption names the file both are of. */
  showReconstruction(name: string, original: ImageBatch, recon: ImageBatch, terms: ElboTerms | undefined): void {
    this.reconName.textContent = `${baseName(name)}: original and reconstruction`;
    this.reconName.title = name;
    showBatch(this.originalCanvas, original, 1, 96);
    showBatch(this.reconCanvas, recon, 1, 96);
    this.reconTerms.textContent = terms
      ? `−ELBO ${formatNats(-terms.elbo)} = reconstruction ${formatNats(terms.reconstruction)} + KL ${formatNats(terms.kl)} nats`
      : '';
  }

  showSamples(batch: ImageBatch): void {
    showBatch(this.samplesCanvas, batch, Math.min(8, batch.count), 48);
  }

  showGrid(title: string, batch: ImageBatch, cols: number): void {
    this.gridTitle.textContent = title;
    showBatch(this.gridCanvas, batch, cols, 32);
  }

  clearStrips(): void {
    clearCanvas(this.lerpCanvas);
    clearCanvas(this.slerpCanvas);
  }

  clearSamples(): void {
    clearCanvas(this.samplesCanvas);
  }

  clearReconstruction(): void {
    this.reconName.textContent = '';
    this.reconName.removeAttribute('title');
    this.reconTerms.textContent = '';
    clearCanvas(this.originalCanvas);
    clearCanvas(this.reconCanvas);
  }

  clearGrid(): void {
    this.gridTitle.textContent = 'Manifold and traversals';
    clearCanvas(this.gridCanvas);
  }
}

/** An empty canvas is not shown (see explorer.css). */
function clearCanvas(canvas: HTMLCanvasElement): void {
  canvas.width = 0;
  canvas.height = 0;
  delete canvas.dataset.images;
  delete canvas.dataset.scale;
}

function click(node: HTMLElement, fn: () => void): void {
  node.addEventListener('click', () => {
    if (!node.hasAttribute('disabled')) fn();
  });
}
