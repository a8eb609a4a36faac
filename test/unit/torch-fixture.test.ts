// The PyTorch-trained VAEs of torchFixture.ts under onnxruntime-node. The images are read back from
// the PNGs on disk and scaled and laid out as each manifest says — done here by hand, independent of
// the extension's loader — and the exported encoders and decoders must reproduce what PyTorch itself
// computed (reference.json) to 1e-4. The manifests must name what the graphs hold.

import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import {
  MODEL_MANIFEST_FILE,
  MODEL_MANIFEST_FORMAT,
  MODEL_MANIFEST_VERSION,
  type ModelInput,
  type ModelManifest,
} from '../../src/protocol/importedModel';
import { readFashionMnist } from './engine-fixtures';
import { torchVaeFixture, type TorchVaeFixture } from './torchFixture';

const TOLERANCE = 1e-4;
const CLASSES = ['T-shirt_top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle_boot'];

/** reference.json as train_export.py writes it. */
interface Reference {
  encodings: { file: string; mu: number[]; logVar: number[] }[];
  latents: number[][];
  decoded: number[][];
  negElboPerImage: { initial: number; final: number; trainImages: number; epochs: number };
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** An image file's RGBA pixels, as pngjs decodes every colour type. */
function readPng(path: string): PNG {
  return PNG.sync.read(readFileSync(path));
}

/** Pixels p = v / 255, normalised and laid out as `input` asks, for a batch of same-sized images. */
function encoderInput(input: ModelInput, images: PNG[]): ort.Tensor {
  const { width, height, channels, layout } = input;
  const plane = width * height;
  const size = plane * channels;
  const data = new Float32Array(images.length * size);
  const norm = input.normalize;
  const scale = (p: number, c: number): number => {
    if (!norm) return p;
    if ('range' in norm) return norm.range[0] + p * (norm.range[1] - norm.range[0]);
    return (p - norm.mean[norm.mean.length > 1 ? c : 0]) / norm.std[norm.std.length > 1 ? c : 0];
  };
  images.forEach((png, n) => {
    assert.equal(png.width, width);
    assert.equal(png.height, height);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < channels; c++) {
        const v = png.data[i * 4 + (channels === 1 ? 0 : c)];
        const at = layout === 'NCHW' ? c * plane + i : i * channels + c;
        data[n * size + at] = scale(v / 255, c);
      }
    }
  });
  const dims = input.flatten
    ? [images.length, size]
    : layout === 'NCHW'
      ? [images.length, channels, height, width]
      : [images.length, height, width, channels];
  return new ort.Tensor('float32', data, dims);
}

function assertClose(actual: ArrayLike<number>, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    if (!(d <= worst)) [worst, at] = [d, i];
  }
  assert.ok(worst <= TOLERANCE, `${what}: |onnxruntime − PyTorch| = ${worst} at ${at} (${actual[at]} vs ${expected[at]})`);
}

/** μ and log σ² per image from the encoder's outputs, as the manifest describes them. */
function posterior(manifest: ModelManifest, out: ort.InferenceSession.OnnxValueMapType): { mu: Float32Array; logVar: Float32Array } {
  const k = manifest.latentSize;
  const spec = manifest.encoderOutputs;
  switch (spec.kind) {
    case 'mu-logvar':
      return { mu: out[spec.mu].data as Float32Array, logVar: out[spec.logVar].data as Float32Array };
    case 'concatenated': {
      const stats = out[spec.name].data as Float32Array;
      const n = stats.length / (2 * k);
      const mu = new Float32Array(n * k);
      const logVar = new Float32Array(n * k);
      for (let i = 0; i < n; i++) {
        mu.set(stats.subarray(i * 2 * k, i * 2 * k + k), i * k);
        logVar.set(stats.subarray(i * 2 * k + k, (i + 1) * 2 * k), i * k);
      }
      return { mu, logVar };
    }
    case 'mu':
      throw new Error('the PyTorch fixture has no plain autoencoder');
  }
}

let fixture: TorchVaeFixture;
before(async () => {
  fixture = await torchVaeFixture();
});

describe('the PyTorch fixture build', () => {
  it('is shared by concurrent callers and reused once complete', async () => {
    const [a, b] = await Promise.all([torchVaeFixture(), torchVaeFixture()]);
    assert.deepEqual(a, fixture);
    assert.deepEqual(b, fixture);
    assert.ok(existsSync(join(fixture.root, 'complete.json')));
  });

  it('holds the first 100 test images as PNGs, in their class folders, named by index', () => {
    const idx = readFashionMnist('t10k', 100);
    const ref = readJson<Reference>(join(fixture.mlp, 'reference.json'));
    assert.equal(ref.encodings.length, 100);
    ref.encodings.forEach(({ file }, n) => {
      assert.equal(file, `${CLASSES[idx.labels[n]]}/${n}.png`);
      const png = readPng(join(fixture.images, file));
      const grey = Uint8Array.from({ length: 784 }, (_, i) => png.data[i * 4]);
      assert.deepEqual(grey, idx.images.subarray(n * 784, (n + 1) * 784), file);
    });
  });
});

