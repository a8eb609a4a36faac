// The latent scatter: points on a canvas painted pixel by pixel (fast enough for a million),
// a decoded-manifold canvas beneath, axes and overlays in SVG above, d3-zoom on top.

import { axisBottom, axisLeft } from 'd3-axis';
import { quadtree, type Quadtree } from 'd3-quadtree';
import { scaleLinear, type ScaleLinear } from 'd3-scale';
import { select, type Selection } from 'd3-selection';
import { zoom, zoomIdentity, type ZoomBehavior, type ZoomTransform } from 'd3-zoom';
import { fitFrame, type Frame } from './core/geometry';
import { rectPolygon, type Point2 } from './core/hitTest';
import type { LatentRect } from './core/grid';
import type { PointerMode } from './core/viewState';
import { el } from './dom';

/** Per-point drawing class: hidden, dimmed (outside a selection or search) or full colour. */
export const HIDDEN = 0;
export const DIM = 1;
export const FULL = 2;

export interface ScatterEvents {
  hover(index: number | null, clientX: number, clientY: number): void;
  click(index: number | null, data: Point2, shift: boolean): void;
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
  private tree: Quadtree<number> | null = null;
  private treeTimer = 0;
  private buffer: ImageData | null = null;
  private frameRequested = false;
  private manifold: { image: CanvasImageSource; rect: LatentRect } | null = null;
  private mode: PointerMode = 'pan';
  private hovered: number | null = null;
  private marks: { highlight: number[]; endpoints: Point2[]; selection: Point2[] | null } = {
    highlight: [],
    endpoints: [],
    selection: null,
  };
  private drag: { start: Point2; path: Point2[] } | null = null;

