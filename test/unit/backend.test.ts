// The backend ladder: auto picks a backend and says why the ones above it were skipped, a forced
// backend that cannot run fails in plain words, forcing cpu works, and native packages are
// resolved from the configured folder (checked with stand-in packages written to a temp folder).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os, { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { BackendUnavailableError, initBackend } from '../../src/engine/backends/ladder';
import { getTf } from '../../src/engine/tf';

// No native TensorFlow package anywhere but where a test puts one, whatever this machine has
// installed globally or beside the project (the worker processes the tests fork inherit it).
process.env.LATENT_ATLAS_NATIVE_PATHS = '';

const scratch = mkdtempSync(path.join(tmpdir(), 'latent-atlas-backend-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function fakePackage(root: string, name: string, source: string): void {
  const dir = path.join(root, 'node_modules', ...name.split('/'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
  writeFileSync(path.join(dir, 'index.js'), source);
}

describe('backend ladder', () => {
  it('getTf() says to initialise first when nothing is loaded', () => {
    assert.throws(() => getTf(), /initBackend\(\)/);
  });

  it('auto picks wasm here and reports why the native and WebGPU backends were passed over', async () => {
    const { tf, report } = await initBackend({ backend: 'auto' });
    assert.equal(report.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(getTf(), tf);
    assert.equal(report.simd, true);
    assert.equal(report.threads, 1, 'one wasm thread unless more are asked for');
    assert.deepEqual(
      report.skipped.map((s) => s.name),
      ['tensorflow-gpu', 'webgpu', 'tensorflow'],
    );
    assert.match(report.skipped[0].reason, /@tensorflow\/tfjs-node-gpu is not installed.*npm install.*@tensorflow\/tfjs-node-gpu.*CUDA/);
    // No GPU here: Dawn offers a software adapter (or none at all), which auto passes over.
    assert.match(report.skipped[1].reason, /WebGPU adapter (is a software fallback|renders in software)|no WebGPU adapter was found/);
    assert.match(report.skipped[2].reason, /@tensorflow\/tfjs-node is not installed.*npm install.*@tensorflow\/tfjs-node\b/);
    const sum = tf.tidy(() => tf.add(tf.tensor([1, 2]), tf.tensor([3, 4])).dataSync());
    assert.deepEqual(Array.from(sum), [4, 6]);
  });

  it('runs wasm on several threads when asked (a fresh process: a backend starts once per process)', () => {
    const script = path.join(scratch, 'threads.ts');
    writeFileSync(
      script,
      `import { initBackend } from ${JSON.stringify(path.resolve(__dirname, '../../src/engine/backends/ladder'))};
       initBackend({ backend: 'wasm', threads: 2 }).then(({ tf, report }) => {
         const a = tf.randomNormal([64, 64], 0, 1, 'float32', 1);
         const ok = tf.tidy(() => tf.sub(tf.matMul(a, a), tf.matMul(a, a)).abs().max().dataSync()[0]) === 0;
         process.stdout.write(JSON.stringify({ threads: report.threads, ok }));
       });`,
    );
    // The process must also exit by itself: the pool's worker threads do not hold it open.
    const out = execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.deepEqual(JSON.parse(out), { threads: Math.min(2, os.cpus().length), ok: true });
  });

  it('forcing tensorflow-gpu fails with the reason and the install command', async () => {
    await assert.rejects(initBackend({ backend: 'tensorflow-gpu' }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.equal(err.code, 'backend-unavailable');
      assert.match(err.message, /'tensorflow-gpu' backend was requested but cannot run/);
      assert.match(err.message, /npm install -g @tensorflow\/tfjs-node-gpu/);
      assert.match(err.message, /CUDA/);
      return true;
    });
  });

  it('forcing cpu works', async () => {
    const { tf, report } = await initBackend({ backend: 'cpu' });
    assert.deepEqual(report, { name: 'cpu', skipped: [] });
    assert.equal(tf.getBackend(), 'cpu');
    assert.equal(
      tf.tidy(() => tf.sum(tf.tensor([1, 2, 3])).dataSync()[0]),
      6,
    );
  });

  it('LATENT_ATLAS_NATIVE_PATHS says where native packages are, in place of the usual places', async () => {
    const folder = path.join(scratch, 'pinned');
    fakePackage(folder, '@tensorflow/tfjs-node-gpu', "throw new Error('libcudart.so.11.0: cannot open shared object file');");
    process.env.LATENT_ATLAS_NATIVE_PATHS = ['/nonexistent-folder', folder].join(path.delimiter);
    try {
      await assert.rejects(initBackend({ backend: 'tensorflow-gpu' }), /tfjs-node-gpu is installed but failed to load \(libcudart/);
    } finally {
      process.env.LATENT_ATLAS_NATIVE_PATHS = '';
    }
    await assert.rejects(initBackend({ backend: 'tensorflow-gpu' }), /tfjs-node-gpu is not installed/);
  });

  it('finds a native package in nativeModulesPath and reports one that fails to load', async () => {
    const folder = path.join(scratch, 'broken');
    fakePackage(folder, '@tensorflow/tfjs-node', "throw new Error('libtensorflow.so.2: cannot open shared object file');");
    await assert.rejects(initBackend({ backend: 'tensorflow', nativeModulesPath: folder }), (err: unknown) => {
      assert.ok(err instanceof BackendUnavailableError);
      assert.match(
        err.message,
        /@tensorflow\/tfjs-node is installed but failed to load \(libtensorflow\.so\.2: cannot open shared object file\)/,
      );
      assert.match(err.message, new RegExp(`in ${folder.replace(/[/\\]/g, '.')}`));
      return true;
    });
  });

  it('loads a working native package from nativeModulesPath and uses its own tfjs namespace', async () => {
    // A stand-in for tfjs-node: the real tfjs with a backend named 'tensorflow' (cpu kernels).
    const folder = path.join(scratch, 'working');
    const tfjsPath = require.resolve('@tensorflow/tfjs');
    const cpuPath = require.resolve('@tensorflow/tfjs-backend-cpu');
    fakePackage(
      folder,
      '@tensorflow/tfjs-node',
      `const tf = require(${JSON.stringify(tfjsPath)});
       const { MathBackendCPU } = require(${JSON.stringify(cpuPath)});
       for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
       tf.registerBackend('tensorflow', () => new MathBackendCPU(), 1);
       module.exports = { ...tf, standIn: true };`,
    );
    const { tf, report } = await initBackend({ backend: 'auto', nativeModulesPath: folder });
    assert.equal(report.name, 'tensorflow');
    assert.deepEqual(
      report.skipped.map((s) => s.name),
      ['tensorflow-gpu', 'webgpu'],
    );
    assert.equal((tf as unknown as { standIn: boolean }).standIn, true);
    assert.equal(tf.getBackend(), 'tensorflow');
  });
});
