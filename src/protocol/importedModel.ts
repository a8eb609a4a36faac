// latent-atlas-model.json — the manifest that describes a VAE trained elsewhere (exported to ONNX
// from PyTorch, or a tfjs layers/graph model from Keras) and the ONNX export of a run trained here,
// so Latent Atlas can feed it images and read its latents. The README's "Bring your own model"
// section documents every field with a full example.

export const MODEL_MANIFEST_FILE = 'latent-atlas-model.json';
export const MODEL_MANIFEST_FORMAT = 'latent-atlas-model';
export const MODEL_MANIFEST_VERSION = 1;

/** How an image (pixels p in [0, 1]) is laid out and scaled for the encoder. */
export interface ModelInput {
  /** The encoder's image input (the first input when absent). */
  name?: string;
  width: number;
  height: number;
  channels: 1 | 3;
  /** Order of a 4-D input; for a flattened input, the order its C·H·W values follow. */
  layout: 'NCHW' | 'NHWC';
  /** The encoder takes [N, C·H·W] rather than a 4-D tensor (an MLP). */
  flatten: boolean;
  /**
   * x = (p − mean[c]) / std[c], one value per channel (or one for all). Written as
   * `{ "range": [lo, hi] }` instead, it means x = lo + p · (hi − lo). Absent: x = p.
   */
  normalize?: { mean: number[]; std: number[] } | { range: [number, number] };
  /** How an image of another aspect ratio is brought to width × height (default "fill"). */
  fit?: 'cover' | 'contain' | 'fill';
}

/** What the encoder returns. */
export type EncoderOutputs =
  /** μ and log σ² as two outputs. */
  | { kind: 'mu-logvar'; mu: string; logVar: string }
  /** One output [N, 2·latentSize]: μ then log σ². */
  | { kind: 'concatenated'; name: string }
  /** μ only: a plain autoencoder (no posterior spread, no KL). */
  | { kind: 'mu'; name: string };

/** What the decoder returns, shaped like the encoder's image input (same layout and flattening). */
export interface DecoderOutput {
  /** The decoder's output (the first output when absent). */
  name?: string;
  /**
   * logits: Bernoulli logits; probabilities: Bernoulli means in [0, 1]; means: pixel means in the
   * input's normalised units (Gaussian likelihood with `sigma`, in the same units, when given).
   */
  kind: 'logits' | 'probabilities' | 'means';
  sigma?: number;
}

export interface ModelManifest {
  format: typeof MODEL_MANIFEST_FORMAT;
  version: typeof MODEL_MANIFEST_VERSION;
  /** Shown in the model picker and the status bar (default: the folder's name). */
  name?: string;
  /** Paths relative to the manifest: an .onnx file, or a tfjs model.json (layers or graph model). */
  encoder: string;
  decoder: string;
  input: ModelInput;
  latentSize: number;
  encoderOutputs: EncoderOutputs;
  /** The decoder's latent input (the first input when absent). */
  latentInput?: string;
  decoderOutput: DecoderOutput;
  /**
   * A conditional model: a one-hot float input [N, classes.length] on both networks. Without it,
   * `classes` (optional) names the classes for colouring points by their sub-folder.
   */
  condition?: { encoderInput: string; decoderInput: string; classes: string[] };
  classes?: string[];
  /** Free text: where the model came from (e.g. "PyTorch 2.3, trained on ..."). */
  source?: string;
}

/** A named input or output of a network; dims are numbers where fixed, names or null where free (the batch). */
export interface NetPort {
  name: string;
  dims: (number | string | null)[] | null;
}

/** A network file and what it takes and returns. */
export interface NetShape {
  /** Relative to the model folder. */
  file: string;
  inputs: NetPort[];
  outputs: NetPort[];
}

/** What a person says about a model the shapes cannot tell (`latent-atlas describe` flags, the picker's questions). */
export interface DescribeAnswers {
  encoder?: string;
  decoder?: string;
  layout?: 'NCHW' | 'NHWC';
  size?: { width: number; height: number; channels: 1 | 3 };
  /** 'none': pixels in [0, 1] as they are. */
  normalize?: 'none' | { mean: number[]; std: number[] } | { range: [number, number] };
  decoderOutput?: DecoderOutput['kind'];
  sigma?: number;
  classes?: string[];
  name?: string;
}

export interface DescribeQuestion {
  field: 'files' | 'conditional' | 'size' | 'layout' | 'latentSize' | 'encoderOutputs' | 'normalize' | 'decoderOutput';
  text: string;
  choices?: string[];
}
