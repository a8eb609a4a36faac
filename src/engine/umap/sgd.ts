// The UMAP layout's stochastic gradient descent over a range of edges and epochs, on arrays that
// may be shared between threads: each thread owns its edges' schedules, all threads move the
// same layout `y` without locks (Hogwild, as umap-learn's parallel mode: a lost update now and
// then does not change what the layout converges to).

// The curve 1 / (1 + a d^(2b)) fitted to min_dist = 0.1, spread = 1 (umap-learn's defaults).
export const A = 1.5769434603113077;
export const B = 0.8950608781227859;
export const NEGATIVE_RATE = 5;

export interface LayoutArrays {
  n: number;
  epochs: number;
  /** n × 2, the layout. */
  y: Float32Array;
  head: Int32Array;
  tail: Int32Array;
  /** Epochs between samples of each edge (−1: never sampled), and the next epoch it is due. */
  every: Float32Array;
  nextAt: Float32Array;
  negEvery: Float32Array;
  negNextAt: Float32Array;
}

const clip = (v: number) => (v > 4 ? 4 : v < -4 ? -4 : v);

// (d² to the power b is written exp(b·ln d²) throughout: V8's Math.pow costs about twice as much,
// and the layout evaluates it hundreds of millions of times.)

/**
 * Runs epochs [from, to) over edges [start, end); `state` is this thread's xorshift32 state for
 * the negative samples, returned updated.
 */
export function runEpochs(s: LayoutArrays, from: number, to: number, start: number, end: number, state: number): number {
  const { n, y, head, tail, every, nextAt, negEvery, negNextAt } = s;
  for (let epoch = from; epoch < to; epoch++) {
    const alpha = 1 - epoch / s.epochs;
    for (let e = start; e < end; e++) {
      if (every[e]! < 0 || nextAt[e]! > epoch) continue;
      const i = head[e]!;
      const j = tail[e]!;
      // Attraction along the edge moves both its points.
      let dx = y[i * 2]! - y[j * 2]!;
      let dy = y[i * 2 + 1]! - y[j * 2 + 1]!;
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const pb = Math.exp(B * Math.log(d2));
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
      for (let k = 0; k < negatives; k++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const m = Math.floor(((state >>> 0) / 4294967296) * n);
        if (m === i) continue;
        dx = y[i * 2]! - y[m * 2]!;
        dy = y[i * 2 + 1]! - y[m * 2 + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 <= 0) continue;
        const coeff = (2 * B) / ((0.001 + d2) * (A * Math.exp(B * Math.log(d2)) + 1));
        y[i * 2] += clip(coeff * dx) * alpha;
        y[i * 2 + 1] += clip(coeff * dy) * alpha;
      }
      negNextAt[e] += negatives * negEvery[e]!;
    }
  }
  return state;
}
