// How well a 2-D layout keeps the latent neighbourhoods, on a sample of points (exact ranks over
// all points): trustworthiness (Venna & Kaski; 1 = no false neighbours in the layout) and the
// recall of each point's k nearest latent neighbours among its k nearest in the layout.

import { createRng } from '../rng';

function ranks(points: Float32Array, dims: number, q: number): Int32Array {
  const n = points.length / dims;
  const d = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += (points[p * dims + j]! - points[q * dims + j]!) ** 2;
    d[p] = p === q ? -1 : s;
  }
  const order = Array.from(d.keys()).sort((a, b) => d[a]! - d[b]!);
  const rank = new Int32Array(n);
  order.forEach((p, r) => (rank[p] = r)); // the point itself has rank 0
  return rank;
}

export function layoutQuality(
  points: Float32Array,
  dims: number,
  layout: Float32Array,
  k = 10,
  sample = 300,
  seed = 1,
): { trustworthiness: number; recall: number } {
  const n = points.length / dims;
  const rng = createRng(seed);
  const picks = Array.from({ length: Math.min(sample, n) }, () => Math.floor(rng.next() * n));
  let penalty = 0;
  let kept = 0;
  for (const q of picks) {
    const high = ranks(points, dims, q);
    const low = ranks(layout, 2, q);
    for (let p = 0; p < n; p++) {
      if (p === q) continue;
      if (low[p]! <= k) {
        if (high[p]! > k) penalty += high[p]! - k;
        else kept++;
      }
    }
  }
  const m = picks.length;
  return {
    trustworthiness: 1 - (2 / (m * k * (2 * n - 3 * k - 1))) * penalty,
    recall: kept / (m * k),
  };
}
