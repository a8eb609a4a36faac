// The wasm conv gradients (src/engine/backends/wasmKernels.ts) against the cpu backend's own
// kernels: conv2d and conv2dTranspose, outputs and input and filter gradients, strides 1 and 2,
// 'same', 'valid' and explicit padding, odd sizes and channel counts on both sides of the point
// where the input gradient switches from tfjs-wasm's own loop to the phase-split conv, and one
// channel in or out (those go through one matmul).

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { initBackend } from '../../src/engine/backends/ladder';
import type { Tf, Tensor } from '../../src/engine/tf';

let tf: Tf;

before(async () => {
  process.env.LATENT_ATLAS_NATIVE_PATHS = '';
  ({ tf } = await initBackend({ backend: 'wasm' }));
});

/** Runs `f` on the backend and returns its outputs' values. */
async function on(backend: 'wasm' | 'cpu', f: () => Tensor[]): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  try {
    return tf.tidy(f).map((t) => {
      const v = t.dataSync() as Float32Array;
      t.dispose();
      return v;
    });
  } finally {
    await tf.setBackend('wasm');
  }
}

function maxRelativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let scale = 1e-6;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / scale);
  return worst;
}

const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

interface Case {
  x: [number, number, number, number];
  filter: [number, number, number, number];
  stride: number;
  pad: 'same' | 'valid' | number;
}

const CASES: Case[] = [
  { x: [4, 28, 28, 1], filter: [3, 3, 1, 8], stride: 2, pad: 'same' },
  { x: [3, 14, 14, 8], filter: [3, 3, 8, 16], stride: 2, pad: 'same' },
  { x: [2, 9, 11, 3], filter: [3, 3, 3, 5], stride: 2, pad: 'same' },
  { x: [2, 10, 10, 4], filter: [3, 3, 4, 6], stride: 1, pad: 'same' },
  { x: [2, 11, 9, 2], filter: [4, 2, 2, 3], stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 3], filter: [5, 5, 3, 4], stride: 3, pad: 2 },
  { x: [1, 7, 7, 1], filter: [1, 1, 1, 1], stride: 1, pad: 'valid' },
  // Four or more input channels: the input gradient goes through the phase-split conv.
  { x: [2, 9, 11, 6], filter: [3, 3, 6, 5], stride: 2, pad: 'same' },
  { x: [2, 8, 8, 4], filter: [5, 5, 4, 4], stride: 3, pad: 2 },
  { x: [2, 12, 10, 5], filter: [4, 2, 5, 3], stride: 2, pad: 'valid' },
  // One output channel (a grey image out): the input and filter gradients are one matmul each.
  { x: [3, 10, 9, 6], filter: [3, 3, 6, 1], stride: 1, pad: 'same' },
  { x: [2, 11, 9, 5], filter: [3, 3, 5, 1], stride: 2, pad: 'same' },
  { x: [2, 9, 8, 4], filter: [2, 4, 4, 1], stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 7], filter: [5, 5, 7, 1], stride: 3, pad: 2 },
  // One input channel (a grey image in): the forward conv and the filter gradient likewise.
  { x: [3, 10, 9, 1], filter: [3, 3, 1, 6], stride: 1, pad: 'same' },
  { x: [2, 9, 8, 1], filter: [2, 4, 1, 5], stride: 2, pad: 'valid' },
  { x: [2, 8, 8, 1], filter: [5, 5, 1, 3], stride: 3, pad: 2 },
];

/** conv(x, w) (or the transposed conv), and the gradients of Σ dy·conv(x, w) with respect to x and w. */
function gradients(c: Case, transposed: boolean): () => Tensor[] {
  return () => {
    const x = random(c.x, 1);
    const w = random(c.filter, 2);
    const conv = (a: Tensor, b: Tensor): Tensor =>
      transposed
        ? // conv2dTranspose takes the filter as [h, w, out, in]: the forward conv's filter, read backwards.
          tf.conv2dTranspose(a as never, b as never, forwardShape(c), c.stride, c.pad as never)
        : tf.conv2d(a as never, b as never, c.stride, c.pad);
    const input = transposed ? tf.conv2d(x as never, w as never, c.stride, c.pad) : x;
    const dy = random(conv(input, w).shape, 3);
    return [conv(input, w), ...tf.grads((a: Tensor, b: Tensor) => tf.sum(tf.mul(conv(a, b), dy)))([input, w])];
  };
}

/** The input shape of the forward conv whose output a transposed conv maps back from. */
function forwardShape(c: Case): [number, number, number, number] {
  return [c.x[0], c.x[1], c.x[2], c.filter[2]];
}

describe('wasm convs and their gradients equal the cpu backend', () => {
  for (const transposed of [false, true]) {
    for (const c of CASES) {
      const what = transposed ? 'conv2dTranspose' : 'conv2d';
      it(`${what}: x ${c.x.join('×')}, filter ${c.filter.join('×')}, stride ${c.stride}, pad ${c.pad}`, async () => {
        const wasm = await on('wasm', gradients(c, transposed));
        const cpu = await on('cpu', gradients(c, transposed));
        const [y, dx, dw] = [0, 1, 2].map((k) => maxRelativeError(wasm[k], cpu[k]));
        assert.ok(y < 1e-5, `output differs by ${y} of its largest value`);
        assert.ok(dx < 1e-5, `input gradient differs by ${dx} of its largest value`);
        assert.ok(dw < 1e-5, `filter gradient differs by ${dw} of its largest value`);
      });
    }
  }
});

describe('a fused conv to one channel (the last layer of a grey model) equals the cpu backend', () => {
  const cases: { x: [number, number, number, number]; filter: [number, number, number, number]; stride: number; pad: 'same' | 'valid' }[] =
    [
      { x: [3, 10, 9, 6], filter: [3, 3, 6, 1], stride: 1, pad: 'same' },
      { x: [2, 11, 9, 5], filter: [3, 3, 5, 1], stride: 2, pad: 'same' },
      { x: [2, 9, 8, 4], filter: [2, 4, 4, 1], stride: 2, pad: 'valid' },
    ];
  for (const c of cases) {
    for (const activation of ['linear', 'relu'] as const) {
      it(`x ${c.x.join('×')}, filter ${c.filter.join('×')}, stride ${c.stride}, pad ${c.pad}, ${activation}: output and gradients`, async () => {
        const run = () => {
          const x = random(c.x, 1);
          const w = random(c.filter, 2);
          const b = random([1], 4);
          const conv = (a: Tensor, f: Tensor, bias: Tensor): Tensor =>
            tf.fused.conv2d({ x: a as never, filter: f as never, bias, strides: c.stride, pad: c.pad, activation });
          const dy = random(conv(x, w, b).shape, 3);
          return [conv(x, w, b), ...tf.grads((a: Tensor, f: Tensor, bias: Tensor) => tf.sum(tf.mul(conv(a, f, bias), dy)))([x, w, b])];
        };
        const wasm = await on('wasm', run);
        const cpu = await on('cpu', run);
        wasm.forEach((v, k) => {
          const err = maxRelativeError(v, cpu[k]);
          assert.ok(
            err < 1e-5,
            `${['output', 'input gradient', 'filter gradient', 'bias gradient'][k]} differs by ${err} of its largest value`,
          );
        });
      });
    }
  }
});
