// The float32 matrix-multiply ceiling of a tfjs backend, in GFLOP/s: a square product and the
// shape of the classic VAE's largest layer (batch 128 × 784 × 400). bench/training.ts reports
// these beside PyTorch's and converts them to the images/s they would allow.

import type { Tf } from '../src/engine/tf';

export interface MatmulFigures {
  /** Square n×n·n×n product (n = 1024 for native/wasm, 512 for the slow JS backend). */
  square: { n: number; gflops: number };
  /** 128×784 · 784×400, the VAE's first layer at batch 128. */
  model: number;
}

/**
 * GFLOP/s of a·b for m×k·k×n on the active backend: the best of three windows of `seconds` each,
 * since a ceiling is what is measured and a shared machine only ever slows a window down.
 */
export async function matmulGflops(tf: Tf, m: number, k: number, n: number, seconds = 0.5): Promise<number> {
  const a = tf.randomNormal([m, k], 0, 1, 'float32', 1);
  const b = tf.randomNormal([k, n], 0, 1, 'float32', 2);
  // The product is read back (asynchronously: WebGPU cannot read synchronously in Node), so the
  // time includes finishing it, as a training step's loss read does.
  const once = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await once();
  let best = 0;
  for (let window = 0; window < 3; window++) {
    let runs = 0;
    const start = performance.now();
    while (performance.now() - start < seconds * 1000) {
      await once();
      runs++;
    }
    best = Math.max(best, (2 * m * k * n * runs) / ((performance.now() - start) / 1000) / 1e9);
  }
  tf.dispose([a, b]);
  return best;
}

export async function measureMatmul(tf: Tf): Promise<MatmulFigures> {
  const n = tf.getBackend() === 'cpu' ? 512 : 1024;
  return { square: { n, gflops: await matmulGflops(tf, n, n, n) }, model: await matmulGflops(tf, 128, 784, 400) };
}

/**
 * Images/s a training step could reach if every FLOP ran at `gflops`: forward + backward of an
 * MLP costs about 6 FLOPs per parameter per image (2 forward, 4 backward).
 */
export function impliedImagesPerSecond(gflops: number, params: number): number {
  return (gflops * 1e9) / (6 * params);
}
