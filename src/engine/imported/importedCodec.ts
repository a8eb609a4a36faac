// A model trained elsewhere as a Codec: the manifest says how an image becomes the encoder's input
// (layout, flattening, normalisation), what the encoder returns and what the decoder's output
// means; this module checks the networks against it once, when they are loaded, and converts on
// every call. Images here are uint8 N × H × W × C; pixels p = value / 255.

import { join } from 'node:path';
import type { ModelManifest } from '../../protocol/importedModel';
import { MODEL_MANIFEST_FILE } from '../../protocol/importedModel';
import type { ElboTerms, RunManifest } from '../../protocol/model';
import { EngineError } from '../../protocol/errors';
import type { Codec, Reconstruction } from '../model/codec';
import { pixelsFromMeans } from '../model/model';
import { elboTerms, klDivergence, logLikelihood } from '../model/objective';
import { deriveSeed, standardNormals } from '../rng';
import { getTf, type Tensor2D } from '../tf';
import { dimsText, loadNet, type Net, type NetPort, type NetTensor } from './nets';
import { normalisation, type Normalisation } from './modelManifest';

/** Images per call of the networks. */
const BATCH = 256;

interface Wiring {
  imageInput: string;
  latentInput: string;
  encoderLabel?: string;
  decoderLabel?: string;
  decoderOutput: string;
}

function mismatch(dir: string, net: Net, what: string): EngineError {
  const list = (ports: NetPort[]) => ports.map((p) => `${p.name} ${dimsText(p.dims)}`).join(', ');
  return new EngineError(
    'corrupt-run',
    `${net.file} does not match ${join(dir, MODEL_MANIFEST_FILE)}: ${what}. The network takes ${list(net.inputs)} and returns ${list(net.outputs)}; ` +
      'fix the manifest (or describe the model again).',
  );
}

/** Whether fixed dims of a port agree with the expected ones (free dims match anything). */
function fits(port: NetPort, expected: number[]): boolean {
  if (!port.dims) return true;
  if (port.dims.length !== expected.length) return false;
  return port.dims.every((d, i) => typeof d !== 'number' || i === 0 || d === expected[i]);
}

/** The shape of an image batch as the model takes it (and its decoder returns it). */
export function modelImageDims(m: ModelManifest, count: number): number[] {
  const { width: w, height: h, channels: c, layout, flatten } = m.input;
  if (flatten) return [count, w * h * c];
  return layout === 'NCHW' ? [count, c, h, w] : [count, h, w, c];
}

