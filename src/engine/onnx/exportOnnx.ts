// Export of a VAE trained here to ONNX: encoder.onnx and decoder.onnx plus latent-atlas-model.json,
// so the run can be opened like any imported model, or used outside Latent Atlas (ONNX Runtime,
// PyTorch, …). Each tfjs layers model is walked layer by layer and written as ONNX nodes at
// opset 13, with its weights as initializers.
//
// tfjs is channels-last (NHWC) and ONNX's Conv is channels-first (NCHW): 4-D values are kept NCHW
// inside the graph and transposed only where a layer needs tfjs' order (Flatten, Reshape, the
// graph's inputs and outputs), so flattened features come out in tfjs' H, W, C order.

import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { MODEL_MANIFEST_FILE, MODEL_MANIFEST_FORMAT, MODEL_MANIFEST_VERSION, type ModelManifest } from '../../protocol/importedModel';
import type { VaeModel } from '../model/model';
import { writeFileAtomic } from '../runStore/fs';
import type { LayersModel } from '../tf';
import { BATCH_DIM, encodeModel, GraphBuilder, ONNX_OPSET, product, type Value } from './graph';

export { BATCH_DIM, ONNX_OPSET };

type Layer = import('@tensorflow/tfjs').layers.Layer;
type SymbolicTensor = import('@tensorflow/tfjs').SymbolicTensor;

export const ENCODER_FILE = 'encoder.onnx';
export const DECODER_FILE = 'decoder.onnx';

/** Writes encoder.onnx, decoder.onnx and latent-atlas-model.json into outDir; returns their paths. */
export async function exportVaeToOnnx(
  vae: VaeModel,
  info: { name: string; classes: string[]; source: string },
  outDir: string,
): Promise<string[]> {
  const conditional = vae.numLabels > 0;
  if (conditional && info.classes.length !== vae.numLabels) {
    throw new Error(
      `Cannot export '${info.name}': the model takes ${vae.numLabels} labels but ${info.classes.length} class names were given.`,
    );
  }
  const decoderOutput = vae.model.likelihood === 'bernoulli' ? 'logits' : 'means';
  const encoder = await layersModelToOnnx(vae.encoder, conditional ? ['x', 'label'] : ['x'], ['mu', 'logvar']);
  const decoder = await layersModelToOnnx(vae.decoder, conditional ? ['z', 'label'] : ['z'], [decoderOutput]);

  const manifest: ModelManifest = {
    format: MODEL_MANIFEST_FORMAT,
    version: MODEL_MANIFEST_VERSION,
    name: info.name,
    encoder: ENCODER_FILE,
    decoder: DECODER_FILE,
    input: {
      name: 'x',
      width: vae.pre.width,
      height: vae.pre.height,
      channels: vae.pre.channels,
      layout: 'NHWC',
      flatten: vae.model.architecture === 'mlp',
      fit: vae.pre.fit,
    },
    latentSize: vae.model.latentSize,
    encoderOutputs: { kind: 'mu-logvar', mu: 'mu', logVar: 'logvar' },
    latentInput: 'z',
    decoderOutput:
      vae.model.likelihood === 'bernoulli'
        ? { name: decoderOutput, kind: 'logits' }
        : { name: decoderOutput, kind: 'means', sigma: vae.model.sigma },
    ...(conditional
      ? { condition: { encoderInput: 'label', decoderInput: 'label', classes: [...info.classes] } }
      : info.classes.length > 0
        ? { classes: [...info.classes] }
        : {}),
    source: info.source,
  };

  await fs.mkdir(outDir, { recursive: true });
  const files = [join(outDir, ENCODER_FILE), join(outDir, DECODER_FILE), join(outDir, MODEL_MANIFEST_FILE)];
  await writeFileAtomic(files[0], encoder);
  await writeFileAtomic(files[1], decoder);
  // The manifest last: a folder with a manifest has both networks beside it.
  await writeFileAtomic(files[2], JSON.stringify(manifest, null, 2) + '\n');
  return files;
}

// ---------------------------------------------------------------------------------------------
// tfjs layers → ONNX nodes

type LayerConverter = (layer: Layer, inputs: Value[], graph: GraphBuilder) => Value | Promise<Value>;

const CONVERTERS: Record<string, LayerConverter> = {
  Dense: convertDense,
  Conv2D: convertConv2D,
  Conv2DTranspose: convertConv2DTranspose,
  Flatten: convertFlatten,
  Reshape: convertReshape,
  Concatenate: convertConcatenate,
  Cropping2D: convertCropping2D,
  Activation: (layer, [x], graph) => activation(layer, config<{ activation: string }>(layer).activation, x, graph),
};

