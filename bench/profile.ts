// Where a training step's time goes, kernel by kernel (tf.profile), as a markdown table: the MLP
// step in the training section and, run as a child process (`--conv conv28|conv64`), the conv
// steps in the conv section, each on wasm with one thread.

import { initBackend } from '../src/engine/backends/ladder';
import { buildVae, decodeRaw, encodeBatch } from '../src/engine/model/model';
import { elboEstimate, trainingLoss } from '../src/engine/model/objective';
import type { Tensor2D, Tf } from '../src/engine/tf';
import { MODELS, type ModelKey } from './gpu-rows';

export interface KernelProfile {
  /** The title line and a table of the top kernels. */
  table: string;
  wallMs: number;
  /** Kernel milliseconds by kernel name, over the profiled step, with the multiply-adds' FLOPs where counted. */
  byKernel: Map<string, { ms: number; calls: number; flops: number }>;
}

/** Kernels that are convolutions or matrix multiplies (on wasm, all XNNPACK: see wasmKernels.ts). */
export const CONV_AND_MATMUL = ['Conv2D', 'FusedConv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'BatchMatMul', '_FusedMatMul'];

const size = (shape: number[] | null | undefined) => (shape ?? []).reduce((a, b) => a * b, 1);

/**
 * 2 × the multiply-adds of one convolution or matrix-multiply kernel call, from its shapes (the
 * dense count: zeros a kernel pads or dilates with are not counted); 0 for any other kernel.
 */
export function kernelFlops(name: string, inputs: (number[] | null)[], outputs: (number[] | null)[]): number {
  const out = outputs[0] ?? [];
  switch (name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      // x, filter [kh, kw, in, out] → y [n, h, w, out]
      const f = inputs[1] ?? [];
      return 2 * size(out) * f[0]! * f[1]! * f[2]!;
    }
    case 'Conv2DBackpropInput': {
      // dy [n, h, w, out], filter [kh, kw, in, out] → dx
      const f = inputs[1] ?? [];
      return 2 * size(inputs[0]) * f[0]! * f[1]! * f[2]!;
    }
    case 'Conv2DBackpropFilter':
      // x, dy [n, h, w, out] → filter [kh, kw, in, out]
      return 2 * size(inputs[1]) * out[0]! * out[1]! * out[2]!;
    case 'BatchMatMul':
    case '_FusedMatMul': {
      // The output holds b·m·n values ([m, n] or [b, m, n]) and a b·m·k, whichever operand is transposed.
      const bm = size(out) / out[out.length - 1]!;
      return 2 * size(out) * (size(inputs[0]) / bm);
    }
    default:
      return 0;
  }
}

/** Times `step` (after one untimed call) and profiles one more call. */
export async function kernelProfile(
  tf: Tf,
  step: () => void,
  title: string,
  threads: number,
  timedSteps: number,
  top = 10,
): Promise<KernelProfile> {
  step();
  const start = performance.now();
  for (let i = 0; i < timedSteps; i++) step();
  const wall = (performance.now() - start) / timedSteps;
  const byKernel = new Map<string, { ms: number; calls: number; flops: number }>();
  let kernels = 0;
  const profile = await tf.profile(step);
  for (const k of profile.kernels) {
    if (k.name.endsWith('__op')) continue; // op wrappers, whose kernels are listed themselves
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0, flops: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    e.flops += kernelFlops(k.name, k.inputShapes, k.outputShapes);
    kernels++;
    byKernel.set(k.name, e);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, top);
  const kernelMs = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
  const table = [
    `${title} (${threads} thread(s)): ${wall.toFixed(1)} ms wall, ${kernels} kernel calls taking ${kernelMs.toFixed(1)} ms in total:`,
    '',
    '| kernel | calls | ms | GFLOP/s (convolutions, matmuls) |',
    '|---|---:|---:|---:|',
    ...rows.map(([name, e]) => `| ${name} | ${e.calls} | ${e.ms.toFixed(1)} | ${e.flops ? (e.flops / 1e6 / e.ms).toFixed(1) : ''} |`),
  ].join('\n');
  return { table, wallMs: wall, byKernel };
}

/** Milliseconds the profiled step spent in matrix multiplies. */
export function matmulMs(p: KernelProfile): number {
  return ['BatchMatMul', '_FusedMatMul'].reduce((sum, k) => sum + (p.byKernel.get(k)?.ms ?? 0), 0);
}

/** One conv training step as the trainer takes it (Adam on the −ELBO), on a fixed random batch. */
async function profileConv(key: ModelKey): Promise<ConvProfile> {
  const { tf } = await initBackend({ backend: 'wasm', threads: 1 });
  const { model, pre, batch, title } = MODELS[key];
  const vae = buildVae(model, pre, 0, 1);
  const variables = [...vae.encoder.trainableWeights, ...vae.decoder.trainableWeights].map(
    (w) => w.read() as import('@tensorflow/tfjs').Variable,
  );
  const optimizer = tf.train.adam(1e-3);
  const x = tf.randomUniform([batch, pre.height, pre.width, pre.channels], 0, 1, 'float32', 3).round();
  const step = () =>
    tf.tidy(() => {
      optimizer.minimize(
        () => {
          const { mu, logVar } = encodeBatch(vae, x, undefined, true);
          const eps = tf.randomNormal([batch, model.latentSize], 0, 1, 'float32', 1) as Tensor2D;
          return trainingLoss(
            elboEstimate(x, mu, logVar, (z) => decodeRaw(vae, z, undefined, true), { likelihood: 'bernoulli', sigma: 1 }, eps),
            1,
          );
        },
        false,
        variables,
      );
    });
  const profile = await kernelProfile(
    tf,
    step,
    `One wasm training step of the ${title} conv model (batch ${batch})`,
    1,
    key === 'conv64' ? 3 : 8,
  );
  // The bound: the convolutions and matrix multiplies alone, with every other kernel free.
  let ms = 0;
  let flops = 0;
  for (const name of CONV_AND_MATMUL) {
    ms += profile.byKernel.get(name)?.ms ?? 0;
    flops += profile.byKernel.get(name)?.flops ?? 0;
  }
  return { table: profile.table, batch, wallMs: profile.wallMs, convMs: ms, convGflop: flops / 1e9 };
}

/** What bench/conv.ts hears from a `--conv` child. */
export interface ConvProfile {
  table: string;
  batch: number;
  wallMs: number;
  /** Milliseconds in CONV_AND_MATMUL kernels over the profiled step, and their GFLOP. */
  convMs: number;
  convGflop: number;
}

if (require.main === module && process.argv[2] === '--conv') {
  void profileConv(process.argv[3] as ModelKey).then((result) => process.stdout.write(`${JSON.stringify(result)}\n`));
}