function checkWiring(dir: string, m: ModelManifest, encoder: Net, decoder: Net): Wiring {
  const has = (ports: NetPort[], name: string) => ports.some((p) => p.name === name);
  const port = (ports: NetPort[], name: string) => ports.find((p) => p.name === name)!;
  const cond = m.condition;
  // The image input: named, or the one input that is not the label.
  const imageInput = m.input.name ?? encoder.inputs.find((p) => p.name !== cond?.encoderInput)?.name;
  if (!imageInput || !has(encoder.inputs, imageInput)) throw mismatch(dir, encoder, `it has no image input named "${imageInput ?? ''}"`);
  const image = modelImageDims(m, 1);
  if (!fits(port(encoder.inputs, imageInput), image)) {
    throw mismatch(
      dir,
      encoder,
      `its input ${imageInput} is not ${dimsText(['N', ...image.slice(1)])} (${m.input.layout}${m.input.flatten ? ', flattened' : ''})`,
    );
  }
  const expectedInputs = cond ? 2 : 1;
  if (encoder.inputs.length !== expectedInputs) {
    throw mismatch(
      dir,
      encoder,
      cond ? 'a conditional encoder takes the image and the one-hot label' : 'it takes more than the image (is it conditional?)',
    );
  }
  const L = m.latentSize;
  const enc = m.encoderOutputs;
  const outs = enc.kind === 'mu-logvar' ? [enc.mu, enc.logVar] : [enc.name];
  for (const name of outs) if (!has(encoder.outputs, name)) throw mismatch(dir, encoder, `it has no output named "${name}"`);
  const width = enc.kind === 'concatenated' ? 2 * L : L;
  for (const name of outs) {
    if (!fits(port(encoder.outputs, name), [0, width]))
      throw mismatch(dir, encoder, `its output ${name} is not [N, ${width}] (latentSize ${L})`);
  }
  const latentInput = m.latentInput ?? decoder.inputs.find((p) => p.name !== cond?.decoderInput)?.name;
  if (!latentInput || !has(decoder.inputs, latentInput))
    throw mismatch(dir, decoder, `it has no latent input named "${latentInput ?? ''}"`);
  if (!fits(port(decoder.inputs, latentInput), [0, L])) throw mismatch(dir, decoder, `its input ${latentInput} is not [N, ${L}]`);
  if (decoder.inputs.length !== expectedInputs) {
    throw mismatch(
      dir,
      decoder,
      cond ? 'a conditional decoder takes z and the one-hot label' : 'it takes more than z (is it conditional?)',
    );
  }
  if (cond) {
    const k = cond.classes.length;
    for (const [net, name] of [
      [encoder, cond.encoderInput],
      [decoder, cond.decoderInput],
    ] as const) {
      if (!has(net.inputs, name) || !fits(port(net.inputs, name), [0, k]))
        throw mismatch(dir, net, `it has no one-hot label input ${name} [N, ${k}]`);
    }
  }
  const decoderOutput = m.decoderOutput.name ?? decoder.outputs[0]?.name;
  if (!decoderOutput || !has(decoder.outputs, decoderOutput))
    throw mismatch(dir, decoder, `it has no output named "${decoderOutput ?? ''}"`);
  if (!fits(port(decoder.outputs, decoderOutput), image)) {
    throw mismatch(
      dir,
      decoder,
      `its output ${decoderOutput} is not shaped like the encoder's image input, ${dimsText(['N', ...image.slice(1)])}`,
    );
  }
  return { imageInput, latentInput, encoderLabel: cond?.encoderInput, decoderLabel: cond?.decoderInput, decoderOutput };
}

/** uint8 N×H×W×C → the model's input values, in its layout. */
export function toModelInput(m: ModelManifest, norm: Normalisation, images: Uint8Array, count: number): Float32Array {
  const { width: w, height: h, channels: c } = m.input;
  const out = new Float32Array(count * w * h * c);
  const scale = norm.std.map((s) => 1 / (255 * s));
  const shift = norm.mean.map((mean, ch) => mean / norm.std[ch]!);
  const plane = w * h;
  for (let n = 0; n < count; n++) {
    const base = n * plane * c;
    for (let i = 0; i < plane; i++) {
      for (let ch = 0; ch < c; ch++) {
        const v = images[base + i * c + ch]! * scale[ch]! - shift[ch]!;
        out[m.input.layout === 'NCHW' ? base + ch * plane + i : base + i * c + ch] = v;
      }
    }
  }
  return out;
}

/** The model's image-shaped output in its layout → N×H×W×C order, values unchanged. */
export function fromModelLayout(m: ModelManifest, data: Float32Array, count: number): Float32Array {
  if (m.input.layout === 'NHWC' || m.input.channels === 1) return data;
  const { width: w, height: h, channels: c } = m.input;
  const plane = w * h;
  const out = new Float32Array(data.length);
  for (let n = 0; n < count; n++) {
    const base = n * plane * c;
    for (let i = 0; i < plane; i++) for (let ch = 0; ch < c; ch++) out[base + i * c + ch] = data[base + ch * plane + i]!;
  }
  return out;
}

/** Decoder outputs (NHWC order) → pixel means p in [0, 1]. */
function toPixelMeans(m: ModelManifest, norm: Normalisation, raw: Float32Array): Float32Array {
  const out = new Float32Array(raw.length);
  const c = m.input.channels;
  const kind = m.decoderOutput.kind;
  for (let i = 0; i < raw.length; i++) {
    const v = raw[i]!;
    if (kind === 'logits') out[i] = 1 / (1 + Math.exp(-v));
    else if (kind === 'probabilities') out[i] = v;
    else out[i] = v * norm.std[i % c]! + norm.mean[i % c]!;
  }
  return out;
}

