// The Latent Explorer: owns the data and the view state, answers host messages, and wires the
// scatter, toolbar, legend, tooltip, images panel and ELBO panel together.

import type { ImageBatch } from '../src/protocol/engine';
import type { ModelInfo, PointsMessage, ToWebviewMessage } from '../src/protocol/webview';
import { regularGrid, gaussianGrid, gridSizeFor, traversalLatents, type LatentRect } from './core/grid';
import { baseName, pointsInPolygon, searchFileNames, type Point2 } from './core/hitTest';
import { interpolationLatents } from './core/interpolate';
import { LatestOnly } from './core/latestOnly';
import { LABEL_COLOUR_VARS, UNLABELLED_COLOUR_VAR, mix, packRgba, parseColour } from './core/palette';
import { sliceBatch } from './core/pixels';
import { restoreViewState, type PointerMode, type Projection, type ViewState } from './core/viewState';
import { el, themeVar } from './dom';
import { ElboPanel } from './elboPanel';
import { host } from './host';
import { ImagesPanel } from './imagesPanel';
import { batchToCanvas } from './imageCanvas';
import { ProjectionStore } from './projection';
import { DIM, FULL, HIDDEN, Scatter } from './scatter';
import { Toolbar, renderLegend } from './toolbar';

type Pending =
  | { kind: 'strip'; steps: number }
  | { kind: 'manifold'; rect: LatentRect; cols: number }
  | { kind: 'grid'; title: string; cols: number }
  | { kind: 'samples' }
  | { kind: 'reconstruct' }
  | { kind: 'umap'; points: PointsMessage }
  | { kind: 'save' };

export class Explorer {
  private state: ViewState;
  private model: ModelInfo | null = null;
  private points: PointsMessage | null = null;
  private readonly projection = new ProjectionStore();
  private coords: Float32Array = new Float32Array(0);
  private selected: Uint8Array | null = null;
  private matches: Uint32Array = new Uint32Array(0);
  private current: number | null = null;
  private labelColours: string[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly manifoldGate: LatestOnly<{ rect: LatentRect; cols: number; rows: number }>;
  private manifoldTimer = 0;
  private lastStrip: ImageBatch | null = null;
  private lastSamples: ImageBatch | null = null;
  private readonly scatter: Scatter;
  private readonly toolbar: Toolbar;
  private readonly legend = el('div', { class: 'legend', role: 'group', 'aria-label': 'Labels (toggle to hide)' });
  private readonly tooltip = el('div', { class: 'tooltip', hidden: true, role: 'tooltip' });
  private readonly images: ImagesPanel;
  private readonly elbo: ElboPanel;
  private readonly tabs: HTMLElement;

  constructor(root: HTMLElement) {
    this.state = restoreViewState(host.getState());
    this.scatter = new Scatter({
      hover: (i, x, y) => this.onHover(i, x, y),
      click: (i, p, shift) => this.onClick(i, p, shift),
      select: (poly) => this.select(poly),
      transform: () => undefined,
      settled: () => this.onSettled(),
    });
    this.toolbar = new Toolbar({
      search: (q) => this.update({ search: q }),
      mode: (m) => this.setMode(m),
      isolate: () => this.update({ isolate: this.state.selection !== null }),
      clearSelection: () => this.update({ selection: null, isolate: false }),
      projection: (p) => this.setProjection(p),
      manifold: (on) => this.setManifold(on),
      conditionLabel: (i) => this.update({ conditionLabel: i }),
    });
    this.images = new ImagesPanel({
      decodeStrip: () => this.decodeStrip(),
      saveStrip: () => this.lastStrip && this.save(this.lastStrip, 'interpolation'),
      clearEndpoints: () => this.setEndpoints([]),
      stepsChanged: (steps) => this.update({ steps }),
      reconstruct: () => this.reconstruct(),
      sample: (kind, count, label) => this.sample(kind, count, label),
      saveSamples: () => this.lastSamples && this.save(this.lastSamples, 'sample'),
      gaussianManifold: () => this.decodeGrid('Decoded manifold (inverse-CDF grid)', gaussianGrid(15), 15),
      traverse: () => this.traverse(),
    });
    this.elbo = new ElboPanel(() => host.post({ type: 'stopTraining' }));
    this.manifoldGate = new LatestOnly(
      (id, p) => {
        this.pending.set(id, { kind: 'manifold', rect: p.rect, cols: p.cols });
        this.decode(id, regularGrid(p.rect, p.cols, p.rows));
      },
      () => host.requestId(),
    );
    this.tabs = el(
      'vscode-tabs',
      { class: 'side', 'selected-index': this.state.tab === 'training' ? 1 : 0 },
      el('vscode-tab-header', { slot: 'header', class: 'tab-images' }, 'Images'),
      el('vscode-tab-panel', {}, this.images.root),
      el('vscode-tab-header', { slot: 'header', class: 'tab-training' }, 'Training'),
      el('vscode-tab-panel', {}, this.elbo.root),
    );
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const tab = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex === 1 ? 'training' : 'images';
      this.update({ tab });
      // Charts drawn while their tab was hidden had no width to measure.
      if (tab === 'training') this.elbo.render();
    });
    const empty = el('p', { class: 'empty' }, 'No points yet. Run “VAE: Encode Image Folder” to see a folder in latent space.');
    this.scatter.root.append(this.legend, this.tooltip, empty);
    root.append(this.toolbar.root, el('main', { class: 'body' }, this.scatter.root, this.tabs));
    root.removeAttribute('aria-busy');

