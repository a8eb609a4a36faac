// Shared by `npm run bench:gpu` (bench/gpu.ts) and the conv section of `npm run bench`
// (bench/conv.ts): training images/s of the classic MLP VAE and of the conv VAE on tfjs backends
// (each row in its own process, since a backend is chosen once per process) and in PyTorch
// (bench/conv_torch.py, the same layers), and the Markdown table that sets them side by side.
// Only timed steps count: warm-up steps (shader compilation, allocator growth) are not timed.

import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { initBackend } from '../src/engine/backends/ladder';
import { adapterName, listAdapters } from '../src/engine/backends/webgpu';
import { gatherBatch, type ImageSet } from '../src/engine/model/batches';
import { buildVae, decodeRaw, encodeBatch } from '../src/engine/model/model';
import { elboEstimate, trainingLoss } from '../src/engine/model/objective';
import type { Scalar, Tensor2D, Tf } from '../src/engine/tf';
import { DEFAULT_MODEL, type BackendName, type GpuAdapterReport, type ModelConfig, type Preprocessing } from '../src/protocol/model';
import { PYTHON, ensureTorch, readIdx } from './training';
import { describeSplit, torchCpuEnv, torchCpuSplits } from './torch-threads';

/** BENCH_QUICK=1 checks the benchmark itself: a few steps per row. */
export const QUICK = process.env.BENCH_QUICK === '1';

export type ModelKey = 'mlp' | 'conv28' | 'conv64';

interface BenchModel {
  title: string;
  model: ModelConfig;
  pre: Preprocessing;
  batch: number;
}

const CONV: ModelConfig = { ...DEFAULT_MODEL, architecture: 'conv', latentSize: 32, convFilters: [32, 64], hiddenUnits: [256] };

export const MODELS: Record<ModelKey, BenchModel> = {
  mlp: {
    title: 'MLP 28×28×1',
    model: { ...DEFAULT_MODEL, latentSize: 20, hiddenUnits: [400], likelihood: 'bernoulli' },
    pre: { width: 28, height: 28, channels: 1, fit: 'fill' },
    batch: 128,
  },
  conv28: { title: 'conv 28×28×1', model: CONV, pre: { width: 28, height: 28, channels: 1, fit: 'fill' }, batch: 64 },
  conv64: { title: 'conv 64×64×3', model: CONV, pre: { width: 64, height: 64, channels: 3, fit: 'fill' }, batch: 64 },
};

/** One sentence per model in `keys`, for the text above a table. */
export function describeModels(keys: ModelKey[]): string {
  return keys
    .map((k) => {
      const { title, model, pre, batch } = MODELS[k];
      const layers =
        model.architecture === 'mlp'
          ? `${pre.width * pre.height * pre.channels}-${model.hiddenUnits.join('-')}-${model.latentSize} MLP`
          : `stride-2 3×3 conv blocks [${model.convFilters.join(', ')}], dense [${model.hiddenUnits.join(', ')}], latent ${model.latentSize}, mirrored decoder`;
      return `${title}: ${layers}, Bernoulli, Adam 1e-3, batch ${batch}.`;
    })
    .join(' ');
}

/**
 * How fast an engine is expected to train, which sets its step counts so that every row ends
 * within a few minutes: 'gpu' for hardware GPUs, 'cpu' for wasm and PyTorch on the CPU, 'software'
 * for WebGPU on a software adapter (llvmpipe: 15 to 60 s per 64×64×3 conv step on 2 busy cores),
 * 'js' for the plain JavaScript backend, which gets smaller batches: one 64×64×3 conv step of 64
 * images took 13 min there (0.08 images/s), and its time grows with the batch, so images/s holds.
 */
export type Pace = 'gpu' | 'cpu' | 'software' | 'js';

/**
 * [warm-up steps, timed steps, batch when not the model's] per pace and model. BENCH_QUICK times
 * single steps, compilation included.
 */
