// Level of detail for the WebGL points: the points sorted into a coarse grid of tiles over their
// range (16 × 16 by default: each tile is a draw call of its own, and a software renderer spends
// some 40 µs on a draw call before its first point), and inside a tile in an order whose every prefix is an even sample of the tile (the
// indices visited by golden-ratio steps, so a prefix spreads over the whole index range, over
// every folder and label, not over the first ones). A frame that would draw more points than its
// budget draws from every tile in view the same fraction of its points, at least one, each point
// standing for the tile's points it leaves out: a stratified sample whose density is unbiased, and
// a tile with a handful of outliers keeps them. Zoomed in until the points in view fit the budget,
// every one of them is drawn.

export interface Tiles {
  x0: number;
  y0: number;
  /** Tiles per data unit. */
  sx: number;
  sy: number;
  cols: number;
  rows: number;
  /** Point indices by tile (row-major); tile t holds order[start[t] .. start[t + 1]). */
  order: Uint32Array;
  start: Uint32Array;
}

/** What one frame draws: ranges of `order`, each with the weight of each point drawn from it. */
export interface DrawPlan {
  first: number[];
  count: number[];
  weight: number[];
  /** Points drawn, and points in the tiles in view. */
  drawn: number;
  inView: number;
}

/** Builds the tiles, pausing every `chunk` points (as GridIndex.buildInSteps) so millions do not block the page. */
export function* buildTilesInSteps(coords: Float32Array, cols = 16, rows = 16, chunk = 65_536): Generator<void, Tiles, void> {
  const n = coords.length >> 1;
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    for (let i = from; i < to; i++) {
      const x = coords[2 * i];
      const y = coords[2 * i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    yield;
  }
  if (x0 > x1) [x0, x1, y0, y1] = [0, 1, 0, 1];
  const sx = cols / Math.max(x1 - x0, 1e-9);
  const sy = rows / Math.max(y1 - y0, 1e-9);
  const tileOf = new Int32Array(n);
  const start = new Uint32Array(cols * rows + 1);
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    for (let i = from; i < to; i++) {
      const x = coords[2 * i];
      const y = coords[2 * i + 1];
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        tileOf[i] = -1;
        continue;
      }
      const t = Math.min(rows - 1, ((y - y0) * sy) | 0) * cols + Math.min(cols - 1, ((x - x0) * sx) | 0);
      tileOf[i] = t;
      start[t + 1]++;
    }
    yield;
  }
  for (let t = 0; t < cols * rows; t++) start[t + 1] += start[t];
  const fill = start.slice(0, cols * rows);
  const order = new Uint32Array(start[cols * rows]);
  const step = goldenStep(n);
  let i = 0;
  for (let from = 0; from < n; from += chunk) {
    const to = Math.min(n, from + chunk);
    for (let k = from; k < to; k++) {
      const t = tileOf[i];
      if (t >= 0) order[fill[t]++] = i;
      i += step;
      if (i >= n) i -= n;
    }
    yield;
  }
  return { x0, y0, sx, sy, cols, rows, order, start };
}

export function buildTiles(coords: Float32Array, cols = 16, rows = 16): Tiles {
  const steps = buildTilesInSteps(coords, cols, rows);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The ranges to draw for the data rectangle in view: every point of the tiles it meets when they
 * hold no more than `budget` (runs of whole tiles merged), otherwise from each such tile the same
 * fraction of its points, rounded up, weighted by how many each stands for.
 */
export function drawPlan(t: Tiles, view: { x0: number; x1: number; y0: number; y1: number }, budget: number): DrawPlan {
  const c0 = clamp(Math.floor((view.x0 - t.x0) * t.sx), t.cols);
  const c1 = clamp(Math.floor((view.x1 - t.x0) * t.sx), t.cols);
  const r0 = clamp(Math.floor((view.y0 - t.y0) * t.sy), t.rows);
  const r1 = clamp(Math.floor((view.y1 - t.y0) * t.sy), t.rows);
  const plan: DrawPlan = { first: [], count: [], weight: [], drawn: 0, inView: 0 };
  const outside = view.x1 < t.x0 || view.y1 < t.y0 || view.x0 > t.x0 + t.cols / t.sx || view.y0 > t.y0 + t.rows / t.sy;
  if (outside) return plan;
  for (let r = r0; r <= r1; r++) plan.inView += t.start[r * t.cols + c1 + 1] - t.start[r * t.cols + c0];
  if (plan.inView <= budget) {
    for (let r = r0; r <= r1; r++) {
      const a = t.start[r * t.cols + c0];
      const b = t.start[r * t.cols + c1 + 1];
      if (b > a) push(plan, a, b - a, 1);
    }
    return plan;
  }
  const f = budget / plan.inView;
  for (let r = r0; r <= r1; r++) {
    for (let c = c0; c <= c1; c++) {
      const a = t.start[r * t.cols + c];
      const size = t.start[r * t.cols + c + 1] - a;
      if (!size) continue;
      const m = Math.ceil(size * f);
      push(plan, a, m, size / m);
    }
  }
  return plan;
}

function push(plan: DrawPlan, first: number, count: number, weight: number): void {
  plan.first.push(first);
  plan.count.push(count);
  plan.weight.push(weight);
  plan.drawn += count;
}

function clamp(v: number, count: number): number {
  return v < 0 ? 0 : v >= count ? count - 1 : v;
}

/** A step near n / φ with no factor in common with n, so stepping by it visits every index once. */
function goldenStep(n: number): number {
  if (n <= 2) return 1;
  let s = Math.max(1, Math.round(n * 0.6180339887498949));
  while (gcd(s, n) !== 1) s++;
  return s;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
