// Multi-threaded wasm in Node. tfjs-backend-wasm 4.22 turns threads off in Node, and forcing its
// threaded build fails: it hands Emscripten's pthread workers blob: URLs (for the worker script and
// the main script), which Node's worker_threads refuse (ERR_WORKER_PATH). The Emscripten code
// itself supports Node workers, so this module writes both scripts to a temporary folder and
// starts the threaded-SIMD module with real file paths, then registers it as the 'wasm' backend.
// tfjs also caps its thread pool at half the logical cores (it assumes two hardware threads per
// core), which is one thread on a 2-core machine; the patched core count lifts that cap.

import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Tf } from '../tf';

type Factory = ((config: Record<string, unknown>) => Promise<EmscriptenModule>) & { toString(): string };

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, unknown>;
  PThread: { unusedWorkers: { unref(): void }[]; runningWorkers: { unref(): void }[] };
}

/**
 * Replaces the registered 'wasm' backend factory with one that runs `threads` threads.
 * Call before tf.setBackend('wasm'); the module starts when tfjs first initialises the backend.
 */
export function registerThreadedWasm(tf: Tf, wasmDir: string, threads: number): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const factory = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js') as Factory;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { BackendWasm, setThreadsCount } = require('@tensorflow/tfjs-backend-wasm') as typeof import('@tensorflow/tfjs-backend-wasm');

  const dir = mkdtempSync(path.join(tmpdir(), 'latent-atlas-wasm-'));
  const mainScript = path.join(dir, 'tfjs-backend-wasm-threaded-simd.js');
  const workerScript = path.join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  // The workers eval the main script in their global scope and call this global factory.
  const coresQuery = 'require("os").cpus().length';
  const source = threadedModuleSource(wasmDir, factory);
  if (!source.includes(coresQuery)) {
    throw new Error('cannot set the thread count of this tfjs-backend-wasm build (its module source is minified or has changed).');
  }
  writeFileSync(mainScript, `var _scriptDir = ${JSON.stringify(mainScript)};\n${source.replaceAll(coresQuery, `${coresQuery} * 2`)}\n`);
  const patchedFactory = createRequire(__filename)(mainScript) as Factory;
  // As tfjs does before making its blob: the exported text holds real newlines where the script has \n.
  writeFileSync(workerScript, wasmWorkerContents.replace(/\n/g, '\\n'));

  setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await patchedFactory({
        locateFile: (file: string, prefix: string) => {
          if (file.endsWith('.worker.js')) return workerScript;
          if (file.endsWith('.wasm')) return path.join(wasmDir, 'tfjs-backend-wasm-threaded-simd.wasm');
          return prefix + file;
        },
        mainScriptUrlOrBlob: mainScript,
      });
      module.tfjs = {
        init: module.cwrap('init', null, []),
        initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: module.cwrap('get_threads_count', 'number', []),
        registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: module.cwrap('dispose_data', null, ['number']),
        dispose: module.cwrap('dispose', null, []),
      };
      const backend = new BackendWasm(module as never);
      // The pool's worker threads must not keep the process alive once the engine is done.
      for (const worker of [...module.PThread.unusedWorkers, ...module.PThread.runningWorkers]) worker.unref();
      // Every pool worker has loaded both scripts by the time the module resolves.
      rmSync(dir, { recursive: true, force: true });
      return backend;
    },
    2,
  );
}

/**
 * The threaded module's original source: dist/wasm/ (copied there by the build) or the package;
 * else the bundled factory's own text, which only works when the bundle is not minified (a
 * minifier hoists its require("os") out of the function).
 */
function threadedModuleSource(wasmDir: string, factory: Factory): string {
  const file = 'tfjs-backend-wasm-threaded-simd.js';
  const candidates = [path.join(wasmDir, file)];
  try {
    candidates.push(require.resolve(`@tensorflow/tfjs-backend-wasm/wasm-out/${file}`));
  } catch {
    // not installed next to us: the packaged extension ships only dist/
  }
  for (const candidate of candidates) if (existsSync(candidate)) return readFileSync(candidate, 'utf8');
  return `var WasmBackendModuleThreadedSimd = ${factory.toString()};\nif (typeof module === 'object') module.exports = WasmBackendModuleThreadedSimd;`;
}