function oneHot(labels: ArrayLike<number> | undefined, start: number, n: number, k: number): NetTensor {
  const data = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    const label = labels ? labels[labels.length === 1 ? 0 : start + i]! : -1;
    if (label >= 0 && label < k) data[i * k + label] = 1;
  }
  return { data, dims: [n, k] };
}

export async function loadImportedCodec(dir: string, manifest: RunManifest): Promise<Codec> {
  const m = manifest.imported!.manifest;
  const encoder = await loadNet(join(dir, m.encoder));
  let decoder: Net;
  try {
    decoder = await loadNet(join(dir, m.decoder));
  } catch (err) {
    encoder.dispose();
    throw err;
  }
  let wiring: Wiring;
  try {
    wiring = checkWiring(dir, m, encoder, decoder);
  } catch (err) {
    encoder.dispose();
    decoder.dispose();
    throw err;
  }
  const norm = normalisation(m.input);
  const L = m.latentSize;
  const k = m.condition?.classes.length ?? 0;
  const px = m.input.width * m.input.height * m.input.channels;

  async function encode(images: Uint8Array, count: number, labels?: ArrayLike<number>) {
    const mu = new Float32Array(count * L);
    const logVar = new Float32Array(count * L);
    for (let start = 0; start < count; start += BATCH) {
      const n = Math.min(BATCH, count - start);
      const feeds: Record<string, NetTensor> = {
        [wiring.imageInput]: { data: toModelInput(m, norm, images.subarray(start * px, (start + n) * px), n), dims: modelImageDims(m, n) },
      };
      if (wiring.encoderLabel) feeds[wiring.encoderLabel] = oneHot(labels, start, n, k);
      const out = await encoder.run(feeds);
      const enc = m.encoderOutputs;
      if (enc.kind === 'mu-logvar') {
        mu.set(out[enc.mu]!.data.subarray(0, n * L), start * L);
        logVar.set(out[enc.logVar]!.data.subarray(0, n * L), start * L);
      } else if (enc.kind === 'concatenated') {
        const both = out[enc.name]!.data;
        for (let i = 0; i < n; i++) {
          mu.set(both.subarray(i * 2 * L, i * 2 * L + L), (start + i) * L);
          logVar.set(both.subarray(i * 2 * L + L, (i + 1) * 2 * L), (start + i) * L);
        }
      } else {
        mu.set(out[enc.name]!.data.subarray(0, n * L), start * L);
        logVar.fill(Number.NaN, start * L, (start + n) * L);
      }
    }
    return { mu, logVar };
  }

  /** Raw decoder outputs in N×H×W×C order. */
  async function decodeRaw(latents: Float32Array, count: number, labels?: ArrayLike<number>): Promise<Float32Array> {
    const raw = new Float32Array(count * px);
    for (let start = 0; start < count; start += BATCH) {
      const n = Math.min(BATCH, count - start);
      const feeds: Record<string, NetTensor> = { [wiring.latentInput]: { data: latents.slice(start * L, (start + n) * L), dims: [n, L] } };
      if (wiring.decoderLabel) feeds[wiring.decoderLabel] = oneHot(labels, start, n, k);
      const out = await decoder.run(feeds);
      raw.set(fromModelLayout(m, out[wiring.decoderOutput]!.data.subarray(0, n * px), n), start * px);
    }
    return raw;
  }

  async function encodeWithTerms(images: Uint8Array, count: number, labels: ArrayLike<number> | undefined, eps: Float32Array) {
    const { mu, logVar } = await encode(images, count, labels);
    if (m.encoderOutputs.kind === 'mu' || (m.decoderOutput.kind === 'means' && !manifest.model.sigma)) return { mu, logVar, terms: null };
    const z = new Float32Array(count * L);
    for (let i = 0; i < z.length; i++) z[i] = mu[i]! + Math.exp(0.5 * logVar[i]!) * eps[i]!;
    const ll = (await logLikelihoods(images, await decodeRaw(z, count, labels), count))!;
    return { mu, logVar, terms: { reconstruction: ll.map((v) => -v), kl: await klOf(mu, logVar, count) } };
  }

  async function klOf(mu: Float32Array, logVar: Float32Array, count: number): Promise<Float32Array> {
    const tf = getTf();
    const t = tf.tidy(() => klDivergence(tf.tensor2d(mu, [count, L]) as Tensor2D, tf.tensor2d(logVar, [count, L]) as Tensor2D));
    try {
      return (await t.data()) as Float32Array;
    } finally {
      t.dispose();
    }
  }

  /** −log p(x|z) per image in pixel units p ∈ [0, 1] (as for runs trained here); null when the likelihood is unknown. */
  async function logLikelihoods(images: Uint8Array, raw: Float32Array, count: number): Promise<Float32Array | null> {
    const kind = m.decoderOutput.kind;
    if (kind === 'means' && !manifest.model.sigma) return null;
    const tf = getTf();
    const x = new Float32Array(count * px);
    for (let i = 0; i < x.length; i++) x[i] = images[i]! / 255;
    let decoded: Float32Array;
    if (kind === 'logits') decoded = raw;
    else if (kind === 'probabilities') decoded = raw.map((q) => Math.log(Math.max(q, 1e-7)) - Math.log(Math.max(1 - q, 1e-7)));
    else decoded = toPixelMeans(m, norm, raw);
    // (data(), not dataSync(): the webgpu backend cannot read synchronously in Node.)
    const ll = tf.tidy(() => logLikelihood(manifest.model, tf.tensor2d(x, [count, px]), tf.tensor2d(decoded, [count, px])));
    try {
      return (await ll.data()) as Float32Array;
    } finally {
      ll.dispose();
    }
  }

  return {
    latentSize: L,
    pre: manifest.preprocessing,
    numLabels: k,
    givesTerms: m.encoderOutputs.kind !== 'mu' && (m.decoderOutput.kind !== 'means' || Boolean(manifest.model.sigma)),
    encode,
    encodeWithTerms,
    async decode(latents, count, labels) {
      return pixelsFromMeans(toPixelMeans(m, norm, await decodeRaw(latents, count, labels)));
    },
    async reconstruct(images, count, labels): Promise<Reconstruction> {
      const { mu, logVar } = await encode(images, count, labels);
      const withSpread = m.encoderOutputs.kind !== 'mu';
      // The posterior mean (the picture) and one draw z = μ + σ·ε (the ELBO terms) in one decoder pass.
      const latents = new Float32Array(count * L * (withSpread ? 2 : 1));
      latents.set(mu);
      const perPoint = labels && labels.length !== 1 ? Array.from(labels) : undefined;
      if (withSpread) {
        const eps = standardNormals(count * L, deriveSeed(1, count));
        for (let i = 0; i < count * L; i++) latents[count * L + i] = mu[i]! + Math.exp(0.5 * logVar[i]!) * eps[i]!;
      }
      const both = perPoint ? [...perPoint, ...perPoint] : labels;
      const raw = await decodeRaw(latents, latents.length / L, both);
      const pixels = pixelsFromMeans(toPixelMeans(m, norm, raw.subarray(0, count * px)));
      if (!withSpread) return { pixels, terms: null };
      const ll = await logLikelihoods(images, raw.subarray(count * px), count);
      if (!ll) return { pixels, terms: null };
      const kl = await klOf(mu, logVar, count);
      const terms: ElboTerms[] = [];
      for (let i = 0; i < count; i++) terms.push(elboTerms(-ll[i]!, kl[i]!, px, manifest.model.likelihood));
      return { pixels, terms };
    },
    dispose() {
      encoder.dispose();
      decoder.dispose();
    },
  };
}
