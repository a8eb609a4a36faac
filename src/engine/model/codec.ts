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

export interface Codec {
  readonly latentSize: number;
  readonly pre: Preprocessing;
  /** Size of the one-hot label input; 0 for an unconditional model. */
  readonly numLabels: number;
  /** Posterior means and log-variances (NaN log-variances for a plain autoencoder), count × latentSize each. */
  encode(images: Uint8Array, count: number, labels?: ArrayLike<number>): Promise<{ mu: Float32Array; logVar: Float32Array }>;
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
    encode: (images, count, labels) => encodeImages(vae, images, count, labels),
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