for (const model of ['mlp', 'conv'] as const) {
  describe(`the PyTorch ${model} VAE under onnxruntime`, () => {
    let manifest: ModelManifest;
    let ref: Reference;
    let encoder: ort.InferenceSession;
    let decoder: ort.InferenceSession;
    before(async () => {
      const dir = fixture[model];
      manifest = readJson<ModelManifest>(join(dir, MODEL_MANIFEST_FILE));
      ref = readJson<Reference>(join(dir, 'reference.json'));
      encoder = await ort.InferenceSession.create(join(dir, manifest.encoder));
      decoder = await ort.InferenceSession.create(join(dir, manifest.decoder));
    });
    after(async () => {
      await encoder?.release();
      await decoder?.release();
    });

    it('has a manifest with the fields ModelManifest requires, naming what the graphs hold', () => {
      assert.equal(manifest.format, MODEL_MANIFEST_FORMAT);
      assert.equal(manifest.version, MODEL_MANIFEST_VERSION);
      assert.equal(manifest.latentSize, 8);
      assert.deepEqual(manifest.classes, CLASSES);
      assert.match(manifest.name ?? '', /PyTorch/);
      assert.match(manifest.source ?? '', /^PyTorch \d+\.\d+.*train_export\.py$/);
      const { input } = manifest;
      assert.deepEqual([input.width, input.height, input.channels, input.layout], [28, 28, 1, 'NCHW']);
      assert.equal(input.flatten, model === 'mlp');
      assert.deepEqual(input.normalize, model === 'conv' ? { mean: [0.5], std: [0.5] } : undefined);
      assert.deepEqual(encoder.inputNames, [input.name]);
      assert.deepEqual(decoder.inputNames, [manifest.latentInput]);
      assert.deepEqual(decoder.outputNames, [manifest.decoderOutput.name]);
      if (model === 'mlp') {
        assert.deepEqual(manifest.encoderOutputs, { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' });
        assert.deepEqual(encoder.outputNames, ['mu', 'logvar']);
        assert.equal(manifest.decoderOutput.kind, 'logits');
      } else {
        assert.deepEqual(manifest.encoderOutputs, { kind: 'concatenated', name: 'stats' });
        assert.deepEqual(encoder.outputNames, ['stats']);
        assert.deepEqual(manifest.decoderOutput, { name: 'means', kind: 'means', sigma: 0.2 });
      }
    });

    it('has a free batch axis on both graphs', () => {
      for (const meta of [...encoder.inputMetadata, ...decoder.inputMetadata]) {
        assert.ok(meta.isTensor);
        assert.equal(typeof meta.shape[0], 'string', `${meta.name}: shape ${JSON.stringify(meta.shape)}`);
      }
    });

    it('learned: the held-out −ELBO fell well below its starting value', () => {
      const { initial, final } = ref.negElboPerImage;
      assert.ok(final < 0.6 * initial, `−ELBO per image ${initial} → ${final}`);
    });

    it("encodes the PNGs to PyTorch's μ and log σ²", async () => {
      const images = ref.encodings.map(({ file }) => readPng(join(fixture.images, file)));
      const x = encoderInput(manifest.input, images);
      const { mu, logVar } = posterior(manifest, await encoder.run({ [encoder.inputNames[0]]: x }));
      const k = manifest.latentSize;
      ref.encodings.forEach((e, n) => {
        assertClose(mu.subarray(n * k, (n + 1) * k), e.mu, `${e.file} μ`);
        assertClose(logVar.subarray(n * k, (n + 1) * k), e.logVar, `${e.file} log σ²`);
      });
    });

    it("decodes the five fixed latents to PyTorch's outputs, shaped like the image input", async () => {
      const z = new ort.Tensor('float32', Float32Array.from(ref.latents.flat()), [ref.latents.length, manifest.latentSize]);
      const out = (await decoder.run({ [decoder.inputNames[0]]: z }))[decoder.outputNames[0]];
      assert.deepEqual(out.dims, model === 'mlp' ? [5, 784] : [5, 1, 28, 28]);
      assertClose(out.data as Float32Array, ref.decoded.flat(), 'decoded');
    });
  });
}
