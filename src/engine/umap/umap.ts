// UMAP (McInnes, Healy & Melville 2018) of latent points into 2-D, written for typed arrays:
// exact k-nearest-neighbour graph (knn.ts), the fuzzy simplicial set (a local scale per point,
// symmetrised by fuzzy union), a PCA start, and the layout's stochastic gradient descent with
// negative sampling. The descent runs in slices: between slices the caller hears the current
// layout (the map can show it converging) and a cancel is noticed.

import { createRng } from '../rng';
import { knnGraph } from './knn';

export interface UmapOptions {
  nNeighbors?: number;
  /** Epochs of the layout; default 500 up to 10,000 points, 200 above (as umap-learn). */
  epochs?: number;
  seed?: number;
  /** Called with the layout (n × 2) after each slice of epochs, and awaited. */
  onLayout?: (coords: Float32Array, epoch: number, epochs: number) => Promise<void> | void;
  /** Awaited now and then, so a worker stays responsive; throw from it to stop. */
  pause?: () => Promise<void>;
}

// The curve 1 / (1 + a d^(2b)) fitted to min_dist = 0.1, spread = 1 (umap-learn's defaults).
const A = 1.5769434603113077;
const B = 0.8950608781227859;
const NEGATIVE_RATE = 5;
const SMOOTH_K_TOLERANCE = 1e-5;

/** Edges of the symmetrised fuzzy graph: heads, tails and weights. */
interface Edges {
  head: Int32Array;
  tail: Int32Array;
  weight: Float32Array;
}

/** Per point: ρ (distance to the nearest neighbour) and σ with Σ_j exp(−(d_j − ρ)/σ) = log2 k. */
function membership(distance: Float32Array, n: number, k: number): Float32Array {
  const weights = new Float32Array(n * k);
  const target = Math.log2(k);
  for (let i = 0; i < n; i++) {
    const row = distance.subarray(i * k, (i + 1) * k);
    let rho = 0;
    for (const d of row) {
      if (d > 0) {
        rho = d;
        break;
      }
    }
    let lo = 0;
    let hi = Infinity;
    let sigma = 1;
    for (let it = 0; it < 64; it++) {
      let sum = 0;
      for (let j = 0; j < k; j++) {
        const d = row[j]! - rho;
        sum += d > 0 ? Math.exp(-d / sigma) : 1;
      }
      if (Math.abs(sum - target) < SMOOTH_K_TOLERANCE) break;
      if (sum > target) {
        hi = sigma;
        sigma = (lo + hi) / 2;
      } else {
        lo = sigma;
        sigma = hi === Infinity ? sigma * 2 : (lo + hi) / 2;
      }
    }
    for (let j = 0; j < k; j++) {
      const d = row[j]! - rho;
      weights[i * k + j] = d > 0 ? Math.exp(-d / sigma) : 1;
    }
  }
  return weights;
}

/**
 * w_ij + w_ji − w_ij·w_ji over the union of both directions, as directed edges (both directions of
 * each pair): each end gets its own attraction schedule and negative samples. w_ji is found among
 * j's k neighbours, so no table over pairs is needed (memory stays O(n·k)).
 */
function fuzzyUnion(index: Int32Array, weights: Float32Array, n: number, k: number): Edges {
  const reverse = (i: number, j: number): number => {
    for (let r = 0; r < k; r++) if (index[j * k + r] === i) return weights[j * k + r]!;
    return 0;
  };
  // Every i → j of the graph, plus j → i where i is not among j's neighbours.
  let count = 0;
  for (let i = 0; i < n; i++) for (let r = 0; r < k; r++) if (index[i * k + r]! >= 0) count += reverse(i, index[i * k + r]!) > 0 ? 1 : 2;
  const head = new Int32Array(count);
  const tail = new Int32Array(count);
  const weight = new Float32Array(count);
  let e = 0;
  for (let i = 0; i < n; i++) {
    for (let r = 0; r < k; r++) {
      const j = index[i * k + r]!;
      if (j < 0) continue;
      const a = weights[i * k + r]!;
      const b = reverse(i, j);
      const w = a + b - a * b;
      head[e] = i;
      tail[e] = j;
      weight[e++] = w;
      if (b === 0) {
        head[e] = j;
        tail[e] = i;
        weight[e++] = w;
      }
    }
  }
  return { head, tail, weight };
}

