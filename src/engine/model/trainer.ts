// The training loop: Adam on the (β-weighted) negative ELBO, seeded shuffling and noise, a seeded
// validation split, figures streamed through hooks, cancellation at any step, exact resume.
//
// Reproducibility: the split depends on the seed, epoch e's order on (seed, e), step s's noise on
// (seed, s). So a run resumed after epoch k with its weights and Adam state continues exactly the
// stream an uninterrupted run would have used.

import type { BackendName, ElboTerms, EpochSummary, Likelihood, Preprocessing, TrainingConfig } from '../../protocol/model';
import type { ProgressEvent } from '../../protocol/engine';
import { type ImageSet, gatherBatch, runSplit, subset } from './batches';
import { EpochCurve } from './curve';
import { estimateLogPx, evaluate } from './evaluate';
import { decodeRaw, encodeBatch, pixelCount, type VaeModel } from './model';
import { elboEstimate, elboTerms, trainingLoss } from './objective';
import { deriveSeed, permutation } from '../rng';
import { getTf, type Tensor, type Tensor2D } from '../tf';

export { evaluate, estimateLogPx, type Evaluation, type LogPxEstimate } from './evaluate';
export { runSplit } from './batches';

export interface TrainData {
  /** count × H × W × C bytes. */
  images: Uint8Array;
  count: number;
  /** Label index per image (−1 = none); may be empty. */
  labels: Int32Array;
  numLabels: number;
  pre: Preprocessing;
}

/** Adam's state as plain arrays, so the run store can write it next to a checkpoint. */
export interface OptimizerWeight {
  name: string;
  shape: number[];
  values: Float32Array;
}

export interface TrainState {
  epochsCompleted: number;
  step: number;
  /** Adam's iteration count and moments at the end of epoch `epochsCompleted`. */
  optimizerWeights?: OptimizerWeight[];
}

export type TrainProgress = Omit<ProgressEvent, 'type' | 'requestId'>;

export interface TrainHooks {
  /** Running figures of the current epoch, at most ~10 times per second. */
  onProgress(p: TrainProgress): void;
  /**
   * Awaited at each epoch end, with the state to persist next to the model weights (a checkpoint).
   * The weights in `vae` are those at the end of this epoch until this promise resolves.
   */
  onEpoch(summary: EpochSummary, state: TrainState): Promise<void>;
  /**
   * Checked at every step; true ends training there, discarding the unfinished epoch. Checked once
   * more after the last epoch, so a stop during its evaluation or checkpoint still reads 'cancelled'.
   */
  shouldStop(): boolean;
}

export interface TrainOptions {
  backend: BackendName;
  /** Also estimate log p(x) with this many importance samples on validation at epoch ends (0 = off). */
  iwaeSamples?: number;
  /** Cap on validation images used for that estimate (it costs k decoder passes per image). */
  iwaeMaxImages?: number;
}

export interface TrainOutcome {
  state: 'complete' | 'cancelled';
  trainState: TrainState;
}

const PROGRESS_INTERVAL_MS = 100;
/** Figures over the training set (when nothing is held out) use at most this many images. */
const TRAIN_EVAL_MAX = 5000;
const SEED_ORDER = 2;
const SEED_NOISE = 3;
const SEED_EVAL = 4;

export async function optimizerWeights(optimizer: import('@tensorflow/tfjs').Optimizer): Promise<OptimizerWeight[]> {
  const named = await optimizer.getWeights();
  const out: OptimizerWeight[] = [];
  for (const [i, w] of named.entries()) {
    out.push({ name: w.name, shape: w.tensor.shape.slice(), values: Float32Array.from(await w.tensor.data()) });
    // getWeights() makes a fresh scalar for the iteration count; the moments are live variables.
    if (i === 0 && w.name === 'iter') w.tensor.dispose();
  }
  return out;
}

export async function setOptimizerWeights(optimizer: import('@tensorflow/tfjs').Optimizer, weights: OptimizerWeight[]): Promise<void> {
  const tf = getTf();
  const tensors = weights.map((w) => ({ name: w.name, tensor: tf.tensor(w.values, w.shape) }));
  await optimizer.setWeights(tensors);
  tf.dispose(tensors.map((t) => t.tensor));
}