  constructor(private readonly events: ScatterEvents) {
    this.manifoldCanvas = el('canvas', { class: 'layer manifold-layer', 'aria-hidden': 'true' });
    this.pointsCanvas = el('canvas', { class: 'layer points-layer', 'aria-hidden': 'true' });
    const svgNode = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svgNode.setAttribute('class', 'layer overlay-layer');
    svgNode.setAttribute('tabindex', '0');
    svgNode.setAttribute('role', 'application');
    svgNode.setAttribute('aria-label', 'Latent scatter: arrow keys pan, plus and minus zoom, 0 resets the view');
    this.root = el('div', { class: 'scatter' }, this.manifoldCanvas, this.pointsCanvas, svgNode as unknown as Node);
    this.svg = select(svgNode);
    this.svg.append('g').attr('class', 'axis axis-x');
    this.svg.append('g').attr('class', 'axis axis-y');
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
        this.events.transform(e.transform);
        this.requestDraw();
      })
      .on('end', () => this.events.settled());
    this.svg.call(this.zoomBehavior).on('dblclick.zoom', null);

    svgNode.addEventListener('pointermove', (e) => this.onPointerMove(e));
    svgNode.addEventListener('pointerleave', () => this.setHovered(null, 0, 0));
    svgNode.addEventListener('pointerdown', (e) => this.onPointerDown(e));
    svgNode.addEventListener('pointerup', (e) => this.onPointerUp(e));
    svgNode.addEventListener('click', (e) => this.onClick(e));
    svgNode.addEventListener('keydown', (e) => this.onKey(e));
    new ResizeObserver(() => this.resize()).observe(this.root);
  }

  // ---------------------------------------------------------------- data and looks

  setPoints(coords: Float32Array, colourIndex: Uint8Array, keepView: boolean): void {
    this.coords = coords;
    this.colourIndex = colourIndex;
    this.drawClass = new Uint8Array(coords.length / 2).fill(FULL);
    this.classCounts = [0, 0, coords.length / 2];
    this.tree = null;
    this.hovered = null;
    this.refit();
    if (!keepView) this.setTransform({ k: 1, x: 0, y: 0 });
    this.requestDraw();
    // The quadtree is built after the first paint so a million points appear without waiting.
    clearTimeout(this.treeTimer);
    this.treeTimer = window.setTimeout(() => this.ensureTree(), 50);
  }

  setColours(full: Uint32Array, dim: Uint32Array): void {
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

  setMarks(marks: Partial<Scatter['marks']>): void {
    this.marks = { ...this.marks, ...marks };
    this.drawMarks();
  }

  setMode(mode: PointerMode): void {
    this.mode = mode;
    this.root.dataset.mode = mode;
  }

  setManifold(image: CanvasImageSource | null, rect?: LatentRect): void {
    this.manifold = image && rect ? { image, rect } : null;
    this.requestDraw();
  }

  setTransform(t: { k: number; x: number; y: number }): void {
    this.svg.call(this.zoomBehavior.transform, zoomIdentity.translate(t.x, t.y).scale(t.k));
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
    this.drawAxes();
    this.drawMarks();
    performance.measure('scatter-draw', 'scatter-draw-start');
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
    const ctx = this.pointsCanvas.getContext('2d');
    if (!ctx) return;
    const w = this.pointsCanvas.width;
    const h = this.pointsCanvas.height;
    if (!this.buffer || this.buffer.width !== w || this.buffer.height !== h) this.buffer = ctx.createImageData(w, h);
    const px = new Uint32Array(this.buffer.data.buffer);
    px.fill(0);
    const n = this.coords.length / 2;
    // Screen = k·(a·x + b) + t, folded into one multiply-add per axis, in device pixels.
    const { k, x: tx, y: ty } = this.transform;
    const d = this.dpr;
    const ax = (this.width / (this.frame.x1 - this.frame.x0)) * k * d;
    const bx = (-this.frame.x0 * (this.width / (this.frame.x1 - this.frame.x0)) * k + tx) * d;
    const ay = (-this.height / (this.frame.y1 - this.frame.y0)) * k * d;
    const by = ((this.height + (this.frame.y0 * this.height) / (this.frame.y1 - this.frame.y0)) * k + ty) * d;
    const r = Math.max(1, Math.round(d * (n <= 2000 ? 3 : n <= 20000 ? 2 : n <= 200000 ? 1.5 : 1)));
    const stamp = discOffsets(r, w);
    const coords = this.coords;
    const cls = this.drawClass;
    const ci = this.colourIndex;
    const small = r <= 1;
    // Dimmed points first, full-colour points on top of them; a pass with no points is skipped.
    for (const pass of [DIM, FULL]) {
      if (!this.classCounts[pass]) continue;
      const colours = pass === FULL ? this.fullColours : this.dimColours;
      for (let i = 0; i < n; i++) {
        if (cls[i] !== pass) continue;
        // x | 0 after + 0.5 rounds as Math.round does for the on-screen (non-negative) range.
        const sx = (coords[2 * i] * ax + bx + 0.5) | 0;
        const sy = (coords[2 * i + 1] * ay + by + 0.5) | 0;
        if (sx < r || sy < r || sx >= w - r || sy >= h - r) continue;
        const colour = colours[ci[i]];
        const base = sy * w + sx;
        if (small) {
          px[base] = colour;
          px[base + 1] = colour;
          px[base + w] = colour;
          px[base + w + 1] = colour;
        } else {
          for (let s = 0; s < stamp.length; s++) px[base + stamp[s]] = colour;
        }
      }
    }
    ctx.putImageData(this.buffer, 0, 0);
  }

  private drawManifold(): void {
    const ctx = this.manifoldCanvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.clearRect(0, 0, this.width, this.height);
    if (!this.manifold) return;
    const { rect, image } = this.manifold;
    const x = this.zoomedX();
    const y = this.zoomedY();
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(image, x(rect.x0), y(rect.y1), x(rect.x1) - x(rect.x0), y(rect.y0) - y(rect.y1));
  }

  private drawAxes(): void {
    const x = this.zoomedX();
    const y = this.zoomedY();
    this.svg
      .select<SVGGElement>('.axis-x')
      .attr('transform', `translate(0,${this.height - 20})`)
      .call(axisBottom(x).ticks(Math.max(2, Math.floor(this.width / 90))).tickSizeOuter(0));
    this.svg
      .select<SVGGElement>('.axis-y')
      .attr('transform', 'translate(40,0)')
      .call(axisLeft(y).ticks(Math.max(2, Math.floor(this.height / 70))).tickSizeOuter(0));
    // Labels that would sit on the other axis or off the edge are left out.
    this.svg.selectAll<SVGGElement, number>('.axis-x .tick').attr('visibility', (v) => (x(v) < 56 || x(v) > this.width - 12 ? 'hidden' : null));
    this.svg.selectAll<SVGGElement, number>('.axis-y .tick').attr('visibility', (v) => (y(v) > this.height - 30 || y(v) < 8 ? 'hidden' : null));
  }

  private drawMarks(): void {
    const x = this.zoomedX();
    const y = this.zoomedY();
    const g = this.svg.select<SVGGElement>('.marks');
    const c = this.coords;
    g.selectAll<SVGCircleElement, number>('circle.highlight')
      .data(this.marks.highlight.slice(0, 300))
      .join('circle')
      .attr('class', 'highlight')
      .attr('r', 6)
      .attr('cx', (i) => x(c[2 * i]))
      .attr('cy', (i) => y(c[2 * i + 1]));
    g.selectAll<SVGCircleElement, number>('circle.hover')
      .data(this.hovered === null ? [] : [this.hovered])
      .join('circle')
      .attr('class', 'hover')
      .attr('r', 7)
      .attr('cx', (i) => x(c[2 * i]))
      .attr('cy', (i) => y(c[2 * i + 1]));
    g.selectAll<SVGGElement, Point2>('g.endpoint')
      .data(this.marks.endpoints)
      .join((enter) => {
        const e = enter.append('g').attr('class', 'endpoint');
        e.append('circle').attr('r', 8);
        e.append('text').attr('dy', -12).attr('text-anchor', 'middle');
        return e;
      })
      .attr('transform', (p) => `translate(${x(p[0])},${y(p[1])})`)
      .select('text')
      .text((_, i) => (i === 0 ? 'A' : 'B'));
    const sel = this.marks.selection;
    g.selectAll<SVGPathElement, Point2[]>('path.selection')
      .data(sel ? [sel] : [])
      .join('path')
      .attr('class', 'selection')
      .attr('d', (poly) => 'M' + poly.map((p) => `${x(p[0])},${y(p[1])}`).join('L') + 'Z');
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
    for (const c of [this.manifoldCanvas, this.pointsCanvas]) {
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

  private dataAt(e: MouseEvent): Point2 {
    const box = this.root.getBoundingClientRect();
    return [this.zoomedX().invert(e.clientX - box.left), this.zoomedY().invert(e.clientY - box.top)];
  }

  private ensureTree(): Quadtree<number> {
    if (!this.tree) {
      performance.mark('quadtree-build-start');
      const c = this.coords;
      const n = c.length / 2;
      const ids = new Array<number>(n);
      for (let i = 0; i < n; i++) ids[i] = i;
      this.tree = quadtree<number>()
        .x((i) => c[2 * i])
        .y((i) => c[2 * i + 1])
        .addAll(ids);
      performance.measure('quadtree-build', 'quadtree-build-start');
    }
    return this.tree;
  }

  /** Nearest drawn point within `radiusPx` of the pointer, searched in data coordinates. */
  pointAt(clientX: number, clientY: number, radiusPx = 8): number | null {
    const box = this.root.getBoundingClientRect();
    const px = clientX - box.left;
    const py = clientY - box.top;
    const x = this.zoomedX().invert(px);
    const y = this.zoomedY().invert(py);
    const unitsPerPx = Math.abs(this.zoomedX().invert(1) - this.zoomedX().invert(0));
    const radius = radiusPx * unitsPerPx;
    const c = this.coords;
    const cls = this.drawClass;
    let best: number | null = null;
    let bestD2 = radius * radius;
    this.ensureTree().visit((node, x0, y0, x1, y1) => {
      if (x0 > x + radius || x1 < x - radius || y0 > y + radius || y1 < y - radius) return true;
      if (!('length' in node)) {
        for (let leaf: typeof node | undefined = node; leaf; leaf = leaf.next) {
          const i = leaf.data;
          if (cls[i] === HIDDEN) continue;
          const d2 = (c[2 * i] - x) ** 2 + (c[2 * i + 1] - y) ** 2;
          if (d2 <= bestD2) {
            bestD2 = d2;
            best = i;
          }
        }
      }
      return false;
    });
    return best;
  }

  private setHovered(index: number | null, clientX: number, clientY: number): void {
    if (index === this.hovered && index === null) return;
    this.hovered = index;
    this.events.hover(index, clientX, clientY);
    this.drawMarks();
  }

  private onPointerMove(e: PointerEvent): void {
    if (this.drag) {
      const p = this.dataAt(e);
      if (this.mode === 'lasso') this.drag.path.push(p);
      else this.drag.path = rectPolygon(this.drag.start, p);
      this.drawDragOutline();
      return;
    }
    if (e.buttons) return;
    this.setHovered(this.pointAt(e.clientX, e.clientY), e.clientX, e.clientY);
  }

  private onPointerDown(e: PointerEvent): void {
    if ((this.mode !== 'brush' && this.mode !== 'lasso') || e.button !== 0) return;
    const p = this.dataAt(e);
    this.drag = { start: p, path: [p] };
    (e.target as Element).setPointerCapture?.(e.pointerId);
    this.setHovered(null, 0, 0);
  }

  private onPointerUp(e: PointerEvent): void {
    if (!this.drag) return;
    const drag = this.drag;
    if (this.mode === 'brush') drag.path = rectPolygon(drag.start, this.dataAt(e));
    this.drag = null;
    this.drawDragOutline();
    if (drag.path.length >= 3) this.events.select(drag.path);
  }

  private drawDragOutline(): void {
    const x = this.zoomedX();
    const y = this.zoomedY();
    const path = this.drag?.path ?? [];
    this.svg
      .select('.drag-outline')
      .attr('d', path.length ? 'M' + path.map((p) => `${x(p[0])},${y(p[1])}`).join('L') + 'Z' : null);
  }

  private onClick(e: MouseEvent): void {
    if (this.mode === 'brush' || this.mode === 'lasso') return;
    this.events.click(this.pointAt(e.clientX, e.clientY), this.dataAt(e), e.shiftKey);
  }

  private onKey(e: KeyboardEvent): void {
    const step = 40;
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (moves[e.key]) {
      this.zoomBehavior.translateBy(this.svg, moves[e.key][0] / this.transform.k, moves[e.key][1] / this.transform.k);
    } else if (e.key === '+' || e.key === '=') {
      this.zoomBehavior.scaleBy(this.svg, 1.25);
    } else if (e.key === '-') {
      this.zoomBehavior.scaleBy(this.svg, 0.8);
    } else if (e.key === '0') {
      this.setTransform({ k: 1, x: 0, y: 0 });
    } else {
      return;
    }
    e.preventDefault();
    this.events.settled();
  }
}

const stampCache = new Map<string, Int32Array>();

/** Buffer offsets of a filled disc of radius r on a row of width w (r = 1 is a 2×2 square). */
function discOffsets(r: number, w: number): Int32Array {
  const key = `${r}:${w}`;
  let offsets = stampCache.get(key);
  if (!offsets) {
    const list: number[] = [];
    if (r <= 1) list.push(0, 1, w, w + 1);
    else {
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r + r * 0.5) list.push(dy * w + dx);
      }
    }
    offsets = Int32Array.from(list);
    stampCache.set(key, offsets);
  }
  return offsets;
}
