// The Latent Explorer: owns the data (every encoded folder shown, merged into one point set) and
// the view state, answers host messages, and wires the scatter, toolbar, class and folder legends
// and colour bar, tooltip, pin, neighbours, images panel and ELBO panel.

import type { ModelInfo, PointsMessage, ToWebviewMessage } from '../src/protocol/webview';
import { drawClasses } from './core/drawClass';
import { exportParts } from './core/selectionExport';
import { gaussianGrid } from './core/grid';
import { NO_IMAGES } from './core/storedImages';
import { NO_POINTS, pointImage } from './core/pointSet';
import { restoreViewState, type PointerMode, type Projection, type ViewState } from './core/viewState';
import { el } from './dom';
import { DensityController } from './densityLayer';
import { ElboPanel } from './elboPanel';
import { FilmPanel } from './filmPanel';
import { host } from './host';
import { ImageRequests } from './imageRequests';
import { ImagesPanel } from './imagesPanel';
import { Colouring } from './colouring';
import { FolderLegend, Legend } from './legend';
import { Lightbox } from './lightbox';
import { ManifoldController } from './manifoldController';
import { NeighboursPanel } from './neighbours';
import { Notice } from './notice';
import { Pinning } from './pinning';
import { RunComparison } from './runComparison';
import { PointActions } from './pointActions';
import { Scatter } from './scatter';
import { ShownPoints } from './shownPoints';
import { sideTabs } from './sideTabs';
import { Toolbar } from './toolbar';
import { emptyMapNotice } from './trainingView';
import { HoverTooltip } from './tooltip';
import { WorstList } from './worstList';

/** The list with `v` added, or taken out when it was there. */
const toggled = <T>(list: readonly T[], v: T): T[] => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

export class Explorer {
  private state: ViewState;
  private model: ModelInfo | null = null;
  private readonly shown = new ShownPoints();
  private readonly projection = this.shown.projection;
  private readonly requests: ImageRequests;
  private readonly manifold: ManifoldController;
  private readonly scatter: Scatter;
  private readonly toolbar: Toolbar;
  private readonly legend = new Legend();
  private readonly folderLegend = new FolderLegend();
  private readonly actions: PointActions;
  private readonly tooltip = new HoverTooltip();
  private readonly notice = new Notice();
  private readonly images: ImagesPanel;
  private readonly pinning: Pinning;
  private readonly neighbours: NeighboursPanel;
  private readonly worst: WorstList;
  private readonly colouring = new Colouring();
  private readonly elbo: ElboPanel;
  private readonly comparison: RunComparison;
  private readonly tabs: HTMLElement;
  private readonly density: DensityController;
  private readonly film: FilmPanel;
  /** What each point is drawn as (HIDDEN / DIM / FULL), as last computed. */
  private drawn: Uint8Array = new Uint8Array(0);

