// The WebGPU backend (tfjs-backend-webgpu on Dawn). Here it runs on Mesa's llvmpipe, a software
// Vulkan adapter, which a forced 'webgpu' accepts: the numbers must match the cpu backend's for
// every model variant, training must lower the held-out −ELBO, and memory must stay flat. The
// ladder's choice between hardware and software adapters is checked on adapter descriptions of
// each kind, and for real on this machine's adapter.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { adapterName, onDeviceLost, softwareAdapterReason, type AdapterDescription } from '../../src/engine/backends/webgpu';
import { initBackend } from '../../src/engine/backends/ladder';
import { buildVae, decodeRaw, encodeBatch, imagesToInput, labelsToInput, type VaeModel } from '../../src/engine/model/model';
import { elboEstimate, trainingLoss } from '../../src/engine/model/objective';
import { estimateLogPx, evaluate, trainVae, type TrainData } from '../../src/engine/model/trainer';
import type { Tf, Tensor2D } from '../../src/engine/tf';
import { DEFAULT_MODEL, type BackendReport, type ModelConfig, type Preprocessing } from '../../src/protocol/model';
import { FASHION_PRE, readFashionMnist } from './engine-fixtures';

// What adapters say about themselves (GPUAdapterInfo as Dawn and browsers report it).
const HARDWARE: Record<string, AdapterDescription> = {
  'NVIDIA on Vulkan': {
    vendor: 'nvidia',
    architecture: 'ampere',
    device: '',
    description: 'NVIDIA GeForce RTX 3080',
    isFallbackAdapter: false,
  },
  'AMD on Vulkan': { vendor: 'amd', architecture: 'rdna-2', description: 'AMD Radeon RX 6800 (RADV NAVI21)' },
  'Intel on D3D12': { vendor: 'intel', architecture: 'gen-12lp', description: 'Intel(R) Iris(R) Xe Graphics' },
  'Apple on Metal': { vendor: 'apple', architecture: 'metal-3', description: 'Apple M2 Pro' },
};
const SOFTWARE: Record<string, AdapterDescription> = {
  'llvmpipe (Dawn marks it a fallback)': {
    vendor: 'mesa',
    architecture: 'software',
    device: 'llvmpipe-llvm-15-0-6-256-bits-',
    description: 'llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1',
    isFallbackAdapter: true,
  },
  'lavapipe without the fallback flag': { vendor: 'mesa', architecture: '', description: 'lavapipe (LLVM 17.0.6, 256 bits)' },
  SwiftShader: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' },
  'WARP on Windows': { vendor: 'microsoft', architecture: '', description: 'Microsoft Basic Render Driver' },
};

describe('choosing a WebGPU adapter in auto', () => {
  for (const [kind, info] of Object.entries(HARDWARE)) {
    it(`takes a hardware adapter: ${kind}`, () => assert.equal(softwareAdapterReason(info), null));
  }
  for (const [kind, info] of Object.entries(SOFTWARE)) {
    it(`passes over a software adapter with its name: ${kind}`, () => {
      const reason = softwareAdapterReason(info);
      assert.ok(reason, 'a reason is given');
      assert.ok(reason.includes(adapterName(info)), reason);
      assert.match(reason, /slower than WebAssembly/);
    });
  }
});

let tf: Tf;
let report: BackendReport;
before(async () => {
  // auto first (in a fresh process, in the test below), then the forced backend for the rest.
  ({ tf, report } = await initBackend({ backend: 'webgpu' }));
});

describe('the webgpu backend on this machine', () => {
  it("auto passes over this machine's software adapter and says which it was", async () => {
    // A fresh process: a backend starts once per process.
    const dir = mkdtempSync(path.join(tmpdir(), 'latent-atlas-webgpu-'));
    const script = path.join(dir, 'auto.ts');
    writeFileSync(
      script,
      `import { initBackend } from ${JSON.stringify(path.resolve(__dirname, '../../src/engine/backends/ladder'))};
       initBackend({ backend: 'auto' }).then(({ report }) => process.stdout.write(JSON.stringify(report)));`,
    );
    const auto = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 120_000 }),
    ) as BackendReport;
    rmSync(dir, { recursive: true, force: true });
    assert.notEqual(auto.name, 'webgpu');
    const skipped = auto.skipped.find((s) => s.name === 'webgpu');
    assert.ok(skipped, 'webgpu is listed as skipped');
    assert.match(skipped.reason, /llvmpipe.*slower than WebAssembly/);
  });

  it('forced, it runs on the adapter there is and reports it', () => {
    assert.equal(report.name, 'webgpu');
    assert.equal(tf.getBackend(), 'webgpu');
    assert.ok(report.adapter, 'the adapter is part of the report');
    assert.equal(report.adapter.software, true);
    assert.match(report.adapter.description, /llvmpipe/);
    assert.ok(report.adapter.limits.maxStorageBufferBindingSize >= 128 * 1024 * 1024);
  });
});

