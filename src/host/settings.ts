// Settings (`vae.*`) → the engine's ModelConfig / TrainingConfig / Preprocessing / WorkerOptions.
// Pure: takes a getter so it runs without VS Code (unit-tested) and with
// `workspace.getConfiguration('vae').get` in the extension. A value out of bounds or of the
// wrong type falls back to the default and is reported, so a person sees which setting to fix.

import type { WorkerOptions } from '../protocol/engine';
import {
  DEFAULT_MODEL,
  DEFAULT_TRAINING,
  type Architecture,
  type BackendChoice,
  type Likelihood,
  type ModelConfig,
  type Preprocessing,
  type TrainingConfig,
} from '../protocol/model';
import { LIMITS, type Limit } from '../protocol/limits';
import { parseImageSize } from '../protocol/imageSize';

export type SettingsGetter = (key: string) => unknown;

export interface HostSettings {
  model: ModelConfig;
  training: TrainingConfig;
  preprocessing: Partial<Preprocessing>;
  iwaeSamples: number;
  worker: WorkerOptions & { maxMemoryMB: number };
  /** As set: relative to the workspace folder, or absolute. */
  runFolder: string;
  samplesFolder: string;
  /** Encode the training folder and show its points when a training finishes. */
  encodeAfterTraining: boolean;
  /** One plain-words line per setting that was ignored. */
  problems: string[];
}

const ARCHITECTURES: readonly Architecture[] = ['mlp', 'conv'];
const LIKELIHOODS: readonly Likelihood[] = ['bernoulli', 'gaussian'];
const BACKENDS: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'];

export function readSettings(get: SettingsGetter): HostSettings {
  const problems: string[] = [];
  const bad = (key: string, value: unknown, expected: string, fallback: unknown) =>
    problems.push(`Setting vae.${key} = ${JSON.stringify(value)} is not ${expected}; using ${JSON.stringify(fallback)}.`);

  const number = (key: string, fallback: number, min: number, max: number, integer: boolean, exclusiveMax = false) => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    const ok =
      typeof v === 'number' && Number.isFinite(v) && v >= min && (exclusiveMax ? v < max : v <= max) && (!integer || Number.isInteger(v));
    if (ok) return v;
    bad(key, v, `${integer ? 'an integer' : 'a number'} from ${min} to ${exclusiveMax ? 'below ' : ''}${max}`, fallback);
    return fallback;
  };
  const limited = (key: string, fallback: number, limit: Limit) => number(key, fallback, limit.min, limit.max, limit.int);
  const choice = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
    bad(key, v, `one of ${allowed.join(', ')}`, fallback);
    return fallback;
  };
  const intList = (key: string, fallback: number[], max: number) => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && n >= 1 && n <= max)) return v as number[];
    bad(key, v, `a non-empty list of integers from 1 to ${max}`, fallback);
    return fallback;
  };
  const text = (key: string, fallback: string) => {
    const v = get(key);
    if (v === undefined || v === null) return fallback;
    if (typeof v === 'string') return v.trim();
    bad(key, v, 'a string', fallback);
    return fallback;
  };
  const bool = (key: string, fallback: boolean) => {
    const v = get(key);
    if (typeof v === 'boolean') return v;
    if (v !== undefined && v !== null) bad(key, v, 'true or false', fallback);
    return fallback;
  };

  const model: ModelConfig = {
    architecture: choice('architecture', ARCHITECTURES, DEFAULT_MODEL.architecture),
    latentSize: limited('latentSize', DEFAULT_MODEL.latentSize, LIMITS.latentSize),
    hiddenUnits: intList('hiddenUnits', DEFAULT_MODEL.hiddenUnits, LIMITS.hiddenUnits.max),
    convFilters: intList('convFilters', DEFAULT_MODEL.convFilters, LIMITS.convFilters.max),
    likelihood: choice('likelihood', LIKELIHOODS, DEFAULT_MODEL.likelihood),
    sigma: limited('sigma', DEFAULT_MODEL.sigma, LIMITS.sigma),
    beta: limited('beta', DEFAULT_MODEL.beta, LIMITS.beta),
    conditional: bool('conditional', DEFAULT_MODEL.conditional),
  };
  const training: TrainingConfig = {
    epochs: limited('epochs', DEFAULT_TRAINING.epochs, LIMITS.epochs),
    batchSize: limited('batchSize', DEFAULT_TRAINING.batchSize, LIMITS.batchSize),
    learningRate: limited('learningRate', DEFAULT_TRAINING.learningRate, LIMITS.learningRate),
    validationSplit: limited('validationSplit', DEFAULT_TRAINING.validationSplit, LIMITS.validationSplit),
    seed: limited('seed', DEFAULT_TRAINING.seed, LIMITS.seed),
  };

  const preprocessing: Partial<Preprocessing> = {};
  const size = text('imageSize', '');
  if (size !== '') {
    const parsed = parseImageSize(size);
    if (parsed) Object.assign(preprocessing, parsed);
    else bad('imageSize', size, `WIDTHxHEIGHT with sides from ${LIMITS.imageSide.min} to ${LIMITS.imageSide.max} (e.g. 28x28)`, '');
  }
  const channels = choice('channels', ['auto', 'grey', 'colour'] as const, 'auto');
  if (channels !== 'auto') preprocessing.channels = channels === 'grey' ? 1 : 3;

  const nativeModulesPath = text('nativeModulesPath', '');
  return {
    model,
    training,
    preprocessing,
    iwaeSamples: limited('iwaeSamples', 0, LIMITS.iwaeSamples),
    worker: {
      backend: choice('backend', BACKENDS, 'auto'),
      ...(nativeModulesPath ? { nativeModulesPath } : {}),
      threads: limited('wasmThreads', 0, LIMITS.wasmThreads),
      maxMemoryMB: limited('workerMemoryMB', 8192, LIMITS.workerMemoryMB),
    },
    runFolder: text('runFolder', '.vae') || '.vae',
    samplesFolder: text('samplesFolder', 'samples') || 'samples',
    encodeAfterTraining: bool('encodeAfterTraining', true),
    problems,
  };
}

/** The keys under `vae.` that readSettings reads. */
export function settingKeys(): string[] {
  const keys: string[] = [];
  readSettings((key) => {
    keys.push(key);
    return undefined;
  });
  return keys;
}

/** Read the same way by the CLI's --size (src/protocol/imageSize.ts). */
export { parseImageSize };