const STEPS: Record<Pace, Record<ModelKey, [number, number, number?]>> = QUICK
  ? {
      gpu: { mlp: [1, 10], conv28: [1, 5], conv64: [1, 5] },
      cpu: { mlp: [1, 10], conv28: [0, 2], conv64: [0, 1] },
      software: { mlp: [0, 5], conv28: [0, 1], conv64: [0, 1] },
      js: { mlp: [0, 2], conv28: [0, 1, 4], conv64: [0, 1, 2] },
    }
  : {
      gpu: { mlp: [10, 500], conv28: [10, 300], conv64: [10, 200] },
      cpu: { mlp: [3, 100], conv28: [2, 30], conv64: [1, 8] },
      software: { mlp: [2, 20], conv28: [1, 4], conv64: [1, 2] },
      js: { mlp: [1, 30], conv28: [0, 2, 8], conv64: [0, 1, 4] },
    };

/** Images cycled through by every row (images/s does not depend on what they show). */
const POOL = 2048;

/**
 * `count` Fashion-MNIST training images for `key`, brought to its size by nearest neighbour and,
 * for colour, tinted per class: deterministic, and the recipe bench/conv_torch.py uses too.
 */
function benchImages(key: ModelKey, count: number): ImageSet {
  const { width: size, channels } = MODELS[key].pre;
  const { images, labels } = readIdx('train');
  const out = new Uint8Array(count * size * size * channels);
  let o = 0;
  for (let n = 0; n < count; n++) {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const grey = images[n * 784 + Math.floor((y * 28) / size) * 28 + Math.floor((x * 28) / size)];
        for (let c = 0; c < channels; c++)
          out[o++] = channels === 1 ? grey : Math.round(grey * (0.4 + (0.6 * ((labels[n] + 3 * c) % 10)) / 9));
      }
    }
  }
  return { images: out, count, labels: new Int32Array(0) };
}

export interface Measured {
  imagesPerSecond: number;
  steps: number;
  warmup: number;
  batch: number;
}
/** A figure, or why there is none. */
export type Result = Measured | { error: string };

export interface Row {
  engine: string;
  device: string;
  threads: string;
  /** Which engine family, for picking references and goals. */
  kind: 'webgpu' | 'webgpu-software' | 'tfjs' | 'torch-cpu' | 'torch-cuda';
  results: Partial<Record<ModelKey, Result>>;
  note: string;
}

export interface TfjsRowSpec {
  backend: BackendName;
  models: ModelKey[];
  threads?: number;
  /** webgpu: the adapter to train on (as listAdapters() reports it); default: the high-performance one. */
  adapter?: GpuAdapterReport;
  /** tensorflow-gpu: the folder whose node_modules holds @tensorflow/tfjs-node-gpu. */
  nativeModulesPath?: string;
}

/** Trains `key` for its warm-up and timed steps on the current backend; images/s of the timed ones. */
async function measureTfjs(tf: Tf, key: ModelKey, pace: Pace): Promise<Measured> {
  const { model, pre } = MODELS[key];
  const [warmup, steps, batch = MODELS[key].batch] = STEPS[pace][key];
  const vae = buildVae(model, pre, 0, 1);
  const set = benchImages(key, POOL);
  const variables = [...vae.encoder.trainableWeights, ...vae.decoder.trainableWeights].map(
    (w) => w.read() as import('@tensorflow/tfjs').Variable,
  );
  const optimizer = tf.train.adam(1e-3);
  const dec = { likelihood: model.likelihood, sigma: model.sigma };
  let next = 0;
  // One step as trainVae takes it: gather and scale a uint8 batch on the host, Adam on the −ELBO.
  const step = () =>
    tf.tidy(() => {
      const idx = new Int32Array(batch).map((_, i) => (next + i) % set.count);
      next += batch;
      const { x } = gatherBatch(vae, set, idx);
      return optimizer.minimize(
        () => {
          const { mu, logVar } = encodeBatch(vae, x, undefined, true);
          const eps = tf.randomNormal([batch, model.latentSize], 0, 1, 'float32', next) as Tensor2D;
          return trainingLoss(
            elboEstimate(x, mu, logVar, (z) => decodeRaw(vae, z, undefined, true), dec, eps),
            1,
          );
        },
        true,
        variables,
      ) as Scalar;
    });
  for (let i = 0; i < warmup; i++) {
    const loss = step();
    await loss.data();
    loss.dispose();
  }
  const start = performance.now();
  let loss: Scalar | undefined;
  for (let i = 0; i < steps; i++) {
    loss?.dispose();
    loss = step();
  }
  // GPU backends queue the steps: the clock stops when the last one has been computed.
  await loss?.data();
  const seconds = (performance.now() - start) / 1000;
  loss?.dispose();
  optimizer.dispose();
  vae.encoder.dispose();
  vae.decoder.dispose();
  return { imagesPerSecond: (steps * batch) / seconds, steps, warmup, batch };
}