const PRE_COLOUR: Preprocessing = { width: 16, height: 16, channels: 3, fit: 'fill' };
const VARIANTS: { name: string; model: ModelConfig; pre: Preprocessing; labels: number }[] = [
  { name: 'MLP, Bernoulli', model: { ...DEFAULT_MODEL, latentSize: 8, hiddenUnits: [64] }, pre: FASHION_PRE, labels: 0 },
  {
    name: 'MLP, Gaussian σ 0.2, β 4',
    model: { ...DEFAULT_MODEL, latentSize: 4, hiddenUnits: [64], likelihood: 'gaussian', sigma: 0.2, beta: 4 },
    pre: FASHION_PRE,
    labels: 0,
  },
  {
    name: 'MLP, conditional',
    model: { ...DEFAULT_MODEL, latentSize: 2, hiddenUnits: [32], conditional: true },
    pre: FASHION_PRE,
    labels: 10,
  },
  {
    name: 'conv, Bernoulli',
    model: { ...DEFAULT_MODEL, architecture: 'conv', latentSize: 4, convFilters: [8, 16], hiddenUnits: [32] },
    pre: FASHION_PRE,
    labels: 0,
  },
  {
    name: 'conv, Gaussian, colour, conditional',
    model: {
      ...DEFAULT_MODEL,
      architecture: 'conv',
      latentSize: 3,
      convFilters: [4, 8],
      hiddenUnits: [16],
      likelihood: 'gaussian',
      sigma: 0.1,
      conditional: true,
    },
    pre: PRE_COLOUR,
    labels: 3,
  },
];

interface LossAndGrads {
  loss: number;
  grads: Map<string, Float32Array>;
  logPx: number;
}

