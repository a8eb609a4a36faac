// TensorFlow.js layers models and optimiser state on disk, without tfjs-node's file:// handler:
// a model folder holds `model.json` (topology + weightsManifest, the standard tfjs layers format
// that `tf.loadLayersModel` and the tensorflowjs converter read) and one `weights.bin`.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { io } from '@tensorflow/tfjs';
import { getTf, type LayersModel } from '../tf';
import type { OptimizerWeight } from '../model/trainer';
import { writeDurable } from './fs';

export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
const OPTIMIZER_FILE = 'optimizer.json';
const OPTIMIZER_WEIGHTS_FILE = 'optimizer.bin';

function joinWeightData(data: io.WeightData | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  const parts = Array.isArray(data) ? data : [data];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(new Uint8Array(p), offset);
    offset += p.byteLength;
  }
  return out;
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8, uint8: 1, uint16: 2, float16: 2 };

/** Bytes the weight specs need, or null when that cannot be told (strings, unknown dtypes). */
function weightBytes(specs: io.WeightsManifestEntry[]): number | null {
  let total = 0;
  for (const spec of specs) {
    const bytes = DTYPE_BYTES[spec.quantization?.dtype ?? spec.dtype];
    if (bytes === undefined) return null;
    total += spec.shape.reduce((a, b) => a * b, 1) * bytes;
  }
  return total;
}

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

/**
 * An IOHandler that saves to / loads from a folder. Writes are flushed to disk (fsync) but not
 * renamed: the caller writes into a fresh folder and commits it by a rename of its own.
 */
export function folderIOHandler(dir: string, modelFile = MODEL_FILE): io.IOHandler {
  return {
    async save(artifacts: io.ModelArtifacts): Promise<io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error(`Cannot save a model with a binary topology to ${dir}: only layers models are supported.`);
      }
      await fs.mkdir(dir, { recursive: true });
      const weights = joinWeightData(artifacts.weightData);
      const modelJson = {
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
      };
      await writeDurable(join(dir, WEIGHTS_FILE), weights);
      await writeDurable(join(dir, MODEL_FILE), JSON.stringify(modelJson));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightDataBytes: weights.byteLength,
        },
      };
    },
    async load(): Promise<io.ModelArtifacts> {
      const jsonPath = join(dir, modelFile);
      let modelJson: io.ModelJSON;
      try {
        modelJson = JSON.parse(await fs.readFile(jsonPath, 'utf8')) as io.ModelJSON;
      } catch (err) {
        throw new Error(`Cannot read the model file ${jsonPath}: ${(err as Error).message}`);
      }
      const weightSpecs: io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of modelJson.weightsManifest ?? []) {
        weightSpecs.push(...group.weights);
        for (const p of group.paths) {
          const file = join(dir, p);
          try {
            buffers.push(await fs.readFile(file));
          } catch (err) {
            throw new Error(`Cannot read the weights file ${file}: ${(err as Error).message}`);
          }
        }
      }
      const data = Buffer.concat(buffers);
      const expected = weightBytes(weightSpecs);
      if (expected !== null && data.byteLength !== expected) {
        const files = (modelJson.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => join(dir, p))).join(', ');
        throw new Error(
          `The weights file ${files} is damaged (truncated?): it holds ${data.byteLength} bytes, but ${jsonPath} describes ${expected}.`,
        );
      }
      return {
        modelTopology: modelJson.modelTopology,
        format: modelJson.format,
        generatedBy: modelJson.generatedBy,
        convertedBy: modelJson.convertedBy,
        weightSpecs,
        weightData: toArrayBuffer(data),
      };
    },
  };
}

export async function saveLayersModel(model: LayersModel, dir: string): Promise<void> {
  await model.save(folderIOHandler(dir));
}

export async function loadLayersModel(dir: string): Promise<LayersModel> {
  return getTf().loadLayersModel(folderIOHandler(dir));
}

/** Optimiser state (Adam's step counter and moments): specs in JSON, float32 values in one .bin. */
export async function saveOptimizerState(weights: OptimizerWeight[], dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const specs = weights.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const }));
  const bytes = new Uint8Array(weights.reduce((n, w) => n + w.values.byteLength, 0));
  let offset = 0;
  for (const w of weights) {
    bytes.set(new Uint8Array(w.values.buffer, w.values.byteOffset, w.values.byteLength), offset);
    offset += w.values.byteLength;
  }
  await writeDurable(join(dir, OPTIMIZER_WEIGHTS_FILE), bytes);
  await writeDurable(join(dir, OPTIMIZER_FILE), JSON.stringify({ weights: specs }));
}

export async function loadOptimizerState(dir: string): Promise<OptimizerWeight[]> {
  const jsonPath = join(dir, OPTIMIZER_FILE);
  const binPath = join(dir, OPTIMIZER_WEIGHTS_FILE);
  let specs: { name: string; shape: number[] }[];
  let bin: Buffer;
  try {
    specs = (JSON.parse(await fs.readFile(jsonPath, 'utf8')) as { weights: { name: string; shape: number[] }[] }).weights;
    bin = await fs.readFile(binPath);
  } catch (err) {
    throw new Error(`Cannot read the optimiser state in ${dir}: ${(err as Error).message}`);
  }
  const expected = specs.reduce((n, spec) => n + spec.shape.reduce((a, b) => a * b, 1), 0) * 4;
  if (bin.byteLength !== expected) {
    throw new Error(
      `The optimiser state file ${binPath} is damaged (truncated?): it holds ${bin.byteLength} bytes, but ${jsonPath} describes ${expected}.`,
    );
  }
  const floats = new Float32Array(toArrayBuffer(bin));
  const out: OptimizerWeight[] = [];
  let offset = 0;
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    out.push({ name: spec.name, shape: spec.shape, values: floats.slice(offset, offset + size) });
    offset += size;
  }
  return out;
}
