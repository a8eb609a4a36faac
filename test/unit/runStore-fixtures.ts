// Shared by the run-store tests: a manifest, an epoch summary, two tiny layers models and an Adam
// state to save beside them (plain tfjs on the cpu backend; the tests set it up).

import * as tf from '@tensorflow/tfjs';
import { optimizerWeights, type OptimizerWeight } from '../../src/engine/model/trainer';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type EpochSummary, type RunManifest } from '../../src/protocol/model';

/** A version-1 manifest of a 4×4 grey run, state 'training' unless `over` says otherwise. */
export function testManifest(name: string, over: Partial<RunManifest> = {}): RunManifest {
  const now = new Date().toISOString();
  return {
    format: 'latent-atlas-run',
    version: 1,
    name,
    createdAt: now,
    updatedAt: now,
    codeVersion: '0.1.0',
    tfjsVersion: tf.version.tfjs,
    backend: 'cpu',
    state: 'training',
    model: DEFAULT_MODEL,
    training: DEFAULT_TRAINING,
    preprocessing: { width: 4, height: 4, channels: 1, fit: 'cover' },
    labels: [],
    dataset: { source: { kind: 'demo' }, count: 10, skipped: 0, fingerprint: 'x' },
    epochsCompleted: 0,
    step: 0,
    checkpoint: null,
    last: null,
    ...over,
  };
}

/** A complete epoch summary whose figures depend on the epoch. */
export function summary(epoch: number): EpochSummary {
  const terms = { reconstruction: 10 - epoch, kl: 1, elbo: -(11 - epoch), bitsPerDim: 0.1 };
  return {
    epoch,
    step: epoch * 5,
    train: terms,
    validation: terms,
    klPerDim: [0.5, 0.5],
    activeUnits: 2,
    imagesPerSecond: 100,
    seconds: 1,
    backend: 'cpu',
    time: new Date().toISOString(),
  };
}

/** An encoder 16 → 8 → (μ, log σ²) of size 2 and a decoder 2 → 16, seeded. */
export function tinyModels(): { encoder: tf.LayersModel; decoder: tf.LayersModel } {
  const x = tf.input({ shape: [16] });
  const h = tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(x);
  const mu = tf.layers.dense({ units: 2, name: 'mu' }).apply(h) as tf.SymbolicTensor;
  const lv = tf.layers.dense({ units: 2, name: 'logvar' }).apply(h) as tf.SymbolicTensor;
  const encoder = tf.model({ inputs: x, outputs: [mu, lv] });
  const z = tf.input({ shape: [2] });
  const out = tf.layers.dense({ units: 16, activation: 'sigmoid' }).apply(z) as tf.SymbolicTensor;
  const decoder = tf.model({ inputs: z, outputs: out });
  return { encoder, decoder };
}

/** Adam's state after one step on the encoder, as the trainer hands it to the run store. */
export async function adamState(encoder: tf.LayersModel): Promise<OptimizerWeight[]> {
  const opt = tf.train.adam(0.01);
  const xs = tf.randomNormal([4, 16], 0, 1, 'float32', 3);
  opt.minimize(() => tf.mean(tf.square((encoder.predict(xs) as tf.Tensor[])[0]!)) as tf.Scalar);
  return optimizerWeights(opt);
}
