// The latent scatter: points drawn with WebGL2 (pointsGl.ts, density-aware, for millions) or, where
// WebGL2 is missing or its context is lost, on a canvas painted pixel by pixel (pointsLayer.ts);
// a decoded-manifold canvas beneath, axes and overlays in SVG above, d3-zoom on top.

import { axisBottom, axisLeft } from 'd3-axis';
import { scaleLinear, type ScaleLinear } from 'd3-scale';
import { select, type Selection } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { DIM, FULL, HIDDEN } from './core/drawClass';
import { fitFrame, type Frame } from './core/geometry';
import { GridIndex, nearestByScan } from './core/gridIndex';
import { buildTilesInSteps } from './core/tiles';
import type { Point2 } from './core/hitTest';
import type { LatentRect } from './core/grid';
import type { PointerMode } from './core/viewState';
import { el } from './dom';
import { drawDensity, type DensityShapes } from './densityLayer';
import { drawManifoldTiles, type ManifoldTiles } from './manifoldLayer';
import { ThumbsLayer } from './thumbsLayer';
import { drawMarks, type Marks } from './scatterMarks';
import { PointsGl } from './pointsGl';
import { paintPoints } from './pointsLayer';
import { attachPointer } from './scatterPointer';

export { DIM, FULL, HIDDEN };

export interface ScatterEvents {
  hover(index: number | null, clientX: number, clientY: number): void;
  click(index: number | null, data: Point2, shift: boolean): void;
  doubleClick(index: number | null): void;
  key(key: 'Escape' | 'Enter'): void;
  select(polygon: Point2[]): void;
  /** Every transform change (cheap listeners only). */
  transform(t: ZoomTransform): void;
  /** Pan or zoom came to rest. */
  settled(): void;
}

export class Scatter {
  readonly root: HTMLDivElement;
  private readonly manifoldCanvas: HTMLCanvasElement;
  private readonly pointsCanvas: HTMLCanvasElement;
  /** The WebGL2 points, on their own canvas (a canvas that gave a WebGL context cannot give a 2-D one). */
  private readonly glCanvas: HTMLCanvasElement;
  private gl: PointsGl | null = null;
  private glForced = false;
  private readonly svg: Selection<SVGSVGElement, unknown, null, undefined>;
  private readonly zoomBehavior: ZoomBehavior<SVGSVGElement, unknown>;
  private width = 1;
  private height = 1;
  private dpr = 1;
  private frame: Frame = { x0: -3, x1: 3, y0: -3, y1: 3 };
  private transform: ZoomTransform = zoomIdentity;
  private coords: Float32Array = new Float32Array(0);
  private colourIndex: Uint8Array = new Uint8Array(0);
  private drawClass: Uint8Array = new Uint8Array(0);
  /** Points per draw class, so a pass with nothing to draw costs nothing. */
  private classCounts = [0, 0, 0];
  /** Packed RGBA per colour index, full and dimmed. */
  private fullColours: Uint32Array = new Uint32Array(1);
  private dimColours: Uint32Array = new Uint32Array(1);
  /** Hover index, built in short slices after the first paint; until then hovers scan every point. */
  private index: GridIndex | null = null;
  private indexBuild: Generator<void, void, void> | null = null;
  private indexTimer = 0;
  private buffer: ImageData | null = null;
  private frameRequested = false;
  private manifold: ManifoldTiles | null = null;
  private mode: PointerMode = 'pan';
  private hovered: number | null = null;
  private marks: Marks = { highlight: [], endpoints: [], selection: null, pin: null, links: [], query: null };
  private density: DensityShapes | null = null;
  /** Zoomed in far enough, the points' own images over their dots. */
  private readonly thumbs: ThumbsLayer;

