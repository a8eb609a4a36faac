// Approximate k nearest neighbours by NN-descent (Dong, Moses & Li, WWW 2011): a neighbour of a
// neighbour is likely a neighbour. Each point keeps its k best so far; every round joins, for each
// point, the neighbours it gained last round with one another and with the older ones (both
// directions of every edge), and the round's improvements say when to stop. Started from the
// points that share a leaf of a k-d tree, which are already near one another. At 100k points in
// 8-D this finds ~99 % of the exact neighbours in a fraction of the exact search's time (see the
// UMAP section of docs/BENCHMARKS.md and the unit test).

import { createRng } from '../rng';
import { kdLeaves, type KnnGraph } from './knn';

export interface NnDescentOptions {
  seed?: number;
  /** Rounds at most (default 12). */
  maxRounds?: number;
  /** Stop when a round improves fewer than this share of the n × k entries (default 0.001). */
  delta?: number;
  /** Awaited between slices of work, so a worker stays responsive; throw from it to stop. */
  pause?: () => Promise<void>;
}

/** Per point: k entries, a max-heap on squared distance (the worst first), each flagged new or old. */
class Heaps {
  readonly d2: Float32Array;
  readonly id: Int32Array;
  readonly fresh: Uint8Array;

  constructor(
    readonly n: number,
    readonly k: number,
  ) {
    this.d2 = new Float32Array(n * k).fill(Infinity);
    this.id = new Int32Array(n * k).fill(-1);
    this.fresh = new Uint8Array(n * k);
  }

  /** Offers q at squared distance d2 to p's list; true when it went in (not there already, better than the worst). */
  push(p: number, q: number, d2: number): boolean {
    const k = this.k;
    const base = p * k;
    const { d2: hd, id, fresh } = this;
    if (d2 >= hd[base]!) return false;
    for (let j = 0; j < k; j++) if (id[base + j] === q) return false;
    // Replace the root (the worst) and sift down.
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const big = r < k && hd[base + r]! > hd[base + l]! ? r : l;
      if (hd[base + big]! <= d2) break;
      hd[base + c] = hd[base + big]!;
      id[base + c] = id[base + big]!;
      fresh[base + c] = fresh[base + big]!;
      c = big;
    }
    hd[base + c] = d2;
    id[base + c] = q;
    fresh[base + c] = 1;
    return true;
  }
}

/** k-d trees whose leaves start the lists. */
const START_TREES = 4;

/** Leaves in the numbering that lists them one after another: each is a run of consecutive numbers. */
function renumbered(leaves: Int32Array[]): Int32Array[] {
  let start = 0;
  return leaves.map((leaf) => {
    const run = Int32Array.from({ length: leaf.length }, (_, j) => start + j);
    start += leaf.length;
    return run;
  });
}

/** The points turned by a random rotation (Gram–Schmidt on Gaussian columns): distances kept, axes moved. */
function rotated(points: Float32Array, n: number, dims: number, random: () => number): Float32Array {
  const r = new Float64Array(dims * dims);
  for (let c = 0; c < dims; c++) {
    for (let i = 0; i < dims; i++) r[c * dims + i] = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    for (let prev = 0; prev < c; prev++) {
      let dot = 0;
      for (let i = 0; i < dims; i++) dot += r[c * dims + i]! * r[prev * dims + i]!;
      for (let i = 0; i < dims; i++) r[c * dims + i] -= dot * r[prev * dims + i]!;
    }
    let norm = 0;
    for (let i = 0; i < dims; i++) norm += r[c * dims + i]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let i = 0; i < dims; i++) r[c * dims + i] /= norm;
  }
  const out = new Float32Array(n * dims);
  for (let p = 0; p < n; p++)
    for (let c = 0; c < dims; c++) {
      let v = 0;
      for (let i = 0; i < dims; i++) v += r[c * dims + i]! * points[p * dims + i]!;
      out[p * dims + c] = v;
    }
  return out;
}

function dist2(points: Float32Array, dims: number, a: number, b: number): number {
  const ao = a * dims;
  const bo = b * dims;
  let s = 0;
  for (let d = 0; d < dims; d++) {
    const t = points[ao + d]! - points[bo + d]!;
    s += t * t;
  }
  return s;
}

/**
 * Candidate lists of at most `max` per point, filled by reservoir sampling so that a point with
 * many reverse neighbours keeps a fair sample of them.
 */
class Candidates {
  readonly items: Int32Array;
  readonly count: Int32Array;
  readonly seen: Int32Array;

  constructor(
    n: number,
    readonly max: number,
    private readonly random: () => number,
  ) {
    this.items = new Int32Array(n * max);
    this.count = new Int32Array(n);
    this.seen = new Int32Array(n);
  }

