// ONNX export of a VAE trained here: the protobuf writer's bytes, then MLP and conv models
// (unconditional and conditional, Bernoulli and Gaussian, grey and non-square colour sizes that
// need asymmetric padding and a crop) exported and run in ONNX Runtime against tfjs' own outputs
// on the cpu backend, the manifest, the symbolic batch dimension, and refusals.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeRaw, encodeBatch, imageShape, pixelCount, buildVae, type VaeModel } from '../../src/engine/model/model';
import { exportVaeToOnnx } from '../../src/engine/onnx/exportOnnx';
import { encodeVarint, float32LittleEndian, ProtoWriter } from '../../src/engine/onnx/protobuf';
import { createRng, type Rng } from '../../src/engine/rng';
import type { Tensor, Tensor2D, Tf } from '../../src/engine/tf';
import type { ModelManifest } from '../../src/protocol/importedModel';
import { DEFAULT_MODEL, type ModelConfig, type Preprocessing } from '../../src/protocol/model';
import { useBackend } from './engine-fixtures';

let tf: Tf;
const dirs: string[] = [];
before(async () => {
  tf = await useBackend('cpu');
});
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-export-'));
  dirs.push(dir);
  return dir;
}

const grey28: Preprocessing = { width: 28, height: 28, channels: 1, fit: 'fill' };
const TOLERANCE = 1e-5;
const COUNT = 100;

