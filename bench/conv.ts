// The conv model in `npm run bench`: training images/s at 28×28×1 and 64×64×3 on wasm (1 and 2
// threads), WebGPU (here on the software adapter), the plain JS backend and PyTorch on the CPU
// (1 and 2 threads), with the same layers everywhere. The rows come from bench/gpu-rows.ts, which
// `npm run bench:gpu` uses too.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { QUICK, describeModels, imagesPerSecond, markdownTable, tfjsRow, torchRows, type ModelKey } from './gpu-rows';
import { CONV_AND_MATMUL, type ConvProfile } from './profile';
import { FASHION } from './training';

const KEYS: ModelKey[] = ['conv28', 'conv64'];

export async function run(): Promise<string> {
  const lines = ['## Conv model and WebGPU (tfjs backends vs PyTorch)', ''];
  if (!existsSync(`${FASHION}/train-images-idx3-ubyte.gz`)) {
    return [...lines, `Skipped: Fashion-MNIST is not installed (${FASHION}); \`apt-get install dataset-fashion-mnist\`.`].join('\n');
  }
  const load = os.loadavg()[0];
  const rows = [
    tfjsRow({ backend: 'wasm', threads: 1, models: KEYS }),
    tfjsRow({ backend: 'wasm', threads: 2, models: KEYS }),
    tfjsRow({ backend: 'webgpu', models: KEYS }),
    tfjsRow({ backend: 'cpu', models: KEYS }),
    ...torchRows(
      [
        { device: 'cpu', threads: 1 },
        { device: 'cpu', threads: 2 },
      ],
      KEYS,
    ),
  ];
  // Each row beside PyTorch at 1 and at 2 threads: the same thread count, and PyTorch at its fastest.
  const torch = rows.filter((r) => r.kind === 'torch-cpu');
  lines.push(
    `Training images/s over a fixed number of timed steps after untimed warm-up steps${QUICK ? ' (BENCH_QUICK: a check of the benchmark, not a result)' : ''}. ` +
      `${describeModels(KEYS)} The 64×64×3 images are Fashion-MNIST brought to 64×64 and tinted per class; PyTorch (bench/conv_torch.py) trains the same layers. ` +
      'PyTorch at n threads means n in all: OpenBLAS, which runs its matrix multiplies and which torch.set_num_threads does not hold, is held too (OPENBLAS_NUM_THREADS); at 2 threads each split between PyTorch\'s threads and OpenBLAS\'s is run and the fastest kept (bench/torch-threads.ts). Before 2026-12-02 evening, its "1 thread" rows let OpenBLAS use both cores. ' +
      'WebGPU runs on the adapter Dawn offers first; on a software adapter (a CPU renderer) it gets fewer steps. ' +
      `Load average when the section started: ${load.toFixed(1)} on ${os.cpus().length} cores (the machine may be shared). ` +
      '`npm run bench:gpu` measures the same rows on a machine with a GPU (docs/BENCHMARKS-GPU.md). ' +
      'Before, for reference (issue 8, 2026-12-02): conv 64×64×3 on wasm trained at 11 images/s against PyTorch 33 on one thread (0.33×), ' +
      'its filter gradient a plain JavaScript loop; both conv gradients now run on XNNPACK (src/engine/backends/wasmKernels.ts). ' +
      'Goal: ≥ 1.0× PyTorch at the same thread count.',
    '',
    markdownTable(
      rows,
      KEYS,
      torch.map((row) => ({ name: `PyTorch CPU ${row.threads}t`, row })),
    ),
    '',
  );
  const torch1 = torch.find((r) => r.threads === '1');
  for (const key of KEYS) {
    const p = convProfile(key);
    if (typeof p === 'string') {
      lines.push(p, '');
      continue;
    }
    const bound = (p.batch * 1000) / p.convMs;
    const theirs = imagesPerSecond(torch1, key);
    lines.push(
      p.table,
      '',
      `Of the ${p.wallMs.toFixed(1)} ms, the convolutions and matrix multiplies (${CONV_AND_MATMUL.join(', ')}; on wasm all XNNPACK kernels, the gradients with ` +
        `their layout copies, see src/engine/backends/wasmKernels.ts) take ${p.convMs.toFixed(1)} ms for ${p.convGflop.toFixed(2)} GFLOP ` +
        `(${(p.convGflop / (p.convMs / 1000)).toFixed(1)} GFLOP/s): with every other kernel free, this step would still take that long, ` +
        `${Math.round(bound)} images/s at most on 1 thread` +
        (theirs
          ? `, ${(bound / theirs).toFixed(2)}× PyTorch on 1 thread (${Math.round(theirs)} images/s, its whole step at ${((p.convGflop * theirs) / p.batch).toFixed(1)} GFLOP/s).`
          : '.'),
      '',
    );
  }
  return lines.join('\n');
}

/** The kernel profile of one conv step (bench/profile.ts in a fresh process: one backend per process), or why not. */
function convProfile(key: ModelKey): ConvProfile | string {
  try {
    const out = execFileSync(process.execPath, [...process.execArgv, join(__dirname, 'profile.ts'), '--conv', key], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ConvProfile;
  } catch (err) {
    return `Profile of ${key} not measured: ${(err as Error).message.split('\n')[0]}`;
  }
}
