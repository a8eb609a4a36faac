// The VAE objective as pure functions of tensors, all in nats per image.
// Shapes: x and decoder outputs are [batch, pixels] (anything else is flattened per image);
// mu, logVar, z and eps are [batch, latent].

import type { ElboTerms, Likelihood } from '../../protocol/model';
import { deriveSeed } from '../rng';
import { getTf, type Scalar, type Tensor, type Tensor1D, type Tensor2D } from '../tf';

const LOG_2PI = Math.log(2 * Math.PI);

/** How pixels are modelled given z. sigma is used by the Gaussian decoder only. */
export interface DecoderLikelihood {
  likelihood: Likelihood;
  sigma: number;
}

/** Maps z (one row per image of the batch) to decoder outputs: logits (Bernoulli) or means (Gaussian). */
export type DecodeFn = (z: Tensor2D) => Tensor;

function perImage(t: Tensor): Tensor2D {
  return t.reshape([t.shape[0], -1]) as Tensor2D;
}

/**
 * log p(x|z) for a Bernoulli decoder from its logits l: Σ x·l − softplus(l), which stays finite for
 * any logit (softplus(l) = log(1 + e^l) without overflow). Grey values x in [0, 1] are used as
 * probabilities (the usual continuous relaxation; no binarisation).
 */
export function bernoulliLogLikelihood(x: Tensor, logits: Tensor): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => {
    const l = perImage(logits);
    return tf.sum(tf.sub(tf.mul(perImage(x), l), tf.softplus(l)), 1) as Tensor1D;
  });
}

/** log p(x|z) for a Gaussian decoder with fixed σ: −Σ(x−m)²/2σ² − D·½·log(2πσ²). */
export function gaussianLogLikelihood(x: Tensor, mean: Tensor, sigma: number): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => {
    const xf = perImage(x);
    const pixels = xf.shape[1];
    const squared = tf.sum(tf.squaredDifference(xf, perImage(mean)), 1);
    return tf.sub(tf.mul(squared, -0.5 / (sigma * sigma)), gaussianNormaliser(pixels, sigma)) as Tensor1D;
  });
}

/** D·½·log(2πσ²): the part of −log p(x|z) that does not depend on the reconstruction. */
export function gaussianNormaliser(pixels: number, sigma: number): number {
  return 0.5 * pixels * (LOG_2PI + 2 * Math.log(sigma));
}

export function logLikelihood(dec: DecoderLikelihood, x: Tensor, decoded: Tensor): Tensor1D {
  return dec.likelihood === 'bernoulli' ? bernoulliLogLikelihood(x, decoded) : gaussianLogLikelihood(x, decoded, dec.sigma);
}

/** KL(N(μ, diag σ²) ‖ N(0, I)) per latent dimension: ½(μ² + σ² − 1 − log σ²). */
export function klPerDimension(mu: Tensor2D, logVar: Tensor2D): Tensor2D {
  const tf = getTf();
  return tf.tidy(() => tf.mul(tf.sub(tf.add(tf.square(mu), tf.exp(logVar)), tf.add(logVar, 1)), 0.5) as Tensor2D);
}

/** KL(q(z|x) ‖ p(z)) per image, in closed form. */
export function klDivergence(mu: Tensor2D, logVar: Tensor2D): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => tf.sum(klPerDimension(mu, logVar), 1) as Tensor1D);
}

/** z = μ + σ·ε: a sample of q(z|x) that is differentiable in μ and log σ². */
export function reparameterise(mu: Tensor2D, logVar: Tensor2D, eps: Tensor2D): Tensor2D {
  const tf = getTf();
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as Tensor2D);
}

/** log N(z; μ, diag exp(logVar)) per row. */
export function logNormalDiagonal(z: Tensor2D, mu: Tensor2D, logVar: Tensor2D): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => {
    const quad = tf.div(tf.squaredDifference(z, mu), tf.exp(logVar));
    return tf.mul(tf.sum(tf.add(tf.add(quad, logVar), LOG_2PI), 1), -0.5) as Tensor1D;
  });
}

/** log N(z; 0, I) per row. */
export function logStandardNormal(z: Tensor2D): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => tf.mul(tf.sum(tf.add(tf.square(z), LOG_2PI), 1), -0.5) as Tensor1D);
}

export interface ElboEstimate {
  /** log p(x|z) at one z ~ q(z|x) per image. */
  logLikelihood: Tensor1D;
  /** KL(q(z|x) ‖ p(z)) per image, closed form. */
  kl: Tensor1D;
}

