// The Latent Explorer: owns the data and the view state, answers host messages, and wires the
// scatter, toolbar, legend and colour bar, tooltip, pin, neighbours, images panel and ELBO panel.

import type { ImageBatch } from '../src/protocol/engine';
import type { ModelInfo, PointsMessage, ToWebviewMessage } from '../src/protocol/webview';
import { drawClasses } from './core/drawClass';
import { gaussianGrid, traversalLatents } from './core/grid';
import { baseName, pointsInPolygon, searchFileNames, type Point2 } from './core/hitTest';
import { NO_IMAGES } from './core/storedImages';
import { restoreViewState, type PointerMode, type Projection, type ViewState } from './core/viewState';
import { el } from './dom';
import { ElboPanel } from './elboPanel';
import { host } from './host';
import { ImageRequests } from './imageRequests';
import { ImagesPanel } from './imagesPanel';
import { Colouring } from './colouring';
import { Legend } from './legend';
import { ManifoldController } from './manifoldController';
import { NeighboursPanel } from './neighbours';
import { Notice } from './notice';
import { Pinning } from './pinning';
import { ProjectionStore } from './projection';
import { Scatter } from './scatter';
import { sideTabs } from './sideTabs';
import { Toolbar } from './toolbar';
import { HoverTooltip } from './tooltip';
import { WorstList } from './worstList';

export class Explorer {
  private state: ViewState;
  private model: ModelInfo | null = null;
  private points: PointsMessage | null = null;
  private readonly projection = new ProjectionStore();
  private coords: Float32Array = new Float32Array(0);
  private selected: Uint8Array | null = null;
  private matches: Uint32Array = new Uint32Array(0);
  /** The UMAP request in flight, for the points it was asked for. */
  private umapRequest: { id: number; points: PointsMessage } | null = null;
  private readonly requests: ImageRequests;
  private readonly manifold: ManifoldController;
  private readonly scatter: Scatter;
  private readonly toolbar: Toolbar;
  private readonly legend = new Legend();
  private readonly tooltip = new HoverTooltip();
  private readonly notice = new Notice();
  private readonly images: ImagesPanel;
  private readonly pinning: Pinning;
  private readonly neighbours: NeighboursPanel;
  private readonly worst: WorstList;
  private readonly colouring = new Colouring();
  private readonly elbo: ElboPanel;
  private readonly tabs: HTMLElement;