function meanTerms(logLikSum: number, klSum: number, images: number, pixels: number, likelihood: Likelihood): ElboTerms {
  return images > 0 ? elboTerms(-logLikSum / images, klSum / images, pixels, likelihood) : elboTerms(NaN, NaN, pixels, likelihood);
}

/**
 * Trains `vae` in place for cfg.epochs epochs in total (continuing from `resume` when given).
 * Resolves 'cancelled' when hooks.shouldStop() turned true, even after the last epoch's steps; the
 * returned state is then that of the last completed epoch (the one the last onEpoch call saw),
 * which is the last of all when the stop came after its steps.
 */
export async function trainVae(
  vae: VaeModel,
  data: TrainData,
  cfg: TrainingConfig,
  hooks: TrainHooks,
  resume?: TrainState,
  opts: TrainOptions = { backend: 'cpu' },
): Promise<TrainOutcome> {
  const tf = getTf();
  if (data.count !== 0 && data.images.length !== data.count * pixelCount(data.pre)) {
    throw new Error(
      `Training data holds ${data.images.length} bytes, but ${data.count} images of ${data.pre.width}×${data.pre.height}×${data.pre.channels} need ${data.count * pixelCount(data.pre)}.`,
    );
  }
  const [want, got] = [vae.pre, data.pre].map((p) => `${p.width}×${p.height}×${p.channels}`);
  if (want !== got)
    throw new Error(`The model takes ${want} images but the training data is ${got}; load the data with the run's preprocessing.`);
  if (!(cfg.batchSize >= 1) || !(cfg.learningRate > 0) || !(cfg.epochs >= 1)) {
    throw new Error(`Invalid training settings: batchSize ${cfg.batchSize}, learningRate ${cfg.learningRate}, epochs ${cfg.epochs}.`);
  }
  const all: ImageSet = { images: data.images, count: data.count, labels: data.labels };
  const split = runSplit(data.count, cfg);
  const validation = split.validation.length > 0 ? subset(all, split.validation, data.pre) : null;
  const trainIdx = split.train;
  const evalSet = validation ?? subset(all, trainIdx.slice(0, TRAIN_EVAL_MAX), data.pre);
  const stepsPerEpoch = Math.ceil(trainIdx.length / cfg.batchSize);
  const pixels = pixelCount(data.pre);
  const dec = { likelihood: vae.model.likelihood, sigma: vae.model.sigma };
  const L = vae.model.latentSize;
  const variables = [...vae.encoder.trainableWeights, ...vae.decoder.trainableWeights].map(
    (w) => w.read() as import('@tensorflow/tfjs').Variable,
  );

  const optimizer = tf.train.adam(cfg.learningRate);
  if (resume?.optimizerWeights?.length) await setOptimizerWeights(optimizer, resume.optimizerWeights);
  let state: TrainState = {
    epochsCompleted: resume?.epochsCompleted ?? 0,
    step: resume?.step ?? 0,
    optimizerWeights: resume?.optimizerWeights,
  };

  try {
    for (let epoch = state.epochsCompleted; epoch < cfg.epochs; epoch++) {
      const order = permutation(trainIdx.length, deriveSeed(cfg.seed, SEED_ORDER, epoch));
      const started = performance.now();
      let lastProgress = started;
      let step = state.step;
      let seen = 0;
      // Sums over the epoch stay on the device; they are read only when progress is reported.
      let logLikSum: Tensor = tf.scalar(0);
      let klSum: Tensor = tf.scalar(0);
      let read = { logLik: 0, kl: 0, seen: 0 };
      const curve = new EpochCurve(pixels, dec.likelihood);
      const readSums = async () => {
        const [logLik, kl] = await Promise.all([logLikSum.data(), klSum.data()]);
        read = { logLik: logLik[0], kl: kl[0], seen };
        return curve.add({ step, images: seen, seconds: (performance.now() - started) / 1000, logLikSum: read.logLik, klSum: read.kl });
      };
      try {
        for (let s = 0; s < stepsPerEpoch; s++) {
          if (hooks.shouldStop()) return { state: 'cancelled', trainState: state };
          const batchIdx = new Int32Array(Math.min(cfg.batchSize, trainIdx.length - s * cfg.batchSize));
          for (let i = 0; i < batchIdx.length; i++) batchIdx[i] = trainIdx[order[s * cfg.batchSize + i]];
          const noiseSeed = deriveSeed(cfg.seed, SEED_NOISE, step);
          const [sumLogLik, sumKl] = tf.tidy(() => {
            const { x, y } = gatherBatch(vae, all, batchIdx);
            let batchLogLik: Tensor | undefined;
            let batchKl: Tensor | undefined;
            optimizer.minimize(
              () => {
                const { mu, logVar } = encodeBatch(vae, x, y, true);
                const eps = tf.randomNormal([batchIdx.length, L], 0, 1, 'float32', noiseSeed) as Tensor2D;
                const est = elboEstimate(x, mu, logVar, (z) => decodeRaw(vae, z, y, true), dec, eps);
                batchLogLik = tf.keep(tf.sum(est.logLikelihood));
                batchKl = tf.keep(tf.sum(est.kl));
                return trainingLoss(est, vae.model.beta);
              },
              false,
              variables,
            );
            const sums = [tf.add(logLikSum, batchLogLik as Tensor), tf.add(klSum, batchKl as Tensor)];
            tf.dispose([batchLogLik as Tensor, batchKl as Tensor]);
            return sums;
          });
          tf.dispose([logLikSum, klSum]);
          logLikSum = sumLogLik;
          klSum = sumKl;
          step++;
          seen += batchIdx.length;
          const now = performance.now();
          if (now - lastProgress >= PROGRESS_INTERVAL_MS || s === stepsPerEpoch - 1) {
            lastProgress = now;
            const recent = await readSums();
            const perSecond = seen / ((now - started) / 1000);
            const epochTerms = meanTerms(read.logLik, read.kl, read.seen, pixels, dec.likelihood);
            const remainingImages = trainIdx.length - seen + (cfg.epochs - epoch - 1) * trainIdx.length;
            hooks.onProgress({
              epoch: epoch + 1,
              epochs: cfg.epochs,
              step,
              stepInEpoch: s + 1,
              stepsPerEpoch,
              terms: recent?.terms ?? epochTerms,
              epochTerms,
              imagesPerSecond: perSecond,
              eta: remainingImages / perSecond,
            });
          }
          // Let the worker's message handler run (a cancel request arrives this way).
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      } finally {
        tf.dispose([logLikSum, klSum]);
      }
      const seconds = (performance.now() - started) / 1000;
      const figures = await evaluate(vae, evalSet, { seed: deriveSeed(cfg.seed, SEED_EVAL) });
      const summary: EpochSummary = {
        epoch: epoch + 1,
        step,
        train: meanTerms(read.logLik, read.kl, read.seen, pixels, dec.likelihood),
        validation: validation ? figures.terms : null,
        klPerDim: figures.klPerDim,
        activeUnits: figures.activeUnits,
        imagesPerSecond: read.seen / seconds,
        seconds,
        backend: opts.backend,
        time: new Date().toISOString(),
        curve: curve.points(),
      };
      if (validation && opts.iwaeSamples && opts.iwaeSamples > 0) {
        const est = await estimateLogPx(vae, validation, opts.iwaeSamples, {
          seed: deriveSeed(cfg.seed, SEED_EVAL, 1),
          maxImages: opts.iwaeMaxImages ?? 1000,
        });
        summary.logPx = { k: opts.iwaeSamples, value: est.logPx };
      }
      state = { epochsCompleted: epoch + 1, step, optimizerWeights: await optimizerWeights(optimizer) };
      await hooks.onEpoch(summary, state);
    }
    return { state: hooks.shouldStop() ? 'cancelled' : 'complete', trainState: state };
  } finally {
    optimizer.dispose();
  }
}
