// Fixes to tfjs-backend-wasm 4.22 that training needs:
// - Conv2DBackpropFilter is missing (the gradient of any conv or transposed-conv filter fails with
//   "kernel not registered"), and its Conv2DBackpropInput is a plain C++ loop, 20–50× slower than
//   its XNNPACK Conv2D. Both are rewritten on XNNPACK: the filter gradient convolves x (channels as
//   the batch) with dy as a filter dilated by the stride; the strided input gradient (also the
//   forward pass of a transposed conv) is col2im(dy · Wᵀ): one matmul, then each filter tap's
//   columns added back where they belong; at stride 1 it convolves the padded dy with the filter
//   rotated by 180° (channels swapped). Only layout copies run in JavaScript.
// - A convolution with one channel on either side (a grey image in, or out) leaves XNNPACK's vector
//   lanes mostly empty: 1.5–5 GFLOP/s here for the first and last layers of a grey model, against
//   15–35 for the others. Those (the forward conv of a one-channel input, the fused forward conv to
//   one channel with a bias and no activation, and both gradients) are one matmul each: the
//   one-channel side laid out per filter tap (KH·KW values per position, small: tapPositions), the
//   other taken as it lies.
// - BatchMatMul with transposeA/transposeB runs 10–20× slower than without (measured: 222 ms vs
//   21 ms for 784×128·128×400), and every dense-layer gradient uses those flags. The wrapper
//   transposes explicitly with the wasm Transpose kernel and calls the fast untransposed path.
// Every kernel here is checked against the cpu backend's (test/unit/wasm-kernels.test.ts).

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
  const batchMatMul = tf.getKernel('BatchMatMul', 'wasm')?.kernelFunc as unknown as KernelFunc | undefined;
  /** a [1, m, k] · b [1, k, n] → [1, m, n] on XNNPACK, untransposed. */
  const matmul = (a: TensorInfoLike, b: TensorInfoLike, backend: unknown) =>
    batchMatMul!({ inputs: { a, b }, backend, attrs: { transposeA: false, transposeB: false } });
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
    if (batchMatMul && g.outChannels === 1) {
      // dx [q, ci] = Σ_k D[q, k] · w[k, ci], D[q(k, p), k] = dy[p]: one matmul of K = KH·KW.
      const taps = g.filterHeight * g.filterWidth;
      const Q = g.batchSize * g.inHeight * g.inWidth;
      const cols = wasm.makeOutput([1, Q, taps], 'float32');
      try {
        scatterTaps(wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(cols), tapPositions(g), taps, 1, taps);
        const out = matmul(cols, as(filter, [1, taps, g.inChannels]), backend);
        return as(out, [g.batchSize, g.inHeight, g.inWidth, g.inChannels]);
      } finally {
        wasm.disposeData(cols.dataId);
      }
    }
    const p = phases(g);
    if (batchMatMul && p.count > 1) {
      // Strided: dx = col2im(dy · Wᵀ), one matmul with K = outChannels and each tap's columns added
      // back where they belong (measured 20–30 % faster than the phase-split conv, whose phases
      // are padded to the same number of taps: 16 for 9 at a 3×3 stride 2).
      const taps = g.filterHeight * g.filterWidth;
      const P = g.batchSize * g.outHeight * g.outWidth;
      const wide = taps * g.inChannels;
      const wT = wasm.makeOutput([1, g.outChannels, wide], 'float32');
      let cols: TensorInfoLike | undefined;
      try {
        transposeFilter(wasm.typedArrayFromHeap(filter), wasm.typedArrayFromHeap(wT), wide, g.outChannels);
        cols = matmul(as(dy, [1, P, g.outChannels]), wT, backend);
        const out = wasm.makeOutput([g.batchSize, g.inHeight, g.inWidth, g.inChannels], 'float32');
        col2im(wasm.typedArrayFromHeap(cols), wasm.typedArrayFromHeap(out), tapPositions(g), taps, g.inChannels);
        return out;
      } finally {
        wasm.disposeData(wT.dataId);
        if (cols) wasm.disposeData(cols.dataId);
      }
    }
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
    const taps = g.filterHeight * g.filterWidth;
    // One side with one channel: a [taps, n] layout of it times the other side as it lies ([n, cols]).
    const perTap = (n: number, fill: (out: Float32Array) => void, other: TensorInfoLike, cols: number) => {
      const laid = wasm.makeOutput([1, taps, n], 'float32');
      try {
        fill(wasm.typedArrayFromHeap(laid)); // views of wasm memory only after the allocation
        return as(matmul(laid, as(other, [1, n, cols]), backend), a.filterShape);
      } finally {
        wasm.disposeData(laid.dataId);
      }
    };
    if (batchMatMul && g.outChannels === 1) {
      // dW [k, ci] = Σ_q D[k, q] · x[q, ci], D[k, q(k, p)] = dy[p].
      const Q = g.batchSize * g.inHeight * g.inWidth;
      return perTap(Q, (D) => scatterTaps(wasm.typedArrayFromHeap(dy), D, tapPositions(g), 1, Q, taps), x, g.inChannels);
    }
    if (batchMatMul && g.inChannels === 1) {
      // dW [k, co] = Σ_p X[k, p] · dy[p, co], X[k, p] = x[q(k, p)].
      const P = g.batchSize * g.outHeight * g.outWidth;
      return perTap(P, (X) => gatherTaps(wasm.typedArrayFromHeap(x), X, tapPositions(g), 1, P, taps), dy, g.outChannels);
    }
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

  // The forward conv of a one-channel input (the first layer of a grey model):
  // y [p, co] = Σ_k X[p, k] · w[k, co], X[p, k] = x[q(k, p)].
  const forward: KernelFunc = (args) => {
    const { x, filter } = args.inputs as { x: TensorInfoLike; filter: TensorInfoLike };
    const a = args.attrs as unknown as ConvAttrs & { dilations?: number | [number, number] };
    const dilated = a.dilations !== undefined && [a.dilations].flat().some((d) => d !== 1);
    if (!batchMatMul || x.shape[3] !== 1 || a.dataFormat === 'NCHW' || dilated) return conv2d(args);
    const wasm = args.backend as WasmBackendLike;
    const g = geometry(tf, x.shape as Shape4, filter.shape as Shape4, a);
    const taps = g.filterHeight * g.filterWidth;
    const P = g.batchSize * g.outHeight * g.outWidth;
    const X = wasm.makeOutput([1, P, taps], 'float32');
    try {
      gatherTaps(wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(X), tapPositions(g), taps, 1, taps);
      const y = matmul(X, as(filter, [1, taps, g.outChannels]), args.backend);
      return as(y, [g.batchSize, g.outHeight, g.outWidth, g.outChannels]);
    } finally {
      wasm.disposeData(X.dataId);
    }
  };

  // The forward conv to one output channel with a bias and no activation (the last layer of a grey
  // model, whose outputs are logits): Z [q, k] = Σ_ci x[q, ci] · w[k, ci], a matmul with N = KH·KW,
  // then y[p] = bias + Σ_k Z[q(k, p), k].
  const fused = tf.getKernel('FusedConv2D', 'wasm')?.kernelFunc as unknown as KernelFunc | undefined;
  const fusedForward: KernelFunc = (args) => {
    const { x, filter, bias } = args.inputs as { x: TensorInfoLike; filter: TensorInfoLike; bias?: TensorInfoLike };
    const a = args.attrs as unknown as ConvAttrs & { dilations?: number | [number, number]; activation?: string };
    const dilated = a.dilations !== undefined && [a.dilations].flat().some((d) => d !== 1);
    const linear = a.activation === undefined || a.activation === 'linear';
    if (!batchMatMul || filter.shape[3] !== 1 || a.dataFormat === 'NCHW' || dilated || !linear) return fused!(args);
    const wasm = args.backend as WasmBackendLike;
    const g = geometry(tf, x.shape as Shape4, filter.shape as Shape4, a);
    const taps = g.filterHeight * g.filterWidth;
    const Q = g.batchSize * g.inHeight * g.inWidth;
    const wT = wasm.makeOutput([1, g.inChannels, taps], 'float32');
    let Z: TensorInfoLike | undefined;
    try {
      transposeFilter(wasm.typedArrayFromHeap(filter), wasm.typedArrayFromHeap(wT), taps, g.inChannels);
      Z = matmul(as(x, [1, Q, g.inChannels]), wT, args.backend);
      const y = wasm.makeOutput([g.batchSize, g.outHeight, g.outWidth, 1], 'float32');
      const b = bias ? wasm.typedArrayFromHeap(bias)[0] : 0;
      sumTaps(wasm.typedArrayFromHeap(Z), wasm.typedArrayFromHeap(y), tapPositions(g), taps, b);
      return y;
    } finally {
      wasm.disposeData(wT.dataId);
      if (Z) wasm.disposeData(Z.dataId);
    }
  };

  for (const [kernelName, kernelFunc] of [
    ...(fused ? ([['FusedConv2D', fusedForward]] as const) : []),
    ['Conv2D', forward],
    ['Conv2DBackpropInput', backpropInput],
    ['Conv2DBackpropFilter', backpropFilter],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm')) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as never, [CONV_GRADIENTS]: true } as never);
  }
}