/** tfjs activation names and the ONNX op for each (null: none); tfjs' elu has ONNX's default alpha of 1. */
const ACTIVATIONS: Record<string, string | null> = {
  linear: null,
  relu: 'Relu',
  sigmoid: 'Sigmoid',
  tanh: 'Tanh',
  softplus: 'Softplus',
  elu: 'Elu',
};

/** Serialised ONNX ModelProto of a tfjs layers model, with the given graph input and output names. */
async function layersModelToOnnx(model: LayersModel, inputNames: string[], outputNames: string[]): Promise<Uint8Array> {
  if (model.inputs.length !== inputNames.length || model.outputs.length !== outputNames.length) {
    throw new Error(
      `Cannot export the ${model.name} to ONNX: expected ${inputNames.length} input(s) and ${outputNames.length} output(s), ` +
        `found ${model.inputs.length} and ${model.outputs.length}.`,
    );
  }
  const graph = new GraphBuilder([...inputNames, ...outputNames]);
  const values = new Map<number, Value>();
  const inputs = model.inputs.map((t, i) => {
    const value: Value = { name: inputNames[i], shape: staticShape(t.shape, `${model.name} input ${t.name}`), nchw: false };
    values.set(t.id, value);
    return value;
  });
  // tfjs keeps a functional model's layers in topological order.
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    if (kind === 'InputLayer') continue;
    const convert = CONVERTERS[kind];
    if (!convert) {
      throw new Error(
        `Cannot export layer '${layer.name}' of the ${model.name} to ONNX: layer type ${kind} is not supported ` +
          `(supported: ${Object.keys(CONVERTERS).join(', ')}).`,
      );
    }
    if (layer.inboundNodes.length !== 1) throw unsupported(layer, 'it is used more than once (a shared layer)');
    const layerInputs = asArray(layer.input).map((t) => {
      const value = values.get(t.id);
      if (!value) throw new Error(`Cannot export the ${model.name} to ONNX: layer '${layer.name}' comes before its input ${t.name}.`);
      return value;
    });
    const output = layer.output;
    if (Array.isArray(output)) throw unsupported(layer, 'it has several outputs');
    const value = await convert(layer, layerInputs, graph);
    const expected = staticShape(output.shape, `layer '${layer.name}'`);
    if (value.shape.join('×') !== expected.join('×')) {
      throw new Error(`ONNX export of layer '${layer.name}' gave shape ${value.shape.join('×')}, but tfjs says ${expected.join('×')}.`);
    }
    values.set(output.id, value);
  }
  const outputs = model.outputs.map((t, i) => {
    const found = values.get(t.id);
    if (!found) throw new Error(`Cannot export the ${model.name} to ONNX: its output ${t.name} is not made by any of its layers.`);
    const value = toChannelsLast(found, graph);
    return { ...value, name: graph.expose(value.name, outputNames[i]) };
  });
  return encodeModel(graph, model.name, inputs, outputs);
}

async function convertDense(layer: Layer, [x]: Value[], graph: GraphBuilder): Promise<Value> {
  const c = config<{ units: number; activation: string; useBias: boolean }>(layer);
  if (x.shape.length !== 1) throw unsupported(layer, `Dense on an input of shape ${x.shape.join('×')} (only [N, features])`);
  const [kernel, bias] = await weights(layer);
  const inputs = [x.name, graph.floats(`${layer.name}/kernel`, [x.shape[0], c.units], kernel)];
  if (c.useBias) inputs.push(graph.floats(`${layer.name}/bias`, [c.units], bias));
  const y = graph.node('Gemm', layer.name, inputs);
  return activation(layer, c.activation, { name: y, shape: [c.units], nchw: false }, graph);
}

interface ConvConfig {
  filters: number;
  kernelSize: number[];
  strides: number[];
  padding: string;
  dataFormat: string;
  dilationRate?: number[];
  activation: string;
  useBias: boolean;
}