/**
 * loadWebGpu() takes the high-performance adapter. To measure another one that listAdapters()
 * reported, requestAdapter is made to return it, found again among the preferences listAdapters asks.
 */
async function pinAdapter(want: GpuAdapterReport): Promise<void> {
  await listAdapters(); // loads Dawn, which installs navigator.gpu
  const gpu = (globalThis as unknown as { navigator: { gpu: GPU } }).navigator.gpu;
  const request = gpu.requestAdapter.bind(gpu);
  const preferences: GPURequestAdapterOptions[] = [
    { powerPreference: 'high-performance' },
    { powerPreference: 'low-power' },
    { forceFallbackAdapter: true },
  ];
  gpu.requestAdapter = async () => {
    for (const options of preferences) {
      const adapter = await request(options);
      const i = adapter?.info;
      if (
        i &&
        i.vendor === want.vendor &&
        i.architecture === want.architecture &&
        i.device === want.device &&
        i.description === want.description
      )
        return adapter;
    }
    return null;
  };
}

/** A tfjs row, in this process: the body of `--row`. */
async function tfjsRowHere(spec: TfjsRowSpec): Promise<Row> {
  if (spec.adapter) await pinAdapter(spec.adapter);
  const { tf, report } = await initBackend({ backend: spec.backend, threads: spec.threads, nativeModulesPath: spec.nativeModulesPath });
  const row = provisionalRow({ ...spec, adapter: report.adapter ?? spec.adapter });
  const pace: Pace = report.adapter
    ? report.adapter.software
      ? 'software'
      : 'gpu'
    : spec.backend === 'cpu'
      ? 'js'
      : spec.backend === 'wasm'
        ? 'cpu'
        : 'gpu';
  if (spec.backend === 'wasm') {
    row.threads = String(report.threads ?? 1);
    row.note = `SIMD ${report.simd ? 'on' : 'off'}`;
  }
  for (const key of spec.models) {
    try {
      row.results[key] = await measureTfjs(tf, key, pace);
    } catch (err) {
      row.results[key] = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  return row;
}

function provisionalRow(spec: TfjsRowSpec): Row {
  const rows: Record<BackendName, Pick<Row, 'engine' | 'device'>> = {
    webgpu: { engine: 'tfjs webgpu', device: spec.adapter ? adapterName(spec.adapter) : 'GPU' },
    'tensorflow-gpu': { engine: 'tfjs-node-gpu', device: 'CUDA (libtensorflow)' },
    tensorflow: { engine: 'tfjs-node', device: 'CPU (libtensorflow)' },
    wasm: { engine: 'tfjs wasm', device: 'CPU' },
    cpu: { engine: 'tfjs cpu (plain JS)', device: 'CPU' },
  };
  const software = spec.adapter?.software === true;
  return {
    ...rows[spec.backend],
    ...(software ? { engine: 'tfjs webgpu (software adapter)' } : {}),
    threads: spec.backend === 'wasm' ? String(spec.threads ?? 1) : spec.backend === 'cpu' ? '1' : '—',
    kind: spec.backend === 'webgpu' ? (software ? 'webgpu-software' : 'webgpu') : 'tfjs',
    results: {},
    note: '',
  };
}

const ROW_TIMEOUT_MS = (QUICK ? 3 : 5) * 60_000;

/** A tfjs row in a child process; a crash or a timeout becomes the row's note. */
export function tfjsRow(spec: TfjsRowSpec): Row {
  const done = progress(`${provisionalRow(spec).engine}${spec.threads ? ` (${spec.threads} thread(s))` : ''}`);
  try {
    const out = execFileSync(process.execPath, [...process.execArgv, __filename, '--row', JSON.stringify(spec)], {
      encoding: 'utf8',
      maxBuffer: 16 * 2 ** 20,
      timeout: ROW_TIMEOUT_MS,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as Row;
  } catch (err) {
    return { ...provisionalRow(spec), note: `not measured: ${childFailure(err)}` };
  } finally {
    done();
  }
}

/** Says on stderr that `what` starts; the returned function says how long it took. */
function progress(what: string): () => void {
  const started = performance.now();
  process.stderr.write(`bench: ${what}…\n`);
  return () => process.stderr.write(`bench: ${what} took ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}

function childFailure(err: unknown): string {
  const e = err as { code?: string; stderr?: string; message?: string };
  if (e.code === 'ETIMEDOUT') return `did not finish within ${ROW_TIMEOUT_MS / 1000} s`;
  const lines = (e.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('Warning:') && !l.startsWith('at '));
  return (lines.at(-1) ?? e.message ?? String(err)).slice(0, 300);
}

/** Why PyTorch cannot use CUDA here, or null when it can. */
function torchCudaProblem(): string | null {
  const out = execFileSync(PYTHON, ['-c', 'import torch, json; print(json.dumps([torch.cuda.is_available(), torch.version.cuda]))'], {
    encoding: 'utf8',
  });
  const [available, built] = JSON.parse(out) as [boolean, string | null];
  if (available) return null;
  return built
    ? `no CUDA device visible to torch (built for CUDA ${built})`
    : "this torch is built without CUDA (Debian's python3-torch is CPU-only)";
}

interface TorchOutput {
  torch: string;
  device: string;
  threads: number;
  results: Record<string, { images_per_second: number; steps: number; warmup: number } | { error: string }>;
}

/**
 * PyTorch rows (bench/conv_torch.py), one process per device and thread count; installs Debian's
 * python3-torch first when run as root. A CUDA run without CUDA becomes a row saying why.
 */
export function torchRows(runs: { device: 'cpu' | 'cuda'; threads: number }[], keys: ModelKey[]): Row[] {
  const problem = ensureTorch();
  if (problem) return [{ engine: 'PyTorch', device: '—', threads: '—', kind: 'torch-cpu', results: {}, note: `not measured: ${problem}` }];
  return runs.map(({ device, threads }) => {
    const kind = device === 'cuda' ? 'torch-cuda' : 'torch-cpu';
    const failed = (why: string): Row => ({
      engine: 'PyTorch',
      device: device.toUpperCase(),
      threads: device === 'cuda' ? '—' : String(threads),
      kind,
      results: {},
      note: `not measured: ${why}`,
    });
    const noCuda = device === 'cuda' ? torchCudaProblem() : null;
    if (noCuda) return failed(noCuda);
    const done = progress(`PyTorch ${device}${device === 'cpu' ? ` (${threads} thread(s))` : ''}`);
    const pace: Pace = device === 'cuda' ? 'gpu' : 'cpu';
    const plan = keys.map((key) => {
      const { model, pre, batch } = MODELS[key];
      const [warmup, steps] = STEPS[pace][key];
      return {
        key,
        architecture: model.architecture,
        size: pre.width,
        channels: pre.channels,
        batch,
        latent: model.latentSize,
        hidden: model.hiddenUnits,
        filters: model.convFilters,
        warmup,
        steps,
      };
    });
    try {
      const onCpu = device === 'cpu';
      const results: Row['results'] = {};
      const chosen: string[] = [];
      let raw: TorchOutput | undefined;
      // On the CPU each split of the threads (torchCpuSplits), the fastest kept per model.
      for (const split of onCpu ? torchCpuSplits(threads) : [undefined]) {
        const out = execFileSync(
          PYTHON,
          [
            path.join(__dirname, 'conv_torch.py'),
            '--device',
            device,
            '--threads',
            String(split ? split.torch : threads),
            '--pool',
            String(POOL),
            '--plan',
            JSON.stringify(plan),
          ],
          {
            encoding: 'utf8',
            maxBuffer: 16 * 2 ** 20,
            timeout: ROW_TIMEOUT_MS,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: split ? torchCpuEnv(split) : process.env,
          },
        );
        raw = JSON.parse(out) as TorchOutput;
        for (const { key, batch } of plan) {
          const r = raw.results[key];
          const before = results[key];
          if ('error' in r) {
            results[key] ??= r;
            continue;
          }
          if (before && 'imagesPerSecond' in before && before.imagesPerSecond >= r.images_per_second) continue;
          results[key] = { imagesPerSecond: r.images_per_second, steps: r.steps, warmup: r.warmup, batch };
          if (split) chosen[keys.indexOf(key)] = `${MODELS[key].title}: ${describeSplit(split)}`;
        }
      }
      return {
        engine: `PyTorch ${raw!.torch}`,
        device: onCpu ? 'CPU' : `CUDA: ${raw!.device}`,
        threads: onCpu ? String(threads) : '—',
        kind,
        results,
        note: !onCpu
          ? ''
          : threads > 1
            ? `fastest split of the threads: ${chosen.filter(Boolean).join('; ')}`
            : 'OpenBLAS held to one thread too (OPENBLAS_NUM_THREADS=1)',
      };
    } catch (err) {
      return failed(childFailure(err));
    } finally {
      done();
    }
  });
}

export const imagesPerSecond = (r: Row | undefined, key: ModelKey): number | undefined => {
  const m = r?.results[key];
  return m && 'imagesPerSecond' in m ? m.imagesPerSecond : undefined;
};

/** The PyTorch CPU row fastest on `key`: the strongest honest CPU baseline, whatever its thread count. */
export function fastestTorchCpu(rows: Row[], key: ModelKey): Row | undefined {
  return rows
    .filter((r) => r.kind === 'torch-cpu' && imagesPerSecond(r, key) !== undefined)
    .sort((a, b) => (imagesPerSecond(b, key) ?? 0) - (imagesPerSecond(a, key) ?? 0))[0];
}

const f = (v: number, digits: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const rate = (v: number) => f(v, v < 1 ? 2 : v < 100 ? 1 : 0);
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/**
 * Images/s per model, then each row's ratio to each reference row (e.g. PyTorch CPU, PyTorch
 * CUDA) per model, then notes: the timed steps, and why a figure is missing.
 */
export function markdownTable(rows: Row[], keys: ModelKey[], refs: { name: string; row: Row }[]): string {
  const head = ['engine', 'device', 'threads', ...keys.map((k) => `${MODELS[k].title} images/s`)];
  for (const ref of refs) head.push(...keys.map((k) => `${MODELS[k].title} ÷ ${ref.name}`));
  head.push('notes');
  const lines = [
    `| ${head.join(' | ')} |`,
    `|---|---|---:|${head
      .slice(3, -1)
      .map(() => '---:')
      .join('|')}|---|`,
  ];
  for (const r of rows) {
    const cells = [
      r.engine,
      r.device,
      r.threads,
      ...keys.map((k) => (imagesPerSecond(r, k) === undefined ? '—' : rate(imagesPerSecond(r, k) as number))),
    ];
    for (const ref of refs) {
      for (const k of keys) {
        const [mine, theirs] = [imagesPerSecond(r, k), imagesPerSecond(ref.row, k)];
        cells.push(mine !== undefined && theirs !== undefined ? `${f(mine / theirs, 2)}×` : '—');
      }
    }
    const notes = [r.note];
    const timed = keys.flatMap((k) => {
      const m = r.results[k];
      const batch = m && 'batch' in m && m.batch !== MODELS[k].batch ? ` of batch ${m.batch}` : '';
      return m && 'steps' in m ? [`${MODELS[k].title} ${m.steps} step${m.steps === 1 ? '' : 's'}${batch} (+${m.warmup} warm-up)`] : [];
    });
    if (timed.length > 0) notes.push(`timed: ${timed.join(', ')}`);
    for (const k of keys) {
      const m = r.results[k];
      if (m && 'error' in m) notes.push(`${MODELS[k].title} failed: ${m.error.slice(0, 200)}`);
    }
    cells.push(notes.filter(Boolean).join('; '));
    lines.push(`| ${cells.map(cell).join(' | ')} |`);
  }
  return lines.join('\n');
}

// `node --import tsx bench/gpu-rows.ts --row '<TfjsRowSpec as JSON>'`: one tfjs row as JSON on stdout.
if (require.main === module && process.argv[2] === '--row') {
  tfjsRowHere(JSON.parse(process.argv[3]) as TfjsRowSpec).then(
    // Exit as soon as the row is written rather than wait for a GPU device's handles to close.
    (row) => process.stdout.write(`${JSON.stringify(row)}\n`, () => process.exit(0)),
    (err) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