/** The first two principal components of the points, scaled to ±10 (a deterministic start). */
function pcaStart(points: Float32Array, n: number, dims: number, seed: number): Float32Array {
  const mean = new Float64Array(dims);
  for (let i = 0; i < n; i++) for (let d = 0; d < dims; d++) mean[d] += points[i * dims + d]! / n;
  const rng = createRng(seed);
  const out = new Float32Array(n * 2);
  const comps: Float64Array[] = [];
  for (let c = 0; c < Math.min(2, dims); c++) {
    let v = Float64Array.from({ length: dims }, () => rng.next() - 0.5);
    for (let it = 0; it < 50; it++) {
      const next = new Float64Array(dims);
      for (let i = 0; i < n; i++) {
        let dot = 0;
        for (let d = 0; d < dims; d++) dot += (points[i * dims + d]! - mean[d]!) * v[d]!;
        for (let d = 0; d < dims; d++) next[d] += dot * (points[i * dims + d]! - mean[d]!);
      }
      for (const prev of comps) {
        let dot = 0;
        for (let d = 0; d < dims; d++) dot += next[d]! * prev[d]!;
        for (let d = 0; d < dims; d++) next[d] -= dot * prev[d]!;
      }
      const norm = Math.hypot(...next) || 1;
      v = next.map((x) => x / norm);
    }
    comps.push(v);
  }
  for (let c = 0; c < 2; c++) {
    let max = 1e-12;
    for (let i = 0; i < n; i++) {
      let dot = 0;
      if (comps[c]) for (let d = 0; d < dims; d++) dot += (points[i * dims + d]! - mean[d]!) * comps[c]![d]!;
      else dot = rng.next() - 0.5;
      out[i * 2 + c] = dot;
      max = Math.max(max, Math.abs(dot));
    }
    // A little noise keeps identical points apart.
    for (let i = 0; i < n; i++) out[i * 2 + c] = (out[i * 2 + c]! / max) * 10 + (rng.next() - 0.5) * 1e-4;
  }
  return out;
}

const clip = (v: number) => (v > 4 ? 4 : v < -4 ? -4 : v);

/** The 2-D UMAP layout of n × dims points. */
export async function umapLayout(points: Float32Array, dims: number, options: UmapOptions = {}): Promise<Float32Array> {
  const n = points.length / dims;
  const k = Math.min(options.nNeighbors ?? 15, n - 1);
  const seed = options.seed ?? 42;
  const knn = await knnGraph(points, dims, k, options.pause);
  const edges = fuzzyUnion(knn.index, membership(knn.distance, n, k), n, k);
  const epochs = options.epochs ?? (n <= 10_000 ? 500 : 200);
  // Edges with weight below max/epochs would be sampled less than once: dropped, as umap-learn does.
  let maxW = 0;
  for (const w of edges.weight) maxW = Math.max(maxW, w);
  const every = new Float32Array(edges.weight.length);
  for (let e = 0; e < every.length; e++) every[e] = edges.weight[e]! >= maxW / epochs ? maxW / edges.weight[e]! : -1;
  const nextAt = every.slice();
  const negEvery = every.map((v) => v / NEGATIVE_RATE);
  const negNextAt = negEvery.slice();
  const y = pcaStart(points, n, dims, seed);
  // xorshift32 for the negative samples (hundreds of millions of draws at 100k points).
  let state = (createRng(seed + 1).next() * 4294967296) >>> 0 || 1;
  const slice = Math.max(1, Math.round(epochs / 20));
  for (let epoch = 0; epoch < epochs; epoch++) {
    const alpha = 1 - epoch / epochs;
    for (let e = 0; e < every.length; e++) {
      if (every[e]! < 0 || nextAt[e]! > epoch) continue;
      const i = edges.head[e]!;
      const j = edges.tail[e]!;
      // Both directions of the symmetric edge move their points toward each other.
      let dx = y[i * 2]! - y[j * 2]!;
      let dy = y[i * 2 + 1]! - y[j * 2 + 1]!;
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const pb = Math.pow(d2, B);
        const coeff = (-2 * A * B * pb) / (d2 * (A * pb + 1));
        const gx = clip(coeff * dx) * alpha;
        const gy = clip(coeff * dy) * alpha;
        y[i * 2] += gx;
        y[i * 2 + 1] += gy;
        y[j * 2] -= gx;
        y[j * 2 + 1] -= gy;
      }
      nextAt[e] += every[e]!;
      // Negative samples: push i away from random points.
      const negatives = Math.floor((epoch - negNextAt[e]!) / negEvery[e]!) + 1;
      for (let s = 0; s < negatives; s++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const m = Math.floor(((state >>> 0) / 4294967296) * n);
        if (m === i) continue;
        dx = y[i * 2]! - y[m * 2]!;
        dy = y[i * 2 + 1]! - y[m * 2 + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 <= 0) continue;
        const coeff = (2 * B) / ((0.001 + d2) * (A * Math.pow(d2, B) + 1));
        y[i * 2] += clip(coeff * dx) * alpha;
        y[i * 2 + 1] += clip(coeff * dy) * alpha;
      }
      negNextAt[e] += negatives * negEvery[e]!;
    }
    if ((epoch + 1) % slice === 0 || epoch === epochs - 1) {
      if (options.pause) await options.pause();
      if (options.onLayout) await options.onLayout(y.slice(), epoch + 1, epochs);
    }
  }
  return y;
}