    this.toolbar.setMode(this.state.mode);
    this.toolbar.setSearch(this.state.search);
    this.toolbar.setManifold(false, this.state.manifold);
    this.scatter.setMode(this.state.mode);
    this.images.setSteps(this.state.steps);
    this.refreshColours();
    const themeWatch = new MutationObserver(() => this.refreshColours());
    themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
    window.addEventListener('message', (e: MessageEvent<ToWebviewMessage>) => this.onMessage(e.data));
    host.post({ type: 'ready' });
  }

  // ---------------------------------------------------------------- host messages

  private onMessage(msg: ToWebviewMessage): void {
    switch (msg.type) {
      case 'init':
        this.model = msg.model;
        this.elbo.setBackend(msg.backend);
        this.applyModel();
        break;
      case 'points':
        this.setPoints(msg);
        break;
      case 'series':
        this.elbo.setSeries(msg.status, msg.steps, msg.epochs);
        break;
      case 'step':
        this.elbo.addStep(msg.point, msg.status);
        break;
      case 'epoch':
        this.elbo.addEpoch(msg.summary, msg.status);
        break;
      case 'status':
        this.elbo.setStatus(msg.status);
        break;
      case 'backend':
        this.elbo.setBackend(msg.backend);
        break;
      case 'images':
        this.onImages(msg.requestId, msg.images);
        break;
      case 'reconstruction': {
        const p = this.take(msg.requestId);
        if (p?.kind !== 'reconstruct') break;
        const r = msg.result;
        if (r.originals.count === 0) this.toolbar.showMessage(r.skipped[0]?.reason ?? `Could not reconstruct ${baseName(msg.file)}.`);
        else this.images.showReconstruction(r.originals, r.reconstructions, r.terms[0]);
        break;
      }
      case 'projection': {
        const p = this.take(msg.requestId);
        if (p?.kind !== 'umap' || p.points !== this.points) break;
        this.projection.setUmap(msg.coords);
        if (this.state.projection.kind === 'umap') this.showProjection(true);
        break;
      }
      case 'saved':
        this.take(msg.requestId);
        this.toolbar.showMessage(`Saved ${msg.files.length} image${msg.files.length === 1 ? '' : 's'}: ${msg.files.map(baseName).join(', ')}`);
        break;
      case 'error': {
        if (msg.requestId !== undefined) {
          const p = this.pending.get(msg.requestId);
          if (p?.kind === 'manifold') this.manifoldGate.settle(msg.requestId);
          this.pending.delete(msg.requestId);
        }
        this.toolbar.showMessage(msg.message);
        break;
      }
    }
  }

  private take(id: number): Pending | undefined {
    const p = this.pending.get(id);
    this.pending.delete(id);
    return p;
  }

  private onImages(id: number, batch: ImageBatch): void {
    const p = this.take(id);
    if (!p) return;
    if (p.kind === 'manifold') {
      // Only the newest view's grid is drawn; an older one is dropped when a newer wish waits.
      if (this.manifoldGate.settle(id) && this.state.manifold) this.scatter.setManifold(batchToCanvas(batch, p.cols), p.rect);
    } else if (p.kind === 'strip') {
      this.lastStrip = batch;
      this.images.showStrips(sliceBatch(batch, 0, p.steps), sliceBatch(batch, p.steps, batch.count - p.steps));
    } else if (p.kind === 'grid') {
      this.images.showGrid(p.title, batch, p.cols);
    } else if (p.kind === 'samples') {
      this.lastSamples = batch;
      this.images.showSamples(batch);
    }
  }

  // ---------------------------------------------------------------- points and projections

  private applyModel(): void {
    const m = this.model;
    this.images.setModel(m?.latentSize ?? 2, m?.conditional ?? false, m?.labels ?? []);
    this.toolbar.setConditionLabels(m?.conditional ? m.labels : [], this.state.conditionLabel);
    this.toolbar.setManifold(this.dims() === 2, this.state.manifold);
    if (this.state.manifold) this.scheduleManifold(0);
  }

  private dims(): number {
    return this.points?.dims ?? this.model?.latentSize ?? 0;
  }

  private setPoints(msg: PointsMessage): void {
    // The benchmark splits first paint into message delivery and our own work at this mark.
    performance.mark('points-received');
    const sameFolder = this.points?.folder === msg.folder || this.points === null;
    this.points = msg;
    this.projection.setPoints(msg);
    this.root().classList.toggle('has-points', msg.files.length > 0);
    this.toolbar.setDims(msg.dims, this.state.projection);
    this.toolbar.setManifold(msg.dims === 2, this.state.manifold);
    this.showProjection(sameFolder);
    if (sameFolder) this.scatter.setTransform(this.state.transform);
    if (this.state.manifold) this.scheduleManifold(0);
  }

  private showProjection(keepView: boolean): void {
    const pts = this.points;
    if (!pts) return;
    let p = this.state.projection;
    if (p.kind === 'dims' && (p.x >= pts.dims || p.y >= pts.dims)) p = this.state.projection = { kind: 'pca' };
    if (p.kind === 'umap' && !this.projection.hasUmap()) {
      const id = host.requestId();
      this.pending.set(id, { kind: 'umap', points: pts });
      host.post({ type: 'project', requestId: id, method: 'umap' });
      this.toolbar.info.textContent = 'Computing UMAP in the engine…';
    }
    const shown = this.projection.coords(p);
    this.coords = shown.coords;
    const colourIndex = new Uint8Array(pts.labels.length);
    for (let i = 0; i < colourIndex.length; i++) colourIndex[i] = pts.labels[i] < 0 ? 0 : 1 + (pts.labels[i] % LABEL_COLOUR_VARS.length);
    this.scatter.setPoints(this.coords, colourIndex, keepView);
    if (!(p.kind === 'umap' && !this.projection.hasUmap())) this.toolbar.info.textContent = `${pts.files.length.toLocaleString()} points${shown.note ? ` · ${shown.note}` : ''}`;
    this.recomputeSelection();
    this.refreshLegend();
    this.refreshMarks();
  }

  private setProjection(p: Projection): void {
    this.state.selection = null;
    this.state.isolate = false;
    this.update({ projection: p });
    this.showProjection(false);
  }

  // ---------------------------------------------------------------- selection, search, legend

  private select(polygon: Point2[]): void {
    this.update({ selection: polygon, isolate: false });
  }

  private recomputeSelection(): void {
    const sel = this.state.selection;
    this.selected = null;
    if (sel && this.points) {
      this.selected = new Uint8Array(this.coords.length / 2);
      for (const i of pointsInPolygon(this.coords, sel)) this.selected[i] = 1;
    }
    this.matches = this.points ? searchFileNames(this.points.files, this.state.search) : new Uint32Array(0);
    this.refreshDrawClass();
  }

  private refreshDrawClass(): void {
    const pts = this.points;
    if (!pts) return;
    const n = pts.labels.length;
    const hidden = new Set(this.state.hiddenLabels);
    const cls = new Uint8Array(n);
    const searching = this.state.search.trim().length > 0;
    const match = searching ? new Uint8Array(n) : null;
    if (match) for (const i of this.matches) match[i] = 1;
    const sel = this.selected;
    const isolate = this.state.isolate && sel !== null;
    let selectedCount = 0;
    for (let i = 0; i < n; i++) {
      const inSel = sel ? sel[i] === 1 : true;
      if (sel && inSel) selectedCount++;
      if (hidden.has(pts.labels[i]) || (isolate && !inSel)) cls[i] = HIDDEN;
      else if ((sel && !inSel) || (match && !match[i])) cls[i] = DIM;
      else cls[i] = FULL;
    }
    this.scatter.setDrawClass(cls);
    this.scatter.setMarks({ highlight: searching ? Array.from(this.matches.subarray(0, 300)) : [], selection: this.state.selection });
    const parts = [`${n.toLocaleString()} points`];
    if (sel) parts.push(`${selectedCount.toLocaleString()} selected${isolate ? ' (isolated)' : ''}`);
    if (searching) parts.push(`${this.matches.length.toLocaleString()} match “${this.state.search.trim()}”`);
    const note = this.projection.note(this.state.projection);
    if (note) parts.push(note);
    this.toolbar.info.textContent = parts.join(' · ');
  }

  private refreshLegend(): void {
    const pts = this.points;
    const names = pts?.labelNames ?? [];
    const counts = new Array<number>(names.length).fill(0);
    if (pts) for (const l of pts.labels) if (l >= 0 && l < counts.length) counts[l]++;
    renderLegend(this.legend, names, names.map((_, i) => this.labelColours[i % this.labelColours.length]), new Set(this.state.hiddenLabels), counts, (i) => {
      const hidden = new Set(this.state.hiddenLabels);
      if (hidden.has(i)) hidden.delete(i);
      else hidden.add(i);
      this.update({ hiddenLabels: [...hidden] });
      this.refreshLegend();
    });
  }

  private refreshColours(): void {
    const bg = parseColour(themeVar('--vscode-editor-background', '#1e1e1e')) ?? [30, 30, 30];
    const vars = [UNLABELLED_COLOUR_VAR, ...LABEL_COLOUR_VARS];
    const rgb = vars.map((v) => parseColour(themeVar(v.name, v.fallback)) ?? parseColour(v.fallback)!);
    this.labelColours = rgb.slice(1).map(([r, g, b]) => `rgb(${r}, ${g}, ${b})`);
    const hc = document.body.classList.contains('vscode-high-contrast');
    this.scatter.setColours(Uint32Array.from(rgb.map((c) => packRgba(c))), Uint32Array.from(rgb.map((c) => packRgba(mix(c, bg, hc ? 0.55 : 0.75)))));
    this.refreshLegend();
  }

  // ---------------------------------------------------------------- pointer

  private onHover(i: number | null, clientX: number, clientY: number): void {
    const pts = this.points;
    if (i === null || !pts) {
      this.tooltip.hidden = true;
      return;
    }
    this.current = i;
    const file = pts.files[i];
    const img = el('img', { src: pts.uris[i], alt: '' });
    const label = pts.labels[i] >= 0 ? pts.labelNames[pts.labels[i]] : '';
    this.tooltip.replaceChildren(img, el('div', { class: 'tooltip-name' }, baseName(file)), el('div', { class: 'tooltip-path' }, file), ...(label ? [el('div', { class: 'tooltip-label' }, label)] : []));
    this.tooltip.dataset.index = String(i);
    this.tooltip.hidden = false;
    const box = this.scatter.root.getBoundingClientRect();
    const x = clientX - box.left + 14;
    const y = clientY - box.top + 14;
    this.tooltip.style.left = `${Math.min(x, box.width - 240)}px`;
    this.tooltip.style.top = `${Math.min(y, box.height - 200)}px`;
    this.images.setPoint(`${baseName(file)}${label ? ` (${label})` : ''}`);
  }

  private onClick(i: number | null, p: Point2, shift: boolean): void {
    const pts = this.points;
    if (this.state.mode === 'interpolate') {
      const z = i !== null && pts ? this.latentOf(i) : this.projection.latentAt(this.state.projection, p);
      if (z) this.addEndpoint(z);
      return;
    }
    if (i === null || !pts) return;
    this.current = i;
    if (shift) this.addEndpoint(this.latentOf(i));
    else host.post({ type: 'openFile', file: pts.files[i] });
  }

  private latentOf(i: number): number[] {
    const pts = this.points!;
    return Array.from(pts.mu.subarray(i * pts.dims, (i + 1) * pts.dims));
  }

  private setMode(mode: PointerMode): void {
    this.update({ mode });
    this.toolbar.setMode(mode);
    this.scatter.setMode(mode);
  }

  private onSettled(): void {
    this.update({ transform: this.scatter.getTransform() });
    if (this.state.manifold) this.scheduleManifold(200);
  }

  // ---------------------------------------------------------------- decoding

  private decode(requestId: number, latents: Float32Array): void {
    const label = this.model?.conditional ? this.state.conditionLabel : undefined;
    host.post({ type: 'decode', requestId, latents, ...(label === undefined ? {} : { label }) });
  }

  private setManifold(on: boolean): void {
    this.update({ manifold: on });
    if (on) this.scheduleManifold(0);
    else {
      this.manifoldGate.cancelPending();
      this.scatter.setManifold(null);
    }
  }

  /** Debounced: a burst of zoom events yields one request for the view it ends on. */
  private scheduleManifold(delayMs: number): void {
    clearTimeout(this.manifoldTimer);
    this.manifoldTimer = window.setTimeout(() => {
      if (!this.state.manifold || this.dims() !== 2) return;
      const { width, height } = this.scatter.size();
      const { cols, rows } = gridSizeFor(width, height, Math.max(36, (this.model?.width ?? 28) * 1.5));
      this.manifoldGate.request({ rect: this.scatter.visibleRect(), cols, rows });
    }, delayMs);
  }

  private addEndpoint(z: number[]): void {
    this.setEndpoints([...this.state.endpoints, z].slice(-2));
    if (this.state.endpoints.length === 2) this.decodeStrip();
  }

  private setEndpoints(endpoints: number[][]): void {
    this.update({ endpoints });
    this.refreshMarks();
  }

  private refreshMarks(): void {
    const ends = this.state.endpoints;
    this.scatter.setMarks({ endpoints: ends.map((z) => this.projection.project(this.state.projection, z)).filter((p): p is Point2 => p !== null) });
    const fmt = (z: number[]) => `(${z.slice(0, 4).map((v) => v.toFixed(2)).join(', ')}${z.length > 4 ? ', …' : ''})`;
    this.images.setEndpoints(ends.length === 0 ? 'No endpoints yet.' : ends.map((z, i) => `${i === 0 ? 'A' : 'B'} ${fmt(z)}`).join('  →  '));
  }

  private decodeStrip(): void {
    const [a, b] = this.state.endpoints;
    if (!a || !b) {
      this.toolbar.showMessage('Pick two endpoints first: shift-click two points, or use Interpolate mode.');
      return;
    }
    const steps = this.images.steps();
    const lerp = interpolationLatents(a, b, steps, 'lerp');
    const slerp = interpolationLatents(a, b, steps, 'slerp');
    const both = new Float32Array(lerp.length * 2);
    both.set(lerp);
    both.set(slerp, lerp.length);
    const id = host.requestId();
    this.pending.set(id, { kind: 'strip', steps });
    this.decode(id, both);
  }

  private decodeGrid(title: string, latents: Float32Array, cols: number): void {
    const id = host.requestId();
    this.pending.set(id, { kind: 'grid', title, cols });
    this.decode(id, latents);
  }

  private traverse(): void {
    const d = this.dims();
    if (d === 0) return;
    const center = this.current !== null && this.points ? this.latentOf(this.current) : new Array<number>(d).fill(0);
    this.decodeGrid(`Traversals around ${this.current !== null && this.points ? baseName(this.points.files[this.current]) : 'the origin'} (±3 per dimension)`, traversalLatents(center, 9, 3), 9);
  }

  private reconstruct(): void {
    if (this.current === null || !this.points) {
      this.toolbar.showMessage('Hover or click a point first, then Reconstruct.');
      return;
    }
    const id = host.requestId();
    this.pending.set(id, { kind: 'reconstruct' });
    host.post({ type: 'reconstruct', requestId: id, file: this.points.files[this.current] });
  }

  private sample(kind: 'prior' | 'around' | 'label', count: number, label: string): void {
    const id = host.requestId();
    this.pending.set(id, { kind: 'samples' });
    if (kind === 'around') {
      const center = this.current !== null && this.points ? this.latentOf(this.current) : new Array<number>(this.dims()).fill(0);
      host.post({ type: 'sample', requestId: id, count, mode: { kind: 'around', center, radius: 0.5 } });
    } else if (kind === 'label') host.post({ type: 'sample', requestId: id, count, mode: { kind: 'label', label } });
    else host.post({ type: 'sample', requestId: id, count, mode: { kind: 'prior' } });
  }

  private save(images: ImageBatch, baseName: string): void {
    const id = host.requestId();
    this.pending.set(id, { kind: 'save' });
    host.post({ type: 'saveImages', requestId: id, images, baseName });
  }

  // ---------------------------------------------------------------- state

  private update(patch: Partial<ViewState>): void {
    const before = this.state;
    this.state = { ...this.state, ...patch };
    if ('selection' in patch || 'search' in patch) this.recomputeSelection();
    else if ('isolate' in patch || 'hiddenLabels' in patch) this.refreshDrawClass();
    if (before !== this.state) this.persist();
  }

  private persist(): void {
    host.setState(this.state);
  }

  private root(): HTMLElement {
    return this.scatter.root;
  }
}
