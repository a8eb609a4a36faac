// One build script, one bundle per place that runs code. Type-checking is `npm run typecheck`.
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// Native TensorFlow backends are resolved at run time when a user has installed them;
// they are never bundled and never needed to build.
const nativeOptional = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

const node = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  // sharp ships a native addon with prebuilt libvips: it stays a real dependency. ONNX Runtime's
  // native binding is loaded from dist/node_modules (copyOnnxRuntime below).
  external: ['vscode', 'sharp', 'onnxruntime-node', ...nativeOptional],
};

const builds = [
  { ...node, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { worker: 'src/engine/worker.ts' }, outdir: 'dist' },
  // The engine's decode threads (src/engine/data/decodePool.ts) load this from next to worker.js.
  { ...node, entryPoints: { decodeThread: 'src/engine/data/decodeThread.ts' }, outdir: 'dist' },
  // The second thread of the UMAP layout (src/engine/umap/umap.ts), loaded from next to worker.js.
  { ...node, entryPoints: { umapThread: 'src/engine/umap/layoutThread.ts' }, outdir: 'dist' },
  { ...node, entryPoints: { cli: 'src/cli.ts' }, outdir: 'dist', banner: { js: '#!/usr/bin/env node' } },
  {
    bundle: true,
    platform: 'browser',
    target: 'es2022',
    format: 'iife',
    sourcemap: !production,
    minify: production,
    logLevel: 'warning',
    entryPoints: { webview: 'webview/main.ts' },
    outdir: 'dist',
    loader: { '.css': 'css' },
  },
].filter((b) => Object.values(b.entryPoints).every((p) => existsSync(p)));

// The wasm backend loads its .wasm binaries from next to the worker bundle.
function copyWasm() {
  mkdirSync('dist/wasm', { recursive: true });
  const wasmDir = dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
  for (const f of ['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm']) {
    cpSync(join(wasmDir, f), join('dist/wasm', f));
  }
}

// Dawn (the WebGPU runtime) for the platform being built for: its folder holds dawn.node (and on
// Windows the DirectX shader compilers beside it). Only that platform's binary ships in the .vsix;
// LATENT_ATLAS_TARGET=<platform>-<arch> (e.g. win32-x64, darwin-universal) picks another.
function copyDawn() {
  const target =
    process.env.LATENT_ATLAS_TARGET || (process.platform === 'darwin' ? 'darwin-universal' : `${process.platform}-${process.arch}`);
  const from = join(dirname(require.resolve('webgpu/package.json')), 'dist', target);
  if (!existsSync(join(from, 'dawn.node'))) {
    console.warn(`No Dawn binary for ${target} in the webgpu package: the webgpu backend will be unavailable in this build.`);
    return;
  }
  rmSync('dist/webgpu', { recursive: true, force: true });
  mkdirSync('dist/webgpu', { recursive: true });
  cpSync(from, join('dist/webgpu', target), { recursive: true });
}

// ONNX Runtime (models trained elsewhere) for the platform being built for: onnxruntime-node's
// JavaScript, its onnxruntime-common, and only that platform's native binding, copied to
// dist/node_modules/ where the bundles' require('onnxruntime-node') finds them (the package holds
// the CPU binaries of every platform, 290 MB; one platform's is 25–86 MB).
function copyOnnxRuntime() {
  const target = process.env.LATENT_ATLAS_TARGET || `${process.platform}-${process.arch}`;
  const [platform, arch] = target === 'darwin-universal' ? ['darwin', 'arm64'] : target.split('-');
  const ortDir = dirname(require.resolve('onnxruntime-node/package.json'));
  // (onnxruntime-common exports no package.json: its folder is three up from its CommonJS entry.)
  const commonDir = join(dirname(createRequire(join(ortDir, 'package.json')).resolve('onnxruntime-common')), '..', '..');
  const out = 'dist/node_modules';
  rmSync(out, { recursive: true, force: true });
  const bin = join(ortDir, 'bin', 'napi-v6', platform, arch);
  if (!existsSync(bin)) {
    console.warn(`No ONNX Runtime binary for ${target} in onnxruntime-node: ONNX models will not load in this build.`);
    return;
  }
  const notMaps = (src) => !src.endsWith('.map');
  cpSync(join(ortDir, 'package.json'), join(out, 'onnxruntime-node', 'package.json'));
  cpSync(join(ortDir, 'dist'), join(out, 'onnxruntime-node', 'dist'), { recursive: true, filter: notMaps });
  cpSync(bin, join(out, 'onnxruntime-node', 'bin', 'napi-v6', platform, arch), { recursive: true });
  cpSync(join(commonDir, 'package.json'), join(out, 'onnxruntime-common', 'package.json'));
  cpSync(join(commonDir, 'dist', 'cjs'), join(out, 'onnxruntime-common', 'dist', 'cjs'), { recursive: true, filter: notMaps });
}

function copyNative() {
  copyWasm();
  copyDawn();
  copyOnnxRuntime();
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
  copyNative();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
  copyNative();
}
