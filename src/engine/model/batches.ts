// Turning a uint8 image array into model batches, and the seeded train/validation split.

import type { Preprocessing, TrainingConfig } from '../../protocol/model';
import { imageShape, labelsToInput, pixelCount, type VaeModel } from './model';
import { deriveSeed, permutation } from '../rng';
import { getTf, type Tensor, type Tensor2D } from '../tf';

/** Images the engine trains on or evaluates: count × H × W × C bytes, one label per image. */
export interface ImageSet {
  images: Uint8Array;
  count: number;
  /** Label index per image (−1 = none); may be empty when the data has no labels. */
  labels: Int32Array;
}

/**
 * The batch of the images at `indices`, scaled to [0, 1]. A Bernoulli decoder then treats each
 * grey value as the probability of a white pixel (no binarisation), as most VAE code does.
 */
export function gatherBatch(vae: VaeModel, set: ImageSet, indices: ArrayLike<number>): { x: Tensor; y?: Tensor2D } {
  const px = pixelCount(vae.pre);
  const n = indices.length;
  // A fresh buffer per batch: the cpu backend keeps the array it is given instead of copying it.
  const floats = new Float32Array(n * px);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const src = indices[i] * px;
    const dst = i * px;
    for (let p = 0; p < px; p++) floats[dst + p] = set.images[src + p] / 255;
    labels[i] = set.labels.length > 0 ? set.labels[indices[i]] : -1;
  }
  const x = getTf().tensor(floats, [n, ...imageShape(vae.model, vae.pre)]);
  return { x, y: labelsToInput(vae, labels, n) };
}

/** Indices start..start+n−1. */
export function range(start: number, n: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = start + i;
  return out;
}

/** Seeded split: the first ⌊count·fraction⌋ of a random order are held out for validation. */
export function splitIndices(count: number, fraction: number, seed: number): { train: Int32Array; validation: Int32Array } {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new Error(`validationSplit must be at least 0 and below 1, got ${fraction}. Change the training settings.`);
  }
  const order = permutation(count, seed);
  const held = Math.floor(count * fraction);
  if (count - held < 1) throw new Error(`Only ${count} image(s): too few to train on after holding out ${held} for validation.`);
  return { validation: order.slice(0, held), train: order.slice(held) };
}

/**
 * The split trainVae makes for a run: splitIndices with the seed derived as deriveSeed(seed, 1).
 * Use this (not a copy of it) wherever a run's validation images are needed again.
 */
export function runSplit(
  count: number,
  cfg: Pick<TrainingConfig, 'validationSplit' | 'seed'>,
): { train: Int32Array; validation: Int32Array } {
  return splitIndices(count, cfg.validationSplit, deriveSeed(cfg.seed, 1));
}

/** Copies the images at `indices` into a new, contiguous set. */
export function subset(set: ImageSet, indices: ArrayLike<number>, pre: Preprocessing): ImageSet {
  const px = pre.width * pre.height * pre.channels;
  const images = new Uint8Array(indices.length * px);
  const labels = new Int32Array(set.labels.length > 0 ? indices.length : 0);
  for (let i = 0; i < indices.length; i++) {
    images.set(set.images.subarray(indices[i] * px, (indices[i] + 1) * px), i * px);
    if (labels.length > 0) labels[i] = set.labels[indices[i]];
  }
  return { images, count: indices.length, labels };
}
