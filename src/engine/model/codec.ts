// What the requests that use a model need from it — encode images, decode latents, reconstruct
// with the ELBO's terms — whether the model was trained here (tfjs layers, below) or elsewhere
// (ONNX / tfjs files described by a manifest, ../imported/importedCodec.ts).

import type { ElboTerms, Preprocessing } from '../../protocol/model';
import { getTf, type Tensor2D } from '../tf';
import {
  decodeBatch,
  decodeLatents,
  decodeRaw,
  encodeBatch,
  encodeImages,
  imagesToInput,
  labelsToInput,
  pixelCount,
  toUint8Images,
  type VaeModel,
} from './model';
import { elboEstimate, elboTerms } from './objective';

export interface Reconstruction {
  /** The posterior mean decoded, uint8 count × H × W × C. */
  pixels: Uint8Array;
  /** ELBO terms per image from one posterior draw; null when the model's likelihood or posterior is not known. */
  terms: ElboTerms[] | null;
}

/** Per image: −log p(x|z) at z = μ + σ·ε for the ε given, and the closed-form KL, nats. */
export interface ImageTerms {
  reconstruction: Float32Array;
  kl: Float32Array;
}

export interface Codec {
  readonly latentSize: number;
  readonly pre: Preprocessing;
  /** Size of the one-hot label input; 0 for an unconditional model. */
  readonly numLabels: number;
  /** Whether encodeWithTerms gives ELBO terms (false for an autoencoder or a Gaussian decoder without σ). */
  readonly givesTerms: boolean;
  /** Posterior means and log-variances (NaN log-variances for a plain autoencoder), count × latentSize each. */
  encode(images: Uint8Array, count: number, labels?: ArrayLike<number>): Promise<{ mu: Float32Array; logVar: Float32Array }>;
  /**
   * As encode, plus each image's ELBO terms from one draw z = μ + σ·ε with the noise `eps`
   * (count × latentSize); terms null when the model's likelihood or posterior is not known.
   */
  encodeWithTerms(
    images: Uint8Array,
    count: number,
    labels: ArrayLike<number> | undefined,
    eps: Float32Array,
  ): Promise<{ mu: Float32Array; logVar: Float32Array; terms: ImageTerms | null }>;
  /** uint8 images count × H × W × C; `labels` holds one label for all or one per point. */
  decode(latents: Float32Array, count: number, labels?: ArrayLike<number>): Promise<Uint8Array>;
  reconstruct(images: Uint8Array, count: number, labels?: ArrayLike<number>): Promise<Reconstruction>;
  dispose(): void;
}

/** A model trained here. */
export function tfjsCodec(vae: VaeModel): Codec {
  return {
    latentSize: vae.model.latentSize,
    pre: vae.pre,
    numLabels: vae.numLabels,
    givesTerms: true,
    encode: (images, count, labels) => encodeImages(vae, images, count, labels),
    async encodeWithTerms(images, count, labels, eps) {
      const tf = getTf();
      const L = vae.model.latentSize;
      const mu = new Float32Array(count * L);
      const logVar = new Float32Array(count * L);
      const reconstruction = new Float32Array(count);
      const kl = new Float32Array(count);
      const px = pixelCount(vae.pre);
      for (let start = 0; start < count; start += 256) {
        const n = Math.min(256, count - start);
        const out = tf.tidy(() => {
          const x = imagesToInput(vae, images.subarray(start * px, (start + n) * px), n);
          const y = labelsToInput(vae, labels && Array.prototype.slice.call(labels, start, start + n), n);
          const post = encodeBatch(vae, x, y);
          const e = tf.tensor2d(eps.subarray(start * L, (start + n) * L), [n, L]);
          const est = elboEstimate(x, post.mu, post.logVar, (z) => decodeRaw(vae, z, y), vae.model, e);
          return [post.mu, post.logVar, tf.neg(est.logLikelihood), est.kl];
        });
        const values = await Promise.all(out.map((t) => t.data()));
        tf.dispose(out);
        mu.set(values[0]!, start * L);
        logVar.set(values[1]!, start * L);
        reconstruction.set(values[2]!, start);
        kl.set(values[3]!, start);
      }
      return { mu, logVar, terms: { reconstruction, kl } };
    },
    decode: (latents, count, labels) => decodeLatents(vae, latents, count, labels),
    async reconstruct(images, count, labels) {
      const tf = getTf();
      const px = pixelCount(vae.pre);
      // One pass through the encoder: the reconstruction decodes the posterior mean, and the ELBO
      // terms use the same posterior with one draw.
      const [means, ll, kl] = tf.tidy(() => {
        const x = imagesToInput(vae, images, count);
        const y = labelsToInput(vae, labels, count);
        const post = encodeBatch(vae, x, y);
        const eps = tf.randomNormal(post.mu.shape, 0, 1, 'float32', 1) as Tensor2D;
        const est = elboEstimate(x, post.mu, post.logVar, (z) => decodeRaw(vae, z, y), vae.model, eps);
        return [decodeBatch(vae, post.mu, y), est.logLikelihood, est.kl];
      });
      try {
        const [pixels, llv, klv] = await Promise.all([toUint8Images(means!), ll!.data(), kl!.data()]);
        const terms: ElboTerms[] = [];
        for (let i = 0; i < count; i++) terms.push(elboTerms(-llv[i]!, klv[i]!, px, vae.model.likelihood));
        return { pixels, terms };
      } finally {
        tf.dispose([means!, ll!, kl!]);
      }
    },
    dispose() {
      vae.encoder.dispose();
      vae.decoder.dispose();
    },
  };
}