  add(p: number, q: number): void {
    const seen = this.seen[p]!++;
    if (seen < this.max) {
      this.items[p * this.max + seen] = q;
      this.count[p] = seen + 1;
    } else {
      const j = Math.floor(this.random() * (seen + 1));
      if (j < this.max) this.items[p * this.max + j] = q;
    }
  }

  clear(): void {
    this.count.fill(0);
    this.seen.fill(0);
  }
}

/** Approximate k nearest neighbours of every point (the point itself excluded), nearest first. */
export async function nnDescent(input: Float32Array, dims: number, k: number, options: NnDescentOptions = {}): Promise<KnnGraph> {
  const n = input.length / dims;
  if (k >= n) throw new Error(`nnDescent: k = ${k} needs more than ${n} points.`);
  // The work runs on the points renumbered in k-d tree order: near points get near numbers, so the
  // joins, which touch a point and its neighbours' neighbours, mostly read memory that is cached.
  const order = new Int32Array(n);
  const firstLeaves = kdLeaves(input, n, dims);
  let at = 0;
  for (const leaf of firstLeaves) for (const p of leaf) order[at++] = p;
  const points = new Float32Array(n * dims);
  for (let i = 0; i < n; i++) points.set(input.subarray(order[i]! * dims, (order[i]! + 1) * dims), i * dims);
  const rng = createRng(options.seed ?? 42);
  const random = () => rng.next();
  const heaps = new Heaps(n, k);

  // Start: the points of each leaf of a few k-d trees (over the points, then over random rotations
  // of them, whose leaves cut the space elsewhere) offered to one another, then random points for
  // any list still short.
  for (let tree = 0; tree < START_TREES; tree++) {
    // The first tree is the one the renumbering came from: its leaves are runs of the new numbers.
    const leaves = tree === 0 ? renumbered(firstLeaves) : kdLeaves(rotated(points, n, dims, random), n, dims);
    for (const leaf of leaves) {
      // (A leaf of many equal points is not split: each is paired with the next 16 only.)
      for (let a = 0; a < leaf.length; a++)
        for (let b = a + 1; b < Math.min(leaf.length, a + 17); b++) {
          const p = leaf[a]!;
          const q = leaf[b]!;
          const d = dist2(points, dims, p, q);
          heaps.push(p, q, d);
          heaps.push(q, p, d);
        }
    }
  }
  for (let p = 0; p < n; p++) {
    for (let tries = 0; heaps.id[p * k]! < 0 && tries < 4 * k; tries++) {
      const q = Math.floor(random() * n);
      if (q !== p) heaps.push(p, q, dist2(points, dims, p, q));
    }
  }

  const fresh = new Candidates(n, k, random);
  const old = new Candidates(n, k, random);
  const maxRounds = options.maxRounds ?? 12;
  const stopBelow = (options.delta ?? 0.001) * n * k;
  for (let round = 0; round < maxRounds; round++) {
    fresh.clear();
    old.clear();
    for (let p = 0; p < n; p++) {
      for (let j = 0; j < k; j++) {
        const e = p * k + j;
        const q = heaps.id[e]!;
        if (q < 0) continue;
        if (heaps.fresh[e]) {
          fresh.add(p, q);
          fresh.add(q, p);
          heaps.fresh[e] = 0;
        } else {
          old.add(p, q);
          old.add(q, p);
        }
      }
    }
    let updates = 0;
    for (let v = 0; v < n; v++) {
      if (options.pause && v % 8192 === 8191) await options.pause();
      const nf = fresh.count[v]!;
      const no = old.count[v]!;
      const fb = v * fresh.max;
      const ob = v * old.max;
      for (let a = 0; a < nf; a++) {
        const p = fresh.items[fb + a]!;
        for (let b = a + 1; b < nf; b++) {
          const q = fresh.items[fb + b]!;
          if (p === q) continue;
          const d = dist2(points, dims, p, q);
          if (heaps.push(p, q, d)) updates++;
          if (heaps.push(q, p, d)) updates++;
        }
        for (let b = 0; b < no; b++) {
          const q = old.items[ob + b]!;
          if (p === q) continue;
          const d = dist2(points, dims, p, q);
          if (heaps.push(p, q, d)) updates++;
          if (heaps.push(q, p, d)) updates++;
        }
      }
    }
    if (updates < stopBelow) break;
  }

  // Nearest first, as the exact search gives them, in the points' own numbering.
  const index = new Int32Array(n * k);
  const distance = new Float32Array(n * k);
  const rank = Array.from({ length: k }, (_, j) => j);
  for (let p = 0; p < n; p++) {
    const base = p * k;
    const out = order[p]! * k;
    rank.sort((a, b) => heaps.d2[base + a]! - heaps.d2[base + b]!);
    rank.forEach((j, r) => {
      index[out + r] = order[heaps.id[base + j]!]!;
      distance[out + r] = Math.sqrt(heaps.d2[base + j]!);
    });
  }
  return { k, index, distance };
}
