// Encoder/decoder construction: shapes for MLP and conv (sizes not divisible by 4, colour),
// conditional inputs, seeded initialisation, a model.json round trip through plain tfjs, and the
// wasm filter-gradient kernel the conv model needs, checked against the cpu backend.

import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  buildVae,
  decodeBatch,
  decodeLatents,
  encodeImages,
  toUint8Images,
  vaeFromLayers,
  type VaeModel,
} from '../../src/engine/model/model';
import type { LayersModel, Tensor, Tf } from '../../src/engine/tf';
import { DEFAULT_MODEL, type ModelConfig, type Preprocessing } from '../../src/protocol/model';
import { useBackend } from './engine-fixtures';

let tf: Tf;
before(async () => {
  tf = await useBackend('wasm');
});

const grey28: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'fill' };

function randomImages(count: number, pre: Preprocessing, seed = 1): Uint8Array {
  const out = new Uint8Array(count * pre.width * pre.height * pre.channels);
  let s = seed;
  for (let i = 0; i < out.length; i++) out[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

async function roundTrip(vae: VaeModel) {
  const count = 3;
  const images = randomImages(count, vae.pre);
  const enc = await encodeImages(vae, images, count, [0, 1, 2]);
  const pixels = await decodeLatents(vae, enc.mu, count, [0, 1, 2]);
  return { enc, pixels };
}

describe('buildVae', () => {
  it('builds the classic MLP: 784 → 400 → (μ, log σ²) of the latent size, decoder back to 784 pixels', async () => {
    const vae = buildVae({ ...DEFAULT_MODEL, latentSize: 20 }, grey28, 0, 1);
    assert.deepEqual(vae.encoder.inputs[0].shape, [null, 784]);
    assert.deepEqual(
      vae.encoder.outputs.map((o) => o.shape),
      [
        [null, 20],
        [null, 20],
      ],
    );
    assert.deepEqual(vae.decoder.outputs[0].shape, [null, 784]);
    // 784·400+400 + 2·(400·20+20) encoder, 20·400+400 + 400·784+784 decoder.
    assert.equal(vae.encoder.countParams() + vae.decoder.countParams(), 314_000 + 16_040 + 8_400 + 314_384);
    const { enc, pixels } = await roundTrip(vae);
    assert.equal(enc.mu.length, 60);
    assert.equal(pixels.length, 3 * 784);
  });

  it('builds conv models for 28×28 grey and for 30×26 colour images (sizes not divisible by 4)', async () => {
    for (const pre of [grey28, { width: 26, height: 30, channels: 3, fit: 'cover' } as Preprocessing]) {
      const model: ModelConfig = { ...DEFAULT_MODEL, architecture: 'conv', convFilters: [8, 16], hiddenUnits: [32] };
      const vae = buildVae(model, pre, 0, 1);
      assert.deepEqual(vae.encoder.inputs[0].shape, [null, pre.height, pre.width, pre.channels]);
      assert.deepEqual(vae.decoder.outputs[0].shape, [null, pre.height, pre.width, pre.channels]);
      const { pixels } = await roundTrip(vae);
      assert.equal(pixels.length, 3 * pre.width * pre.height * pre.channels);
    }
  });

  it('adds a one-hot label input to encoder and decoder of a conditional model, and the label changes the output', async () => {
    const vae = buildVae({ ...DEFAULT_MODEL, conditional: true, hiddenUnits: [64] }, grey28, 4, 1);
    assert.equal(vae.numLabels, 4);
    assert.deepEqual(
      vae.encoder.inputs.map((i) => i.shape),
      [
        [null, 784],
        [null, 4],
      ],
    );
    assert.deepEqual(
      vae.decoder.inputs.map((i) => i.shape),
      [
        [null, 2],
        [null, 4],
      ],
    );
    const z = new Float32Array([0.5, -0.5]);
    const a = await decodeLatents(vae, z, 1, [0]);
    const b = await decodeLatents(vae, z, 1, [3]);
    assert.notDeepEqual(a, b);
    // Without labels in the data, a conditional config builds a plain model.
    assert.equal(buildVae({ ...DEFAULT_MODEL, conditional: true }, grey28, 0, 1).encoder.inputs.length, 1);
  });

  it('initialises reproducibly from the seed', () => {
    const weights = (seed: number) => buildVae(DEFAULT_MODEL, grey28, 0, seed).encoder.getWeights()[0].dataSync().slice(0, 50);
    assert.deepEqual(weights(7), weights(7));
    assert.notDeepEqual(weights(7), weights(8));
  });

  it('rejects an invalid configuration with a message naming the setting', () => {
    assert.throws(() => buildVae({ ...DEFAULT_MODEL, latentSize: 0 }, grey28, 0, 1), /latentSize/);
    assert.throws(() => buildVae({ ...DEFAULT_MODEL, likelihood: 'gaussian', sigma: 0 }, grey28, 0, 1), /sigma/);
  });
});

describe('outputs', () => {
  it('decodes to pixel means in [0, 1] for both likelihoods, shaped count × H × W × C', async () => {
    for (const likelihood of ['bernoulli', 'gaussian'] as const) {
      const vae = buildVae({ ...DEFAULT_MODEL, likelihood }, grey28, 0, 2);
      const means = tf.tidy(() => decodeBatch(vae, tf.randomNormal([4, 2], 0, 3, 'float32', 1) as never));
      assert.deepEqual(means.shape, [4, 28, 28, 1]);
      const v = means.dataSync();
      assert.ok(v.every((p) => p >= 0 && p <= 1));
      means.dispose();
    }
    const t = tf.tensor([0, 0.5, 1, 1.2, -0.1]);
    assert.deepEqual(Array.from(await toUint8Images(t)), [0, 128, 255, 255, 0]);
    t.dispose();
  });
});

describe('save and load', () => {
  async function saveAndLoad(model: LayersModel): Promise<LayersModel> {
    let saved: import('@tensorflow/tfjs').io.ModelArtifacts | undefined;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        saved = artifacts;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    assert.ok(saved);
    // Through JSON text, as model.json is on disk.
    const topology = JSON.parse(JSON.stringify(saved.modelTopology));
    return tf.loadLayersModel(tf.io.fromMemory(topology, saved.weightSpecs, saved.weightData));
  }

  it('round-trips encoder and decoder through the layers format and gives the same encodings', async () => {
    const model = { ...DEFAULT_MODEL, conditional: true, architecture: 'conv' as const, convFilters: [4, 8], hiddenUnits: [16] };
    const vae = buildVae(model, grey28, 3, 5);
    const loaded = vaeFromLayers(await saveAndLoad(vae.encoder), await saveAndLoad(vae.decoder), model, grey28, 3);
    assert.deepEqual(await roundTrip(loaded), await roundTrip(vae));
  });

  it('refuses layers that do not fit the manifest', async () => {
    const vae = buildVae(DEFAULT_MODEL, grey28, 0, 5);
    assert.throws(() => vaeFromLayers(vae.encoder, vae.decoder, { ...DEFAULT_MODEL, latentSize: 3 }, grey28, 0), /do not match run.json/);
    assert.throws(() => vaeFromLayers(vae.encoder, vae.decoder, DEFAULT_MODEL, { ...grey28, width: 32 }, 0), /encoder input/);
  });
});

describe('wasm kernel fixes', () => {
  it('transposed matrix products agree with the cpu backend', async () => {
    const products = async (backend: string) => {
      await tf.setBackend(backend);
      const out = tf.tidy(() => {
        const a = tf.randomNormal([5, 3], 0, 1, 'float32', 1);
        const b = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
        const c = tf.randomNormal([2, 4, 3], 0, 1, 'float32', 3);
        const d = tf.randomNormal([2, 5, 4], 0, 1, 'float32', 4);
        return [tf.matMul(a, b, true, false), tf.matMul(b, a, true, false), tf.matMul(a, a, false, true), tf.matMul(c, d, true, true)];
      });
      const values = out.map((t) => Array.from(t.dataSync()));
      tf.dispose(out);
      return values;
    };
    const onCpu = await products('cpu');
    const onWasm = await products('wasm');
    for (let i = 0; i < onCpu.length; i++) {
      const maxDiff = Math.max(...onCpu[i].map((v, j) => Math.abs(v - onWasm[i][j])));
      assert.ok(maxDiff < 1e-4, `product ${i} differs by ${maxDiff}`);
    }
  });

  it('matches the cpu backend for strided, padded and transposed convolutions', async () => {
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 1);
      const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2);
      const wt = tf.randomNormal([3, 3, 5, 3], 0, 1, 'float32', 3);
      const g = tf.grads((w1: Tensor, w2: Tensor) =>
        tf.add(
          tf.sum(tf.square(tf.conv2d(x as never, w1 as never, 2, 'same'))),
          tf.sum(tf.conv2dTranspose(x as never, w2 as never, [2, 14, 12, 5], 2, 'same')),
        ),
      )([w, wt]);
      const out = g.map((t) => Array.from(t.dataSync()));
      tf.dispose([x, w, wt, ...g]);
      return out;
    };
    const onCpu = await grads('cpu');
    const onWasm = await grads('wasm');
    for (let i = 0; i < onCpu.length; i++) {
      const maxDiff = Math.max(...onCpu[i].map((v, j) => Math.abs(v - onWasm[i][j])));
      assert.ok(maxDiff < 1e-3, `filter gradient ${i} differs by ${maxDiff}`);
    }
  });
});
