// Encoder and decoder as tfjs layers models (functional API, so plain tfjs loads them from
// model.json), built from a run's ModelConfig and Preprocessing, plus the helpers that turn
// uint8 images into model inputs and decoder outputs back into pixels.
//
// encoder: x [+ one-hot label] → [μ, log σ²]      (x flattened for the MLP, H×W×C for conv)
// decoder: z [+ one-hot label] → logits (Bernoulli) or means in [0, 1] (Gaussian, sigmoid),
//          shaped like the encoder's x.

import type { ModelConfig, Preprocessing } from '../../protocol/model';
import { deriveSeed } from '../rng';
import { getTf, type LayersModel, type Tensor, type Tensor2D } from '../tf';
import { limitProblem } from '../../protocol/limits';

type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;

export interface VaeModel {
  encoder: LayersModel;
  decoder: LayersModel;
  model: ModelConfig;
  pre: Preprocessing;
  /** Size of the one-hot label input; 0 for an unconditional model. */
  numLabels: number;
}

export function pixelCount(pre: Preprocessing): number {
  return pre.width * pre.height * pre.channels;
}

/** A model takes labels only when it was configured conditional and the data has labels. */
export function isConditional(model: ModelConfig, numLabels: number): boolean {
  return model.conditional && numLabels > 0;
}

/** Shape of one image as the encoder takes it (and the decoder returns it). */
export function imageShape(model: ModelConfig, pre: Preprocessing): number[] {
  return model.architecture === 'conv' ? [pre.height, pre.width, pre.channels] : [pixelCount(pre)];
}

export function buildVae(model: ModelConfig, pre: Preprocessing, numLabels: number, seed: number): VaeModel {
  validateConfig(model, pre);
  const labels = isConditional(model, numLabels) ? numLabels : 0;
  let layerIndex = 0;
  // One seed per layer, so initialisation is reproducible and layers differ from each other.
  const init = () => getTf().initializers.glorotUniform({ seed: deriveSeed(seed, 7919, layerIndex++) });
  const encoder = model.architecture === 'conv' ? convEncoder(model, pre, labels, init) : mlpEncoder(model, pre, labels, init);
  const decoder = model.architecture === 'conv' ? convDecoder(model, pre, labels, init) : mlpDecoder(model, pre, labels, init);
  return { encoder, decoder, model, pre, numLabels: labels };
}

type Init = () => ReturnType<Tf['initializers']['glorotUniform']>;
type Tf = typeof import('@tensorflow/tfjs');

function validateConfig(model: ModelConfig, pre: Preprocessing): void {
  const bad = (what: string) => {
    throw new Error(`Invalid model configuration: ${what}. Fix the run's model settings.`);
  };
  const latent = limitProblem('latentSize', model.latentSize);
  if (latent) bad(latent);
  const units = model.hiddenUnits.map((u) => limitProblem('hiddenUnits', u, 'each of hiddenUnits')).find(Boolean);
  if (units) bad(units);
  if (model.architecture === 'conv') {
    if (model.convFilters.length === 0) bad('convFilters must list one or more filter counts, got []');
    const filters = model.convFilters.map((f) => limitProblem('convFilters', f, 'each of convFilters')).find(Boolean);
    if (filters) bad(filters);
  }
  const beta = limitProblem('beta', model.beta);
  if (beta) bad(beta);
  if (model.likelihood === 'gaussian') {
    const sigma = limitProblem('sigma', model.sigma);
    if (sigma) bad(sigma);
  }
  const side = limitProblem('imageSide', pre.width, 'image width') ?? limitProblem('imageSide', pre.height, 'image height');
  if (side) bad(side);
}

function withLabel(
  tf: Tf,
  prefix: string,
  first: SymbolicTensor,
  labels: number,
): { inputs: SymbolicTensor[]; joined: (h: SymbolicTensor) => SymbolicTensor } {
  if (labels === 0) return { inputs: [first], joined: (h) => h };
  const label = tf.input({ shape: [labels], name: `${prefix}_label` });
  return {
    inputs: [first, label],
    joined: (h) => tf.layers.concatenate({ name: `${prefix}_concat` }).apply([h, label]) as SymbolicTensor,
  };
}