/** The training loss, every gradient and a 4-sample IWAE estimate for one fixed batch, on `backend`. */
async function lossAndGrads(
  backend: 'cpu' | 'webgpu',
  vae: VaeModel,
  images: Uint8Array,
  labels: Int32Array,
  count: number,
): Promise<LossAndGrads> {
  assert.ok(await tf.setBackend(backend));
  const dec = { likelihood: vae.model.likelihood, sigma: vae.model.sigma };
  const variables = [...vae.encoder.trainableWeights, ...vae.decoder.trainableWeights].map(
    (w) => w.read() as import('@tensorflow/tfjs').Variable,
  );
  const { value, grads } = tf.variableGrads(() => {
    const x = imagesToInput(vae, images, count);
    const y = labelsToInput(vae, labels, count);
    const { mu, logVar } = encodeBatch(vae, x, y, true);
    const eps = tf.randomNormal([count, vae.model.latentSize], 0, 1, 'float32', 5) as Tensor2D;
    return trainingLoss(
      elboEstimate(x, mu, logVar, (z) => decodeRaw(vae, z, y, true), dec, eps),
      vae.model.beta,
    );
  }, variables);
  const out: LossAndGrads = { loss: (await value.data())[0], grads: new Map(), logPx: 0 };
  for (const [name, g] of Object.entries(grads)) out.grads.set(name, (await g.data()) as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  out.logPx = (await estimateLogPx(vae, { images, count, labels }, 4, { seed: 8 })).logPx;
  return out;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

describe('webgpu computes what the cpu backend computes', () => {
  for (const variant of VARIANTS) {
    it(`${variant.name}: the loss, every gradient and the IWAE estimate agree on a fixed batch`, async () => {
      // Few images: the conv variants are slow on a software adapter.
      const count = variant.model.architecture === 'conv' ? 12 : 32;
      const px = variant.pre.width * variant.pre.height * variant.pre.channels;
      let images: Uint8Array;
      let labels: Int32Array;
      if (variant.pre === FASHION_PRE) {
        const real = readFashionMnist('t10k', count);
        images = real.images;
        labels = real.labels;
      } else {
        // Colour images made from three Fashion-MNIST crops per image, one per channel.
        const real = readFashionMnist('t10k', count * 3);
        images = new Uint8Array(count * px);
        for (let i = 0; i < count; i++) {
          for (let p = 0; p < 256; p++) {
            for (let c = 0; c < 3; c++) images[(i * 256 + p) * 3 + c] = real.images[(i * 3 + c) * 784 + (6 + (p >> 4)) * 28 + 6 + (p & 15)];
          }
        }
        labels = Int32Array.from({ length: count }, (_, i) => i % variant.labels);
      }
      assert.ok(await tf.setBackend('cpu'));
      const vae = buildVae(variant.model, variant.pre, variant.labels, 11);
      const cpu = await lossAndGrads('cpu', vae, images, labels, count);
      const gpu = await lossAndGrads('webgpu', vae, images, labels, count);
      // float32 throughout; the backends sum in different orders (tiled matmuls and reductions on
      // the GPU), and sums of up to 784 products carry relative errors near 784·2⁻²⁴ ≈ 5e-5 each.
      // After a few layers and the Adam-free backward pass, 1e-3 of each tensor's largest entry
      // covers that with margin, while a wrong kernel (a transposed or missing term) is off by O(1).
      assert.ok(Math.abs(gpu.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${gpu.loss} vs ${cpu.loss}`);
      assert.ok(Math.abs(gpu.logPx - cpu.logPx) <= 1e-4 * Math.abs(cpu.logPx), `log p(x) ${gpu.logPx} vs ${cpu.logPx}`);
      assert.deepEqual([...gpu.grads.keys()].sort(), [...cpu.grads.keys()].sort());
      for (const [name, c] of cpu.grads) {
        const g = gpu.grads.get(name)!;
        const scale = maxAbs(c);
        assert.ok(scale > 0, `${name}: the gradient is not all zero`);
        let worst = 0;
        for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i] - c[i]));
        assert.ok(worst <= 1e-3 * scale, `${name}: largest difference ${worst} against a scale of ${scale}`);
      }
    });
  }
});

describe('training on webgpu', () => {
  it('lowers the held-out −ELBO and keeps tensors and GPU memory flat across epochs', async () => {
    assert.ok(await tf.setBackend('webgpu'));
    const data: TrainData = { ...readFashionMnist('train', 1200), numLabels: 10, pre: FASHION_PRE };
    const vae = buildVae({ ...DEFAULT_MODEL, latentSize: 8, hiddenUnits: [200] }, FASHION_PRE, 10, 3);
    const held = { images: data.images.subarray(1000 * 784), count: 200, labels: data.labels.subarray(1000) };
    const before = -(await evaluate(vae, held, { seed: 1 })).terms.elbo;
    const memory: { tensors: number; bytes: number; gpuBytes: number }[] = [];
    const outcome = await trainVae(
      vae,
      { ...data, images: data.images.subarray(0, 1000 * 784), count: 1000, labels: data.labels.subarray(0, 1000) },
      { epochs: 4, batchSize: 100, learningRate: 2e-3, validationSplit: 0.1, seed: 3 },
      {
        onProgress: () => undefined,
        onEpoch: async () => {
          // The webgpu backend adds the bytes it holds in GPU buffers to tf.memory().
          const m = tf.memory() as ReturnType<Tf['memory']> & { numBytesInGPU?: number };
          memory.push({ tensors: m.numTensors, bytes: m.numBytes, gpuBytes: m.numBytesInGPU ?? NaN });
        },
        shouldStop: () => false,
      },
      undefined,
      { backend: 'webgpu', iwaeSamples: 3, iwaeMaxImages: 50 },
    );
    assert.equal(outcome.state, 'complete');
    const after = -(await evaluate(vae, held, { seed: 1 })).terms.elbo;
    assert.ok(after < before - 50, `held-out −ELBO ${before.toFixed(1)} → ${after.toFixed(1)}`);
    assert.equal(memory.length, 4);
    for (const m of memory.slice(1)) {
      assert.equal(m.tensors, memory[0].tensors, `live tensors per epoch: ${memory.map((x) => x.tensors)}`);
      assert.equal(m.bytes, memory[0].bytes, `bytes per epoch: ${memory.map((x) => x.bytes)}`);
      assert.equal(m.gpuBytes, memory[0].gpuBytes, `GPU bytes per epoch: ${memory.map((x) => x.gpuBytes)}`);
    }
  });
});

describe('losing the GPU device', () => {
  // Last in this file: the device is gone afterwards.
  it('is reported in plain words to the engine, which then restarts', async () => {
    const lost = new Promise<string>((resolve) => onDeviceLost(resolve));
    (tf.backend() as unknown as { device: GPUDevice }).device.destroy();
    const message = await lost;
    assert.match(message, /^The GPU \(llvmpipe.*\) stopped responding/);
    assert.match(message, /keeps its last checkpoint and can be resumed/);
  });
});
