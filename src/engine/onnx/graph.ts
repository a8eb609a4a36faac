// The ONNX graph of one network and its serialisation to a ModelProto (field numbers from
// onnx/onnx.proto): nodes, float initializers, and inputs/outputs with a symbolic batch dimension.

import { float32LittleEndian, int64LittleEndian, ProtoWriter } from './protobuf';

export const ONNX_OPSET = 13;
/** The IR version that goes with opset 13. */
const IR_VERSION = 7;
/** The symbolic batch dimension of every graph input and output. */
export const BATCH_DIM = 'N';

/** The number of elements of a shape. */
export function product(values: number[]): number {
  return values.reduce((a, b) => a * b, 1);
}

/** A tensor in the ONNX graph: `shape` is tfjs' shape without the batch dimension (channels last). */
export interface Value {
  name: string;
  shape: number[];
  /** A 4-D value held as NCHW in the graph (its `shape` is still [H, W, C]). */
  nchw: boolean;
}

interface OnnxNode {
  op: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** A number is an INT attribute, an array an INTS attribute. */
  attributes: Record<string, number | number[]>;
}

interface Initializer {
  name: string;
  dims: number[];
  dataType: number;
  data: Uint8Array;
}

const DATA_TYPE_FLOAT = 1;
const DATA_TYPE_INT64 = 7;
const ATTRIBUTE_INT = 2;
const ATTRIBUTE_INTS = 7;

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  private readonly names = new Set<string>();
  private readonly produced = new Set<string>();

  /** `reserved`: the graph's input and output names, which no node may take. */
  constructor(reserved: string[]) {
    for (const name of reserved) this.names.add(name);
  }

  /** Adds a node with one output and returns that output's name. */
  node(op: string, name: string, inputs: string[], attributes: Record<string, number | number[]> = {}): string {
    const nodeName = this.fresh(name);
    const output = this.fresh(`${nodeName}:0`);
    this.nodes.push({ op, name: nodeName, inputs, outputs: [output], attributes });
    this.produced.add(output);
    return output;
  }

  floats(name: string, dims: number[], values: Float32Array): string {
    if (values.length !== product(dims)) throw new Error(`ONNX export: ${name} has ${values.length} values, expected ${dims.join('×')}.`);
    return this.initializer(name, dims, DATA_TYPE_FLOAT, float32LittleEndian(values));
  }

  int64s(name: string, values: number[]): string {
    return this.initializer(name, [values.length], DATA_TYPE_INT64, int64LittleEndian(values));
  }

  /** Makes `value` available as the graph output `output`: renames it when a node of ours made it, else adds an Identity. */
  expose(value: string, output: string): string {
    if (this.produced.has(value)) {
      this.produced.delete(value);
      for (const node of this.nodes) {
        node.inputs = node.inputs.map((n) => (n === value ? output : n));
        node.outputs = node.outputs.map((n) => (n === value ? output : n));
      }
    } else {
      this.nodes.push({ op: 'Identity', name: this.fresh(output), inputs: [value], outputs: [output], attributes: {} });
    }
    return output;
  }

  private initializer(name: string, dims: number[], dataType: number, data: Uint8Array): string {
    const unique = this.fresh(name);
    this.initializers.push({ name: unique, dims, dataType, data });
    return unique;
  }

  private fresh(base: string): string {
    let name = base;
    for (let i = 1; this.names.has(name); i++) name = `${base}_${i}`;
    this.names.add(name);
    return name;
  }
}

export function encodeModel(graph: GraphBuilder, name: string, inputs: Value[], outputs: Value[]): Uint8Array {
  const g = new ProtoWriter();
  for (const node of graph.nodes) g.message(1, encodeNode(node));
  g.string(2, name);
  for (const init of graph.initializers) {
    g.message(5, new ProtoWriter().varints(1, init.dims).varint(2, init.dataType).string(8, init.name).bytes(9, init.data));
  }
  for (const value of inputs) g.message(11, encodeValueInfo(value));
  for (const value of outputs) g.message(12, encodeValueInfo(value));
  return new ProtoWriter()
    .varint(1, IR_VERSION)
    .string(2, 'Latent Atlas')
    .message(7, g)
    .message(8, new ProtoWriter().string(1, '').varint(2, ONNX_OPSET))
    .finish();
}

function encodeNode(node: OnnxNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  w.string(3, node.name).string(4, node.op);
  for (const [name, value] of Object.entries(node.attributes)) {
    const a = new ProtoWriter().string(1, name);
    if (Array.isArray(value)) a.varint(20, ATTRIBUTE_INTS).varints(8, value);
    else a.varint(20, ATTRIBUTE_INT).varint(3, value);
    w.message(5, a);
  }
  return w;
}

/** A float tensor input or output of shape [N, ...shape] (channels last), N symbolic. */
function encodeValueInfo(value: Value): ProtoWriter {
  const shape = new ProtoWriter().message(1, new ProtoWriter().string(2, BATCH_DIM));
  for (const d of value.shape) shape.message(1, new ProtoWriter().varint(1, d));
  const tensorType = new ProtoWriter().varint(1, DATA_TYPE_FLOAT).message(2, shape);
  return new ProtoWriter().string(1, value.name).message(2, new ProtoWriter().message(1, tensorType));
}