function dense(tf: Tf, units: number, name: string, init: Init, activation?: 'relu' | 'sigmoid'): import('@tensorflow/tfjs').layers.Layer {
  return tf.layers.dense({ units, name, activation, kernelInitializer: init() });
}

function latentHeads(tf: Tf, h: SymbolicTensor, model: ModelConfig, init: Init): SymbolicTensor[] {
  return [
    dense(tf, model.latentSize, 'mu', init).apply(h) as SymbolicTensor,
    dense(tf, model.latentSize, 'log_var', init).apply(h) as SymbolicTensor,
  ];
}

function outputActivation(model: ModelConfig): 'sigmoid' | undefined {
  return model.likelihood === 'gaussian' ? 'sigmoid' : undefined;
}

function mlpEncoder(model: ModelConfig, pre: Preprocessing, labels: number, init: Init): LayersModel {
  const tf = getTf();
  const x = tf.input({ shape: [pixelCount(pre)], name: 'x' });
  const { inputs, joined } = withLabel(tf, 'encoder', x, labels);
  let h = joined(x);
  model.hiddenUnits.forEach((units, i) => (h = dense(tf, units, `encoder_hidden_${i}`, init, 'relu').apply(h) as SymbolicTensor));
  return tf.model({ inputs, outputs: latentHeads(tf, h, model, init), name: 'encoder' });
}

function mlpDecoder(model: ModelConfig, pre: Preprocessing, labels: number, init: Init): LayersModel {
  const tf = getTf();
  const z = tf.input({ shape: [model.latentSize], name: 'z' });
  const { inputs, joined } = withLabel(tf, 'decoder', z, labels);
  let h = joined(z);
  [...model.hiddenUnits]
    .reverse()
    .forEach((units, i) => (h = dense(tf, units, `decoder_hidden_${i}`, init, 'relu').apply(h) as SymbolicTensor));
  const out = dense(tf, pixelCount(pre), 'x_decoded', init, outputActivation(model)).apply(h) as SymbolicTensor;
  return tf.model({ inputs, outputs: out, name: 'decoder' });
}

/** Height and width after n stride-2 'same' convolutions: ⌈s / 2ⁿ⌉. */
function reducedSize(size: number, blocks: number): number {
  let s = size;
  for (let i = 0; i < blocks; i++) s = Math.ceil(s / 2);
  return s;
}

// Conv encoder: stride-2 3×3 conv blocks, then the MLP's hidden dense layers, then μ and log σ².
function convEncoder(model: ModelConfig, pre: Preprocessing, labels: number, init: Init): LayersModel {
  const tf = getTf();
  const x = tf.input({ shape: [pre.height, pre.width, pre.channels], name: 'x' });
  let h: SymbolicTensor = x;
  model.convFilters.forEach((filters, i) => {
    h = strideTwoConv(tf, 'conv2d', filters, `encoder_conv_${i}`, init).apply(h) as SymbolicTensor;
  });
  h = tf.layers.flatten({ name: 'encoder_flatten' }).apply(h) as SymbolicTensor;
  const { inputs, joined } = withLabel(tf, 'encoder', x, labels);
  h = joined(h);
  model.hiddenUnits.forEach((units, i) => (h = dense(tf, units, `encoder_hidden_${i}`, init, 'relu').apply(h) as SymbolicTensor));
  return tf.model({ inputs, outputs: latentHeads(tf, h, model, init), name: 'encoder' });
}

/** A 3×3, stride-2, 'same', ReLU block: down in the encoder, up (transposed) in the decoder. */
function strideTwoConv(tf: Tf, kind: 'conv2d' | 'conv2dTranspose', filters: number, name: string, init: Init) {
  return tf.layers[kind]({ filters, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name, kernelInitializer: init() });
}

