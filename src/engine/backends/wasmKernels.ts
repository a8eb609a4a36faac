// Fixes to tfjs-backend-wasm 4.22 that training needs:
// - Conv2DBackpropFilter is missing: the gradient of any conv or transposed-conv filter fails on
//   wasm ("kernel not registered"), so the conv VAE could not train. Added in plain JavaScript.
// - BatchMatMul with transposeA/transposeB runs 10–20× slower than without (measured: 222 ms vs
//   21 ms for 784×128·128×400), and every dense-layer gradient uses those flags. The wrapper
//   transposes explicitly with the wasm Transpose kernel and calls the fast untransposed path.

import type { Tf } from '../tf';

interface WasmBackendLike {
  readSync(dataId: object): ArrayLike<number>;
  makeOutput(shape: number[], dtype: 'float32'): { dataId: object; shape: number[]; dtype: 'float32' };
  typedArrayFromHeap(info: { dataId: object; shape: number[]; dtype: 'float32' }): Float32Array;
}

interface TensorInfoLike {
  dataId: object;
  shape: number[];
}

export function registerMissingWasmKernels(tf: Tf): void {
  registerFastTransposedMatMul(tf);
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({
    kernelName: 'Conv2DBackpropFilter',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as unknown as { x: TensorInfoLike; dy: TensorInfoLike };
      const a = attrs as unknown as {
        strides: [number, number] | number;
        pad: 'same' | 'valid' | number;
        dataFormat: 'NHWC' | 'NCHW';
        dimRoundingMode?: 'floor' | 'round' | 'ceil';
        filterShape: [number, number, number, number];
      };
      if (a.dataFormat === 'NCHW') {
        throw new Error('Conv2DBackpropFilter on wasm (src/engine/backends/wasmKernels.ts) supports channels-last data only.');
      }
      const wasm = backend as unknown as WasmBackendLike;
      const info = tf.backend_util.computeConv2DInfo(
        x.shape as [number, number, number, number],
        a.filterShape,
        a.strides,
        1,
        a.pad,
        a.dimRoundingMode,
      );
      const dW = conv2dFilterGradient(wasm.readSync(x.dataId), wasm.readSync(dy.dataId), info);
      const out = wasm.makeOutput(info.filterShape, 'float32');
      wasm.typedArrayFromHeap(out).set(dW);
      return out;
    },
  });
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

/** dL/dW[fr, fc, ci, co] = Σ_b,yr,yc x[b, yr·s+fr−pad, yc·s+fc−pad, ci] · dy[b, yr, yc, co], channels last. */
export function conv2dFilterGradient(x: ArrayLike<number>, dy: ArrayLike<number>, g: ConvGeometry): Float32Array {
  const { inHeight: H, inWidth: W, inChannels: CI, outHeight: OH, outWidth: OW, outChannels: CO } = g;
  const dW = new Float32Array(g.filterHeight * g.filterWidth * CI * CO);
  const dyRow = new Float32Array(CO);
  for (let b = 0; b < g.batchSize; b++) {
    for (let yr = 0; yr < OH; yr++) {
      for (let yc = 0; yc < OW; yc++) {
        const dyBase = ((b * OH + yr) * OW + yc) * CO;
        for (let co = 0; co < CO; co++) dyRow[co] = dy[dyBase + co];
        for (let fr = 0; fr < g.filterHeight; fr++) {
          const xr = yr * g.strideHeight + fr - g.padInfo.top;
          if (xr < 0 || xr >= H) continue;
          for (let fc = 0; fc < g.filterWidth; fc++) {
            const xc = yc * g.strideWidth + fc - g.padInfo.left;
            if (xc < 0 || xc >= W) continue;
            const xBase = ((b * H + xr) * W + xc) * CI;
            const wBase = (fr * g.filterWidth + fc) * CI * CO;
            for (let ci = 0; ci < CI; ci++) {
              const xv = x[xBase + ci];
              if (xv === 0) continue;
              const o = wBase + ci * CO;
              for (let co = 0; co < CO; co++) dW[o + co] += xv * dyRow[co];
            }
          }
        }
      }
    }
  }
  return dW;
}
