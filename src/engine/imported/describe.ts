// Writing latent-atlas-model.json for a folder of model files that has none: what the networks'
// input and output shapes tell (which file is which, layout, image size, latent size, how the
// encoder returns μ and log σ²) is inferred; what they cannot tell (how pixels were normalised,
// what the decoder's output means; a layout or a size the shapes leave open) is asked — by the
// model picker in VS Code, by flags in `latent-atlas describe`.

import { promises as fs } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type { DescribeResult } from '../../protocol/engine';
import { EngineError } from '../../protocol/errors';
import { exists, writeFileAtomic } from '../runStore/fs';
import { loadNet } from './nets';
import {
  MODEL_MANIFEST_FILE,
  MODEL_MANIFEST_FORMAT,
  MODEL_MANIFEST_VERSION,
  type DecoderOutput,
  type EncoderOutputs,
  type ModelInput,
  type ModelManifest,
} from '../../protocol/importedModel';
import type { DescribeAnswers, DescribeQuestion, NetPort, NetShape } from '../../protocol/importedModel';
import { checkModelManifest } from './modelManifest';

/** Model files of a folder: .onnx files, and model.json one level down (tfjs). */
export async function modelFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    if (e.isFile() && e.name.toLowerCase().endsWith('.onnx')) out.push(e.name);
    if (e.isDirectory() && !e.name.startsWith('.')) {
      const json = join(dir, e.name, 'model.json');
      if (
        await fs.stat(json).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        out.push(relative(dir, json).split('\\').join('/'));
    }
  }
  return out.sort();
}

/** Which of the files is the encoder and which the decoder, by their names ("enc…", "dec…"). */
export function guessRoles(files: string[]): { encoder?: string; decoder?: string } {
  const find = (re: RegExp) => {
    const hits = files.filter((f) => re.test(f.toLowerCase()));
    return hits.length === 1 ? hits[0] : undefined;
  };
  return { encoder: find(/enc/), decoder: find(/dec/) };
}

const fixed = (p: NetPort | undefined): number[] | null =>
  p?.dims && p.dims.slice(1).every((d) => typeof d === 'number') ? (p.dims.slice(1) as number[]) : null;

/** Names that say "log-variance" (second of the two encoder outputs). */
const VAR_NAME = /var|sigma|std|logv|lv\b/i;

/**
 * The manifest the shapes and answers give, or the questions still open (nothing is guessed that a
 * wrong guess would make silently wrong: normalisation and the decoder's output are always asked).
 */