  constructor(root: HTMLElement) {
    this.state = restoreViewState(host.getState());
    this.scatter = new Scatter({
      hover: (i, x, y) => this.onHover(i, x, y),
      click: (i, p, shift) => this.onClick(i, p, shift),
      doubleClick: (i) => {
        if (i !== null) this.pinning.open(i);
      },
      key: (key) => (key === 'Escape' ? this.pinning.pin(null) : this.pinning.openPinned()),
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
      colourBy: (by) => {
        this.update({ colourBy: by });
        this.applyColouring();
      },
      manifold: (on) => this.setManifold(on, this.state.gaussianGrid),
      manifoldGrid: (prior) => this.setManifold(this.state.manifold, prior),
      conditionLabel: (i) => {
        this.update({ conditionLabel: i });
        this.manifold.refresh(0);
      },
    });
    this.pinning = new Pinning(this.scatter, {
      points: () => this.points,
      saved: () => this.state.pin,
      save: (pin) => this.update({ pin }),
      changed: () => this.neighbours?.pinChanged(),
      message: (text) => this.notice.show('info', text),
    });
    this.neighbours = new NeighboursPanel(
      {
        pinned: () => this.pinning.file(),
        points: () => this.points,
        setLinks: (links) => this.scatter.setMarks({ links }),
        pick: (i) => this.pinning.pin(i),
        message: (text) => this.notice.show('info', text),
        settingsChanged: (neighbourK, neighbourMetric) => this.update({ neighbourK, neighbourMetric }),
      },
      this.state.neighbourK,
      this.state.neighbourMetric,
    );
    this.worst = new WorstList((i) => {
      this.pinning.pin(i);
      this.reconstruct();
    });
    this.images = new ImagesPanel(
      {
        decodeStrip: () => this.decodeStrip(),
        saveStrip: () => this.requests.saveStrip(),
        clearEndpoints: () => this.setEndpoints([]),
        stepsChanged: (steps) => this.update({ steps }),
        reconstruct: () => this.reconstruct(),
        sample: (kind, count, label) => this.sample(kind, count, label),
        saveSamples: () => this.requests.saveSamples(),
        gaussianManifold: () => this.requests.grid('Decoded manifold (inverse-CDF grid)', gaussianGrid(15), 15),
        traverse: () => this.traverse(),
      },
      { pointCard: this.pinning.card.root, neighbours: this.neighbours.root, worst: this.worst.root },
    );
    this.requests = new ImageRequests(this.images, {
      decode: (id, latents) => this.decode(id, latents),
      message: (kind, text) => this.notice.show(kind, text),
      saved: (files, folder) => this.onSaved(files, folder),
      labelIndex: (name) => this.model?.labels.indexOf(name) ?? -1,
      shown: () => this.state.shown,
      setShown: (patch) => this.update({ shown: { ...this.state.shown, ...patch } }),
    });
    this.elbo = new ElboPanel(() => host.post({ type: 'stopTraining' }));
    this.manifold = new ManifoldController({
      scatter: this.scatter,
      decode: (id, latents) => this.decode(id, latents),
      requestId: () => host.requestId(),
      dims: () => this.dims(),
      imageWidth: () => this.model?.width ?? 28,
      message: (text) => this.notice.show('error', text),
    });
    this.tabs = sideTabs(this.images.root, this.elbo.root, this.state.tab, (tab) => {
      this.update({ tab });
      // Charts drawn while their tab was hidden had no width to measure.
      if (tab === 'training') this.elbo.render();
    });
    const empty = el('p', { class: 'empty' }, 'No points yet. Run “VAE: Encode Image Folder” to see a folder in latent space.');
    const corner = el('div', { class: 'corner' }, this.colouring.bar, this.legend.root);
    this.scatter.root.append(corner, this.tooltip.root, this.notice.root, empty);
    root.append(this.toolbar.root, el('main', { class: 'body' }, this.scatter.root, this.tabs));
    root.removeAttribute('aria-busy');

    this.toolbar.setMode(this.state.mode);
    this.toolbar.setSearch(this.state.search);
    this.toolbar.setManifold(false, this.state.manifold, this.state.gaussianGrid);
    this.manifold.set(this.state.manifold, this.state.gaussianGrid);
    this.scatter.setMode(this.state.mode);
    this.images.setSteps(this.state.steps);
    this.requests.show(this.state.shown);
    this.refreshColours();
    const themeWatch = new MutationObserver(() => this.refreshColours());
    themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
    window.addEventListener('message', (e: MessageEvent<ToWebviewMessage>) => this.onMessage(e.data));
    // Escape unpins from anywhere but a text field (the scatter handles its own keys first).
    window.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || e.defaultPrevented || this.state.pin === null) return;
      const t = e.target as HTMLElement | null;
      if (t?.closest('input, textarea, select, vscode-textfield')) return;
      this.pinning.pin(null);
    });
    host.post({ type: 'ready' });
  }

  // ---------------------------------------------------------------- host messages

  private onMessage(msg: ToWebviewMessage): void {
    switch (msg.type) {
      case 'init':
        this.model = msg.model;
        this.elbo.setBackend(msg.backend);
        this.adoptModel();
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
        this.onImages(msg.requestId, msg.images, msg.latents);
        break;
      case 'reconstruction':
        this.requests.onReconstruction(msg);
        break;
      case 'projection': {
        if (this.umapRequest?.id !== msg.requestId) break;
        const asked = this.umapRequest.points;
        this.umapRequest = null;
        if (asked !== this.points) break;
        this.projection.setUmap(msg.coords);
        if (this.state.projection.kind === 'umap') this.showProjection(true);
        break;
      }
      case 'neighbours':
        this.neighbours.onReply(msg);
        break;
      case 'saved':
        this.requests.onSaved(msg.requestId, msg.files, msg.folder);
        break;
      case 'error': {
        if (msg.requestId !== undefined) {
          if (this.manifold.owns(msg.requestId)) this.manifold.onError(msg.requestId);
          if (this.umapRequest?.id === msg.requestId) this.umapRequest = null;
          this.neighbours.onError(msg.requestId);
          this.requests.forget(msg.requestId);
        }
        this.notice.show('error', msg.message);
        break;
      }
    }
  }

  /** A save says how many files went where, and offers to show them; it does not list them. */
  private onSaved(files: string[], folder: string): void {
    const first = files[0];
    const what = `Saved ${files.length} image${files.length === 1 ? '' : 's'} to ${folder}`;
    this.notice.show('success', what, first ? { label: 'Reveal', run: () => host.post({ type: 'revealFile', file: first }) } : undefined);
  }

  private onImages(id: number, batch: ImageBatch, latents?: Float32Array): void {
    if (this.manifold.owns(id)) this.manifold.onImages(id, batch);
    else this.requests.onImages(id, batch, latents);
  }

  // ---------------------------------------------------------------- points and projections

  /**
   * Endpoints, the pin and the decoded images belong to the model they were made with: another
   * model (a different run folder) clears them, and endpoints of another latent size are dropped.
   */
  private adoptModel(): void {
    const m = this.model;
    if (!m) return;
    if (this.state.model !== null && this.state.model !== m.runDir) {
      this.requests.forgetAll();
      this.update({ model: m.runDir, endpoints: [], pin: null, selection: null, isolate: false, shown: NO_IMAGES });
      this.requests.show(NO_IMAGES);
      this.pinning.resolve();
    } else {
      const endpoints = this.state.endpoints.filter((z) => z.length === m.latentSize);
      if (endpoints.length !== this.state.endpoints.length || this.state.model === null) this.update({ model: m.runDir, endpoints });
    }
    this.refreshMarks();
  }

  private applyModel(): void {
    const m = this.model;
    this.images.setModel(m?.latentSize ?? 2, m?.conditional ?? false, m?.labels ?? []);
    this.toolbar.setConditionLabels(m?.conditional ? m.labels : [], this.state.conditionLabel);
    this.toolbar.setManifold(this.dims() === 2, this.state.manifold, this.state.gaussianGrid);
    this.manifold.refresh(0);
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
    this.colouring.setPoints(msg);
    this.applyColouring();
    this.worst.render(msg);
    this.scatter.root.classList.toggle('has-points', msg.names.length > 0);
    this.toolbar.setDims(msg.dims, this.state.projection);
    this.toolbar.setManifold(msg.dims === 2, this.state.manifold, this.state.gaussianGrid);
    this.showProjection(sameFolder);
    if (sameFolder) this.scatter.setTransform(this.state.transform);
    this.pinning.resolve();
    this.neighbours.render();
    this.manifold.refresh(0);
  }

  private showProjection(keepView: boolean): void {
    const pts = this.points;
    if (!pts) return;
    let p = this.state.projection;
    if (p.kind === 'dims' && (p.x >= pts.dims || p.y >= pts.dims)) p = this.state.projection = { kind: 'pca' };
    if (p.kind === 'umap' && !this.projection.hasUmap()) {
      const id = host.requestId();
      this.umapRequest = { id, points: pts };
      host.post({ type: 'project', requestId: id, method: 'umap' });
      this.toolbar.setInfo('Computing UMAP in the engine…');
    }
    const shown = this.projection.coords(p);
    this.coords = shown.coords;
    this.scatter.setPoints(this.coords, this.colouring.paint().index, keepView);
    if (!(p.kind === 'umap' && !this.projection.hasUmap()))
      this.toolbar.setInfo(`${pts.names.length.toLocaleString()} points${shown.note ? ` · ${shown.note}` : ''}`);
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
    this.matches = this.points ? searchFileNames(this.points.names, this.state.search) : new Uint32Array(0);
    this.refreshDrawClass();
  }

  private refreshDrawClass(): void {
    const pts = this.points;
    if (!pts) return;
    const n = pts.labels.length;
    const sel = this.selected;
    const isolate = this.state.isolate && sel !== null;
    const searching = this.state.search.trim().length > 0;
    const { cls, selectedCount } = drawClasses({
      labels: pts.labels,
      hiddenLabels: new Set(this.state.hiddenLabels),
      selected: sel,
      matches: searching ? this.matches : null,
      isolate,
    });
    this.scatter.setDrawClass(cls);
    this.scatter.setMarks({ highlight: searching ? Array.from(this.matches.subarray(0, 300)) : [], selection: this.state.selection });
    const parts = [`${n.toLocaleString()} points`];
    if (sel) parts.push(`${selectedCount.toLocaleString()} selected${isolate ? ' (isolated)' : ''}`);
    if (searching) parts.push(`${this.matches.length.toLocaleString()} match “${this.state.search.trim()}”`);
    const note = this.projection.note(this.state.projection);
    if (note) parts.push(note);
    this.toolbar.setInfo(parts.join(' · '));
  }

  private refreshLegend(): void {
    this.legend.render(this.points, this.colouring.labelCss(), new Set(this.state.hiddenLabels), (i) => {
      const hidden = new Set(this.state.hiddenLabels);
      if (hidden.has(i)) hidden.delete(i);
      else hidden.add(i);
      this.update({ hiddenLabels: [...hidden] });
      this.refreshLegend();
    });
    // Coloured by a figure, the legend still hides and shows classes; its swatches are not the points' colours.
    this.legend.root.classList.toggle('no-swatches', this.colouring.shown() !== 'label');
  }

  private refreshColours(): void {
    this.colouring.refreshTheme();
    this.applyColouring();
  }

  private applyColouring(): void {
    this.colouring.setBy(this.state.colourBy);
    const paint = this.colouring.paint();
    this.scatter.setColours(paint.full, paint.dim, paint.index);
    this.toolbar.setColourBy(this.colouring.choices(), this.colouring.shown());
    this.refreshLegend();
  }

  // ---------------------------------------------------------------- pointer

  /** Hover only previews: what the buttons act on is the pinned point. */
  private onHover(i: number | null, clientX: number, clientY: number): void {
    const pts = this.points;
    if (i === null || !pts) this.tooltip.hide();
    else this.tooltip.show(pts, i, clientX, clientY, this.scatter.root);
  }

  private onClick(i: number | null, p: Point2, shift: boolean): void {
    const pts = this.points;
    if (this.state.mode === 'interpolate') {
      const z = i !== null && pts ? this.latentOf(i) : this.projection.latentAt(this.state.projection, p);
      if (z) this.addEndpoint(z);
      return;
    }
    if (i === null || !pts) return;
    if (shift) this.addEndpoint(this.latentOf(i));
    else this.pinning.pin(i);
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
    this.manifold.viewChanged();
  }

  // ---------------------------------------------------------------- decoding

  private decode(requestId: number, latents: Float32Array): number | undefined {
    const label = this.model?.conditional ? this.state.conditionLabel : undefined;
    host.post({ type: 'decode', requestId, latents, ...(label === undefined ? {} : { label }) });
    return label;
  }

  private setManifold(on: boolean, prior: boolean): void {
    this.update({ manifold: on, gaussianGrid: prior });
    this.toolbar.setManifold(this.dims() === 2, on, prior);
    this.manifold.set(on, prior);
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
    this.scatter.setMarks({
      pin: this.pinning.index,
      endpoints: ends.map((z) => this.projection.project(this.state.projection, z)).filter((p): p is Point2 => p !== null),
    });
    const fmt = (z: number[]) =>
      `(${z
        .slice(0, 4)
        .map((v) => v.toFixed(2))
        .join(', ')}${z.length > 4 ? ', …' : ''})`;
    this.images.setEndpoints(
      ends.length === 0 ? 'No endpoints yet.' : ends.map((z, i) => `${i === 0 ? 'A' : 'B'} ${fmt(z)}`).join('  →  '),
    );
  }

  private decodeStrip(): void {
    const [a, b] = this.state.endpoints;
    if (a && b) this.requests.strip(a, b, this.images.steps());
    else this.notice.show('info', 'Pick two endpoints first: shift-click two points, or use Interpolate mode.');
  }

  private traverse(): void {
    if (this.dims() === 0) return;
    const pinned = this.pinning.index !== null && this.points ? this.pinning.index : null;
    const around = pinned !== null ? baseName(this.points!.names[pinned]) : 'the origin';
    const centre = pinned !== null ? this.latentOf(pinned) : new Array<number>(this.dims()).fill(0);
    this.requests.grid(`Traversals around ${around} (±3 per dimension)`, traversalLatents(centre, 9, 3), 9);
  }

  private reconstruct(): void {
    if (this.pinning.index === null || !this.points) this.notice.show('info', 'Click a point to pin it, then Reconstruct.');
    else this.requests.reconstruct({ folder: this.points.folder, name: this.points.names[this.pinning.index] });
  }

  private sample(kind: 'prior' | 'around' | 'label', count: number, label: string): void {
    if (kind === 'around') {
      if (this.pinning.index === null || !this.points) this.notice.show('info', 'Click a point to pin it, then Sample around point.');
      else this.requests.sample(count, { kind: 'around', center: this.latentOf(this.pinning.index), radius: 0.5 });
    } else if (kind === 'label') this.requests.sample(count, { kind: 'label', label });
    else this.requests.sample(count, { kind: 'prior' });
  }

  // ---------------------------------------------------------------- state

  private update(patch: Partial<ViewState>): void {
    const before = this.state;
    this.state = { ...this.state, ...patch };
    if ('selection' in patch || 'search' in patch) this.recomputeSelection();
    else if ('isolate' in patch || 'hiddenLabels' in patch) this.refreshDrawClass();
    if (before !== this.state) host.setState(this.state);
  }
}
