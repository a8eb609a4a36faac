// Nearest neighbours in the full latent space (not a 2-D projection): exact, by one pass over the
// points with a bounded max-heap, so a query over a million 8-D points takes tens of milliseconds.
//
// euclidean:     ‖μ_a − μ_b‖ between posterior means.
// bhattacharyya: the Bhattacharyya distance between the diagonal Gaussians q(z|a) and q(z|b),
//                Σ_d (μ_a − μ_b)² / (8 s_d) + ½ ln(s_d / (σ_a σ_b)), s_d = (σ_a² + σ_b²) / 2:
//                0 for identical posteriors; two images whose means are close but whose posteriors
//                are both wide (the encoder is unsure of both) are nearer than two sharp ones.

export type NeighbourMetric = 'euclidean' | 'bhattacharyya';

export interface LatentPoints {
  dims: number;
  /** count × dims. */
  mu: Float32Array;
  /** count × dims; needed by the Bhattacharyya distance only. */
  logVar?: Float32Array;
  /** exp(logVar), when the caller keeps it for many queries (saves an exp per value and query). */
  variance?: Float32Array;
}

export interface Nearest {
  /** Point indices, nearest first. */
  index: number[];
  distance: number[];
}

/** A max-heap of (distance, index) of at most k entries: the k smallest seen so far. */
class Worst {
  readonly d: Float64Array;
  readonly i: Int32Array;
  size = 0;
  constructor(readonly k: number) {
    this.d = new Float64Array(k);
    this.i = new Int32Array(k);
  }
  get bound(): number {
    return this.size < this.k ? Infinity : this.d[0]!;
  }
  offer(distance: number, index: number): void {
    if (this.size < this.k) {
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (this.d[p]! >= distance) break;
        this.d[c] = this.d[p]!;
        this.i[c] = this.i[p]!;
        c = p;
      }
      this.d[c] = distance;
      this.i[c] = index;
      return;
    }
    if (distance >= this.d[0]!) return;
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= this.size) break;
      const r = l + 1;
      const big = r < this.size && this.d[r]! > this.d[l]! ? r : l;
      if (this.d[big]! <= distance) break;
      this.d[c] = this.d[big]!;
      this.i[c] = this.i[big]!;
      c = big;
    }
    this.d[c] = distance;
    this.i[c] = index;
  }
  sorted(): Nearest {
    const order = Array.from({ length: this.size }, (_, j) => j).sort((a, b) => this.d[a]! - this.d[b]! || this.i[a]! - this.i[b]!);
    return { index: order.map((j) => this.i[j]!), distance: order.map((j) => this.d[j]!) };
  }
}

/**
 * The k points nearest to the query (μ, and log σ² for the Bhattacharyya distance), nearest first;
 * `skip` (the query's own index, when it is one of the points) is left out. Ties keep index order.
 */
export function nearest(
  points: LatentPoints,
  query: { mu: ArrayLike<number>; logVar?: ArrayLike<number> },
  k: number,
  metric: NeighbourMetric = 'euclidean',
  skip = -1,
): Nearest {
  const { dims, mu } = points;
  const count = mu.length / dims;
  const heap = new Worst(Math.max(1, Math.min(k, count - (skip >= 0 && skip < count ? 1 : 0))));
  if (metric === 'euclidean') {
    for (let p = 0, off = 0; p < count; p++, off += dims) {
      if (p === skip) continue;
      let s = 0;
      const bound = heap.bound;
      for (let d = 0; d < dims && s < bound; d++) {
        const diff = mu[off + d]! - query.mu[d]!;
        s += diff * diff;
      }
      if (s < bound) heap.offer(s, p);
    }
    const r = heap.sorted();
    return { index: r.index, distance: r.distance.map(Math.sqrt) };
  }
  const logVar = points.logVar;
  const qv = query.logVar;
  if (!logVar || !qv) throw new Error('The Bhattacharyya distance needs the posteriors’ log-variances.');
  const qVar = Array.from({ length: dims }, (_, d) => Math.exp(qv[d]!));
  const variance = points.variance;
  for (let p = 0, off = 0; p < count; p++, off += dims) {
    if (p === skip) continue;
    let s = 0;
    const bound = heap.bound;
    // In chunks of 8 dimensions: the ½ ln s_d terms as one log of their product (a log per value
    // would cost more than all the rest); the partial sum only grows, so a chunk past the bound ends it.
    for (let start = 0; start < dims && s < bound; start += 8) {
      const end = Math.min(dims, start + 8);
      let product = 1;
      let logs = 0;
      for (let d = start; d < end; d++) {
        const lv = logVar[off + d]!;
        const mean = 0.5 * ((variance ? variance[off + d]! : Math.exp(lv)) + qVar[d]!);
        const diff = mu[off + d]! - query.mu[d]!;
        s += (diff * diff) / (8 * mean);
        product *= mean;
        logs += lv + qv[d]!;
      }
      // ½ ln(s / (σ_a σ_b)) per dimension ≥ 0.
      s += 0.5 * Math.log(product) - 0.25 * logs;
    }
    if (s < bound) heap.offer(s, p);
  }
  return heap.sorted();
}
