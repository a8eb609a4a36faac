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

/** The k nearest neighbours of every point (exact). `yieldEvery` points, `pause()` is awaited. */
export async function knnGraph(points: Float32Array, dims: number, k: number, pause?: () => Promise<void>): Promise<KnnGraph> {
  const n = points.length / dims;
  const tree = buildTree(points, n, dims);
  const index = new Int32Array(n * k).fill(-1);
  const distance = new Float32Array(n * k).fill(Infinity);
  // The k best so far for the current query, as a max-heap on squared distance.
  const hd = new Float64Array(k);
  const hi = new Int32Array(k);
  const offsets = new Float64Array(dims);
  for (let q = 0; q < n; q++) {
    if (pause && q % 2048 === 2047) await pause();
    let size = 0;
    const qo = q * dims;
    const offer = (d2: number, p: number) => {
      if (size < k) {
        let c = size++;
        while (c > 0) {
          const parent = (c - 1) >> 1;
          if (hd[parent]! >= d2) break;
          hd[c] = hd[parent]!;
          hi[c] = hi[parent]!;
          c = parent;
        }
        hd[c] = d2;
        hi[c] = p;
      } else if (d2 < hd[0]!) {
        let c = 0;
        for (;;) {
          const l = 2 * c + 1;
          if (l >= k) break;
          const r = l + 1;
          const big = r < k && hd[r]! > hd[l]! ? r : l;
          if (hd[big]! <= d2) break;
          hd[c] = hd[big]!;
          hi[c] = hi[big]!;
          c = big;
        }
        hd[c] = d2;
        hi[c] = p;
      }
    };
    // Depth first, near side first. A far side is entered only when its lower bound — the squared
    // distance to the box it lies in, kept incrementally per dimension (Arya & Mount) — can still
    // beat the k-th best.
    const search = (node: number, bound2: number): void => {
      const dim = tree.dim[node]!;
      if (dim < 0) {
        for (let i = tree.start[node]!; i < tree.end[node]!; i++) {
          const p = tree.order[i]!;
          if (p === q) continue;
          const po = p * dims;
          let s = 0;
          const bound = size === k ? hd[0]! : Infinity;
          for (let d = 0; d < dims && s < bound; d++) {
            const diff = points[po + d]! - points[qo + d]!;
            s += diff * diff;
          }
          if (s < bound) offer(s, p);
        }
        return;
      }
      const diff = points[qo + dim]! - tree.value[node]!;
      search(diff < 0 ? tree.left[node]! : tree.right[node]!, bound2);
      const old = offsets[dim]!;
      const farBound = bound2 - old * old + diff * diff;
      if (size < k || farBound < hd[0]!) {
        offsets[dim] = diff;
        search(diff < 0 ? tree.right[node]! : tree.left[node]!, farBound);
        offsets[dim] = old;
      }
    };
    offsets.fill(0);
    search(0, 0);
    // Heap → nearest first.
    const order = Array.from({ length: size }, (_, j) => j).sort((a, b) => hd[a]! - hd[b]!);
    order.forEach((j, r) => {
      index[q * k + r] = hi[j]!;
      distance[q * k + r] = Math.sqrt(hd[j]!);
    });
  }
  return { k, index, distance };
}
