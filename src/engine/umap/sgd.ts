// The UMAP layout's stochastic gradient descent over a range of edges and epochs, on arrays that
// may be shared between threads. Each thread owns a range of points and the edges whose heads
// are those points: an edge moves only its head (the fuzzy graph holds both directions of every
// pair, so each end is pulled by its own copy of the edge: twice the step of an edge that moves
// both ends, the same in expectation), and negative samples push only the head. So no two threads
// write the same point. What a thread reads of another thread's points comes from a snapshot taken
// between epochs: no cache line is written by one core while the other reads it (sharing the live
// layout, as umap-learn's lock-free parallel mode does, measured no faster on two threads here
// than on one).

// The curve 1 / (1 + a d^(2b)) fitted to min_dist = 0.1, spread = 1 (umap-learn's defaults).
export const A = 1.5769434603113077;
export const B = 0.8950608781227859;
export const NEGATIVE_RATE = 5;

export interface LayoutArrays {
  n: number;
  epochs: number;
  /** n × 2, the layout: each thread writes only the points it owns. */
  y: Float32Array;
  /** The layout as it was when the epoch began: what a thread reads of points it does not own. */
  snapshot: Float32Array;
  head: Int32Array;
  tail: Int32Array;
  /** Epochs between samples of each edge (−1: never sampled), and the next epoch it is due. */
  every: Float32Array;
  nextAt: Float32Array;
  negEvery: Float32Array;
  negNextAt: Float32Array;
}

/** What one thread works on: edges [start, end), whose heads are the points [lo, hi). */
export interface Share {
  start: number;
  end: number;
  lo: number;
  hi: number;
}

const clip = (v: number) => (v > 4 ? 4 : v < -4 ? -4 : v);

// d² to the power B, evaluated hundreds of millions of times per layout. Math.exp(B·Math.log(x))
// costs ~25 ns in V8 here, Math.pow about twice that. Instead, with x = m·2^e (m in [1, 2)):
// x^B = 2^(B·e) · m^B, the first factor from a table over the exponent bits, the second from a
// cubic (Chebyshev interpolation, fitted once when the module loads): relative error below 3e-5,
// far under the noise of a stochastic gradient (a degree-6 fit, below float32's resolution, made
// the whole layout 15 % slower for nothing measurable).
const EXP_BIAS = 1023;
const POW_OF_EXPONENT = new Float64Array(2048);
const INVERSE_OF_EXPONENT = new Float64Array(2048);
for (let e = 1; e < 2047; e++) {
  POW_OF_EXPONENT[e] = Math.pow(2, B * (e - EXP_BIAS));
  INVERSE_OF_EXPONENT[e] = Math.pow(2, EXP_BIAS - e);
}
const [P0, P1, P2, P3] = mantissaPower(B, 3);
const BITS = new Float64Array(1);
const HIGH_WORD = new Uint32Array(BITS.buffer, 4, 1);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('The UMAP layout assumes a little-endian machine.');

/** x^B for a positive, finite, normal x (as squared distances of float32 coordinates are). */
export function powB(x: number): number {
  BITS[0] = x;
  const e = HIGH_WORD[0]! >>> 20;
  // m in [1, 2) mapped to t in [−1, 1). (Multiplying by 2^−e rather than rewriting the exponent
  // bits: a 4-byte store followed by an 8-byte load of the same word stalls the CPU.)
  const t = 2 * x * INVERSE_OF_EXPONENT[e]! - 3;
  return POW_OF_EXPONENT[e]! * (P0! + t * (P1! + t * (P2! + t * P3!)));
}

/** Monomial coefficients in t of the Chebyshev interpolant of ((t + 3) / 2)^b on [−1, 1]. */
function mantissaPower(b: number, degree: number): number[] {
  const nodes = degree + 1;
  const cheb: number[] = [];
  for (let j = 0; j < nodes; j++) {
    let sum = 0;
    for (let k = 0; k < nodes; k++) {
      const angle = (Math.PI * (k + 0.5)) / nodes;
      sum += Math.pow((Math.cos(angle) + 3) / 2, b) * Math.cos(j * angle);
    }
    cheb.push(((j === 0 ? 1 : 2) * sum) / nodes);
  }
  // T_0 = 1, T_1 = t, T_{j+1} = 2t·T_j − T_{j−1}, each as monomial coefficients.
  const out = new Array<number>(nodes).fill(0);
  let before = [1];
  let current = [0, 1];
  out[0] = cheb[0]!;
  out[1] = cheb[1]!;
  for (let j = 2; j < nodes; j++) {
    const next = new Array<number>(j + 1).fill(0);
    for (let i = 0; i < current.length; i++) next[i + 1] += 2 * current[i]!;
    for (let i = 0; i < before.length; i++) next[i] -= before[i]!;
    for (let i = 0; i <= j; i++) out[i] += cheb[j]! * next[i]!;
    before = current;
    current = next;
  }
  return out;
}

/**
 * Runs epochs [from, to) over one thread's share of the edges; `state` is this thread's xorshift32
 * state for the negative samples, returned updated.
 */
export function runEpochs(s: LayoutArrays, from: number, to: number, share: Share, state: number): number {
  const { n, y, snapshot, head, tail, every, nextAt, negEvery, negNextAt } = s;
  const { start, end, lo, hi } = share;
  // A thread alone reads everything live; one of two reads its negative samples from the snapshot
  // (random points, half of them another thread's: a branch on whose they are would be
  // mispredicted every other time, and a point far away moving within one epoch changes little).
  const negatives = lo === 0 && hi === n ? y : snapshot;
  const toPoint = n / 4294967296;
  for (let epoch = from; epoch < to; epoch++) {
    const alpha = 1 - epoch / s.epochs;
    for (let e = start; e < end; e++) {
      if (every[e]! < 0 || nextAt[e]! > epoch) continue;
      const i = head[e]!;
      const j = tail[e]!;
      // Attraction along the edge.
      const other = j >= lo && j < hi ? y : snapshot;
      let xi = y[i * 2]!;
      let yi = y[i * 2 + 1]!;
      let dx = xi - other[j * 2]!;
      let dy = yi - other[j * 2 + 1]!;
      let d2 = dx * dx + dy * dy;
      if (d2 > 0) {
        const pb = powB(d2);
        const coeff = (-2 * A * B * pb) / (d2 * (A * pb + 1));
        xi += 2 * clip(coeff * dx) * alpha;
        yi += 2 * clip(coeff * dy) * alpha;
      }
      nextAt[e] += every[e]!;
      // Negative samples push i away from random points. Their gradients are all taken where i
      // stands after the attraction, then summed: each no longer waits for the one before it to
      // move i (that chain of dependent loads and divisions was most of the layout's time).
      const count = Math.floor((epoch - negNextAt[e]!) / negEvery[e]!) + 1;
      let sx = 0;
      let sy = 0;
      for (let k = 0; k < count; k++) {
        state ^= state << 13;
        state ^= state >>> 17;
        state ^= state << 5;
        const m = ((state >>> 0) * toPoint) | 0;
        if (m === i) continue;
        dx = xi - negatives[m * 2]!;
        dy = yi - negatives[m * 2 + 1]!;
        d2 = dx * dx + dy * dy;
        if (d2 <= 0) continue;
        const coeff = (2 * B) / ((0.001 + d2) * (A * powB(d2) + 1));
        sx += clip(coeff * dx);
        sy += clip(coeff * dy);
      }
      y[i * 2] = xi + sx * alpha;
      y[i * 2 + 1] = yi + sy * alpha;
      negNextAt[e] += count * negEvery[e]!;
    }
  }
  return state;
}