  constructor(private readonly events: ScatterEvents) {
    this.manifoldCanvas = el('canvas', { class: 'layer manifold-layer', 'aria-hidden': 'true' });
    this.pointsCanvas = el('canvas', { class: 'layer points-layer', 'aria-hidden': 'true' });
    this.glCanvas = el('canvas', { class: 'layer points-gl-layer', 'aria-hidden': 'true' });
    const svgNode = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svgNode.setAttribute('class', 'layer overlay-layer');
    svgNode.setAttribute('tabindex', '0');
    svgNode.setAttribute('role', 'application');
    svgNode.setAttribute('aria-label', 'Latent scatter: arrow keys pan, plus and minus zoom, 0 resets the view');
    const reset = el(
      'vscode-button',
      { class: 'reset-view', secondary: true, title: 'Show every point again (0, or double-click empty space)' },
      'Reset view',
    );
    reset.addEventListener('click', () => this.resetView());
    this.thumbs = new ThumbsLayer(() => this.requestDraw());
    this.root = el(
      'div',
      { class: 'scatter' },
      this.manifoldCanvas,
      this.pointsCanvas,
      this.glCanvas,
      this.thumbs.canvas,
      svgNode as unknown as Node,
      reset,
    );
    this.svg = select(svgNode);
    this.svg.append('g').attr('class', 'axis axis-x');
    this.svg.append('g').attr('class', 'axis axis-y');
    this.svg.append('text').attr('class', 'axis-title axis-title-x').attr('text-anchor', 'end');
    this.svg.append('text').attr('class', 'axis-title axis-title-y').attr('text-anchor', 'end');
    this.svg.append('g').attr('class', 'density');
    // Neighbour links beneath the other marks, so the pin's ring stays on top of them.
    this.svg.append('g').attr('class', 'links');
    this.svg.append('g').attr('class', 'marks');
    this.svg.append('path').attr('class', 'drag-outline');

    this.zoomBehavior = zoom<SVGSVGElement, unknown>()
      .scaleExtent([0.05, 10000])
      .filter((e: Event) => {
        const me = e as MouseEvent;
        if (e.type === 'wheel') return true;
        if (this.mode !== 'pan' && (e.type === 'mousedown' || e.type === 'touchstart')) return false;
        return !me.ctrlKey && !me.button;
      })
      .on('zoom', (e: { transform: ZoomTransform }) => {
        this.transform = e.transform;
        // Reset view shows only when there is a view to go back from.
        this.root.classList.toggle('view-moved', e.transform.k !== 1 || e.transform.x !== 0 || e.transform.y !== 0);
        this.events.transform(e.transform);
        this.requestDraw();
      })
      .on('end', () => this.events.settled());
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);

