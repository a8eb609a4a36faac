// Multi-threaded wasm in Node. tfjs-backend-wasm 4.22 turns threads off in Node, and forcing its
// threaded build fails: it hands Emscripten's pthread workers blob: URLs (for the worker script and
// the main script), which Node's worker_threads refuse (ERR_WORKER_PATH). The Emscripten code
// itself supports Node workers, so this module writes both scripts to a temporary folder and
// starts the threaded-SIMD module with real file paths, then registers it as the 'wasm' backend.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Tf } from './tf';

type Factory = ((config: Record<string, unknown>) => Promise<EmscriptenModule>) & { toString(): string };

interface EmscriptenModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  tfjs?: Record<string, unknown>;
}

/**
 * Replaces the registered 'wasm' backend factory with one that runs `threads` threads.
 * Call before tf.setBackend('wasm'). Resolves to a setup that tfjs initialises lazily.
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
  writeFileSync(mainScript, `var _scriptDir = ${JSON.stringify(mainScript)};\nvar WasmBackendModuleThreadedSimd = ${factory.toString()};\n`);
  writeFileSync(workerScript, wasmWorkerContents);

  setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      const module = await factory({
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
      return new BackendWasm(module as never);
    },
    2,
  );
}
