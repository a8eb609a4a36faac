// The backend ladder: CUDA (tfjs-node-gpu) → WebGPU (Dawn: Vulkan, Metal, D3D12) → native CPU
// (tfjs-node) → WebAssembly → plain JS. Chosen once per worker process; the report says which one
// runs and why the others did not. In `auto`, WebGPU on a software adapter is passed over
// (backends/webgpu.ts); asked for by name it runs on whatever adapter there is.
//
// Measured on this project's 2-core machine (bench/training.ts, 784-400-20 VAE, batch 128): the
// wasm backend (SIMD, one thread) trained at ~2,000 images/s against ~70 for the pure JS cpu
// backend, so `auto` keeps wasm before cpu.
//
// wasm threads: tfjs-backend-wasm 4.22 turns them off in Node, and its threaded build fails there
// as shipped (ERR_WORKER_PATH: Emscripten's pthreads are started from blob: URLs, which Node's
// Worker refuses). wasmThreads.ts starts that build with real files instead, and it works
// in Node 20: opts.threads ≥ 2 uses it (falling back to one thread if it fails to start). The
// default stays one thread: on the 2-core machine, 2 threads doubled the matmul rate when the
// machine was idle, but full training runs were no faster (2,094 vs 2,213 images/s) and under load
// from other processes twice as slow (948 vs 2,629; 1,092 vs 2,265), as the pool's threads wait
// for each other at each of the ~320 kernels of a step.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import * as path from 'node:path';
import type { BackendName, BackendReport, GpuAdapterReport } from '../../protocol/model';
import type { WorkerOptions } from '../../protocol/engine';
import { registerMissingWasmKernels } from './wasmKernels';
import { registerThreadedWasm } from './wasmThreads';
import { loadWebGpu } from './webgpu';
import { setTf, type Tf } from '../tf';
import { EngineError } from '../../protocol/errors';

export const BACKEND_LADDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

const NATIVE_PACKAGES: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** A backend that was asked for by name and cannot run here; `message` says why and what to do. */
export class BackendUnavailableError extends EngineError {
  constructor(
    readonly backend: BackendName,
    message: string,
  ) {
    super('backend-unavailable', message);
    this.name = 'BackendUnavailableError';
  }
}

interface Loaded {
  tf: Tf;
  simd?: boolean;
  threads?: number;
  adapter?: GpuAdapterReport;
}

/**
 * Loads TensorFlow.js on the first backend of the ladder that works (or on the one forced by
 * `opts.backend`), makes it the namespace getTf() returns, and reports what happened.
 */
export async function initBackend(opts: WorkerOptions): Promise<{ tf: Tf; report: BackendReport }> {
  const candidates = opts.backend === 'auto' ? BACKEND_LADDER : [opts.backend];
  const skipped: BackendReport['skipped'] = [];
  for (const name of candidates) {
    try {
      const loaded = await loadBackend(name, opts);
      // Silences tfjs' console hints ("install tfjs-node…"): the report carries that information.
      loaded.tf.env().set('PROD', true);
      setTf(loaded.tf);
      const report: BackendReport = { name, skipped };
      if (loaded.simd !== undefined) report.simd = loaded.simd;
      if (loaded.threads !== undefined) report.threads = loaded.threads;
      if (loaded.adapter) report.adapter = loaded.adapter;
      return { tf: loaded.tf, report };
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (opts.backend !== 'auto') throw new BackendUnavailableError(name, `The '${name}' backend was requested but cannot run: ${reason}`);
      skipped.push({ name, reason });
    }
  }
  throw new BackendUnavailableError(
    'cpu',
    `No TensorFlow.js backend could start: ${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}`,
  );
}

async function loadBackend(name: BackendName, opts: WorkerOptions): Promise<Loaded> {
  switch (name) {
    case 'tensorflow-gpu':
    case 'tensorflow':
      return loadNative(name, opts.nativeModulesPath);
    case 'webgpu':
      return loadWebGpu(opts.backend === 'webgpu');
    case 'wasm':
      return loadWasm(opts.threads);
    case 'cpu':
      return loadCpu();
  }
}

function installHint(name: 'tensorflow-gpu' | 'tensorflow', nativeModulesPath?: string): string {
  const pkg = NATIVE_PACKAGES[name];
  const where = nativeModulesPath
    ? `in ${nativeModulesPath} (cd there and run \`npm install ${pkg}\`) or globally (\`npm install -g ${pkg}\`)`
    : `globally (\`npm install -g ${pkg}\`) or in a folder named by the \`vae.nativeModulesPath\` setting`;
  const needs =
    name === 'tensorflow-gpu'
      ? ' It needs an NVIDIA GPU with its driver, CUDA 11.2 and cuDNN 8.1 on this machine (Linux x64 or Windows).'
      : ' It downloads a prebuilt libtensorflow while installing, so that machine needs internet access.';
  return `To use it, install ${pkg} ${where}.${needs}`;
}

/**
 * Places a native package may be installed: the configured folder, normal resolution, global npm.
 * `LATENT_ATLAS_NATIVE_PATHS` (folders, path-delimited; empty for none) replaces the last two, so
 * a test — or an administrator pinning one install — says exactly where the packages are.
 */
