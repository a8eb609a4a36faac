// Reads and checks latent-atlas-model.json, the manifest of a model trained elsewhere, and presents
// the model folder as a run (a RunManifest the rest of the engine and the host already read):
// complete, no epochs, its "checkpoint" a fingerprint of the model files, so a replaced model file
// reloads the model and re-encodes folders.

import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { basename, extname, join } from 'node:path';
import {
  MODEL_MANIFEST_FILE,
  MODEL_MANIFEST_FORMAT,
  MODEL_MANIFEST_VERSION,
  type ModelInput,
  type ModelManifest,
} from '../../protocol/importedModel';
import { DEFAULT_TRAINING, type ImportedModelInfo, type RunManifest } from '../../protocol/model';
import { limitProblem } from '../../protocol/limits';
import { EngineError } from '../../protocol/errors';

/** The per-channel normalisation x = (p − mean) / std, one entry per channel. */
export interface Normalisation {
  mean: number[];
  std: number[];
}

export function normalisation(input: ModelInput): Normalisation {
  const c = input.channels;
  const spread = (v: number[]) => Array.from({ length: c }, (_, i) => v[v.length === 1 ? 0 : i]!);
  const n = input.normalize;
  if (!n) return { mean: spread([0]), std: spread([1]) };
  if ('range' in n) {
    const [lo, hi] = n.range;
    // lo + p (hi − lo) = (p − mean) / std with std = 1 / (hi − lo), mean = −lo / (hi − lo).
    return { mean: spread([-lo / (hi - lo)]), std: spread([1 / (hi - lo)]) };
  }
  return { mean: spread(n.mean), std: spread(n.std) };
}

/** What kind of files a model path names: ONNX, or a tfjs model.json (layers or graph). */
export function modelFileKind(path: string): 'onnx' | 'tfjs' | null {
  const ext = extname(path).toLowerCase();
  if (ext === '.onnx') return 'onnx';
  if (ext === '.json') return 'tfjs';
  return null;
}