// Conv decoder mirrors it: dense layers up to a small feature map, stride-2 transposed convs back
// (each doubles the size), a crop when H or W is not a multiple of 2ⁿ, a 3×3 conv to the channels.
function convDecoder(model: ModelConfig, pre: Preprocessing, labels: number, init: Init): LayersModel {
  const tf = getTf();
  const blocks = model.convFilters.length;
  const h0 = reducedSize(pre.height, blocks);
  const w0 = reducedSize(pre.width, blocks);
  const top = model.convFilters[blocks - 1];
  const z = tf.input({ shape: [model.latentSize], name: 'z' });
  const { inputs, joined } = withLabel(tf, 'decoder', z, labels);
  let h = joined(z);
  [...model.hiddenUnits]
    .reverse()
    .forEach((units, i) => (h = dense(tf, units, `decoder_hidden_${i}`, init, 'relu').apply(h) as SymbolicTensor));
  h = dense(tf, h0 * w0 * top, 'decoder_project', init, 'relu').apply(h) as SymbolicTensor;
  h = tf.layers.reshape({ targetShape: [h0, w0, top], name: 'decoder_reshape' }).apply(h) as SymbolicTensor;
  [...model.convFilters].reverse().forEach((filters, i) => {
    h = strideTwoConv(tf, 'conv2dTranspose', filters, `decoder_deconv_${i}`, init).apply(h) as SymbolicTensor;
  });
  const extraH = h0 * 2 ** blocks - pre.height;
  const extraW = w0 * 2 ** blocks - pre.width;
  if (extraH > 0 || extraW > 0) {
    const cropping: [[number, number], [number, number]] = [
      [Math.floor(extraH / 2), Math.ceil(extraH / 2)],
      [Math.floor(extraW / 2), Math.ceil(extraW / 2)],
    ];
    h = tf.layers.cropping2D({ cropping, name: 'decoder_crop' }).apply(h) as SymbolicTensor;
  }
  const out = tf.layers
    .conv2d({
      filters: pre.channels,
      kernelSize: 3,
      padding: 'same',
      activation: outputActivation(model),
      name: 'x_decoded',
      kernelInitializer: init(),
    })
    .apply(h) as SymbolicTensor;
  return tf.model({ inputs, outputs: out, name: 'decoder' });
}

/** Wraps layers models loaded from a run folder, after checking they fit the manifest. */
export function vaeFromLayers(
  encoder: LayersModel,
  decoder: LayersModel,
  model: ModelConfig,
  pre: Preprocessing,
  numLabels: number,
): VaeModel {
  const labels = isConditional(model, numLabels) ? numLabels : 0;
  const expectInputs = labels > 0 ? 2 : 1;
  const problem = (what: string) =>
    new Error(`The saved encoder/decoder do not match run.json: ${what}. The run folder is inconsistent; retrain or restore it.`);
  const xShape = encoder.inputs[0].shape.slice(1).join('×');
  if (xShape !== imageShape(model, pre).join('×'))
    throw problem(`encoder input is ${xShape}, expected ${imageShape(model, pre).join('×')}`);
  if (encoder.inputs.length !== expectInputs || decoder.inputs.length !== expectInputs) {
    throw problem(`expected ${expectInputs} input(s) (${labels > 0 ? 'conditional' : 'unconditional'} model)`);
  }
  if (encoder.outputs.length !== 2 || encoder.outputs[0].shape[1] !== model.latentSize) {
    throw problem(`encoder must output μ and log σ² of size ${model.latentSize}`);
  }
  if (decoder.inputs[0].shape[1] !== model.latentSize) throw problem(`decoder input is not of size ${model.latentSize}`);
  return { encoder, decoder, model, pre, numLabels: labels };
}

// ---------------------------------------------------------------------------------------------
// Inputs and outputs

/** Images [count × H × W × C] uint8 → float input scaled to [0, 1], shaped for the encoder. */
export function imagesToInput(vae: VaeModel, images: Uint8Array, count: number): Tensor {
  const floats = new Float32Array(count * pixelCount(vae.pre));
  for (let i = 0; i < floats.length; i++) floats[i] = images[i] / 255;
  return getTf().tensor(floats, [count, ...imageShape(vae.model, vae.pre)]);
}

