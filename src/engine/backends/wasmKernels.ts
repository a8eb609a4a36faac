// Fixes to tfjs-backend-wasm 4.22 that training needs:
// - Conv2DBackpropFilter is missing (the gradient of any conv or transposed-conv filter fails with
//   "kernel not registered"), and its Conv2DBackpropInput is a plain C++ loop, 20–50× slower than
//   its XNNPACK Conv2D. Both gradients are rewritten here as one fast Conv2D each: the input
//   gradient convolves the zero-dilated, padded dy with the filter rotated by 180° (channels
//   swapped); the filter gradient convolves x (channels as the batch) with dy as a filter dilated
//   by the stride. Only a layout copy runs in JavaScript.
// - BatchMatMul with transposeA/transposeB runs 10–20× slower than without (measured: 222 ms vs
//   21 ms for 784×128·128×400), and every dense-layer gradient uses those flags. The wrapper
//   transposes explicitly with the wasm Transpose kernel and calls the fast untransposed path.

import type { Tf } from '../tf';

interface TensorInfoLike {
  dataId: object;
  shape: number[];
  dtype: 'float32';
}

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfoLike;
  typedArrayFromHeap(info: TensorInfoLike): Float32Array;
  disposeData(dataId: object): boolean;
}

type KernelFunc = (args: { inputs: Record<string, TensorInfoLike>; backend: unknown; attrs: Record<string, unknown> }) => TensorInfoLike;

interface ConvAttrs {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function registerMissingWasmKernels(tf: Tf): void {
  registerFastTransposedMatMul(tf);
  registerConvGradients(tf);
}

const CONV_GRADIENTS = Symbol('latent-atlas conv gradients');

function registerConvGradients(tf: Tf): void {
  const conv = tf.getKernel('Conv2D', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  const current = tf.getKernel('Conv2DBackpropFilter', 'wasm') as unknown as Record<symbol, boolean> | undefined;
  if (!conv || !transpose || current?.[CONV_GRADIENTS]) return;
  const conv2d = conv.kernelFunc as unknown as KernelFunc;
  // tfjs-wasm's own input gradient: a direct loop, which beats a GEMM only when dx has very few
  // channels (measured: 5 vs 27 ms for 64×28×28×1 from 64×14×14×32, the 4 phases giving N = 4).
  const ownInput = tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc as unknown as KernelFunc | undefined;
  const transposeFn = transpose.kernelFunc as unknown as KernelFunc;
  const channelsLast = (a: ConvAttrs, kernel: string) => {
    if (a.dataFormat === 'NCHW')
      throw new Error(`${kernel} on wasm (src/engine/backends/wasmKernels.ts) supports channels-last data only.`);
  };

  const backpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: TensorInfoLike; filter: TensorInfoLike };
    const a = attrs as unknown as ConvAttrs & { inputShape: Shape4 };
    channelsLast(a, 'Conv2DBackpropInput');
    const wasm = backend as WasmBackendLike;
    const g = geometry(tf, a.inputShape, filter.shape as Shape4, a);
    if (ownInput && g.inChannels < 4) return ownInput({ inputs, backend, attrs });
    const p = phases(g);
    const padded = wasm.makeOutput([g.batchSize, p.paddedHeight, p.paddedWidth, g.outChannels], 'float32');
    const subFilters = wasm.makeOutput([p.tapsHigh, p.tapsWide, g.outChannels, p.count * g.inChannels], 'float32');
    const dx = wasm.makeOutput([g.batchSize, g.inHeight, g.inWidth, g.inChannels], 'float32');
    let byPhase: TensorInfoLike | undefined;
    try {
      // Views of wasm memory are taken after the allocations before them (one may move the heap).
      padDy(wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(padded), g, p);
      splitFilter(wasm.typedArrayFromHeap(filter), wasm.typedArrayFromHeap(subFilters), g, p);
      byPhase = conv2d({
        inputs: { x: padded, filter: subFilters },
        backend,
        attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: 1 },
      });
      interleave(wasm.typedArrayFromHeap(byPhase), wasm.typedArrayFromHeap(dx), g, p);
      return dx;
    } catch (err) {
      wasm.disposeData(dx.dataId);
      throw err;
    } finally {
      wasm.disposeData(padded.dataId);
      wasm.disposeData(subFilters.dataId);
      if (byPhase) wasm.disposeData(byPhase.dataId);
    }
  };

  const backpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: TensorInfoLike; dy: TensorInfoLike };
    const a = attrs as unknown as ConvAttrs & { filterShape: Shape4 };
    channelsLast(a, 'Conv2DBackpropFilter');
    const wasm = backend as WasmBackendLike;
    const g = geometry(tf, x.shape as Shape4, a.filterShape, a);
    const spanH = (g.outHeight - 1) * g.strideHeight + g.filterHeight;
    const spanW = (g.outWidth - 1) * g.strideWidth + g.filterWidth;
    const images = wasm.makeOutput([g.inChannels, spanH, spanW, g.batchSize], 'float32');
    const kernel = wasm.makeOutput([g.outHeight, g.outWidth, g.batchSize, g.outChannels], 'float32');
    channelsAsBatch(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(images), g, spanH, spanW);
    batchAsChannels(wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(kernel), g);
    let byChannel: TensorInfoLike | undefined;
    try {
      // [inChannels, filterHeight, filterWidth, outChannels], then into the filter's layout.
      byChannel = conv2d({
        inputs: { x: images, filter: kernel },
        backend,
        attrs: { strides: 1, pad: 'valid', dataFormat: 'NHWC', dilations: [g.strideHeight, g.strideWidth] },
      });
      return transposeFn({ inputs: { x: byChannel }, backend, attrs: { perm: [1, 2, 0, 3] } });
    } finally {
      wasm.disposeData(images.dataId);
      wasm.disposeData(kernel.dataId);
      if (byChannel) wasm.disposeData(byChannel.dataId);
    }
  };

  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropInput', backpropInput],
    ['Conv2DBackpropFilter', backpropFilter],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as never, [CONV_GRADIENTS]: true } as never);
  }
}

