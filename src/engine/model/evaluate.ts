// Figures on held-out images: the single-sample ELBO with both terms, KL per latent dimension,
// active units, and the importance-sampled estimate of log p(x).

import type { ElboTerms } from '../../protocol/model';
import { type ImageSet, gatherBatch, range } from './batches';
import { decodeRaw, encodeBatch, pixelCount, type VaeModel } from './model';
import { elboEstimate, elboTerms, importanceLogWeights, klPerDimension, logMeanExp } from './objective';
import { deriveSeed } from '../rng';
import { getTf, type Tensor2D } from '../tf';

export interface Evaluation {
  terms: ElboTerms;
  /** Mean KL per latent dimension, nats. */
  klPerDim: number[];
  /** Dimensions with Var_x(μ_i) > 0.01. */
  activeUnits: number;
}

export interface EvaluateOptions {
  /** Fixes the noise draws, so two evaluations of the same weights agree. */
  seed: number;
  batchSize?: number;
}

/** Mean ELBO terms (one z per image), KL per dimension and active units over a set of images. */
export async function evaluate(vae: VaeModel, set: ImageSet, opts: EvaluateOptions): Promise<Evaluation> {
  if (set.count < 1) throw new Error('evaluate: the image set is empty.');
  const tf = getTf();
  const L = vae.model.latentSize;
  const batchSize = opts.batchSize ?? 500;
  const dec = { likelihood: vae.model.likelihood, sigma: vae.model.sigma };
  let logLikSum = 0;
  let klSum = 0;
  const klDimSum = new Float64Array(L);
  const muSum = new Float64Array(L);
  const muSqSum = new Float64Array(L);
  for (let start = 0, b = 0; start < set.count; start += batchSize, b++) {
    const n = Math.min(batchSize, set.count - start);
    const [logLik, kl, klDim, mu] = tf.tidy(() => {
      const { x, y } = gatherBatch(vae, set, range(start, n));
      const { mu, logVar } = encodeBatch(vae, x, y);
      const eps = tf.randomNormal([n, L], 0, 1, 'float32', deriveSeed(opts.seed, b)) as Tensor2D;
      const est = elboEstimate(x, mu, logVar, (z) => decodeRaw(vae, z, y), dec, eps);
      return [tf.sum(est.logLikelihood), tf.sum(est.kl), tf.sum(klPerDimension(mu, logVar), 0), mu];
    });
    // Asynchronous reads: the WebGPU backend cannot read a tensor synchronously in Node.
    const [logLikValue, klValue, klDimValues, muValues] = await Promise.all([logLik.data(), kl.data(), klDim.data(), mu.data()]);
    logLikSum += logLikValue[0];
    klSum += klValue[0];
    for (let d = 0; d < L; d++) klDimSum[d] += klDimValues[d];
    for (let i = 0; i < muValues.length; i++) {
      muSum[i % L] += muValues[i];
      muSqSum[i % L] += muValues[i] * muValues[i];
    }
    tf.dispose([logLik, kl, klDim, mu]);
  }
  let active = 0;
  for (let d = 0; d < L; d++) {
    const mean = muSum[d] / set.count;
    if (muSqSum[d] / set.count - mean * mean > 0.01) active++;
  }
  return {
    terms: elboTerms(-logLikSum / set.count, klSum / set.count, pixelCount(vae.pre), vae.model.likelihood),
    klPerDim: Array.from(klDimSum, (v) => v / set.count),
    activeUnits: active,
  };
}

export interface LogPxEstimate {
  k: number;
  count: number;
  /** Mean k-sample IWAE estimate of log p(x), nats per image. */
  logPx: number;
  /** Mean ELBO over the same images and draws (the mean of the log weights), nats per image. */
  elbo: number;
}

/** Importance-sampled log p(x) with k draws per image, over at most `maxImages` of the set. */
export async function estimateLogPx(
  vae: VaeModel,
  set: ImageSet,
  k: number,
  opts: EvaluateOptions & { maxImages?: number },
): Promise<LogPxEstimate> {
  const tf = getTf();
  const count = Math.min(set.count, opts.maxImages ?? set.count);
  if (count < 1) throw new Error('estimateLogPx: the image set is empty.');
  const batchSize = opts.batchSize ?? 200;
  const dec = { likelihood: vae.model.likelihood, sigma: vae.model.sigma };
  let logPxSum = 0;
  let elboSum = 0;
  for (let start = 0, b = 0; start < count; start += batchSize, b++) {
    const n = Math.min(batchSize, count - start);
    const [bound, elbo] = tf.tidy(() => {
      const { x, y } = gatherBatch(vae, set, range(start, n));
      const { mu, logVar } = encodeBatch(vae, x, y);
      const logW = importanceLogWeights(x, mu, logVar, (z) => decodeRaw(vae, z, y), dec, k, deriveSeed(opts.seed, b));
      return [tf.sum(logMeanExp(logW, 0)), tf.sum(tf.mean(logW, 0))];
    });
    const [boundValue, elboValue] = await Promise.all([bound.data(), elbo.data()]);
    logPxSum += boundValue[0];
    elboSum += elboValue[0];
    tf.dispose([bound, elbo]);
  }
  return { k, count, logPx: logPxSum / count, elbo: elboSum / count };
}