/** One-hot labels for a conditional model (−1 gives an all-zero row); undefined otherwise. */
export function labelsToInput(vae: VaeModel, labels: ArrayLike<number> | undefined, count: number): Tensor2D | undefined {
  if (vae.numLabels === 0) return undefined;
  const tf = getTf();
  const oneHot = new Float32Array(count * vae.numLabels);
  for (let i = 0; i < count; i++) {
    const label = labels ? labels[labels.length === 1 ? 0 : i] : -1;
    if (label >= 0 && label < vae.numLabels) oneHot[i * vae.numLabels + label] = 1;
  }
  return tf.tensor2d(oneHot, [count, vae.numLabels]);
}

/** Posterior parameters [μ, log σ²] for a batch; `training` only matters for layers like dropout. */
export function encodeBatch(vae: VaeModel, x: Tensor, labels?: Tensor2D, training = false): { mu: Tensor2D; logVar: Tensor2D } {
  const inputs = labels ? [x, labels] : x;
  const [mu, logVar] = vae.encoder.apply(inputs, { training }) as Tensor[];
  return { mu: mu as Tensor2D, logVar: logVar as Tensor2D };
}

/** Raw decoder output for z: logits (Bernoulli) or means (Gaussian), shaped like the input. */
export function decodeRaw(vae: VaeModel, z: Tensor2D, labels?: Tensor2D, training = false): Tensor {
  return vae.decoder.apply(labels ? [z, labels] : z, { training }) as Tensor;
}

/** Pixel means in [0, 1] as [count, H, W, C]. */
export function decodeBatch(vae: VaeModel, z: Tensor2D, labels?: Tensor2D): Tensor {
  const tf = getTf();
  return tf.tidy(() => {
    const raw = decodeRaw(vae, z, labels);
    const means = vae.model.likelihood === 'bernoulli' ? tf.sigmoid(raw) : raw;
    return means.reshape([z.shape[0], vae.pre.height, vae.pre.width, vae.pre.channels]);
  });
}

/** Pixel means in [0, 1] → uint8 pixels, row-major count × H × W × C. */
export async function toUint8Images(means: Tensor): Promise<Uint8Array> {
  return pixelsFromMeans(await means.data());
}

/** Pixel means in [0, 1] (clipped) → uint8 pixels. */
export function pixelsFromMeans(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, values[i]!)) * 255);
  return out;
}

/** Encodes uint8 images in batches; returns count × latentSize means and log-variances. */
export async function encodeImages(
  vae: VaeModel,
  images: Uint8Array,
  count: number,
  labels?: ArrayLike<number>,
  batchSize = 256,
): Promise<{ mu: Float32Array; logVar: Float32Array }> {
  const tf = getTf();
  const L = vae.model.latentSize;
  const px = pixelCount(vae.pre);
  const mu = new Float32Array(count * L);
  const logVar = new Float32Array(count * L);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const [m, v] = tf.tidy(() => {
      const x = imagesToInput(vae, images.subarray(start * px, (start + n) * px), n);
      const y = labelsToInput(vae, labels && Array.prototype.slice.call(labels, start, start + n), n);
      const out = encodeBatch(vae, x, y);
      return [out.mu, out.logVar];
    });
    const [mValues, vValues] = await Promise.all([m.data(), v.data()]);
    mu.set(mValues, start * L);
    logVar.set(vValues, start * L);
    tf.dispose([m, v]);
  }
  return { mu, logVar };
}

/** Decodes count × latentSize points to uint8 images (count × H × W × C). */
export async function decodeLatents(vae: VaeModel, latents: Float32Array, count: number, labels?: ArrayLike<number>): Promise<Uint8Array> {
  const tf = getTf();
  const means = tf.tidy(() => {
    const z = tf.tensor2d(latents, [count, vae.model.latentSize]);
    return decodeBatch(vae, z, labelsToInput(vae, labels, count));
  });
  try {
    return await toUint8Images(means);
  } finally {
    means.dispose();
  }
}