type Shape4 = [number, number, number, number];

function geometry(tf: Tf, inputShape: Shape4, filterShape: Shape4, a: ConvAttrs): ConvGeometry {
  return tf.backend_util.computeConv2DInfo(inputShape, filterShape, a.strides, 1, a.pad, a.dimRoundingMode);
}

/**
 * The input gradient of a strided conv, split by output phase: rows i with (i + top) mod s = r take
 * only the filter taps kh ≡ r (mod s), so each phase is a stride-1 conv of dy (undilated) with a
 * sub-filter of ⌈KH/s⌉ taps. All s² phases run as one conv, their sub-filters side by side on the
 * output channels (a phase with fewer taps gets zero taps), instead of one conv over dy dilated with
 * zeros, which multiplies s² times as many zeros.
 */
interface Phases {
  strideH: number;
  strideW: number;
  count: number;
  tapsHigh: number;
  tapsWide: number;
  paddedHeight: number;
  paddedWidth: number;
}

function phases(g: ConvGeometry): Phases {
  const { strideHeight: sh, strideWidth: sw } = g;
  const tapsHigh = Math.ceil(g.filterHeight / sh);
  const tapsWide = Math.ceil(g.filterWidth / sw);
  // Sub-conv output position t of input row i is (i + top − r) / s; the last one needed:
  const lastT = Math.floor((g.inHeight - 1 + g.padInfo.top) / sh);
  const lastU = Math.floor((g.inWidth - 1 + g.padInfo.left) / sw);
  return {
    strideH: sh,
    strideW: sw,
    count: sh * sw,
    tapsHigh,
    tapsWide,
    paddedHeight: Math.max(lastT + tapsHigh, tapsHigh - 1 + g.outHeight),
    paddedWidth: Math.max(lastU + tapsWide, tapsWide - 1 + g.outWidth),
  };
}

/** dy [b, oh, ow, co] → zeros with dy at [b, oh + tapsHigh − 1, ow + tapsWide − 1]. */
function padDy(dy: Float32Array, out: Float32Array, g: ConvGeometry, p: Phases): void {
  const { outChannels: CO } = g;
  const PH = p.paddedHeight;
  const PW = p.paddedWidth;
  out.fill(0);
  for (let b = 0; b < g.batchSize; b++) {
    for (let oh = 0; oh < g.outHeight; oh++) {
      const from = (b * g.outHeight + oh) * g.outWidth * CO;
      const to = ((b * PH + oh + p.tapsHigh - 1) * PW + p.tapsWide - 1) * CO;
      out.set(dy.subarray(from, from + g.outWidth * CO), to);
    }
  }
}