async function convertConv2D(layer: Layer, [input]: Value[], graph: GraphBuilder): Promise<Value> {
  const c = convConfig(layer);
  const x = toChannelsFirst(input, graph);
  const out = staticShape(outputShape(layer), `layer '${layer.name}'`);
  const dilations = c.dilationRate ?? [1, 1];
  const begin = [0, 0];
  const end = [0, 0];
  for (const axis of [0, 1]) {
    const span = (c.kernelSize[axis] - 1) * dilations[axis] + 1;
    // tfjs' 'same': the output is ⌈in / stride⌉ and the padding it needs goes at the end when odd.
    const total = c.padding === 'same' ? Math.max(0, (out[axis] - 1) * c.strides[axis] + span - x.shape[axis]) : 0;
    begin[axis] = Math.floor(total / 2);
    end[axis] = total - begin[axis];
    if (Math.floor((x.shape[axis] + total - span) / c.strides[axis]) + 1 !== out[axis]) throw unsupported(layer, `padding '${c.padding}'`);
  }
  const [kernel, bias] = await weights(layer);
  // tfjs [kh, kw, in, out] → ONNX [out, in, kh, kw]
  const w = transpose(kernel, [...c.kernelSize, x.shape[2], c.filters], [3, 2, 0, 1]);
  const inputs = [x.name, graph.floats(`${layer.name}/kernel`, [c.filters, x.shape[2], ...c.kernelSize], w)];
  if (c.useBias) inputs.push(graph.floats(`${layer.name}/bias`, [c.filters], bias));
  const y = graph.node('Conv', layer.name, inputs, {
    kernel_shape: c.kernelSize,
    strides: c.strides,
    dilations,
    pads: [...begin, ...end],
  });
  return activation(layer, c.activation, { name: y, shape: out, nchw: true }, graph);
}

async function convertConv2DTranspose(layer: Layer, [input]: Value[], graph: GraphBuilder): Promise<Value> {
  const c = convConfig(layer);
  if (c.dilationRate && c.dilationRate.some((d) => d !== 1)) throw unsupported(layer, 'a dilation rate other than 1');
  const x = toChannelsFirst(input, graph);
  const out = staticShape(outputShape(layer), `layer '${layer.name}'`);
  const begin = [0, 0];
  const end = [0, 0];
  const outputPadding = [0, 0];
  for (const axis of [0, 1]) {
    const [k, s] = [c.kernelSize[axis], c.strides[axis]];
    // The pads are those of the forward convolution this one transposes (output size → input size).
    const total = c.padding === 'same' ? Math.max(0, (x.shape[axis] - 1) * s + k - out[axis]) : 0;
    begin[axis] = Math.floor(total / 2);
    end[axis] = total - begin[axis];
    // Rows tfjs adds past what the kernel reaches (stride > kernel) are ONNX's output_padding.
    outputPadding[axis] = out[axis] - ((x.shape[axis] - 1) * s + k - total);
    if (outputPadding[axis] < 0 || outputPadding[axis] >= s) throw unsupported(layer, `padding '${c.padding}' with these sizes`);
  }
  const [kernel, bias] = await weights(layer);
  // tfjs [kh, kw, out, in] → ONNX [in, out, kh, kw]
  const w = transpose(kernel, [...c.kernelSize, c.filters, x.shape[2]], [3, 2, 0, 1]);
  const inputs = [x.name, graph.floats(`${layer.name}/kernel`, [x.shape[2], c.filters, ...c.kernelSize], w)];
  if (c.useBias) inputs.push(graph.floats(`${layer.name}/bias`, [c.filters], bias));
  const y = graph.node('ConvTranspose', layer.name, inputs, {
    kernel_shape: c.kernelSize,
    strides: c.strides,
    pads: [...begin, ...end],
    ...(outputPadding.some((p) => p > 0) ? { output_padding: outputPadding } : {}),
  });
  return activation(layer, c.activation, { name: y, shape: out, nchw: true }, graph);
}

function convertFlatten(layer: Layer, [input]: Value[], graph: GraphBuilder): Value {
  checkChannelsLast(layer);
  const x = toChannelsLast(input, graph);
  const y = graph.node('Flatten', layer.name, [x.name], { axis: 1 });
  return { name: y, shape: [product(x.shape)], nchw: false };
}

function convertReshape(layer: Layer, [input]: Value[], graph: GraphBuilder): Value {
  const x = toChannelsLast(input, graph);
  const shape = staticShape(outputShape(layer), `layer '${layer.name}'`);
  // 0 keeps the batch dimension as it is.
  const y = graph.node('Reshape', layer.name, [x.name, graph.int64s(`${layer.name}/shape`, [0, ...shape])]);
  return { name: y, shape, nchw: false };
}

function convertConcatenate(layer: Layer, inputs: Value[], graph: GraphBuilder): Value {
  const rank = inputs[0].shape.length + 1;
  const configured = config<{ axis?: number }>(layer).axis ?? -1;
  const axis = configured < 0 ? configured + rank : configured;
  if (axis <= 0 || axis >= rank || inputs.some((v) => v.shape.length + 1 !== rank)) throw unsupported(layer, `axis ${configured}`);
  const channelsFirst = rank === 4;
  const parts = inputs.map((v) => (channelsFirst ? toChannelsFirst(v, graph) : toChannelsLast(v, graph)));
  const shape = [...inputs[0].shape];
  shape[axis - 1] = inputs.reduce((sum, v) => sum + v.shape[axis - 1], 0);
  // NHWC axis 1, 2, 3 (H, W, C) is NCHW axis 2, 3, 1.
  const onnxAxis = channelsFirst ? [0, 2, 3, 1][axis] : axis;
  const y = graph.node(
    'Concat',
    layer.name,
    parts.map((v) => v.name),
    { axis: onnxAxis },
  );
  return { name: y, shape, nchw: channelsFirst };
}

