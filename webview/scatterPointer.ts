// Pointer and keyboard input on the scatter: hover, click, double-click, brush and lasso drags,
// keys that pan and zoom, and Escape / Enter for the pinned point. The scatter supplies coordinates and hit tests; this decides what a gesture means.

import { rectPolygon, type Point2 } from './core/hitTest';
import type { PointerMode } from './core/viewState';

export interface PointerTarget {
  mode(): PointerMode;
  /** Data coordinates under a client position. */
  dataAt(clientX: number, clientY: number): Point2;
  /** Nearest visible point under a client position. */
  pointAt(clientX: number, clientY: number): number | null;
  setHovered(index: number | null, clientX: number, clientY: number): void;
  drawDragOutline(path: Point2[]): void;
  select(polygon: Point2[]): void;
  click(index: number | null, data: Point2, shift: boolean): void;
  doubleClick(index: number | null): void;
  /** Escape and Enter on the focused scatter. */
  key(key: 'Escape' | 'Enter'): void;
  /** Screen-pixel pan, zoom factor about the centre, back to the fitted view. */
  panBy(dx: number, dy: number): void;
  zoomBy(factor: number): void;
  resetView(): void;
  settled(): void;
}

/** Pixels per arrow-key press; shift moves five times as far. */
const KEY_PAN_PX = 40;

export function attachPointer(node: Element, target: PointerTarget): void {
  let drag: { start: Point2; path: Point2[] } | null = null;
  const selecting = () => target.mode() === 'brush' || target.mode() === 'lasso';

  node.addEventListener('pointermove', (ev) => {
    const e = ev as PointerEvent;
    if (drag) {
      const p = target.dataAt(e.clientX, e.clientY);
      if (target.mode() === 'lasso') drag.path.push(p);
      else drag.path = rectPolygon(drag.start, p);
      target.drawDragOutline(drag.path);
      return;
    }
    if (e.buttons) return;
    target.setHovered(target.pointAt(e.clientX, e.clientY), e.clientX, e.clientY);
  });
  node.addEventListener('pointerleave', () => target.setHovered(null, 0, 0));
  node.addEventListener('pointerdown', (ev) => {
    const e = ev as PointerEvent;
    if (!selecting() || e.button !== 0) return;
    const p = target.dataAt(e.clientX, e.clientY);
    drag = { start: p, path: [p] };
    (e.target as Element).setPointerCapture?.(e.pointerId);
    target.setHovered(null, 0, 0);
  });
  node.addEventListener('pointerup', (ev) => {
    const e = ev as PointerEvent;
    if (!drag) return;
    const done = drag;
    if (target.mode() === 'brush') done.path = rectPolygon(done.start, target.dataAt(e.clientX, e.clientY));
    drag = null;
    target.drawDragOutline([]);
    if (done.path.length >= 3) target.select(done.path);
  });
  node.addEventListener('click', (ev) => {
    const e = ev as MouseEvent;
    if (selecting()) return;
    target.click(target.pointAt(e.clientX, e.clientY), target.dataAt(e.clientX, e.clientY), e.shiftKey);
  });
  node.addEventListener('dblclick', (ev) => {
    const e = ev as MouseEvent;
    if (selecting() || target.mode() === 'interpolate' || e.shiftKey) return;
    const i = target.pointAt(e.clientX, e.clientY);
    // On a point: open it; on empty space: back to the view of every point.
    if (i === null) target.resetView();
    else target.doubleClick(i);
  });
  node.addEventListener('keydown', (ev) => {
    const e = ev as KeyboardEvent;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape' || e.key === 'Enter') {
      e.preventDefault();
      target.key(e.key);
      return;
    }
    const step = KEY_PAN_PX * (e.shiftKey ? 5 : 1);
    const moves: Record<string, [number, number]> = {
      ArrowLeft: [step, 0],
      ArrowRight: [-step, 0],
      ArrowUp: [0, step],
      ArrowDown: [0, -step],
    };
    if (moves[e.key]) target.panBy(moves[e.key][0], moves[e.key][1]);
    else if (e.key === '+' || e.key === '=') target.zoomBy(1.25);
    else if (e.key === '-' || e.key === '_') target.zoomBy(0.8);
    else if (e.key === '0') target.resetView();
    else return;
    e.preventDefault();
    target.settled();
  });
}