  constructor(root: HTMLElement) {
    this.state = restoreViewState(host.getState());
    this.scatter = new Scatter({
      hover: (i, x, y) => this.onHover(i, x, y),
      click: (i, p, shift) => this.actions.click(i, p, shift),
      doubleClick: (i) => i !== null && this.pinning.open(i),
      key: (key) => (key === 'Escape' ? this.pinning.pin(null) : this.pinning.openPinned()),
      select: (selection) => this.update({ selection, isolate: false }),
      transform: () => undefined,
      settled: () => this.onSettled(),
    });
    this.density = new DensityController({
      coords: () => this.shown.coords,
      drawn: () => this.drawn,
      priorCentre: () => this.priorCentre(),
      visibleRect: () => this.scatter.visibleRect(),
      size: () => this.scatter.size(),
      show: (shapes) => this.scatter.setDensity(shapes),
    });
    this.toolbar = new Toolbar({
      search: (q) => this.update({ search: q }),
      mode: (m) => this.setMode(m),
      isolate: () => this.update({ isolate: this.state.selection !== null }),
      clearSelection: () => this.update({ selection: null, isolate: false }),
      exportSelection: () => this.exportSelection(),
      projection: (p) => this.setProjection(p),
      colourBy: (by) => {
        this.update({ colourBy: by });
        this.applyColouring();
      },
      manifold: (on) => this.setManifold(on, this.state.gaussianGrid),
      density: (on) => {
        this.update({ density: on });
        this.density.set(on);
      },
      manifoldGrid: (prior) => this.setManifold(this.state.manifold, prior),
      conditionLabel: (i) => {
        this.update({ conditionLabel: i });
        this.manifold.refresh(0);
      },
    });
    this.pinning = new Pinning(this.scatter, {
      points: () => this.shown.set,
      saved: () => this.state.pin,
      save: (pin) => this.update({ pin }),
      changed: () => this.neighbours?.pinChanged(),
      message: (text) => this.notice.show('info', text),
    });
    this.neighbours = new NeighboursPanel(
      {
        pinned: () => this.pinning.file(),
        points: () => this.shown.set,
        hidden: () => this.shown.hidden,
        setLinks: (links, from) => this.scatter.setMarks({ links, query: from ?? null }),
        project: (z) => this.projection.project(this.state.projection, z),
        pick: (i) => this.pinning.pin(i),
        message: (text) => this.notice.show('info', text),
        settingsChanged: (neighbourK, neighbourMetric) => this.update({ neighbourK, neighbourMetric }),
      },
      this.state.neighbourK,
      this.state.neighbourMetric,
    );
    this.worst = new WorstList((i) => {
      this.pinning.pin(i);
      this.actions.reconstruct();
    });
    this.images = new ImagesPanel(
      {
        decodeStrip: () => this.actions.decodeStrip(),
        saveStrip: () => this.requests.saveStrip(),
        clearEndpoints: () => this.actions.setEndpoints([]),
        stepsChanged: (steps) => this.update({ steps }),
        reconstruct: () => this.actions.reconstruct(),
        sample: (kind, count, label) => this.actions.sample(kind, count, label),
        saveSamples: () => this.requests.saveSamples(),
        gaussianManifold: () =>
          this.requests.grid('Decoded manifold (inverse-CDF grid)', gaussianGrid(15), 15, {
            baseName: 'manifold',
            // Top row first: the highest z1.
            rows: Array.from({ length: 15 }, (_, r) => `row${String(r + 1).padStart(2, '0')}`),
          }),
        saveGrid: () => this.requests.saveGrid(),
        traverse: () => this.actions.traverse(),
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
    this.actions = new PointActions({
      state: () => this.state,
      update: (patch) => this.update(patch),
      points: () => this.shown.set,
      pinned: () => this.pinning.index,
      pin: (i) => this.pinning.pin(i),
      dims: () => this.dims(),
      projection: this.projection,
      scatter: this.scatter,
      images: this.images,
      requests: this.requests,
      notice: this.notice,
    });
    this.comparison = new RunComparison(
      (m) => host.post(m),
      () => host.requestId(),
      (compared) => this.update({ compared }),
      this.state.compared,
    );
    this.elbo = new ElboPanel(() => host.post({ type: 'stopTraining' }), this.comparison);
    this.manifold = new ManifoldController({
      scatter: this.scatter,
      decode: (id, latents) => this.decode(id, latents),
      requestId: () => host.requestId(),
      dims: () => this.dims(),
      imageWidth: () => this.model?.width ?? 28,
      message: (text) => this.notice.show('error', text),
    });
    this.film = new FilmPanel((name, index) => {
      // The class's colour on the map when the map shows it, so a class looks the same in both.
      const css = this.colouring.labelCss();
      const onMap = this.shown.set?.labelNames.indexOf(name) ?? -1;
      return css[(onMap >= 0 ? onMap : index) % css.length];
    });
    this.tabs = sideTabs(this.images.root, el('div', { class: 'training-tab' }, this.elbo.root, this.film.root), this.state.tab, (tab) => {
      this.update({ tab });
      // Charts drawn while their tab was hidden had no width to measure.
      if (tab === 'training') this.elbo.render();
    });
    const empty = emptyMapNotice();
    const corner = el('div', { class: 'corner' }, this.colouring.bar, this.folderLegend.root, this.legend.root);
    this.scatter.root.append(corner, this.tooltip.root, this.notice.root, empty);
    const lightbox = new Lightbox();
    lightbox.attach(this.tabs);
    root.append(this.toolbar.root, el('main', { class: 'body' }, this.scatter.root, this.tabs), lightbox.root);
    root.removeAttribute('aria-busy');

    this.toolbar.setMode(this.state.mode);
    this.toolbar.setSearch(this.state.search);
    this.toolbar.setManifold(false, this.state.manifold, this.state.gaussianGrid);
    this.manifold.set(this.state.manifold, this.state.gaussianGrid);
    this.toolbar.setDensity(this.state.density);
    this.density.set(this.state.density);
    this.scatter.setMode(this.state.mode);
    this.images.setSteps(this.state.steps);
    this.requests.show(this.state.shown);
    this.refreshColours();
    const themeWatch = new MutationObserver(() => this.refreshColours());
    themeWatch.observe(document.body, { attributes: true, attributeFilter: ['class', 'style'] });
    themeWatch.observe(document.documentElement, { attributes: true, attributeFilter: ['class', 'style'] });
    window.addEventListener('message', (e: MessageEvent<ToWebviewMessage>) => this.onMessage(e.data));
    this.pinning.unpinOnEscape();
    host.post({ type: 'ready' });
  }

  // ---------------------------------------------------------------- host messages

  private onMessage(msg: ToWebviewMessage): void {
    (this.handlers[msg.type] as (m: ToWebviewMessage) => void)(msg);
  }

  private readonly handlers: { [T in ToWebviewMessage['type']]: (m: Extract<ToWebviewMessage, { type: T }>) => void } = {
    init: (m) => {
      this.model = m.model;
      this.elbo.setBackend(m.backend);
      this.adoptModel();
      this.applyModel();
    },
    points: (m) => this.setPoints(m),
    pointTerms: (m) => {
      if (!this.shown.setTerms(m.folder, m.terms)) return;
      const pts = this.shown.set!;
      this.colouring.setPoints(pts);
      this.applyColouring();
      this.worst.render(pts, this.shown.hidden);
    },
    series: (m) => this.elbo.setSeries(m.status, m.steps, m.epochs),
    step: (m) => this.elbo.addStep(m.point, m.status),
    epoch: (m) => this.elbo.addEpoch(m.summary, m.status),
    status: (m) => this.elbo.setStatus(m.status),
    backend: (m) => this.elbo.setBackend(m.backend),
    runs: (m) => this.comparison.setRuns(m.runs),
    comparedRun: (m) => this.comparison.onCompared(m),
    images: (m) =>
      this.manifold.owns(m.requestId)
        ? this.manifold.onImages(m.requestId, m.images)
        : this.requests.onImages(m.requestId, m.images, m.latents),
    reconstruction: (m) => this.requests.onReconstruction(m),
    projection: (m) => {
      if (this.shown.onUmap(m.requestId, m.coords, m.partial) && this.state.projection.kind === 'umap') this.showProjection(true);
    },
    neighbours: (m) => this.neighbours.onReply(m),
    neighboursOf: (m) => {
      // The list is on the Images tab.
      (this.tabs as HTMLElement & { selectedIndex: number }).selectedIndex = 0;
      this.update({ tab: 'images' });
      this.neighbours.showFor(m);
    },
    saved: (m) => this.requests.onSaved(m.requestId, m.files, m.folder),
    film: (m) => this.film.set(m),
    exported: (m) => {
      const reveal = m.reveal;
      this.notice.show(
        'success',
        m.text,
        reveal ? { label: 'Reveal', run: () => host.post({ type: 'revealFile', file: reveal }) } : undefined,
      );
    },
    error: (m) => {
      if (m.requestId !== undefined) {
        if (this.manifold.owns(m.requestId)) this.manifold.onError(m.requestId);
        this.shown.forget(m.requestId);
        this.neighbours.onError(m.requestId);
        this.comparison.onError(m.requestId);
        this.requests.forget(m.requestId);
      }
      this.notice.show('error', m.message);
    },
  };

  /** A save says how many files went where, and offers to show them; it does not list them. */
  private onSaved(files: string[], folder: string): void {
    const first = files[0];
    const what = `Saved ${files.length} image${files.length === 1 ? '' : 's'} to ${folder}`;
    this.notice.show('success', what, first ? { label: 'Reveal', run: () => host.post({ type: 'revealFile', file: first }) } : undefined);
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
      // So do the folders encoded with it (the host sends the new model's after this).
      this.setPoints({ ...NO_POINTS, dims: m.latentSize });
    } else {
      const endpoints = this.state.endpoints.filter((z) => z.length === m.latentSize);
      if (endpoints.length !== this.state.endpoints.length || this.state.model === null) this.update({ model: m.runDir, endpoints });
    }
    this.actions.refreshMarks();
  }

  private applyModel(): void {
    const m = this.model;
    this.images.setModel(m?.latentSize ?? 2, m?.conditional ?? false, m?.labels ?? []);
    this.toolbar.setConditionLabels(m?.conditional ? m.labels : [], this.state.conditionLabel);
    this.toolbar.setManifold(this.dims() === 2, this.state.manifold, this.state.gaussianGrid);
    this.manifold.refresh(0);
  }

  private dims(): number {
    const pts = this.shown.set;
    return pts?.folders.length ? pts.dims : (this.model?.latentSize ?? 0);
  }

  /** One folder's points: they replace that folder's (or join the others), or all of them. */
  private setPoints(msg: PointsMessage): void {
    // The benchmark splits first paint into message delivery and our own work at this mark.
    performance.mark('points-received');
    const { keepView, hiddenFolders } = this.shown.receive(msg, this.state.hiddenFolders);
    const pts = this.shown.set!;
    if (hiddenFolders.length !== this.state.hiddenFolders.length) this.update({ hiddenFolders });
    this.colouring.setPoints(pts);
    this.applyColouring();
    this.scatter.setThumbnailSource(pts.names.length ? (i) => pointImage(pts, i) : null);
    this.worst.render(pts, this.shown.hidden);
    this.scatter.root.classList.toggle('has-points', pts.names.length > 0);
    this.toolbar.setDims(pts.dims, this.state.projection);
    this.toolbar.setManifold(this.dims() === 2, this.state.manifold, this.state.gaussianGrid);
    this.showProjection(keepView);
    if (keepView) this.scatter.setTransform(this.state.transform);
    this.pinning.resolve();
    this.neighbours.render();
    this.manifold.refresh(0);
  }

  private showProjection(keepView: boolean): void {
    if (!this.shown.set) return;
    let p = this.state.projection;
    if (p.kind === 'dims' && (p.x >= this.shown.set.dims || p.y >= this.shown.set.dims)) p = this.state.projection = { kind: 'pca' };
    for (const ask of this.shown.umapRequestsFor(p, () => host.requestId())) host.post(ask);
    this.scatter.setPoints(this.shown.project(p), this.colouring.paint().index, keepView);
    this.scatter.setAxisTitles(...this.projection.axisTitles(p));
    this.recomputeSelection();
    this.refreshLegend();
    this.actions.refreshMarks();
  }

  private setProjection(p: Projection): void {
    this.state.selection = null;
    this.state.isolate = false;
    this.update({ projection: p });
    this.showProjection(false);
  }

  // ---------------------------------------------------------------- selection, search, legends

  private recomputeSelection(): void {
    this.shown.pick(this.state.selection, this.state.search);
    this.refreshDrawClass();
  }

  private refreshDrawClass(): void {
    const { set: pts, selected: sel, matches } = this.shown;
    if (!pts) return;
    const isolate = this.state.isolate && sel !== null;
    const searching = this.state.search.trim().length > 0;
    const { cls, selectedCount } = drawClasses({
      labels: pts.labels,
      hiddenLabels: new Set(this.state.hiddenLabels),
      hiddenPoints: this.shown.hidden,
      selected: sel,
      matches: searching ? matches : null,
      isolate,
    });
    this.drawn = cls;
    this.scatter.setDrawClass(cls);
    this.density.pointsChanged();
    this.scatter.setMarks({ highlight: searching ? Array.from(matches.subarray(0, 300)) : [], selection: this.state.selection });
    this.toolbar.setInfo(this.shown.describe(this.state, selectedCount));
  }

  private refreshLegend(): void {
    this.legend.render(this.shown.set, this.shown.hidden, this.colouring.labelCss(), new Set(this.state.hiddenLabels), (i) => {
      this.update({ hiddenLabels: toggled(this.state.hiddenLabels, i) });
      this.refreshLegend();
    });
    // Coloured by a figure or folder, the legend still hides and shows classes; its swatches are not the points' colours.
    this.legend.root.classList.toggle('no-swatches', this.colouring.shown() !== 'label');
    const byFolder = this.colouring.shown() === 'folder';
    this.folderLegend.render(this.shown.set, byFolder ? this.colouring.labelCss() : null, new Set(this.state.hiddenFolders), (folder) =>
      this.toggleFolder(folder),
    );
  }

  /** Shows or hides one folder's points; what is drawn, counted and listed follows. */
  private toggleFolder(folder: string): void {
    const hiddenFolders = toggled(this.state.hiddenFolders, folder);
    this.shown.hide(hiddenFolders);
    this.update({ hiddenFolders });
    this.recomputeSelection();
    this.refreshLegend();
    this.worst.render(this.shown.set, this.shown.hidden);
    this.neighbours.render();
  }

  private refreshColours(): void {
    this.colouring.refreshTheme();
    this.film?.redraw();
    this.applyColouring();
  }

  private applyColouring(): void {
    this.colouring.setBy(this.state.colourBy);
    const paint = this.colouring.paint();
    this.scatter.setColours(paint.full, paint.dim, paint.index);
    this.toolbar.setColourBy(this.colouring.choices(), this.colouring.shown());
    this.refreshLegend();
  }

  /** Where N(0, I) is centred on the map: the origin's image under a linear projection; null for UMAP or 1-D latents. */
  private priorCentre(): [number, number] | null {
    const dims = this.shown.set?.dims ?? this.model?.latentSize ?? 0;
    if (dims < 2) return null;
    return this.projection.project(this.state.projection, new Array<number>(dims).fill(0));
  }

  /** The selected points (every drawn point without a selection) go to the host, which asks how to export them. */
  private exportSelection(): void {
    const pts = this.shown.set;
    const parts = pts ? exportParts(pts, this.shown.coords, this.drawn, this.shown.selected) : [];
    if (parts.length === 0) {
      this.notice.show(
        'info',
        pts?.names.length ? 'No shown point is selected: select some with Brush or Lasso, or Clear.' : 'No points yet.',
      );
      return;
    }
    const axes = this.projection.axisTitles(this.state.projection);
    host.post({ type: 'exportSelection', requestId: host.requestId(), parts, axes, selection: this.shown.selected !== null });
  }

  // ---------------------------------------------------------------- pointer

  /** Hover only previews: what the buttons act on is the pinned point. */
  private onHover(i: number | null, clientX: number, clientY: number): void {
    const pts = this.shown.set;
    if (i === null || !pts) this.tooltip.hide();
    else this.tooltip.show(pts, i, clientX, clientY, this.scatter.root);
  }

  private setMode(mode: PointerMode): void {
    this.update({ mode });
    this.toolbar.setMode(mode);
    this.scatter.setMode(mode);
  }

  private onSettled(): void {
    this.update({ transform: this.scatter.getTransform() });
    this.manifold.viewChanged();
    this.density.viewChanged();
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

  // ---------------------------------------------------------------- state

  private update(patch: Partial<ViewState>): void {
    const before = this.state;
    this.state = { ...this.state, ...patch };
    if ('selection' in patch || 'search' in patch) this.recomputeSelection();
    else if ('isolate' in patch || 'hiddenLabels' in patch) this.refreshDrawClass();
    if (before !== this.state) host.setState(this.state);
  }
}