export function inferManifest(
  encoder: NetShape,
  decoder: NetShape,
  answers: DescribeAnswers,
  folderName: string,
): { manifest: ModelManifest | null; questions: DescribeQuestion[] } {
  const questions: DescribeQuestion[] = [];
  // The label input, when conditional: a [N, K] input beside the image / z.
  const classes = answers.classes;
  const imagePort = encoder.inputs.length === 1 ? encoder.inputs[0] : encoder.inputs.find((p) => (fixed(p)?.length ?? 0) !== 1);
  const zPort = decoder.inputs.length === 1 ? decoder.inputs[0] : undefined;
  if (encoder.inputs.length > 1 || decoder.inputs.length > 1) {
    questions.push({
      field: 'conditional',
      text: 'The networks take more than one input (a conditional model?): describe it by editing latent-atlas-model.json by hand — see the README.',
    });
    return { manifest: null, questions };
  }
  const x = fixed(imagePort);
  let input: ModelInput | null = null;
  if (!x) {
    questions.push({
      field: 'size',
      text: `The encoder's input ${imagePort?.name ?? ''} has no fixed shape: give the image size (WxH) and channels.`,
    });
  } else if (x.length === 3) {
    // [C, H, W] or [H, W, C]: a side of 1 or 3 channels says which, unless both ends could be.
    const first = x[0] === 1 || x[0] === 3;
    const last = x[2] === 1 || x[2] === 3;
    const layout = answers.layout ?? (first && !last ? 'NCHW' : last && !first ? 'NHWC' : undefined);
    if (!layout)
      questions.push({
        field: 'layout',
        text: `Is the encoder's input ${JSON.stringify(x)} channels-first (NCHW) or channels-last (NHWC)?`,
        choices: ['NCHW', 'NHWC'],
      });
    else {
      const [c, h, w] = layout === 'NCHW' ? [x[0]!, x[1]!, x[2]!] : [x[2]!, x[0]!, x[1]!];
      if (c === 1 || c === 3) input = { name: imagePort!.name, width: w, height: h, channels: c, layout, flatten: false };
      else
        questions.push({ field: 'layout', text: `A ${layout} input ${JSON.stringify(x)} has ${c} channels; Latent Atlas reads 1 or 3.` });
    }
  } else if (x.length === 1) {
    const n = x[0]!;
    const size = answers.size;
    let c: number | undefined = size?.channels;
    let side: [number, number] | undefined = size ? [size.width, size.height] : undefined;
    if (!side) {
      const grey = Math.sqrt(n);
      const colour = Math.sqrt(n / 3);
      if (Number.isInteger(grey) && !Number.isInteger(colour)) [side, c] = [[grey, grey], 1];
      else if (Number.isInteger(colour) && !Number.isInteger(grey)) [side, c] = [[colour, colour], 3];
    }
    if (!side || (c !== 1 && c !== 3) || side[0] * side[1] * c !== n) {
      questions.push({ field: 'size', text: `The encoder takes ${n} values per image: give the image size (WxH) and channels (1 or 3).` });
    } else {
      const layout = c === 1 ? 'NCHW' : answers.layout;
      if (!layout) {
        questions.push({
          field: 'layout',
          text: `In what order are the ${n} values of a colour image flattened: channels first (CHW) or last (HWC)?`,
          choices: ['NCHW', 'NHWC'],
        });
      } else input = { name: imagePort!.name, width: side[0], height: side[1], channels: c, layout, flatten: true };
    }
  } else {
    questions.push({
      field: 'size',
      text: `The encoder's input has shape [N, ${x.join(', ')}]; Latent Atlas reads [N, C, H, W], [N, H, W, C] or [N, C·H·W].`,
    });
  }
  const z = fixed(zPort);
  const latentSize = z?.length === 1 ? z[0]! : undefined;
  if (!latentSize) questions.push({ field: 'latentSize', text: `The decoder's input ${zPort?.name ?? ''} is not [N, latentSize].` });
  let encoderOutputs: EncoderOutputs | null = null;
  if (latentSize) {
    const outs = encoder.outputs;
    const widths = outs.map((o) => fixed(o)?.[0]);
    if (outs.length === 2 && widths.every((w) => w === latentSize)) {
      const second = VAR_NAME.test(outs[0]!.name) && !VAR_NAME.test(outs[1]!.name) ? 0 : 1;
      encoderOutputs = { kind: 'mu-logvar', mu: outs[1 - second]!.name, logVar: outs[second]!.name };
    } else if (outs.length === 1 && widths[0] === 2 * latentSize) encoderOutputs = { kind: 'concatenated', name: outs[0]!.name };
    else if (outs.length === 1 && widths[0] === latentSize) encoderOutputs = { kind: 'mu', name: outs[0]!.name };
    else {
      const list = outs.map((o) => `${o.name} [N, ${widths[outs.indexOf(o)] ?? '?'}]`).join(', ');
      questions.push({
        field: 'encoderOutputs',
        text: `The encoder returns ${list}; expected μ and log σ² of size ${latentSize} (two outputs, or one of ${2 * latentSize}).`,
      });
    }
  }
  if (!answers.normalize) {
    questions.push({
      field: 'normalize',
      text: 'How were pixels scaled for the encoder in training?',
      choices: ['[0, 1]', '[-1, 1]', 'mean/std'],
    });
  }
  if (!answers.decoderOutput) {
    questions.push({ field: 'decoderOutput', text: 'What does the decoder return?', choices: ['logits', 'probabilities', 'means'] });
  } else if (answers.decoderOutput === 'means' && answers.sigma === undefined) {
    // σ is optional: without it reconstructions show no ELBO terms.
  }
  if (questions.length || !input || !latentSize || !encoderOutputs) return { manifest: null, questions };
  const decoderOutput: DecoderOutput = { name: decoder.outputs[0]!.name, kind: answers.decoderOutput! };
  if (answers.sigma !== undefined) decoderOutput.sigma = answers.sigma;
  const manifest: ModelManifest = {
    format: MODEL_MANIFEST_FORMAT,
    version: MODEL_MANIFEST_VERSION,
    name: answers.name ?? folderName,
    encoder: encoder.file,
    decoder: decoder.file,
    input: answers.normalize === 'none' ? input : { ...input, normalize: answers.normalize },
    latentSize,
    encoderOutputs,
    latentInput: zPort!.name,
    decoderOutput,
  };
  if (classes?.length) manifest.classes = classes;
  // The same checks as a manifest written by hand.
  checkModelManifest(join(folderName, 'latent-atlas-model.json'), manifest);
  return { manifest, questions: [] };
}

/** The describeModel request: find the files, read their shapes, infer, and write the manifest when asked. */
export async function describeModel(dir: string, answers: DescribeAnswers, write: boolean): Promise<DescribeResult> {
  const path = join(dir, MODEL_MANIFEST_FILE);
  if (write && (await exists(path))) {
    throw new EngineError('bad-request', `${path} exists already; edit it, or delete it to describe the model again.`);
  }
  let files: string[];
  try {
    files = await modelFiles(dir);
  } catch (err) {
    throw new EngineError('not-a-run', `Cannot read the folder ${dir}: ${(err as Error).message}`);
  }
  const none: DescribeResult = { files, encoder: null, decoder: null, manifest: null, questions: [], written: null };
  if (files.length === 0) {
    throw new EngineError(
      'not-a-run',
      `${dir} holds no model files: put the encoder and decoder there as .onnx files (or tfjs model.json folders).`,
    );
  }
  const guess = guessRoles(files);
  const encoderFile = answers.encoder ?? guess.encoder;
  const decoderFile = answers.decoder ?? guess.decoder;
  if (!encoderFile || !decoderFile || encoderFile === decoderFile) {
    none.questions.push({ field: 'files', text: 'Which file is the encoder, and which the decoder?', choices: files });
    return none;
  }
  for (const f of [encoderFile, decoderFile]) {
    if (!files.includes(f))
      throw new EngineError('bad-request', `${join(dir, f)} is not one of the model files in ${dir}: ${files.join(', ')}.`);
  }
  const shape = async (file: string): Promise<NetShape> => {
    const net = await loadNet(join(dir, file));
    try {
      return { file, inputs: net.inputs, outputs: net.outputs };
    } finally {
      net.dispose();
    }
  };
  const encoder = await shape(encoderFile);
  const decoder = await shape(decoderFile);
  const { manifest, questions } = inferManifest(encoder, decoder, answers, basename(dir));
  let written: string | null = null;
  if (write && manifest) {
    await writeFileAtomic(path, JSON.stringify(manifest, null, 2) + '\n');
    written = path;
  }
  return { files, encoder, decoder, manifest, questions, written };
}
