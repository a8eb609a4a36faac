// UMAP (McInnes, Healy & Melville 2018) of latent points into 2-D, written for typed arrays:
// a k-nearest-neighbour graph (exact through a k-d tree, knn.ts; NN-descent above 20k points,
// nnDescent.ts), the fuzzy simplicial set (a local scale per point,
// symmetrised by fuzzy union), a PCA start, and the layout's stochastic gradient descent with
// negative sampling (sgd.ts). The descent runs in slices: between slices the caller hears the
// current layout (the map can show it converging) and a cancel is noticed. Above ~5,000 points a
// second thread owns half the points and their edges (sgd.ts says how they share the layout
// without writing the same memory). Each thread's reads and writes are fixed by the seed, so a
// layout is the same from run to run for a seed and a thread count.

import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pca2 } from '../../protocol/pca';
import { createRng } from '../rng';
import { knnGraph, knnPart, type KnnGraph } from './knn';
import { nnDescent } from './nnDescent';
import type { HelperRequest } from './layoutThread';
import { NEGATIVE_RATE, runEpochs, type LayoutArrays, type Share } from './sgd';

export interface UmapOptions {
  nNeighbors?: number;
  /**
   * Epochs of the layout; default 500 up to 2,000 points, 200 above. (umap-learn takes 500 up to
   * 10,000: measured here at 10k, 200 epochs keep trustworthiness within 0.002 in less than half
   * the time — see the UMAP section of docs/BENCHMARKS.md.)
   */
  epochs?: number;
  seed?: number;
  /** Called with the layout (n × 2) after each slice of epochs, and awaited. */
  onLayout?: (coords: Float32Array, epoch: number, epochs: number) => Promise<void> | void;
  /** Awaited now and then, so a worker stays responsive; throw from it to stop. */
  pause?: () => Promise<void>;
  /** 1 or 2 threads for the layout; default: 2 above ~5,000 points where two cores are. */
  threads?: number;
}

const SMOOTH_K_TOLERANCE = 1e-5;

/** Points up to which the neighbour graph is exact. */
export const EXACT_KNN_MAX = 20_000;

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

/** The points' first two principal components (src/protocol/pca.ts), scaled to ±10: a deterministic start. */
function pcaStart(points: Float32Array, n: number, dims: number, seed: number): Float32Array {
  const out = pca2(points, n, dims).coords;
  const rng = createRng(seed);
  // One latent dimension has one component: the second coordinate is random.
  if (dims < 2) for (let i = 0; i < n; i++) out[i * 2 + 1] = rng.next() - 0.5;
  for (let c = 0; c < 2; c++) {
    let max = 1e-12;
    for (let i = 0; i < n; i++) max = Math.max(max, Math.abs(out[i * 2 + c]!));
    // A little noise keeps identical points apart.
    for (let i = 0; i < n; i++) out[i * 2 + c] = (out[i * 2 + c]! / max) * 10 + (rng.next() - 0.5) * 1e-4;
  }
  return out;
}

/**
 * The edges reordered for the layout's threads: those whose heads are the first `split` points,
 * then the rest (one thread's share each, see sgd.ts); within each, every head's first edge, then
 * every head's second, and so on, so consecutive edges move different points (one edge's update
 * need not wait for the last one's).
 */
function orderEdges(edges: Edges, n: number, split: number): Edges {
  const total = edges.head.length;
  const rank = new Int32Array(total);
  const seen = new Int32Array(n);
  let ranks = 0;
  for (let e = 0; e < total; e++) {
    rank[e] = seen[edges.head[e]!]!++;
    ranks = Math.max(ranks, rank[e]! + 1);
  }
  const bucket = (e: number) => (edges.head[e]! < split ? 0 : ranks) + rank[e]!;
  const starts = new Int32Array(2 * ranks + 1);
  for (let e = 0; e < total; e++) starts[bucket(e) + 1]++;
  for (let b = 0; b < 2 * ranks; b++) starts[b + 1] += starts[b]!;
  const out: Edges = { head: new Int32Array(total), tail: new Int32Array(total), weight: new Float32Array(total) };
  for (let e = 0; e < total; e++) {
    const to = starts[bucket(e)]!++;
    out.head[to] = edges.head[e]!;
    out.tail[to] = edges.tail[e]!;
    out.weight[to] = edges.weight[e]!;
  }
  return out;
}

/** The 2-D UMAP layout of n × dims points. */
export async function umapLayout(points: Float32Array, dims: number, options: UmapOptions = {}): Promise<Float32Array> {
  const n = points.length / dims;
  const k = Math.min(options.nNeighbors ?? 15, n - 1);
  const seed = options.seed ?? 42;
  const threads = options.threads ?? (n >= PARALLEL_POINTS ? layoutThreads() : 1);
  // Started first: the thread comes up while this one begins on the neighbour graph.
  const helper = threads > 1 ? startHelper() : null;
  try {
    return await layout(points, dims, n, k, seed, helper, options);
  } finally {
    void helper?.worker.terminate();
  }
}