type Shape4 = [number, number, number, number];

/** The same data under another shape of the same size (as tfjs' Reshape does). */
function as(t: TensorInfoLike, shape: number[]): TensorInfoLike {
  return { dataId: t.dataId, shape, dtype: 'float32' };
}

const tapCache = new Map<string, Int32Array>();

/**
 * For filter tap k = (kh, kw) and output position p = (b, oh, ow): the input position
 * q = (b, oh·sh + kh − top, ow·sw + kw − left) it reads, at [k · P + p], or −1 in the padding.
 * Kept for the last few geometries (a model's layers ask for the same ones every step).
 */
function tapPositions(g: ConvGeometry): Int32Array {
  const key = [
    g.batchSize,
    g.inHeight,
    g.inWidth,
    g.outHeight,
    g.outWidth,
    g.filterHeight,
    g.filterWidth,
    g.strideHeight,
    g.strideWidth,
    g.padInfo.top,
    g.padInfo.left,
  ].join(',');
  let q = tapCache.get(key);
  if (q) return q;
  const { batchSize: B, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW } = g;
  const P = B * OH * OW;
  q = new Int32Array(g.filterHeight * g.filterWidth * P);
  for (let kh = 0; kh < g.filterHeight; kh++) {
    for (let kw = 0; kw < g.filterWidth; kw++) {
      const base = (kh * g.filterWidth + kw) * P;
      for (let b = 0; b < B; b++) {
        for (let oh = 0; oh < OH; oh++) {
          const h = oh * g.strideHeight + kh - g.padInfo.top;
          for (let ow = 0; ow < OW; ow++) {
            const w = ow * g.strideWidth + kw - g.padInfo.left;
            q[base + (b * OH + oh) * OW + ow] = h >= 0 && h < H && w >= 0 && w < W ? (b * H + h) * W + w : -1;
          }
        }
      }
    }
  }
  if (tapCache.size >= 16) tapCache.delete(tapCache.keys().next().value!);
  tapCache.set(key, q);
  return q;
}