    attachPointer(svgNode, {
      mode: () => this.mode,
      dataAt: (x, y) => this.dataAt(x, y),
      pointAt: (x, y) => this.pointAt(x, y),
      setHovered: (i, x, y) => this.setHovered(i, x, y),
      drawDragOutline: (path) => this.drawDragOutline(path),
      select: (polygon) => this.events.select(polygon),
      click: (i, p, shift) => this.events.click(i, p, shift),
      doubleClick: (i) => this.events.doubleClick(i),
      key: (key) => this.events.key(key),
      panBy: (dx, dy) => this.zoomBehavior.translateBy(this.svg, dx / this.transform.k, dy / this.transform.k),
      zoomBy: (f) => this.zoomBehavior.scaleBy(this.svg, f),
      resetView: () => this.resetView(),
      settled: () => this.events.settled(),
    });
    this.startGl();
    new ResizeObserver(() => this.resize()).observe(this.root);
  }

  /**
   * WebGL2 unless it is unavailable or the page was opened with `?renderer=canvas` (how the browser
   * tests and the bench choose the fallback, and `?renderer=webgl` WebGL on a software renderer; a
   * VS Code webview's address never carries either). A lost context falls back to the canvas for
   * good: the canvas path draws the same points, one pass per frame.
   */
  private startGl(): void {
    const forced = new URLSearchParams(location.search).get('renderer');
    this.glForced = forced === 'webgl';
    this.gl = forced === 'canvas' ? null : PointsGl.create(this.glCanvas);
    this.glCanvas.addEventListener('webglcontextlost', () => this.useCanvas());
    if (!this.gl) this.useCanvas();
    else this.showRenderer();
  }

  private useCanvas(): void {
    this.gl = null;
    this.buffer = null;
    this.showRenderer();
    this.requestDraw();
  }

  /**
   * The WebGL renderer if it draws these points. A software renderer (SwiftShader, llvmpipe: no
   * GPU, or one the browser will not use) draws points far slower than the canvas path does on the
   * same CPU (docs/BENCHMARKS.md: 60,000 points in about 100 ms against a million in 14 ms, and all
   * of 10M in under 100 ms: 82–97 ms against WebGL's 123–135 ms for a 60,000-point sample), so there
   * the canvas path draws unless WebGL is asked for.
   */
  private activeGl(): PointsGl | null {
    const gl = this.gl;
    if (!gl || gl.isLost()) return null;
    return this.glForced || !gl.software ? gl : null;
  }

  private showRenderer(): void {
    const gl = this.activeGl();
    this.glCanvas.hidden = gl === null;
    this.pointsCanvas.hidden = gl !== null;
    this.root.dataset.renderer = gl ? 'webgl' : 'canvas';
  }

  // ---------------------------------------------------------------- data and looks

  setPoints(coords: Float32Array, colourIndex: Uint8Array, keepView: boolean): void {
    this.coords = coords;
    this.colourIndex = colourIndex;
    this.drawClass = new Uint8Array(coords.length / 2).fill(FULL);
    this.classCounts = [0, 0, coords.length / 2];
    this.showRenderer();
    this.index = null;
    this.hovered = null;
    this.refit();
    if (!keepView) this.setTransform({ k: 1, x: 0, y: 0 });
    this.requestDraw();
    this.startIndexBuild();
  }

  /** Packed RGBA per colour index, full and dimmed; and a new colour index per point, when given. */
  setColours(full: Uint32Array, dim: Uint32Array, colourIndex?: Uint8Array): void {
    if (colourIndex) this.colourIndex = colourIndex;
    this.fullColours = full;
    this.dimColours = dim;
    this.requestDraw();
  }

  /** HIDDEN / DIM / FULL per point. */
  setDrawClass(cls: Uint8Array): void {
    this.drawClass = cls;
    this.classCounts = [0, 0, 0];
    for (let i = 0; i < cls.length; i++) this.classCounts[cls[i]]++;
    this.requestDraw();
  }

  setMarks(marks: Partial<Marks>): void {
    this.marks = { ...this.marks, ...marks };
    this.drawMarks();
  }

  setMode(mode: PointerMode): void {
    this.mode = mode;
    this.root.dataset.mode = mode;
  }

  /** Where point i's image is (the images shown when zoomed in), or null for dots only. */
  setThumbnailSource(source: ((i: number) => string | null) | null): void {
    this.thumbs.setSource(source);
    this.requestDraw();
  }

  setDensity(shapes: DensityShapes | null): void {
    this.density = shapes;
    drawDensity(this.svg, shapes, this.zoomedX(), this.zoomedY());
  }

  setManifold(tiles: ManifoldTiles | null): void {
    this.manifold = tiles;
    this.requestDraw();
  }

  setTransform(t: { k: number; x: number; y: number }): void {
    this.svg.call(this.zoomBehavior.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
  }

  /** Back to the view that fits every point (d3-zoom reports it settled, so the view state follows). */
  resetView(): void {
    this.setTransform({ k: 1, x: 0, y: 0 });
  }

  /** What the horizontal and vertical axes show ('PC1 · 41.2% of variance', 'UMAP 1', 'z3'). */
  setAxisTitles(x: string, y: string): void {
    this.svg.select('.axis-title-x').text(x);
    this.svg.select('.axis-title-y').text(y);
    this.placeAxisTitles();
  }

  getTransform(): { k: number; x: number; y: number } {
    return { k: this.transform.k, x: this.transform.x, y: this.transform.y };
  }

  /** The latent rectangle now on screen. */
  visibleRect(): LatentRect {
    const [x0, x1] = this.zoomedX().domain();
    const [y0, y1] = this.zoomedY().domain();
    return { x0: Math.min(x0, x1), x1: Math.max(x0, x1), y0: Math.min(y0, y1), y1: Math.max(y0, y1) };
  }

  size(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  /** Screen position (client pixels) of a data point, for tests and tooltips. */
  toClient(x: number, y: number): [number, number] {
    const box = this.root.getBoundingClientRect();
    return [box.left + this.zoomedX()(x), box.top + this.zoomedY()(y)];
  }

  // ---------------------------------------------------------------- drawing

  requestDraw(): void {
    if (this.frameRequested) return;
    this.frameRequested = true;
    requestAnimationFrame(() => {
      this.frameRequested = false;
      this.draw();
    });
  }

  draw(): void {
    performance.mark('scatter-draw-start');
    this.drawManifold();
    this.drawPoints();
    this.drawThumbs();
    this.drawAxes();
    drawDensity(this.svg, this.density, this.zoomedX(), this.zoomedY());
    this.drawMarks();
    // The points this frame drew (fewer than shown when WebGL draws a level-of-detail sample), for the bench.
    const drawn = this.activeGl()?.lastPlan ?? { drawn: this.coords.length >> 1, inView: this.coords.length >> 1 };
    performance.measure('scatter-draw', { start: 'scatter-draw-start', detail: drawn });
  }

  private baseX(): ScaleLinear<number, number> {
    return scaleLinear().domain([this.frame.x0, this.frame.x1]).range([0, this.width]);
  }

  private baseY(): ScaleLinear<number, number> {
    return scaleLinear().domain([this.frame.y0, this.frame.y1]).range([this.height, 0]);
  }

  private zoomedX(): ScaleLinear<number, number> {
    return this.transform.rescaleX(this.baseX());
  }

  private zoomedY(): ScaleLinear<number, number> {
    return this.transform.rescaleY(this.baseY());
  }

  private drawPoints(): void {
    const paint = {
      coords: this.coords,
      colourIndex: this.colourIndex,
      drawClass: this.drawClass,
      classCounts: this.classCounts,
      fullColours: this.fullColours,
      dimColours: this.dimColours,
      frame: this.frame,
      transform: this.transform,
      width: this.width,
      height: this.height,
      dpr: this.dpr,
    };
    const gl = this.activeGl();
    if (gl) {
      gl.draw(paint);
      return;
    }
    const ctx = this.pointsCanvas.getContext('2d');
    if (!ctx) return;
    this.buffer = paintPoints(ctx, this.buffer, paint);
  }

  private drawThumbs(): void {
    // The zoomed scales are affine: one multiply-add per axis (a scale call per point would cost a
    // frame at a million points).
    const x = this.zoomedX();
    const y = this.zoomedY();
    const [bx, ax] = [x(0), x(1) - x(0)];
    const [by, ay] = [y(0), y(1) - y(0)];
    const full = this.fullColours;
    this.thumbs.paint({
      coords: this.coords,
      drawClass: this.drawClass,
      colourIndex: this.colourIndex,
      // Packed RGBA as the points canvas stores it (little-endian: R in the low byte).
      css: (c) => {
        const v = full[c] ?? 0;
        return `rgb(${v & 255},${(v >>> 8) & 255},${(v >>> 16) & 255})`;
      },
      toScreen: (a, b) => [ax * a + bx, ay * b + by],
      toData: (sx, sy) => [(sx - bx) / ax, (sy - by) / ay],
      width: this.width,
      height: this.height,
      dpr: this.dpr,
      zoom: this.transform.k,
    });
  }

  private drawManifold(): void {
    const ctx = this.manifoldCanvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (this.manifold) drawManifoldTiles(ctx, this.manifold, this.zoomedX(), this.zoomedY());
  }

  private drawAxes(): void {
    const x = this.zoomedX();
    const y = this.zoomedY();
    this.svg
      .select<SVGGElement>('.axis-x')
      .attr('transform', `translate(0,${this.height - 20})`)
      .call(
        axisBottom(x)
          .ticks(Math.max(2, Math.floor(this.width / 90)))
          .tickSizeOuter(0),
      );
    this.svg
      .select<SVGGElement>('.axis-y')
      .attr('transform', 'translate(40,0)')
      .call(
        axisLeft(y)
          .ticks(Math.max(2, Math.floor(this.height / 70)))
          .tickSizeOuter(0),
      );
    this.placeAxisTitles();
    // Labels that would sit on the other axis or off the edge are left out.
    this.svg
      .selectAll<SVGGElement, number>('.axis-x .tick')
      .attr('visibility', (v) => (x(v) < 56 || x(v) > this.width - 12 ? 'hidden' : null));
    this.svg
      .selectAll<SVGGElement, number>('.axis-y .tick')
      .attr('visibility', (v) => (y(v) > this.height - 30 || y(v) < 8 ? 'hidden' : null));
  }

  /** The x title at the right end above the x axis, the y title rotated along the y axis' top. */
  private placeAxisTitles(): void {
    this.svg
      .select('.axis-title-x')
      .attr('x', this.width - 8)
      .attr('y', this.height - 26);
    this.svg.select('.axis-title-y').attr('transform', 'translate(52,8) rotate(-90)');
  }

  private drawMarks(): void {
    drawMarks(this.svg, this.marks, this.hovered, this.coords, this.zoomedX(), this.zoomedY());
  }

  // ---------------------------------------------------------------- layout

  private resize(): void {
    const box = this.root.getBoundingClientRect();
    const w = Math.max(1, Math.floor(box.width));
    const h = Math.max(1, Math.floor(box.height));
    const dpr = window.devicePixelRatio || 1;
    if (w === this.width && h === this.height && dpr === this.dpr) return;
    this.width = w;
    this.height = h;
    this.dpr = dpr;
    for (const c of [this.manifoldCanvas, this.pointsCanvas, this.glCanvas, this.thumbs.canvas]) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
      c.style.width = `${w}px`;
      c.style.height = `${h}px`;
    }
    this.svg.attr('width', w).attr('height', h).attr('viewBox', `0 0 ${w} ${h}`);
    this.refit();
    this.draw();
  }

  private refit(): void {
    this.frame = fitFrame(this.coords, this.width, this.height);
  }

  // ---------------------------------------------------------------- pointer

  private dataAt(clientX: number, clientY: number): Point2 {
    const box = this.root.getBoundingClientRect();
    return [this.zoomedX().invert(clientX - box.left), this.zoomedY().invert(clientY - box.top)];
  }

  /**
   * Builds the hover index in slices of about 8 ms, starting after the first paint, so a million
   * points neither delay their first paint nor freeze the panel; a newer set of points supersedes it.
   * With WebGL and more points than a frame's budget, the level-of-detail tiles are built the same way, first.
   */
  private startIndexBuild(): void {
    clearTimeout(this.indexTimer);
    const coords = this.coords;
    const started = performance.now();
    let busyMs = 0;
    let longestMs = 0;
    let sliceStart = 0;
    // Figures up to now, this slice included: the longest the main thread was blocked, the total.
    const measure = (name: string) => {
      const now = performance.now();
      const detail = { busyMs: busyMs + now - sliceStart, longestMs: Math.max(longestMs, now - sliceStart) };
      performance.measure(name, { start: started, end: now, detail });
    };
    // The tiles first: until they are built a frame draws a coarser sample, while hovers until
    // the index is built scan every point (exact, tens of milliseconds at ten million).
    const build = function* (this: Scatter): Generator<void, void, void> {
      if (this.activeGl()?.wantsTiles(coords.length >> 1)) {
        const tiles = yield* buildTilesInSteps(coords);
        this.gl?.setTiles(coords, tiles);
        measure('lod-tiles-build');
        this.requestDraw();
      }
      this.index = yield* GridIndex.buildInSteps(coords);
      measure('hover-index-build');
    }.call(this);
    this.indexBuild = build;
    const work = () => {
      if (this.indexBuild !== build) return;
      const t0 = (sliceStart = performance.now());
      let done = false;
      while (!(done = !!build.next().done) && performance.now() - t0 <= 8);
      const slice = performance.now() - t0;
      busyMs += slice;
      longestMs = Math.max(longestMs, slice);
      if (done) this.indexBuild = null;
      else this.indexTimer = window.setTimeout(work, 0);
    };
    this.indexTimer = window.setTimeout(work, 50);
  }

  /** Nearest drawn point within `radiusPx` of the pointer, searched in data coordinates. */
  pointAt(clientX: number, clientY: number, radiusPx = 8): number | null {
    const [x, y] = this.dataAt(clientX, clientY);
    const unitsPerPx = Math.abs(this.zoomedX().invert(1) - this.zoomedX().invert(0));
    const cls = this.drawClass;
    const visible = (i: number) => cls[i] !== HIDDEN;
    const radius = radiusPx * unitsPerPx;
    return this.index ? this.index.nearest(x, y, radius, visible) : nearestByScan(this.coords, x, y, radius, visible);
  }

  private setHovered(index: number | null, clientX: number, clientY: number): void {
    if (index === this.hovered && index === null) return;
    this.hovered = index;
    this.events.hover(index, clientX, clientY);
    this.drawMarks();
  }

  private drawDragOutline(path: Point2[]): void {
    const x = this.zoomedX();
    const y = this.zoomedY();
    this.svg.select('.drag-outline').attr('d', path.length ? 'M' + path.map((p) => `${x(p[0])},${y(p[1])}`).join('L') + 'Z' : null);
  }
}
