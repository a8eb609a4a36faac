// Shapes shared by the engine, the host, the CLI and the webview: model and training
// configuration, the figures a training run reports, and the run manifest.

import type { ModelManifest } from './importedModel';

export type Architecture = 'mlp' | 'conv';
export type Likelihood = 'bernoulli' | 'gaussian';

/** The compute backends, in the order the engine tries them. */
export type BackendName = 'tensorflow-gpu' | 'webgpu' | 'tensorflow' | 'wasm' | 'cpu';
export type BackendChoice = 'auto' | BackendName;

export interface BackendReport {
  name: BackendName;
  /** Backends tried before this one and why each was passed over, in plain words. */
  skipped: { name: BackendName; reason: string }[];
  /** wasm only: SIMD in use, and the thread count (1 when threads are off). */
  simd?: boolean;
  threads?: number;
  /** webgpu only: the GPU adapter in use. */
  adapter?: GpuAdapterReport;
}

/** A WebGPU adapter as the engine reports it (from GPUAdapterInfo and GPUAdapter.limits). */
export interface GpuAdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A software rasteriser (llvmpipe, SwiftShader, WARP…) rather than a GPU. */
  software: boolean;
  /** The limits that bound model and batch sizes on this adapter, in bytes or invocations. */
  limits: {
    maxBufferSize: number;
    maxStorageBufferBindingSize: number;
    maxComputeWorkgroupStorageSize: number;
    maxComputeInvocationsPerWorkgroup: number;
  };
}

export interface ModelConfig {
  architecture: Architecture;
  /** Size of z. 2 by default, so the scatter is the latent space itself. */
  latentSize: number;
  /** Hidden layer widths of the MLP encoder (the decoder mirrors them). Default [400]. */
  hiddenUnits: number[];
  /** Filters per stride-2 conv block of the conv encoder (decoder mirrors them). Default [32, 64]. */
  convFilters: number[];
  likelihood: Likelihood;
  /** Standard deviation of the Gaussian decoder, in pixel units scaled to [0, 1]. */
  sigma: number;
  /** Weight of the KL term (beta-VAE); 1 is the plain ELBO. */
  beta: number;
  /** Feed a one-hot label (the sub-folder) to encoder and decoder. */
  conditional: boolean;
}

export interface TrainingConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** Fraction of the images held out for validation figures, 0 ≤ v < 1. */
  validationSplit: number;
  /** Makes initialisation, shuffling, the split and the noise reproducible on one backend. */
  seed: number;
  /**
   * Importance samples of the log p(x) estimate on validation at each epoch end (0 = off). Stored
   * so a resume keeps it; runs written before it was stored lack it (read as 0).
   */
  iwaeSamples?: number;
}

export interface Preprocessing {
  width: number;
  height: number;
  channels: 1 | 3;
  /** How an image of another aspect ratio is brought to width × height. */
  fit: 'cover' | 'contain' | 'fill';
}

export const DEFAULT_MODEL: ModelConfig = {
  architecture: 'mlp',
  latentSize: 2,
  hiddenUnits: [400],
  convFilters: [32, 64],
  likelihood: 'bernoulli',
  sigma: 0.1,
  beta: 1,
  conditional: false,
};

export const DEFAULT_TRAINING: TrainingConfig = {
  epochs: 10,
  batchSize: 128,
  learningRate: 1e-3,
  validationSplit: 0.1,
  seed: 42,
};

/**
 * The ELBO and its two terms, averaged over images, in nats per image.
 * `reconstruction` is −E_q[log p(x|z)] (a loss: lower is better), `kl` is KL(q(z|x) || p(z)),
 * `elbo` = −reconstruction − kl (higher is better; −elbo is what falls during training).
 */
export interface ElboTerms {
  reconstruction: number;
  kl: number;
  elbo: number;
  /** −elbo / (ln 2 · pixels) (+ 8 for a Gaussian decoder: 8-bit data), for people who compare in bits per dimension. */
  bitsPerDim: number;
}

/** Training figures over a short stretch of steps (about 100 ms of training, or merged stretches). */
export interface CurvePoint {
  /** Global optimiser step at the end of the stretch. */
  step: number;
  /** Means over the stretch's images, nats per image. */
  terms: ElboTerms;
  imagesPerSecond: number;
}

export interface EpochSummary {
  epoch: number;
  /** Global optimiser step at the end of this epoch. */
  step: number;
  train: ElboTerms;
  validation: ElboTerms | null;
  /** KL per latent dimension on the validation set (or training set when there is none), nats. */
  klPerDim: number[];
  /** Dimensions with Var_x(μ_i) > 0.01. */
  activeUnits: number;
  /** k-sample importance-weighted estimate of log p(x) on validation, when computed. */
  logPx?: { k: number; value: number };
  imagesPerSecond: number;
  seconds: number;
  backend: BackendName;
  time: string;
  /**
   * The epoch's training curve: means over consecutive stretches of steps (at most 128 per
   * epoch), so the per-step chart can be redrawn from the run folder after a reload.
   */
  curve?: CurvePoint[];
}

export type DatasetSource = { kind: 'folder'; path: string } | { kind: 'demo' };

export interface DatasetSummary {
  source: DatasetSource;
  /** Images used, and files that were skipped with their reasons. */
  count: number;
  skipped: number;
  /** Hash over relative paths, sizes and mtimes of the images used. */
  fingerprint: string;
}

export type RunState = 'training' | 'complete' | 'cancelled' | 'failed';

/** run.json — the versioned manifest of a run folder. */
export interface RunManifest {
  format: 'latent-atlas-run';
  version: 1;
  name: string;
  createdAt: string;
  updatedAt: string;
  /** Version of Latent Atlas that wrote it. */
  codeVersion: string;
  tfjsVersion: string;
  backend: BackendName;
  /** The GPU adapter of a webgpu training (absent on other backends). */
  adapter?: GpuAdapterReport;
  state: RunState;
  model: ModelConfig;
  training: TrainingConfig;
  preprocessing: Preprocessing;
  /** Class names in label-index order ([] when the data has no sub-folders). */
  labels: string[];
  dataset: DatasetSummary;
  epochsCompleted: number;
  step: number;
  /** Folder (relative to the run) of the last good checkpoint, or null before the first epoch. */
  checkpoint: string | null;
  /** Figures of the last completed epoch. */
  last: EpochSummary | null;
  /**
   * Set for a model trained elsewhere (a folder with latent-atlas-model.json): the run is made up
   * from that manifest by the engine and never written as run.json.
   */
  imported?: ImportedModelInfo;
}

/** A model trained elsewhere: its files' kind and the manifest that describes it. */
export interface ImportedModelInfo {
  format: 'onnx' | 'tfjs';
  manifest: ModelManifest;
}