/** out[p · pStride + k · kStride] = src[q(k, p)], 0 in the padding (src has one channel). */
function gatherTaps(src: Float32Array, out: Float32Array, q: Int32Array, pStride: number, kStride: number, taps: number): void {
  const P = q.length / taps;
  for (let k = 0; k < taps; k++) {
    const base = k * P;
    const off = k * kStride;
    for (let p = 0; p < P; p++) {
      const at = q[base + p];
      out[p * pStride + off] = at >= 0 ? src[at] : 0;
    }
  }
}

/** w [k, ci, co] (rows of `wide` = k·ci) → wT [co, k·ci]. */
function transposeFilter(w: Float32Array, wT: Float32Array, wide: number, CO: number): void {
  for (let r = 0; r < wide; r++) for (let co = 0; co < CO; co++) wT[co * wide + r] = w[r * CO + co];
}

/** y[p] = b + Σ_k Z[q(k, p), k] (Z has `taps` columns; the padding adds nothing). */
function sumTaps(Z: Float32Array, y: Float32Array, q: Int32Array, taps: number, b: number): void {
  const P = y.length;
  y.fill(b);
  for (let k = 0; k < taps; k++) {
    const base = k * P;
    for (let p = 0; p < P; p++) {
      const at = q[base + p];
      if (at >= 0) y[p] += Z[at * taps + k];
    }
  }
}

/** dx [q, ci] = Σ over (k, p) with q(k, p) = q of cols [p, k, ci]. */
function col2im(cols: Float32Array, dx: Float32Array, q: Int32Array, taps: number, CI: number): void {
  dx.fill(0);
  const P = q.length / taps;
  for (let p = 0; p < P; p++) {
    for (let k = 0; k < taps; k++) {
      const at = q[k * P + p];
      if (at < 0) continue;
      const from = (p * taps + k) * CI;
      const to = at * CI;
      for (let ci = 0; ci < CI; ci++) dx[to + ci] += cols[from + ci];
    }
  }
}

/** out[q(k, p) · qStride + k · kStride] = dy[p], 0 where no p reads (dy has one channel). */
function scatterTaps(dy: Float32Array, out: Float32Array, q: Int32Array, qStride: number, kStride: number, taps: number): void {
  out.fill(0);
  const P = q.length / taps;
  for (let k = 0; k < taps; k++) {
    const base = k * P;
    const off = k * kStride;
    for (let p = 0; p < P; p++) {
      const at = q[base + p];
      if (at >= 0) out[at * qStride + off] = dy[p];
    }
  }
}

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
  const planeOut = spanH * spanW * B;
  const image = H * W * CI;
  out.fill(0);
  // Position by position, image by image: each read is a run of CI values (2× faster here than
  // walking x in its own order, which scatters every write).
  for (let r = 0; r < spanH; r++) {
    const h = r - top;
    if (h < 0 || h >= H) continue;
    for (let c = 0; c < spanW; c++) {
      const w = c - left;
      if (w < 0 || w >= W) continue;
      const to = (r * spanW + c) * B;
      const from = (h * W + w) * CI;
      for (let b = 0; b < B; b++) {
        const src = from + b * image;
        for (let ci = 0, t = to + b; ci < CI; ci++, t += planeOut) out[t] = x[src + ci];
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