describe('protobuf writer', () => {
  it('writes varints least significant group first, negative int64 as ten bytes', () => {
    assert.deepEqual([...encodeVarint(0)], [0]);
    assert.deepEqual([...encodeVarint(1)], [1]);
    assert.deepEqual([...encodeVarint(300)], [0xac, 0x02]);
    assert.deepEqual([...encodeVarint(2 ** 35)], [0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
    assert.deepEqual([...encodeVarint(-1)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    assert.throws(() => encodeVarint(0.5), /not a safe integer/);
  });

  it('writes tags, strings, nested messages and little-endian floats', () => {
    const inner = new ProtoWriter().varint(1, 150);
    const bytes = new ProtoWriter().string(2, 'hi').message(3, inner).varints(4, [1, 2]).finish();
    assert.deepEqual([...bytes], [0x12, 2, 0x68, 0x69, 0x1a, 3, 0x08, 0x96, 0x01, 0x20, 1, 0x20, 2]);
    assert.deepEqual([...float32LittleEndian([1, -2])], [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
  });
});

/** Sets every bias of both networks to random non-zero values, so an export that drops one fails. */
function randomiseBiases(vae: VaeModel, rng: Rng): void {
  for (const layer of [...vae.encoder.layers, ...vae.decoder.layers]) {
    const weights = layer.getWeights();
    if (weights.length !== 2) continue;
    const bias = weights[1];
    const values = Float32Array.from({ length: bias.size }, () => (rng.next() < 0.5 ? -1 : 1) * (0.05 + 0.45 * rng.next()));
    layer.setWeights([weights[0], tf.tensor(values, bias.shape)]);
  }
}

/** Random one-hot rows; every seventh row is all zeros (no label), as labelsToInput gives for −1. */
function randomOneHot(count: number, classes: number, rng: Rng): Float32Array {
  const out = new Float32Array(count * classes);
  for (let i = 0; i < count; i++) if (i % 7 !== 3) out[i * classes + rng.int(classes)] = 1;
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

function spread(values: Float32Array): number {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) [min, max] = [Math.min(min, v), Math.max(max, v)];
  return max - min;
}

function readTensor(t: Tensor): Float32Array {
  const data = t.dataSync() as Float32Array;
  t.dispose();
  return data;
}

async function session(file: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(file, { executionProviders: ['cpu'] });
}

/** Runs COUNT random images and latents through tfjs and through the exported files; asserts they agree. */
async function checkAgainstTfjs(vae: VaeModel, files: string[], rng: Rng): Promise<void> {
  const [encoder, decoder] = await Promise.all([session(files[0]), session(files[1])]);
  const xDims = [COUNT, ...imageShape(vae.model, vae.pre)];
  const x = Float32Array.from({ length: COUNT * pixelCount(vae.pre) }, () => rng.next());
  const L = vae.model.latentSize;
  const z = Float32Array.from({ length: COUNT * L }, () => 6 * rng.next() - 3);
  const labels = vae.numLabels > 0 ? randomOneHot(COUNT, vae.numLabels, rng) : undefined;
  const labelFeed: Record<string, ort.Tensor> = labels ? { label: new ort.Tensor('float32', labels, [COUNT, vae.numLabels]) } : {};

  const labelTensor = () => (labels ? tf.tensor2d(labels, [COUNT, vae.numLabels]) : undefined);
  const expected = tf.tidy(() => {
    const { mu, logVar } = encodeBatch(vae, tf.tensor(x, xDims), labelTensor());
    return { mu, logVar, decoded: decodeRaw(vae, tf.tensor2d(z, [COUNT, L]), labelTensor()) as Tensor2D };
  });
  const [mu, logVar, decoded] = [readTensor(expected.mu), readTensor(expected.logVar), readTensor(expected.decoded)];

  const enc = await encoder.run({ x: new ort.Tensor('float32', x, xDims), ...labelFeed });
  const outputName = vae.model.likelihood === 'bernoulli' ? 'logits' : 'means';
  const dec = await decoder.run({ z: new ort.Tensor('float32', z, [COUNT, L]), ...labelFeed });
  assert.deepEqual(enc.mu.dims, [COUNT, L]);
  assert.deepEqual(enc.logvar.dims, [COUNT, L]);
  assert.deepEqual(dec[outputName].dims, xDims);
  for (const [what, onnx, tfjs] of [
    ['μ', enc.mu.data, mu],
    ['log σ²', enc.logvar.data, logVar],
    [`decoder ${outputName}`, dec[outputName].data, decoded],
  ] as const) {
    assert.ok(spread(tfjs) > 0.01, `${what}: tfjs' outputs barely vary, the comparison would prove little`);
    const diff = maxAbsDiff(onnx as Float32Array, tfjs);
    assert.ok(diff <= TOLERANCE, `${what}: max |ONNX − tfjs| = ${diff}`);
  }

  // The batch dimension is symbolic on every input and output, and another batch size runs.
  for (const meta of [...encoder.inputMetadata, ...encoder.outputMetadata, ...decoder.inputMetadata, ...decoder.outputMetadata]) {
    assert.ok(meta.isTensor && meta.shape[0] === 'N', `${meta.name}: batch dimension ${meta.isTensor ? meta.shape[0] : '?'}`);
  }
  const one = await encoder.run({
    x: new ort.Tensor('float32', x.slice(0, pixelCount(vae.pre)), [1, ...xDims.slice(1)]),
    ...(labels ? { label: new ort.Tensor('float32', labels.slice(0, vae.numLabels), [1, vae.numLabels]) } : {}),
  });
  assert.ok(maxAbsDiff(one.mu.data as Float32Array, mu.subarray(0, L)) <= TOLERANCE);
  await Promise.all([encoder.release(), decoder.release()]);
}

interface Case {
  title: string;
  model: Partial<ModelConfig>;
  pre: Preprocessing;
  labels: number;
}

const CASES: Case[] = [
  {
    title: 'MLP, Bernoulli, 28×28 grey, two hidden layers',
    model: { architecture: 'mlp', hiddenUnits: [32, 16], latentSize: 2 },
    pre: grey28,
    labels: 0,
  },
  {
    title: 'MLP, Gaussian, conditional on 4 classes',
    model: { architecture: 'mlp', hiddenUnits: [24], latentSize: 3, likelihood: 'gaussian', sigma: 0.2, conditional: true },
    pre: grey28,
    labels: 4,
  },
  {
    title: 'conv, Bernoulli, 28×28 grey (28 → 14 → 7: padding at the end only)',
    model: { architecture: 'conv', convFilters: [4, 8], hiddenUnits: [16], latentSize: 2 },
    pre: grey28,
    labels: 0,
  },
  {
    title: 'conv, Gaussian, conditional, 24 wide × 16 high colour',
    model: { architecture: 'conv', convFilters: [4, 8], hiddenUnits: [16], latentSize: 4, likelihood: 'gaussian', conditional: true },
    pre: { width: 24, height: 16, channels: 3, fit: 'cover' },
    labels: 3,
  },
  {
    title: 'conv, Bernoulli, conditional, 13 × 18 colour, three blocks, no hidden layer (odd sizes: even padding, uneven crop)',
    model: { architecture: 'conv', convFilters: [4, 6, 8], hiddenUnits: [], latentSize: 2, conditional: true },
    pre: { width: 13, height: 18, channels: 3, fit: 'contain' },
    labels: 5,
  },
];

describe('exportVaeToOnnx: ONNX Runtime gives what tfjs gives', () => {
  CASES.forEach((c, i) => {
    it(c.title, async () => {
      const rng = createRng(1000 + i);
      const vae = buildVae({ ...DEFAULT_MODEL, ...c.model }, c.pre, c.labels, 7 + i);
      randomiseBiases(vae, rng);
      const classes = Array.from({ length: c.labels }, (_, k) => `class ${k}`);
      const dir = tempDir();
      const files = await exportVaeToOnnx(vae, { name: c.title, classes, source: 'test' }, dir);
      assert.deepEqual(files, [join(dir, 'encoder.onnx'), join(dir, 'decoder.onnx'), join(dir, 'latent-atlas-model.json')]);
      await checkAgainstTfjs(vae, files, rng);
    });
  });

  it('exports the other activations, and Activation layers', async () => {
    const dense = (units: number, activation: 'tanh' | 'elu' | 'softplus' | 'sigmoid' | 'linear', name: string) =>
      tf.layers.dense({ units, activation, name });
    const x = tf.input({ shape: [6], name: 'x' });
    let h = dense(5, 'tanh', 'h0').apply(x) as import('@tensorflow/tfjs').SymbolicTensor;
    h = tf.layers.activation({ activation: 'elu', name: 'h0_elu' }).apply(h) as typeof h;
    h = dense(4, 'softplus', 'h1').apply(h) as typeof h;
    const encoder = tf.model({
      inputs: x,
      outputs: [dense(2, 'linear', 'mu').apply(h), dense(2, 'sigmoid', 'lv').apply(h)] as (typeof h)[],
    });
    const z = tf.input({ shape: [2], name: 'z' });
    const g = tf.layers.activation({ activation: 'tanh', name: 'g_tanh' }).apply(dense(6, 'elu', 'g').apply(z)) as typeof h;
    const decoder = tf.model({ inputs: z, outputs: g });
    const vae: VaeModel = {
      encoder,
      decoder,
      model: { ...DEFAULT_MODEL, hiddenUnits: [5, 4] },
      pre: { width: 3, height: 2, channels: 1, fit: 'fill' },
      numLabels: 0,
    };
    const rng = createRng(5);
    randomiseBiases(vae, rng);
    const files = await exportVaeToOnnx(vae, { name: 'activations', classes: [], source: 'test' }, tempDir());
    await checkAgainstTfjs(vae, files, rng);
  });
});

describe('exportVaeToOnnx: manifest and refusals', () => {
  const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'latent-atlas-model.json'), 'utf8')) as ModelManifest;

  it('describes an MLP Bernoulli model: flattened NHWC input in [0, 1], logits, the class names', async () => {
    const vae = buildVae({ ...DEFAULT_MODEL, hiddenUnits: [8], latentSize: 2 }, grey28, 0, 1);
    const dir = tempDir();
    await exportVaeToOnnx(vae, { name: 'fashion', classes: ['shirt', 'shoe'], source: 'Latent Atlas run fashion' }, dir);
    assert.deepEqual(readManifest(dir), {
      format: 'latent-atlas-model',
      version: 1,
      name: 'fashion',
      encoder: 'encoder.onnx',
      decoder: 'decoder.onnx',
      input: { name: 'x', width: 28, height: 28, channels: 1, layout: 'NHWC', flatten: true, fit: 'fill' },
      latentSize: 2,
      encoderOutputs: { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' },
      latentInput: 'z',
      decoderOutput: { name: 'logits', kind: 'logits' },
      classes: ['shirt', 'shoe'],
      source: 'Latent Atlas run fashion',
    } satisfies ModelManifest);
  });

  it('describes a conditional conv Gaussian model: 4-D NHWC input, means with σ, the condition inputs', async () => {
    const model: ModelConfig = {
      ...DEFAULT_MODEL,
      architecture: 'conv',
      convFilters: [2],
      hiddenUnits: [],
      latentSize: 3,
      likelihood: 'gaussian',
      sigma: 0.15,
      conditional: true,
    };
    const vae = buildVae(model, { width: 10, height: 6, channels: 3, fit: 'cover' }, 2, 1);
    const dir = tempDir();
    await exportVaeToOnnx(vae, { name: 'cvae', classes: ['cat', 'dog'], source: 'here' }, dir);
    assert.deepEqual(readManifest(dir), {
      format: 'latent-atlas-model',
      version: 1,
      name: 'cvae',
      encoder: 'encoder.onnx',
      decoder: 'decoder.onnx',
      input: { name: 'x', width: 10, height: 6, channels: 3, layout: 'NHWC', flatten: false, fit: 'cover' },
      latentSize: 3,
      encoderOutputs: { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' },
      latentInput: 'z',
      decoderOutput: { name: 'means', kind: 'means', sigma: 0.15 },
      condition: { encoderInput: 'label', decoderInput: 'label', classes: ['cat', 'dog'] },
      source: 'here',
    } satisfies ModelManifest);
    assert.deepEqual(readdirSync(dir).sort(), ['decoder.onnx', 'encoder.onnx', 'latent-atlas-model.json'], 'no temporary files left');
  });

  it('refuses a layer type it cannot export, naming the layer and its type, and writes nothing', async () => {
    const vae = buildVae({ ...DEFAULT_MODEL, hiddenUnits: [4] }, { width: 2, height: 2, channels: 1, fit: 'fill' }, 0, 1);
    const x = tf.input({ shape: [4], name: 'x' });
    const h = tf.layers.batchNormalization({ name: 'bn' }).apply(x) as import('@tensorflow/tfjs').SymbolicTensor;
    const heads = [tf.layers.dense({ units: 2, name: 'mu' }).apply(h), tf.layers.dense({ units: 2, name: 'lv' }).apply(h)];
    const encoder = tf.model({ inputs: x, outputs: heads as (typeof h)[] });
    const dir = join(tempDir(), 'out');
    await assert.rejects(
      exportVaeToOnnx({ ...vae, encoder }, { name: 'bn', classes: [], source: '' }, dir),
      /layer 'bn'.*BatchNormalization/,
    );
    assert.equal(existsSync(dir), false);
  });

  it('refuses an activation it cannot export', async () => {
    const z = tf.input({ shape: [2], name: 'z' });
    const decoder = tf.model({
      inputs: z,
      outputs: tf.layers.dense({ units: 4, activation: 'softmax', name: 'out' }).apply(z) as typeof z,
    });
    const vae = buildVae({ ...DEFAULT_MODEL, hiddenUnits: [4] }, { width: 2, height: 2, channels: 1, fit: 'fill' }, 0, 1);
    await assert.rejects(
      exportVaeToOnnx({ ...vae, decoder }, { name: 'softmax', classes: [], source: '' }, tempDir()),
      /layer 'out' \(Dense\).*activation 'softmax'/,
    );
  });

  it('refuses class names that do not match a conditional model', async () => {
    const vae = buildVae({ ...DEFAULT_MODEL, hiddenUnits: [4], conditional: true }, grey28, 3, 1);
    await assert.rejects(exportVaeToOnnx(vae, { name: 'c', classes: ['a'], source: '' }, tempDir()), /3 labels but 1 class names/);
  });
});
