// The exact k nearest neighbours of every point, through a k-d tree: latents have few dimensions
// (2–32 here), where a tree prunes most of the points; the result is exact whatever the dimension
// (in high dimensions the tree only prunes less).

export interface KnnGraph {
  k: number;
  /** n × k neighbour indices, nearest first (the point itself excluded). */
  index: Int32Array;
  /** n × k Euclidean distances, matching `index`. */
  distance: Float32Array;
}

const LEAF = 16;

interface Tree {
  /** Point order: each node covers a contiguous range of it. */
  order: Int32Array;
  /** Per node: start, end (exclusive), split dimension (−1 for a leaf), split value, left, right. */
  start: Int32Array;
  end: Int32Array;
  dim: Int32Array;
  value: Float64Array;
  left: Int32Array;
  right: Int32Array;
}

function buildTree(points: Float32Array, n: number, dims: number): Tree {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const maxNodes = 2 * Math.ceil(n / (LEAF / 2)) + 1;
  const t: Tree = {
    order,
    start: new Int32Array(maxNodes),
    end: new Int32Array(maxNodes),
    dim: new Int32Array(maxNodes),
    value: new Float64Array(maxNodes),
    left: new Int32Array(maxNodes),
    right: new Int32Array(maxNodes),
  };
  let nodes = 0;
  const stack: number[] = [];
  const make = (s: number, e: number) => {
    const id = nodes++;
    t.start[id] = s;
    t.end[id] = e;
    t.dim[id] = -1;
    stack.push(id);
    return id;
  };
  make(0, n);
  while (stack.length) {
    const id = stack.pop()!;
    const s = t.start[id]!;
    const e = t.end[id]!;
    if (e - s <= LEAF) continue;
    // Split the widest dimension at its median.
    let best = 0;
    let bestSpread = -1;
    for (let d = 0; d < dims; d++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = s; i < e; i++) {
        const v = points[order[i]! * dims + d]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      if (hi - lo > bestSpread) {
        bestSpread = hi - lo;
        best = d;
      }
    }
    if (bestSpread <= 0) continue; // all equal: a leaf, however large
    const mid = (s + e) >> 1;
    select(points, dims, order, s, e - 1, mid, best);
    t.dim[id] = best;
    t.value[id] = points[order[mid]! * dims + best]!;
    t.left[id] = make(s, mid);
    t.right[id] = make(mid, e);
  }
  return t;
}

/** The points of each leaf of a k-d tree over the points (at most 16 each): groups of near points. */
export function kdLeaves(points: Float32Array, n: number, dims: number): Int32Array[] {
  const tree = buildTree(points, n, dims);
  const leaves: Int32Array[] = [];
  for (let node = 0; node < tree.start.length; node++) {
    const s = tree.start[node]!;
    const e = tree.end[node]!;
    if (tree.dim[node] === -1 && e > s) leaves.push(tree.order.subarray(s, e));
  }
  return leaves;
}

