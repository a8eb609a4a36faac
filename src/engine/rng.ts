// Seeded randomness for everything the engine draws in JavaScript (shuffles, splits, seeds for
// tfjs' own random ops), so one seed reproduces a run on one backend.

/** Mixes integers into one 32-bit seed (a splitmix-style hash), e.g. deriveSeed(seed, epoch). */
export function deriveSeed(...parts: number[]): number {
  let h = 0x9e3779b9 >>> 0;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0) ^ Math.floor(part / 2 ** 32), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  return h;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
}

/** mulberry32: small, fast and good enough for shuffling and seeding. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n) => Math.floor(next() * n) };
}

/** Fisher–Yates shuffle in place. */
export function shuffleInPlace<T extends { length: number; [i: number]: number }>(values: T, rng: Rng): T {
  for (let i = values.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = values[i];
    values[i] = values[j];
    values[j] = tmp;
  }
  return values;
}

/** 0..n−1 in a seeded random order. */
export function permutation(n: number, seed: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return shuffleInPlace(order, createRng(seed));
}

/** n standard normal draws (Box–Muller) from a seeded generator: noise, samples, posterior draws. */
export function standardNormals(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng.next()));
    const a = 2 * Math.PI * rng.next();
    out[i] = r * Math.cos(a);
    if (i + 1 < n) out[i + 1] = r * Math.sin(a);
  }
  return out;
}