function problem(path: string, what: string): EngineError {
  return new EngineError('corrupt-run', `${path}: ${what}. See "Bring your own model" in the README for the manifest's fields.`);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isName = (v: unknown) => typeof v === 'string' && v.length > 0;
const isNumberList = (v: unknown, length?: number) =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.every((x) => typeof x === 'number' && Number.isFinite(x)) &&
  (length === undefined || v.length === length);

/** Checks a parsed manifest; throws a 'corrupt-run' error naming the first bad field and what it should be. */
export function checkModelManifest(path: string, raw: unknown): ModelManifest {
  if (!isObject(raw)) throw problem(path, 'the file does not hold a JSON object');
  const bad = (field: string, should: string) => problem(path, `"${field}" ${should}`);
  if (raw.format !== MODEL_MANIFEST_FORMAT) throw bad('format', `must be "${MODEL_MANIFEST_FORMAT}"`);
  if (raw.version !== MODEL_MANIFEST_VERSION) {
    throw bad('version', `is ${String(raw.version)}, but this Latent Atlas reads version ${MODEL_MANIFEST_VERSION}; update Latent Atlas`);
  }
  for (const key of ['encoder', 'decoder'] as const) {
    if (!isName(raw[key])) throw bad(key, 'must name the model file (an .onnx file or a tfjs model.json) relative to the manifest');
    if (!modelFileKind(raw[key] as string)) throw bad(key, `is "${String(raw[key])}": name an .onnx file or a tfjs model.json`);
  }
  const input = raw.input;
  if (!isObject(input)) throw bad('input', 'must describe the encoder input: width, height, channels, layout, flatten');
  for (const key of ['width', 'height'] as const) {
    const side = limitProblem('imageSide', input[key] as number, `input.${key}`);
    if (typeof input[key] !== 'number' || side) throw bad(`input.${key}`, side ? `is out of range: ${side}` : 'must be a number of pixels');
  }
  if (input.channels !== 1 && input.channels !== 3) throw bad('input.channels', 'must be 1 (grey) or 3 (RGB)');
  if (input.layout !== 'NCHW' && input.layout !== 'NHWC') throw bad('input.layout', 'must be "NCHW" (PyTorch) or "NHWC" (Keras, tfjs)');
  if (typeof input.flatten !== 'boolean') throw bad('input.flatten', 'must be true (the encoder takes [N, C·H·W]) or false (a 4-D image)');
  if (input.name !== undefined && !isName(input.name)) throw bad('input.name', 'must be the name of the encoder input');
  if (input.fit !== undefined && !['cover', 'contain', 'fill'].includes(input.fit as string)) {
    throw bad('input.fit', 'must be "cover", "contain" or "fill"');
  }
  const n = input.normalize;
  if (n !== undefined) {
    if (!isObject(n)) throw bad('input.normalize', 'must be { "mean": [...], "std": [...] } or { "range": [lo, hi] }');
    if ('range' in n) {
      if (!isNumberList(n.range, 2) || (n.range as number[])[0] === (n.range as number[])[1]) {
        throw bad('input.normalize.range', 'must be two different numbers [lo, hi]');
      }
    } else {
      const c = input.channels;
      for (const key of ['mean', 'std'] as const) {
        const v = n[key] as number[];
        if (!isNumberList(v) || (v.length !== 1 && v.length !== c)) throw bad(`input.normalize.${key}`, `must list 1 or ${c} numbers`);
      }
      if ((n.std as number[]).some((s) => s <= 0)) throw bad('input.normalize.std', 'must be positive');
    }
  }
  const latent = limitProblem('latentSize', raw.latentSize as number);
  if (typeof raw.latentSize !== 'number' || latent)
    throw bad('latentSize', latent ? `is out of range: ${latent}` : 'must be the size of z');
  const enc = raw.encoderOutputs;
  if (!isObject(enc)) throw bad('encoderOutputs', 'must say what the encoder returns');
  if (enc.kind === 'mu-logvar') {
    if (!isName(enc.mu) || !isName(enc.logVar)) throw bad('encoderOutputs', 'of kind "mu-logvar" must name its "mu" and "logVar" outputs');
  } else if (enc.kind === 'concatenated' || enc.kind === 'mu') {
    if (!isName(enc.name)) throw bad('encoderOutputs.name', `must name the encoder's output`);
  } else {
    throw bad('encoderOutputs.kind', 'must be "mu-logvar" (two outputs), "concatenated" (μ then log σ² in one) or "mu" (an autoencoder)');
  }
  const dec = raw.decoderOutput;
  if (!isObject(dec) || !['logits', 'probabilities', 'means'].includes(dec.kind as string)) {
    throw bad('decoderOutput.kind', 'must be "logits", "probabilities" (Bernoulli) or "means" (Gaussian, with an optional "sigma")');
  }
  if (dec.name !== undefined && !isName(dec.name)) throw bad('decoderOutput.name', `must be the name of the decoder's output`);
  if (dec.sigma !== undefined && !(typeof dec.sigma === 'number' && dec.sigma > 0)) throw bad('decoderOutput.sigma', 'must be positive');
  if (raw.latentInput !== undefined && !isName(raw.latentInput)) throw bad('latentInput', `must be the name of the decoder's z input`);
  const cond = raw.condition;
  if (cond !== undefined) {
    if (!isObject(cond) || !isName(cond.encoderInput) || !isName(cond.decoderInput)) {
      throw bad('condition', 'must name the one-hot label inputs of both networks ("encoderInput", "decoderInput") and list "classes"');
    }
    if (!Array.isArray(cond.classes) || cond.classes.length < 1 || !cond.classes.every(isName)) {
      throw bad('condition.classes', 'must list the class names in label-index order');
    }
  }
  if (raw.classes !== undefined && (!Array.isArray(raw.classes) || !raw.classes.every(isName))) {
    throw bad('classes', 'must list class names (strings) in label-index order');
  }
  if (raw.name !== undefined && !isName(raw.name)) throw bad('name', 'must be a non-empty string');
  return raw as unknown as ModelManifest;
}

/** The manifest of a model folder, or null when the folder holds none. */
export async function readModelManifest(dir: string): Promise<ModelManifest | null> {
  const path = join(dir, MODEL_MANIFEST_FILE);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new EngineError('not-a-run', `Cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw problem(path, `not valid JSON (${(err as Error).message})`);
  }
  return checkModelManifest(path, parsed);
}

/** Size and mtime of each model file (and every file beside a tfjs model.json): changes when a model is replaced. */
async function fingerprint(dir: string, m: ModelManifest): Promise<{ hash: string; newest: number }> {
  const hash = createHash('sha256');
  let newest = 0;
  for (const file of [m.encoder, m.decoder]) {
    const path = join(dir, file);
    let stat;
    try {
      stat = await fs.stat(path);
    } catch {
      throw new EngineError('corrupt-run', `${join(dir, MODEL_MANIFEST_FILE)} names ${file}, but ${path} does not exist.`);
    }
    hash.update(`${file}\0${stat.size}\0${stat.mtimeMs}\0`);
    newest = Math.max(newest, stat.mtimeMs);
  }
  return { hash: hash.digest('hex').slice(0, 16), newest };
}

/** The model folder seen as a run: what encode, decode, sample and the explorer read. */
export async function importedRunManifest(dir: string, m: ModelManifest): Promise<RunManifest> {
  const { hash, newest } = await fingerprint(dir, m);
  const format = modelFileKind(m.encoder)!;
  const when = new Date(newest).toISOString();
  const norm = normalisation(m.input);
  const meanStd = norm.std.reduce((a, b) => a + b, 0) / norm.std.length;
  const imported: ImportedModelInfo = { format, manifest: m };
  const gaussian = m.decoderOutput.kind === 'means';
  return {
    format: 'latent-atlas-run',
    version: 1,
    name: m.name ?? basename(dir),
    createdAt: when,
    updatedAt: when,
    codeVersion: '',
    tfjsVersion: '',
    backend: 'cpu',
    state: 'complete',
    model: {
      architecture: m.input.flatten ? 'mlp' : 'conv',
      latentSize: m.latentSize,
      hiddenUnits: [],
      convFilters: [],
      likelihood: gaussian ? 'gaussian' : 'bernoulli',
      // σ in pixel units scaled to [0, 1], as for runs trained here (the model's units / std).
      sigma: gaussian && m.decoderOutput.sigma ? m.decoderOutput.sigma * meanStd : 0,
      beta: 1,
      conditional: m.condition !== undefined,
    },
    training: { ...DEFAULT_TRAINING, epochs: 0 },
    preprocessing: { width: m.input.width, height: m.input.height, channels: m.input.channels, fit: m.input.fit ?? 'fill' },
    labels: m.condition?.classes ?? m.classes ?? [],
    dataset: { source: { kind: 'folder', path: dir }, count: 0, skipped: 0, fingerprint: '' },
    epochsCompleted: 0,
    step: 0,
    checkpoint: `imported:${hash}`,
    last: null,
    imported,
  };
}