function nativeResolvers(nativeModulesPath?: string): NodeJS.Require[] {
  const bases: string[] = [];
  if (nativeModulesPath) bases.push(path.join(path.resolve(nativeModulesPath), 'noop.js'));
  const pinned = process.env.LATENT_ATLAS_NATIVE_PATHS;
  if (pinned !== undefined) {
    for (const dir of pinned.split(path.delimiter).filter(Boolean)) bases.push(path.join(path.resolve(dir), 'noop.js'));
    return bases.map((b) => createRequire(b));
  }
  bases.push(__filename);
  const globalRoot =
    process.platform === 'win32'
      ? path.join(path.dirname(process.execPath), 'node_modules')
      : path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules');
  bases.push(path.join(globalRoot, 'noop.js'));
  return bases.map((b) => createRequire(b));
}

function isNotFound(err: unknown, pkg: string): boolean {
  const e = err as NodeJS.ErrnoException;
  return e?.code === 'MODULE_NOT_FOUND' && typeof e.message === 'string' && e.message.includes(`'${pkg}'`);
}

async function loadNative(name: 'tensorflow-gpu' | 'tensorflow', nativeModulesPath?: string): Promise<Loaded> {
  const pkg = NATIVE_PACKAGES[name];
  let tf: Tf | undefined;
  for (const req of nativeResolvers(nativeModulesPath)) {
    try {
      tf = req(pkg) as Tf;
      break;
    } catch (err) {
      if (isNotFound(err, pkg)) continue;
      const why = err instanceof Error ? err.message.split('\n')[0] : String(err);
      throw new Error(`${pkg} is installed but failed to load (${why}). ${installHint(name, nativeModulesPath)}`);
    }
  }
  if (!tf) throw new Error(`${pkg} is not installed. ${installHint(name, nativeModulesPath)}`);
  // Both native packages register their backend as 'tensorflow'.
  if (!(await tf.setBackend('tensorflow'))) {
    throw new Error(`${pkg} loaded but its 'tensorflow' backend did not initialise. ${installHint(name, nativeModulesPath)}`);
  }
  await tf.ready();
  tf.tidy(() => {
    tf.add(tf.scalar(1), tf.scalar(1)).dataSync();
  });
  return { tf };
}

/** The folder holding the .wasm binaries: next to the bundle (dist/wasm), else the package's dist/. */
export function wasmFolder(): string {
  const file = 'tfjs-backend-wasm-simd.wasm';
  const bundled = path.join(__dirname, 'wasm');
  if (existsSync(path.join(bundled, file))) return bundled;
  try {
    return path.dirname(require.resolve(`@tensorflow/tfjs-backend-wasm/dist/${file}`));
  } catch {
    throw new Error(
      `the WebAssembly binaries were not found in ${bundled} nor in node_modules/@tensorflow/tfjs-backend-wasm/dist. Rebuild with \`npm run build\` (it copies them to dist/wasm).`,
    );
  }
}

async function loadWasm(threads?: number): Promise<Loaded> {
  const tf = await import('@tensorflow/tfjs');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const folder = wasmFolder();
  wasm.setWasmPaths(folder + path.sep);
  const wanted = threads && threads > 0 ? Math.min(threads, os.cpus().length) : 1;
  const alreadyStarted = (tf.engine() as unknown as { registry: Record<string, unknown> }).registry.wasm != null;
  let started = false;
  const keepProcessHandlers = snapshotProcessHandlers();
  if (wanted > 1 && !alreadyStarted) {
    const singleThreaded = tf.findBackendFactory('wasm');
    try {
      registerThreadedWasm(tf, folder, wanted);
      started = (await captureWarnings(() => tf.setBackend('wasm'))).result;
    } catch {
      started = false;
    }
    if (!started && singleThreaded) {
      tf.removeBackend('wasm');
      tf.registerBackend('wasm', singleThreaded, 2);
    }
  }
  if (!started) {
    const warnings = await captureWarnings(() => tf.setBackend('wasm'));
    if (!warnings.result) {
      const detail = warnings.messages.join(' ').trim() || 'tf.setBackend("wasm") returned false';
      throw new Error(`the WebAssembly backend did not initialise (${detail.slice(0, 300)}).`);
    }
  }
  await tf.ready();
  keepProcessHandlers();
  registerMissingWasmKernels(tf);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { tf, simd, threads: wasm.getThreadsCount() };
}

async function loadCpu(): Promise<Loaded> {
  const tf = await import('@tensorflow/tfjs');
  if (!(await tf.setBackend('cpu'))) throw new Error('the pure JavaScript cpu backend did not initialise.');
  await tf.ready();
  return { tf };
}

/**
 * Emscripten's Node glue adds process handlers that rethrow every uncaught exception and unhandled
 * rejection from inside its own code. The returned function removes the handlers added since the
 * snapshot, so the engine worker's own handlers decide what a stray error does.
 */
function snapshotProcessHandlers(): () => void {
  type Listener = (...args: unknown[]) => void;
  const events = ['uncaughtException', 'unhandledRejection'];
  const listeners = (event: string) => (process.listeners as (e: string) => Listener[])(event);
  const before = new Map(events.map((e) => [e, new Set(listeners(e))]));
  return () => {
    for (const e of events) {
      for (const listener of listeners(e)) {
        if (!before.get(e)?.has(listener)) (process.removeListener as (e: string, l: Listener) => void)(e, listener);
      }
    }
  };
}

/** tfjs reports why a backend failed only through console.warn; keep those lines for the report. */
async function captureWarnings<T>(fn: () => Promise<T>): Promise<{ result: T; messages: string[] }> {
  const original = console.warn;
  const messages: string[] = [];
  console.warn = (...args: unknown[]) => {
    messages.push(args.map((a) => (a instanceof Error ? a.message : String(a))).join(' '));
  };
  try {
    return { result: await fn(), messages };
  } finally {
    console.warn = original;
  }
}