function convertCropping2D(layer: Layer, [input]: Value[], graph: GraphBuilder): Value {
  checkChannelsLast(layer);
  const [[top, bottom], [left, right]] = config<{ cropping: number[][] }>(layer).cropping;
  const x = toChannelsFirst(input, graph);
  const [h, w, c] = x.shape;
  const y = graph.node('Slice', layer.name, [
    x.name,
    graph.int64s(`${layer.name}/starts`, [top, left]),
    graph.int64s(`${layer.name}/ends`, [h - bottom, w - right]),
    graph.int64s(`${layer.name}/axes`, [2, 3]),
  ]);
  return { name: y, shape: [h - top - bottom, w - left - right, c], nchw: true };
}

function activation(layer: Layer, name: string, x: Value, graph: GraphBuilder): Value {
  if (!(name in ACTIVATIONS)) throw unsupported(layer, `activation '${name}' (supported: ${Object.keys(ACTIVATIONS).join(', ')})`);
  const op = ACTIVATIONS[name];
  return op ? { ...x, name: graph.node(op, `${layer.name}/${name}`, [x.name]) } : x;
}

function toChannelsFirst(x: Value, graph: GraphBuilder): Value {
  if (x.shape.length !== 3) throw new Error(`ONNX export: expected an image-shaped value, got ${x.shape.join('×')} (${x.name}).`);
  if (x.nchw) return x;
  return { ...x, name: graph.node('Transpose', `${x.name}/to_nchw`, [x.name], { perm: [0, 3, 1, 2] }), nchw: true };
}

function toChannelsLast(x: Value, graph: GraphBuilder): Value {
  if (!x.nchw) return x;
  return { ...x, name: graph.node('Transpose', `${x.name}/to_nhwc`, [x.name], { perm: [0, 2, 3, 1] }), nchw: false };
}

function convConfig(layer: Layer): ConvConfig {
  const c = config<ConvConfig>(layer);
  checkChannelsLast(layer);
  if (c.padding !== 'same' && c.padding !== 'valid') throw unsupported(layer, `padding '${c.padding}'`);
  return c;
}

function checkChannelsLast(layer: Layer): void {
  const format = config<{ dataFormat?: string }>(layer).dataFormat;
  if (format !== undefined && format !== 'channelsLast') throw unsupported(layer, `dataFormat '${format}'`);
}

function config<T>(layer: Layer): T {
  return layer.getConfig() as unknown as T;
}

async function weights(layer: Layer): Promise<Float32Array[]> {
  // getWeights() hands out the layer's own variables: read them, never dispose them.
  return Promise.all(
    layer.getWeights().map(async (w) => {
      if (w.dtype !== 'float32') throw unsupported(layer, `${w.dtype} weights`);
      return (await w.data()) as Float32Array;
    }),
  );
}

function outputShape(layer: Layer): (number | null)[] {
  const shape = layer.outputShape;
  if (Array.isArray(shape[0])) throw unsupported(layer, 'it has several outputs');
  return shape as (number | null)[];
}

/** A tfjs shape [null, ...] without its batch dimension; every other dimension must be known. */
function staticShape(shape: (number | null)[], what: string): number[] {
  const rest = shape.slice(1);
  if (rest.some((d) => d == null)) throw new Error(`Cannot export ${what} to ONNX: its shape [${shape.join(', ')}] is not fully known.`);
  return rest as number[];
}

function unsupported(layer: Layer, what: string): Error {
  return new Error(`Cannot export layer '${layer.name}' (${layer.getClassName()}) to ONNX: ${what} is not supported.`);
}

function asArray(t: SymbolicTensor | SymbolicTensor[]): SymbolicTensor[] {
  return Array.isArray(t) ? t : [t];
}

/** Reorders a row-major array so that axis i of the result is axis perm[i] of the input. */
function transpose(data: Float32Array, shape: number[], perm: number[]): Float32Array {
  const rank = shape.length;
  const inStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; s *= shape[i], i--) inStrides[i] = s;
  const outShape = perm.map((p) => shape[p]);
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let to = 0; to < out.length; to++) {
    out[to] = data[from];
    // Step the output index like an odometer, keeping the matching input offset.
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]++;
      from += strides[axis];
      if (index[axis] < outShape[axis]) break;
      from -= strides[axis] * outShape[axis];
      index[axis] = 0;
    }
  }
  return out;
}
