// `npm run bench:gpu` (after bench/gpu.sh has installed what it can): training images/s of the
// classic MLP VAE and of the 64×64×3 conv VAE on every WebGPU adapter Dawn sees, tfjs-node-gpu
// (when it installed), wasm and PyTorch (CUDA when torch has it, the CPU at 1 and all threads), as
// one Markdown table, with the goal line for conv on WebGPU. Also writes docs/BENCHMARKS-GPU.md.

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import * as path from 'node:path';
import { adapterName, listAdapters } from '../src/engine/backends/webgpu';
import type { GpuAdapterReport } from '../src/protocol/model';
import {
  QUICK,
  describeModels,
  fastestTorchCpu,
  imagesPerSecond,
  markdownTable,
  rate,
  tfjsRow,
  torchRows,
  type ModelKey,
  type Row,
} from './gpu-rows';
import { FASHION } from './training';

const KEYS: ModelKey[] = ['mlp', 'conv64'];
/** Where bench/gpu.sh installs @tensorflow/tfjs-node-gpu, and writes why when that fails. */
const NODE_GPU = path.join(__dirname, '..', '.tools', 'tfjs-node-gpu');

function nodeGpuRow(): Row {
  const failed = path.join(NODE_GPU, 'install-error.txt');
  const why = existsSync(failed)
    ? readFileSync(failed, 'utf8').trim()
    : !existsSync(path.join(NODE_GPU, 'node_modules', '@tensorflow', 'tfjs-node-gpu'))
      ? 'not installed (bench/gpu.sh installs it into .tools/tfjs-node-gpu)'
      : null;
  if (why)
    return {
      engine: 'tfjs-node-gpu',
      device: 'CUDA (libtensorflow)',
      threads: '—',
      kind: 'tfjs',
      results: {},
      note: `not measured: ${why}`,
    };
  return tfjsRow({ backend: 'tensorflow-gpu', models: KEYS, nativeModulesPath: NODE_GPU });
}

/** The goal for conv on WebGPU, judged on the fastest hardware adapter. */
function goal(rows: Row[], cpu: Row | undefined, cuda: Row | undefined): string {
  const text = 'conv on webgpu ≥ 5× PyTorch CPU and within 2× of PyTorch CUDA';
  const conv = (r: Row | undefined) => imagesPerSecond(r, 'conv64');
  const hardware = rows.filter((r) => r.kind === 'webgpu' && conv(r) !== undefined).sort((a, b) => (conv(b) ?? 0) - (conv(a) ?? 0))[0];
  if (!hardware) {
    const software = rows.some((r) => r.kind === 'webgpu-software');
    return `Goal: ${text} — not measurable here (${software ? 'software adapter' : 'no WebGPU adapter'}).`;
  }
  const gpu = conv(hardware) as number;
  const parts: string[] = [];
  let verdict: 'met' | 'not met' | 'not measurable here' = 'met';
  const [cpuRate, cudaRate] = [conv(cpu), conv(cuda)];
  if (cpuRate === undefined) verdict = 'not measurable here';
  else {
    parts.push(`${(gpu / cpuRate).toFixed(2)}× PyTorch CPU (${cpu?.threads} threads)`);
    if (gpu < 5 * cpuRate) verdict = 'not met';
  }
  if (cudaRate === undefined) {
    parts.push('no PyTorch CUDA to compare with');
    if (verdict === 'met') verdict = 'not measurable here';
  } else {
    parts.push(`${(gpu / cudaRate).toFixed(2)}× PyTorch CUDA`);
    if (gpu < cudaRate / 2) verdict = 'not met';
  }
  return `Goal: ${text} — ${verdict}: ${hardware.device} trains ${rate(gpu)} images/s, ${parts.join(', ')}.`;
}

function machine(adapters: GpuAdapterReport[]): string {
  const listed = adapters.map((a) => `${adapterName(a)}${a.software ? ' (software)' : ''}`).join('; ') || 'none';
  return [
    `- Date: ${new Date().toISOString()}`,
    `- CPU: ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} logical cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average ${os.loadavg()[0].toFixed(1)} at the start (the machine may be shared)`,
    `- WebGPU adapters (Dawn): ${listed}${adapters.every((a) => a.software) ? ' — no hardware adapter' : ''}`,
    `- OS: ${os.type()} ${os.release()}; Node ${process.version}`,
  ].join('\n');
}

async function main(): Promise<void> {
  if (!existsSync(`${FASHION}/train-images-idx3-ubyte.gz`)) {
    throw new Error(`Fashion-MNIST is not installed (${FASHION}); \`apt-get install dataset-fashion-mnist\` (bench/gpu.sh does, as root).`);
  }
  const adapters = await listAdapters().catch(() => []);
  const header = machine(adapters);
  process.stderr.write(`${header}\n`);
  const rows: Row[] = adapters.map((adapter) => tfjsRow({ backend: 'webgpu', models: KEYS, adapter }));
  rows.push(nodeGpuRow(), tfjsRow({ backend: 'wasm', threads: 1, models: KEYS }));
  const cores = os.cpus().length;
  rows.push(
    ...torchRows(
      [{ device: 'cpu', threads: 1 }, ...(cores > 1 ? [{ device: 'cpu' as const, threads: cores }] : []), { device: 'cuda', threads: 1 }],
      KEYS,
    ),
  );

  const cpu = fastestTorchCpu(rows, 'conv64');
  const cuda = rows.find((r) => r.kind === 'torch-cuda' && imagesPerSecond(r, 'conv64') !== undefined);
  const refs = [
    ...(cpu ? [{ name: `PyTorch CPU ${cpu.threads}t`, row: cpu }] : []),
    ...(cuda ? [{ name: 'PyTorch CUDA', row: cuda }] : []),
  ];
  const table = markdownTable(rows, KEYS, refs);
  const goalLine = goal(rows, cpu, cuda);
  const intro =
    `Training images/s over a fixed number of timed steps after untimed warm-up steps${QUICK ? ' (BENCH_QUICK: a check of the benchmark, not a result)' : ''}. ` +
    `${describeModels(KEYS)} The 64×64×3 images are Fashion-MNIST brought to 64×64 and tinted per class. ` +
    'Each tfjs row runs in its own process; PyTorch (bench/conv_torch.py) trains the same layers. ' +
    'A software adapter renders on the CPU and gets fewer steps. ' +
    'Ratios are against the PyTorch CPU row fastest on conv 64×64×3, and against PyTorch CUDA when torch has CUDA.';
  process.stdout.write(`\n${intro}\n\n${table}\n\n${goalLine}\n`);

  const doc = [
    '# GPU benchmark',
    '',
    'Written by `npm run bench:gpu` (bench/gpu.sh, bench/gpu.ts); every figure below comes from one run on this machine.',
    '',
    header,
    '',
    intro,
    '',
    table,
    '',
    goalLine,
    '',
  ].join('\n');
  mkdirSync('docs', { recursive: true });
  writeFileSync(path.join('docs', 'BENCHMARKS-GPU.md'), doc);
  process.stderr.write('bench: wrote docs/BENCHMARKS-GPU.md\n');
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
