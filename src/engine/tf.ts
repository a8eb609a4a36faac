// The TensorFlow.js namespace the engine computes with. It is loaded at run time by
// initBackend() (backends/ladder.ts), never imported statically for values: when a native backend
// (@tensorflow/tfjs-node or -node-gpu) is in use, every op must come from that package's own
// tfjs-core, and two core instances in one process break backend registration.

export type Tf = typeof import('@tensorflow/tfjs');
export type Tensor = import('@tensorflow/tfjs').Tensor;
export type Tensor1D = import('@tensorflow/tfjs').Tensor1D;
export type Tensor2D = import('@tensorflow/tfjs').Tensor2D;
export type Scalar = import('@tensorflow/tfjs').Scalar;
export type LayersModel = import('@tensorflow/tfjs').LayersModel;
/** A tensor with a name, as optimizers' getWeights()/setWeights() use them. */
export interface NamedTensor {
  name: string;
  tensor: Tensor;
}

let current: Tf | undefined;

/** Called once by initBackend(); engine modules read the namespace through getTf(). */
export function setTf(tf: Tf): void {
  current = tf;
}

/** The initialised TensorFlow.js namespace. */
export function getTf(): Tf {
  if (!current) {
    throw new Error('TensorFlow.js is not initialised yet: call initBackend() from src/engine/backends/ladder.ts before using the engine.');
  }
  return current;
}