/** The reparameterised single-sample ELBO estimate, per image: logLikelihood − kl. */
export function elboEstimate(
  x: Tensor,
  mu: Tensor2D,
  logVar: Tensor2D,
  decode: DecodeFn,
  dec: DecoderLikelihood,
  eps: Tensor2D,
): ElboEstimate {
  const tf = getTf();
  return tf.tidy(() => {
    const z = reparameterise(mu, logVar, eps);
    return { logLikelihood: logLikelihood(dec, x, decode(z)), kl: klDivergence(mu, logVar) };
  });
}

/** The loss minimised in training: mean over images of −log p(x|z) + β·KL. β = 1 is the −ELBO. */
export function trainingLoss(estimate: ElboEstimate, beta: number): Scalar {
  const tf = getTf();
  return tf.tidy(() => tf.mean(tf.sub(tf.mul(estimate.kl, beta), estimate.logLikelihood)) as Scalar);
}

/** log((1/k) Σ_j exp(a_j)) along `axis`, shifted by the maximum so nothing overflows. */
export function logMeanExp(a: Tensor, axis: number): Tensor {
  const tf = getTf();
  return tf.tidy(() => {
    const max = tf.max(a, axis, true);
    const mean = tf.mean(tf.exp(tf.sub(a, max)), axis);
    return tf.add(tf.log(mean), tf.squeeze(max, [axis]));
  });
}

/**
 * log p(x|z_j) + log p(z_j) − log q(z_j|x) for k draws z_j ~ q(z|x): a [k, batch] tensor.
 * Their mean over j is a k-sample ELBO estimate; their log-mean-exp is the IWAE bound.
 * `seed` fixes the draws.
 */
export function importanceLogWeights(
  x: Tensor,
  mu: Tensor2D,
  logVar: Tensor2D,
  decode: DecodeFn,
  dec: DecoderLikelihood,
  k: number,
  seed: number,
): Tensor2D {
  const tf = getTf();
  if (!Number.isInteger(k) || k < 1) throw new Error(`importance sampling needs k to be a whole number ≥ 1, got ${k}.`);
  return tf.tidy(() => {
    const logWeights: Tensor1D[] = [];
    for (let j = 0; j < k; j++) {
      const eps = tf.randomNormal(mu.shape, 0, 1, 'float32', deriveSeed(seed, j)) as Tensor2D;
      const z = reparameterise(mu, logVar, eps);
      const logJoint = tf.add(logLikelihood(dec, x, decode(z)), logStandardNormal(z));
      logWeights.push(tf.sub(logJoint, logNormalDiagonal(z, mu, logVar)) as Tensor1D);
    }
    return tf.stack(logWeights) as Tensor2D;
  });
}

/**
 * The k-sample importance-weighted bound (Burda et al. 2015), per image:
 * log (1/k) Σ_j p(x|z_j) p(z_j) / q(z_j|x), z_j ~ q(z|x). k = 1 is the ELBO (in expectation);
 * it never decreases with k in expectation and tends to log p(x).
 */
export function importanceWeightedBound(
  x: Tensor,
  mu: Tensor2D,
  logVar: Tensor2D,
  decode: DecodeFn,
  dec: DecoderLikelihood,
  k: number,
  seed: number,
): Tensor1D {
  const tf = getTf();
  return tf.tidy(() => logMeanExp(importanceLogWeights(x, mu, logVar, decode, dec, k, seed), 0) as Tensor1D);
}

/** Count of latent dimensions whose posterior mean varies across images: Var_x(μ_i) > threshold. */
export async function activeUnits(mu: Tensor2D, threshold = 0.01): Promise<number> {
  const tf = getTf();
  const variance = tf.tidy(() => tf.moments(mu, 0).variance);
  const values = await variance.data();
  variance.dispose();
  let count = 0;
  for (const v of values) if (v > threshold) count++;
  return count;
}

/** Mean terms (nats per image) as reported: reconstruction = −E[log p(x|z)], elbo = −rec − kl. */
export function elboTerms(reconstruction: number, kl: number, pixels: number, likelihood: Likelihood): ElboTerms {
  const elbo = -reconstruction - kl;
  // A Gaussian decoder gives a density on [0, 1], whose bits can be negative; 8-bit data has 256
  // grey levels (bins of width 1/256), so a level costs the density's bits + log2 256 = 8 per pixel.
  return { reconstruction, kl, elbo, bitsPerDim: -elbo / (Math.LN2 * pixels) + (likelihood === 'gaussian' ? 8 : 0) };
}