async function layout(
  points: Float32Array,
  dims: number,
  n: number,
  k: number,
  seed: number,
  helper: Helper | null,
  options: UmapOptions,
): Promise<Float32Array> {
  // Exact up to EXACT_KNN_MAX points (the k-d tree is quick there, split between the threads);
  // above, NN-descent, which finds nearly all the same neighbours in a fraction of the time.
  const knn =
    n > EXACT_KNN_MAX
      ? await nnDescent(points, dims, k, { seed, pause: options.pause })
      : helper
        ? await exactInTwo(points, dims, k, helper, options.pause)
        : await knnGraph(points, dims, k, options.pause);
  const union = fuzzyUnion(knn.index, membership(knn.distance, n, k), n, k);
  // With two threads, each owns half the points and the edges whose heads they are.
  const ownSplit = helper ? n >> 1 : n;
  const edges = orderEdges(union, n, ownSplit);
  const epochs = options.epochs ?? (n <= 2_000 ? 500 : 200);
  // Edges with weight below max/epochs would be sampled less than once: dropped, as umap-learn does.
  let maxW = 0;
  for (const w of edges.weight) maxW = Math.max(maxW, w);
  const every = new Float32Array(edges.weight.length);
  for (let e = 0; e < every.length; e++) every[e] = edges.weight[e]! >= maxW / epochs ? maxW / edges.weight[e]! : -1;
  const y = shared(pcaStart(points, n, dims, seed));
  const arrays: LayoutArrays = {
    n,
    epochs,
    y,
    snapshot: helper ? shared(y) : y,
    head: shared(edges.head),
    tail: shared(edges.tail),
    every: shared(every),
    nextAt: shared(every),
    negEvery: shared(every.map((v) => v / NEGATIVE_RATE)),
    negNextAt: shared(every.map((v) => v / NEGATIVE_RATE)),
  };
  // xorshift32 states for the negative samples (hundreds of millions of draws at 100k points).
  const seeds = createRng(seed + 1);
  const stateOf = () => (seeds.next() * 4294967296) >>> 0 || 1;
  let state = stateOf();
  const total = edges.head.length;
  let edgeSplit = 0;
  while (edgeSplit < total && edges.head[edgeSplit]! < ownSplit) edgeSplit++;
  const mine: Share = { start: 0, end: edgeSplit, lo: 0, hi: ownSplit };
  if (helper) helper.worker.postMessage({ arrays, share: { start: edgeSplit, end: total, lo: ownSplit, hi: n }, state: stateOf() });
  const slice = Math.max(1, Math.round(epochs / 20));
  for (let from = 0; from < epochs; from += slice) {
    const to = Math.min(epochs, from + slice);
    if (helper) {
      // Epoch by epoch: each thread's view of the other's points is refreshed between epochs.
      for (let epoch = from; epoch < to; epoch++) {
        const other = helper.request({ from: epoch, to: epoch + 1 });
        state = runEpochs(arrays, epoch, epoch + 1, mine, state);
        await other;
        arrays.snapshot.set(arrays.y);
      }
    } else state = runEpochs(arrays, from, to, mine, state);
    if (options.pause) await options.pause();
    if (options.onLayout) await options.onLayout(arrays.y.slice(), to, epochs);
  }
  return arrays.y.slice();
}

/** Points from which a second thread pays for itself. */
const PARALLEL_POINTS = 5_000;

/** The exact graph, each thread answering the queries of one half of the points. */
async function exactInTwo(points: Float32Array, dims: number, k: number, helper: Helper, pause?: () => Promise<void>): Promise<KnnGraph> {
  const n = points.length / dims;
  const sharedPoints = shared(points);
  const graph: KnnGraph = { k, index: shared(new Int32Array(n * k)), distance: shared(new Float32Array(n * k)) };
  const other = helper.request({ knn: { points: sharedPoints, dims, graph, share: { part: 1, parts: 2 } } });
  await knnPart(sharedPoints, dims, graph, { part: 0, parts: 2 }, pause);
  await other;
  return graph;
}

/** Threads for the layout: 2 where there are two cores, unless LATENT_ATLAS_UMAP_THREADS says 1. */
function layoutThreads(): number {
  if (process.env.LATENT_ATLAS_UMAP_THREADS === '1') return 1;
  return Math.min(2, availableParallelism());
}

/** A copy in shared memory, so the layout thread works on the same arrays. */
function shared<T extends Float32Array | Int32Array>(a: T): T {
  const copy = new (a.constructor as new (b: SharedArrayBuffer) => T)(new SharedArrayBuffer(a.byteLength));
  copy.set(a as never);
  return copy;
}

/** The second thread (layoutThread.ts): `request` posts a message and resolves when it is done. */
interface Helper {
  worker: Worker;
  request(message: HelperRequest): Promise<void>;
}

/** The second thread, or null where its script is not found (then one thread does it all). */
function startHelper(): Helper | null {
  // dist/umapThread.js beside the worker bundle; from source (tests under tsx) the thread registers
  // tsx itself: worker threads do not inherit it.
  const bundled = join(__dirname, 'umapThread.js');
  const source = join(__dirname, 'layoutThread.ts');
  let worker: Worker;
  if (existsSync(bundled)) worker = new Worker(bundled);
  else if (existsSync(source)) worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(source)});`, { eval: true });
  else return null;
  worker.unref();
  return {
    worker,
    request: (message) =>
      new Promise<void>((resolve, reject) => {
        const failed = (err: Error) => reject(new Error(`The UMAP layout thread failed: ${err.message}`));
        worker.once('error', failed);
        worker.once('message', () => {
          worker.off('error', failed);
          resolve();
        });
        worker.postMessage(message);
      }),
  };
}