/** w [kh, kw, ci, co] → [m, n, co, phase·CI + ci] = w[rh + (M−1−m)·sh, rw + (N−1−n)·sw, ci, co] (0 past the filter). */
function splitFilter(w: Float32Array, out: Float32Array, g: ConvGeometry, p: Phases): void {
  const { filterHeight: KH, filterWidth: KW, inChannels: CI, outChannels: CO } = g;
  const M = p.tapsHigh;
  const N = p.tapsWide;
  const wide = p.count * CI;
  out.fill(0);
  for (let rh = 0; rh < p.strideH; rh++) {
    for (let rw = 0; rw < p.strideW; rw++) {
      const phase = rh * p.strideW + rw;
      for (let m = 0; m < M; m++) {
        const kh = rh + (M - 1 - m) * p.strideH;
        if (kh >= KH) continue;
        for (let n = 0; n < N; n++) {
          const kw = rw + (N - 1 - n) * p.strideW;
          if (kw >= KW) continue;
          const src = (kh * KW + kw) * CI * CO;
          const dst = (m * N + n) * CO * wide + phase * CI;
          for (let ci = 0; ci < CI; ci++) for (let co = 0; co < CO; co++) out[dst + co * wide + ci] = w[src + ci * CO + co];
        }
      }
    }
  }
}

/** The phases' outputs [b, t, u, phase·CI + ci] → dx [b, t·sh + rh − top, u·sw + rw − left, ci]. */
function interleave(byPhase: Float32Array, dx: Float32Array, g: ConvGeometry, p: Phases): void {
  const { inHeight: H, inWidth: W, inChannels: CI } = g;
  const T = p.paddedHeight - p.tapsHigh + 1;
  const U = p.paddedWidth - p.tapsWide + 1;
  const wide = p.count * CI;
  for (let b = 0; b < g.batchSize; b++) {
    for (let i = 0; i < H; i++) {
      const rh = (i + g.padInfo.top) % p.strideH;
      const t = (i + g.padInfo.top - rh) / p.strideH;
      for (let j = 0; j < W; j++) {
        const rw = (j + g.padInfo.left) % p.strideW;
        const u = (j + g.padInfo.left - rw) / p.strideW;
        const from = ((b * T + t) * U + u) * wide + (rh * p.strideW + rw) * CI;
        dx.set(byPhase.subarray(from, from + CI), ((b * H + i) * W + j) * CI);
      }
    }
  }
}

/** x [b, h, w, ci] → [ci, h + top, w + left, b] over the span the filter gradient reads (zeros outside). */
function channelsAsBatch(x: Float32Array, out: Float32Array, g: ConvGeometry, spanH: number, spanW: number): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: CI } = g;
  const top = g.padInfo.top;
  const left = g.padInfo.left;
  out.fill(0);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < H; h++) {
      const r = h + top;
      if (r >= spanH) break;
      for (let w = 0; w < W; w++) {
        const c = w + left;
        if (c >= spanW) break;
        const from = ((b * H + h) * W + w) * CI;
        const to = (r * spanW + c) * B + b;
        for (let ci = 0; ci < CI; ci++) out[ci * spanH * spanW * B + to] = x[from + ci];
      }
    }
  }
}

/** dy [b, oh, ow, co] → [oh, ow, b, co]. */
function batchAsChannels(dy: Float32Array, out: Float32Array, g: ConvGeometry): void {
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  for (let b = 0; b < B; b++) {
    for (let p = 0; p < OH * OW; p++) {
      const from = (b * OH * OW + p) * CO;
      out.set(dy.subarray(from, from + CO), (p * B + b) * CO);
    }
  }
}

const WRAPPED = Symbol('latent-atlas transposed matmul');

function registerFastTransposedMatMul(tf: Tf): void {
  const original = tf.getKernel('BatchMatMul', 'wasm');
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!original || !transpose || (original as unknown as Record<symbol, boolean>)[WRAPPED]) return;
  type Info = { dataId: object; shape: number[] };
  const swapLast = (rank: number) => [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const config = {
    ...original,
    kernelFunc: (args: Parameters<typeof original.kernelFunc>[0]) => {
      const { a, b } = args.inputs as unknown as { a: Info; b: Info };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (!transposeA && !transposeB) return original.kernelFunc(args);
      const backend = args.backend as unknown as { disposeData(id: object): boolean };
      const flip = (x: Info) =>
        transpose.kernelFunc({ inputs: { x } as never, backend: args.backend, attrs: { perm: swapLast(x.shape.length) } }) as Info;
      const at = transposeA ? flip(a) : a;
      const bt = transposeB ? flip(b) : b;
      const out = original.kernelFunc({
        inputs: { a: at, b: bt } as never,
        backend: args.backend,
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      });
      if (transposeA) backend.disposeData(at.dataId);
      if (transposeB) backend.disposeData(bt.dataId);
      return out;
    },
    [WRAPPED]: true,
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(config);
}

interface ConvGeometry {
  batchSize: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  padInfo: { top: number; left: number };
}
