// One network of a model trained elsewhere, behind one small interface whatever its format: an
// ONNX file run by ONNX Runtime (onnxruntime-node, CPU binaries from its npm package), or a tfjs
// model.json — a layers model (Keras through the tfjs converter) or a graph model (SavedModel).

import { basename, dirname } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { EngineError } from '../../protocol/errors';
import type { NetPort } from '../../protocol/importedModel';
import { folderIOHandler } from '../runStore/layers';
import { getTf } from '../tf';
import { modelFileKind } from './modelManifest';

export type { NetPort };

export interface NetTensor {
  data: Float32Array;
  dims: number[];
}

export interface Net {
  /** The file it was loaded from, for messages. */
  readonly file: string;
  readonly inputs: NetPort[];
  readonly outputs: NetPort[];
  /** Runs the network on float32 inputs; returns every output as float32. */
  run(feeds: Record<string, NetTensor>): Promise<Record<string, NetTensor>>;
  dispose(): void;
}

/** Shape as text for messages: [N, 1, 28, 28]. */
export function dimsText(dims: NetPort['dims']): string {
  return dims ? `[${dims.map((d) => (d === null ? '?' : String(d))).join(', ')}]` : '[unknown shape]';
}

type Ort = typeof import('onnxruntime-node');
let ort: Ort | undefined;

/** ONNX Runtime, loaded on first use (its native binding costs ~100 ms and is not needed otherwise). */
function loadOrt(): Ort {
  if (ort) return ort;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ort = require('onnxruntime-node') as Ort;
  } catch (err) {
    throw new EngineError(
      'backend-unavailable',
      `ONNX Runtime could not be loaded on ${process.platform}-${process.arch} (${(err as Error).message}); ONNX models cannot run here. ` +
        'Reinstall Latent Atlas, or export the model to a tfjs model.json instead.',
    );
  }
  return ort;
}

async function onnxNet(file: string): Promise<Net> {
  const rt = loadOrt();
  let session: InferenceSession;
  try {
    session = await rt.InferenceSession.create(file, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  } catch (err) {
    throw new EngineError(
      'corrupt-run',
      `${file} could not be loaded by ONNX Runtime ${rt.env.versions.common}: ${(err as Error).message}`,
    );
  }
  const port = (m: InferenceSession.ValueMetadata): NetPort => ({
    name: m.name,
    dims: m.isTensor ? m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : typeof d === 'string' ? d : null)) : null,
  });
  return {
    file,
    inputs: session.inputMetadata.map(port),
    outputs: session.outputMetadata.map(port),
    async run(feeds) {
      const inputs: Record<string, InstanceType<Ort['Tensor']>> = {};
      for (const [name, t] of Object.entries(feeds)) inputs[name] = new rt.Tensor('float32', t.data, t.dims);
      const result = await session.run(inputs);
      const out: Record<string, NetTensor> = {};
      for (const [name, t] of Object.entries(result)) {
        const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data as ArrayLike<number>);
        out[name] = { data, dims: [...t.dims] };
      }
      return out;
    },
    dispose() {
      void session.release();
    },
  };
}

type TfTensor = import('@tensorflow/tfjs').Tensor;

/** A tfjs model's outputs read by name, then disposed with its inputs. */
async function readOutputs(result: TfTensor | TfTensor[], ports: NetPort[], inputs: TfTensor[]): Promise<Record<string, NetTensor>> {
  const list = Array.isArray(result) ? result : [result];
  try {
    const out: Record<string, NetTensor> = {};
    for (let i = 0; i < list.length; i++) out[ports[i]!.name] = { data: (await list[i]!.data()) as Float32Array, dims: list[i]!.shape };
    return out;
  } finally {
    getTf().dispose([...inputs, ...list]);
  }
}

async function tfjsNet(file: string): Promise<Net> {
  const tf = getTf();
  const handler = folderIOHandler(dirname(file), basename(file));
  const artifacts = await handler.load!().catch((err: Error) => {
    throw new EngineError('corrupt-run', `${file}: ${err.message}`);
  });
  const fromMemory = { load: async () => artifacts };
  const graph = artifacts.format === 'graph-model' || (artifacts.modelTopology as { node?: unknown } | undefined)?.node !== undefined;
  if (graph) {
    const model = await tf.loadGraphModel(fromMemory).catch((err: Error) => {
      throw new EngineError('corrupt-run', `${file} is not a tfjs graph model that loads: ${err.message}`);
    });
    const port = (t: { name: string; shape?: number[] }): NetPort => ({
      name: t.name,
      dims: t.shape ? t.shape.map((d) => (d > 0 ? d : null)) : null,
    });
    const outputs = model.outputs.map(port);
    return {
      file,
      inputs: model.inputs.map(port),
      outputs,
      async run(feeds) {
        const named: Record<string, TfTensor> = {};
        for (const [name, t] of Object.entries(feeds)) named[name] = tf.tensor(t.data, t.dims, 'float32');
        const result = await model.executeAsync(
          named,
          outputs.map((o) => o.name),
        );
        return readOutputs(result, outputs, Object.values(named));
      },
      dispose: () => model.dispose(),
    };
  }
  const model = await tf.loadLayersModel(fromMemory).catch((err: Error) => {
    throw new EngineError('corrupt-run', `${file} is not a tfjs layers model that loads: ${err.message}`);
  });
  const inputs = model.inputs.map((t, i) => ({ name: model.inputNames[i]!, dims: t.shape.map((d) => (d === null ? null : d)) }));
  const outputs = model.outputs.map((t, i) => ({ name: model.outputNames[i]!, dims: t.shape.map((d) => (d === null ? null : d)) }));
  return {
    file,
    inputs,
    outputs,
    async run(feeds) {
      const xs = inputs.map((p) => {
        const t = feeds[p.name];
        if (!t) throw new Error(`${file}: no value for the input ${p.name}`);
        return tf.tensor(t.data, t.dims, 'float32');
      });
      const result = model.predict(xs.length === 1 ? xs[0]! : xs);
      return readOutputs(result, outputs, xs);
    },
    dispose: () => model.dispose(),
  };
}

/** Loads an .onnx file or a tfjs model.json. */
export async function loadNet(file: string): Promise<Net> {
  const kind = modelFileKind(file);
  if (kind === 'onnx') return onnxNet(file);
  if (kind === 'tfjs') return tfjsNet(file);
  throw new EngineError('corrupt-run', `${file} is neither an .onnx file nor a tfjs model.json.`);
}