/** Quickselect: puts the k-th smallest (by dimension d) of order[lo..hi] at k. */
function select(points: Float32Array, dims: number, order: Int32Array, lo: number, hi: number, k: number, d: number): void {
  while (hi > lo) {
    const pivot = points[order[(lo + hi) >> 1]! * dims + d]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (points[order[i]! * dims + d]! < pivot) i++;
      while (points[order[j]! * dims + d]! > pivot) j--;
      if (i <= j) {
        const tmp = order[i]!;
        order[i] = order[j]!;
        order[j] = tmp;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/** The k nearest neighbours of every point (exact). Every 2,048 points, `pause()` is awaited. */
export async function knnGraph(points: Float32Array, dims: number, k: number, pause?: () => Promise<void>): Promise<KnnGraph> {
  const n = points.length / dims;
  const graph: KnnGraph = { k, index: new Int32Array(n * k), distance: new Float32Array(n * k) };
  await knnPart(points, dims, graph, { part: 0, parts: 1 }, pause);
  return graph;
}

/**
 * Fills in the rows of `graph` for one of `parts` equal shares of the points (the same share of
 * the same tree whoever asks: two threads can each answer one into shared arrays).
 */
export async function knnPart(
  points: Float32Array,
  dims: number,
  graph: KnnGraph,
  share: { part: number; parts: number },
  pause?: () => Promise<void>,
): Promise<void> {
  const n = points.length / dims;
  const tree = buildTree(points, n, dims);
  const search = new Search(points, dims, graph.k, tree);
  const from = Math.floor((n * share.part) / share.parts);
  const to = Math.floor((n * (share.part + 1)) / share.parts);
  // Queries in the tree's order: consecutive queries are near each other and visit the same
  // nodes, which the cache then holds (and each share is a region of the space).
  for (let r = from; r < to; r++) {
    if (pause && r % 2048 === 2047) await pause();
    const q = tree.order[r]!;
    graph.index.fill(-1, q * graph.k, (q + 1) * graph.k);
    graph.distance.fill(Infinity, q * graph.k, (q + 1) * graph.k);
    search.query(q, graph.index, graph.distance);
  }
}

/** One query at a time against a tree: the k best so far as a max-heap on squared distance. */
class Search {
  private readonly hd: Float64Array;
  private readonly hi: Int32Array;
  private readonly offsets: Float64Array;
  private size = 0;
  private q = 0;

  constructor(
    private readonly points: Float32Array,
    private readonly dims: number,
    private readonly k: number,
    private readonly tree: Tree,
  ) {
    this.hd = new Float64Array(k);
    this.hi = new Int32Array(k);
    this.offsets = new Float64Array(dims);
  }

  /** Writes q's neighbours, nearest first, into row q of index and distance. */
  query(q: number, index: Int32Array, distance: Float32Array): void {
    const { hd, hi, k } = this;
    this.q = q;
    this.size = 0;
    this.offsets.fill(0);
    this.visit(0, 0);
    // Heap → nearest first: pop the largest into the last free slot.
    for (let size = this.size; size > 0; size--) {
      index[q * k + size - 1] = hi[0]!;
      distance[q * k + size - 1] = Math.sqrt(hd[0]!);
      this.siftDown(hd[size - 1]!, hi[size - 1]!, size - 1);
    }
  }

  private offer(d2: number, p: number): void {
    const { hd, hi, k } = this;
    if (this.size < k) {
      let c = this.size++;
      while (c > 0) {
        const parent = (c - 1) >> 1;
        if (hd[parent]! >= d2) break;
        hd[c] = hd[parent]!;
        hi[c] = hi[parent]!;
        c = parent;
      }
      hd[c] = d2;
      hi[c] = p;
    } else if (d2 < hd[0]!) this.siftDown(d2, p, k);
  }

  /** Puts (d2, p) at the root of a heap of `size` and sifts it down. */
  private siftDown(d2: number, p: number, size: number): void {
    const { hd, hi } = this;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= size) break;
      const r = l + 1;
      const big = r < size && hd[r]! > hd[l]! ? r : l;
      if (hd[big]! <= d2) break;
      hd[c] = hd[big]!;
      hi[c] = hi[big]!;
      c = big;
    }
    hd[c] = d2;
    hi[c] = p;
  }

  // Depth first, near side first. A far side is entered only when its lower bound — the squared
  // distance to the box it lies in, kept incrementally per dimension (Arya & Mount) — can still
  // beat the k-th best.
  private visit(node: number, bound2: number): void {
    const { tree, points, dims, q, offsets } = this;
    const qo = q * dims;
    const dim = tree.dim[node]!;
    if (dim < 0) {
      for (let i = tree.start[node]!; i < tree.end[node]!; i++) {
        const p = tree.order[i]!;
        if (p === q) continue;
        const po = p * dims;
        let s = 0;
        const bound = this.size === this.k ? this.hd[0]! : Infinity;
        for (let d = 0; d < dims && s < bound; d++) {
          const diff = points[po + d]! - points[qo + d]!;
          s += diff * diff;
        }
        if (s < bound) this.offer(s, p);
      }
      return;
    }
    const diff = points[qo + dim]! - tree.value[node]!;
    this.visit(diff < 0 ? tree.left[node]! : tree.right[node]!, bound2);
    const old = offsets[dim]!;
    const farBound = bound2 - old * old + diff * diff;
    if (this.size < this.k || farBound < this.hd[0]!) {
      offsets[dim] = diff;
      this.visit(diff < 0 ? tree.right[node]! : tree.left[node]!, farBound);
      offsets[dim] = old;
    }
  }
}
