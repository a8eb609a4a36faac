// latent-atlas: the headless entry on the same engine worker as the extension (train, resume,
// encode, sample, info, demo-data on a server without VS Code).
// Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 4 file-system failure,
// 130 cancelled.

import { promises as fs } from 'node:fs';
import { basename, join, relative, resolve } from 'node:path';
import type { Encoding, RequestBody, TrainResult } from './protocol/engine';
import { LIMITS, type Limit } from './protocol/limits';
import { DEFAULT_MODEL, DEFAULT_TRAINING, type ModelConfig, type Preprocessing, type TrainingConfig } from './protocol/model';
import type { EngineClient } from './client/engineClient';
import { EngineError, diskProblem } from './protocol/errors';
import { ProgressView, infoText } from './cli-output';
import { parseImageSize } from './protocol/imageSize';
import { DETAILS_LOG, EXIT, UsageError, checkOutputFolder, choice, logDetails, num, parse, shellWord, workerClient } from './cli-args';
import { describe, exportOnnx, exportTable, neighbours } from './cli-models';
import { RUN_FILE, runNameMessage } from './protocol/runName';
import { backendText } from './protocol/backendText';
import { labelWarning } from './protocol/labels';

export const USAGE = `Usage:
  latent-atlas train <folder> | --demo [options]   train a VAE on an image folder (or the demo set)
      --epochs N  --out DIR (default ./.vae)  --name NAME  --latent N  --arch mlp|conv
      --likelihood bernoulli|gaussian  --sigma S  --beta B  --conditional  --batch N  --lr X
      --val F  --seed N  --size WxH  --channels 1|3  --iwae K
  latent-atlas resume <run> [--epochs N] [--iwae K]  continue training a run to N epochs in total
  latent-atlas encode <run> <folder>                 encode every image of a folder (incremental)
  latent-atlas sample <run> -n N --out DIR [--label L] [--seed N]   write N sampled PNG files
  latent-atlas info <run>                            manifest, last figures and history of a run
  latent-atlas neighbours <run> <image> [-k N] [--metric euclidean|bhattacharyya]
                                                     the encoded images nearest to an image in latent space
  latent-atlas export <run> <folder> --csv FILE [--map pca|umap|none]
                                                     every point of an encoded folder as a CSV table,
                                                     map_x/map_y from its PCA (default) or UMAP map
  latent-atlas export-onnx <run> [--out DIR]         write encoder.onnx, decoder.onnx and their manifest
                                                     (default DIR: <run>/onnx)
  latent-atlas describe <folder> [options]           write latent-atlas-model.json for ONNX/tfjs model files
      --encoder F  --decoder F  --layout NCHW|NHWC  --size WxH  --channels 1|3
      --range LO,HI | --mean M[,M,M] --std S[,S,S]  --decoder-output logits|probabilities|means
      --sigma S  --classes A,B,...  --name NAME   (what the shapes tell is inferred; it asks for the rest)
A <run> is a run folder (run.json) or a model trained elsewhere (latent-atlas-model.json beside
its ONNX or tfjs files; see the README's "Bring your own model").
  latent-atlas demo-data <dir>                       write the built-in demo images as PNG files
Every command that runs the engine takes --backend auto|tensorflow-gpu|webgpu|tensorflow|wasm|cpu.
Exit codes: 0 ok, 1 engine failure, 2 usage error, 3 no usable images, 4 file-system failure
(disk full, no permission), 130 cancelled.
`;

/** How many images one `sample` may write. */
const SAMPLE_COUNT: Limit = { min: 1, max: 100_000, int: true };

function today(): string {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** `<base>-<date>`, then `-2`, `-3`… so an existing run is never clobbered. */
export async function freeRunDir(outDir: string, base: string): Promise<string> {
  // A valid run name (see runNameProblem): no leading dot, no "..".
  const stem = `${
    base
      .replace(/[^\p{L}\p{N}._-]+/gu, '_')
      .replace(/\.{2,}/g, '.')
      .replace(/^\.+/, '') || 'run'
  }-${today()}`;
  for (let i = 1; ; i++) {
    const dir = join(outDir, i === 1 ? stem : `${stem}-${i}`);
    try {
      await fs.access(dir);
    } catch {
      return dir;
    }
  }
}

/** The folder of the run `name` in `outDir`; a name that would lead out of it is refused. */
function namedRunDir(outDir: string, name: string): string {
  const problem = runNameMessage(name, outDir);
  if (problem) throw new UsageError(problem, false);
  return join(outDir, name);
}

/** A failed write of a run: the engine says "resume the run"; add the command that does it. */
async function withResumeCommand(err: unknown, runDir: string): Promise<unknown> {
  if ((err as EngineError)?.code !== 'file-system') return err;
  const isRun = await fs.access(join(runDir, RUN_FILE)).then(
    () => true,
    () => false,
  );
  return isRun ? new EngineError('file-system', `${(err as Error).message}\nContinue with: latent-atlas resume ${shellWord(runDir)}`) : err;
}

/**
 * Runs one long request with Ctrl-C wired to cancel it (a second Ctrl-C exits at once).
 * `interrupted`: Ctrl-C was pressed, even if the engine finished before the cancel reached it.
 */
async function runCancellable<T extends 'train' | 'resume' | 'encodeFolder'>(
  client: EngineClient,
  body: RequestBody<T>,
  view: ProgressView,
) {
  const { id, result } = client.begin<T>(body, view.onEvent);
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      view.line('Cancelling at the next step… (press Ctrl-C again to quit at once)');
      void client.cancel(id).catch(() => undefined);
    } else {
      view.line('Stopped.');
      process.exit(EXIT.cancelled);
    }
  };
  process.on('SIGINT', onSigint);
  try {
    return { result: await result, interrupted: interrupts > 0 };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function train(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      demo: { type: 'boolean' },
      epochs: { type: 'string' },
      out: { type: 'string' },
      name: { type: 'string' },
      latent: { type: 'string' },
      arch: { type: 'string' },
      likelihood: { type: 'string' },
      sigma: { type: 'string' },
      beta: { type: 'string' },
      conditional: { type: 'boolean' },
      batch: { type: 'string' },
      lr: { type: 'string' },
      val: { type: 'string' },
      seed: { type: 'string' },
      size: { type: 'string' },
      channels: { type: 'string' },
      iwae: { type: 'string' },
    },
    args.includes('--demo') ? 0 : 1,
  );
  const folder = values.demo ? undefined : resolve(positionals[0]!);
  const model: ModelConfig = {
    ...DEFAULT_MODEL,
    latentSize: num(values, 'latent', LIMITS.latentSize) ?? DEFAULT_MODEL.latentSize,
    architecture: choice(values, 'arch', ['mlp', 'conv'] as const) ?? DEFAULT_MODEL.architecture,
    likelihood: choice(values, 'likelihood', ['bernoulli', 'gaussian'] as const) ?? DEFAULT_MODEL.likelihood,
    sigma: num(values, 'sigma', LIMITS.sigma) ?? DEFAULT_MODEL.sigma,
    beta: num(values, 'beta', LIMITS.beta) ?? DEFAULT_MODEL.beta,
    conditional: Boolean(values.conditional),
  };
  const training: TrainingConfig = {
    epochs: num(values, 'epochs', LIMITS.epochs) ?? DEFAULT_TRAINING.epochs,
    batchSize: num(values, 'batch', LIMITS.batchSize) ?? DEFAULT_TRAINING.batchSize,
    learningRate: num(values, 'lr', LIMITS.learningRate) ?? DEFAULT_TRAINING.learningRate,
    validationSplit: num(values, 'val', LIMITS.validationSplit) ?? DEFAULT_TRAINING.validationSplit,
    seed: num(values, 'seed', LIMITS.seed) ?? DEFAULT_TRAINING.seed,
  };
  const iwaeSamples = num(values, 'iwae', LIMITS.iwaeSamples) ?? 0;
  const preprocessing: Partial<Preprocessing> = {};
  if (values.size !== undefined) {
    const size = parseImageSize(String(values.size));
    const { min, max } = LIMITS.imageSide;
    if (!size) throw new UsageError(`--size must look like 28x28, with sides from ${min} to ${max}, got "${String(values.size)}"`);
    Object.assign(preprocessing, size);
  }
  const channels = choice(values, 'channels', ['1', '3'] as const);
  if (channels) preprocessing.channels = Number(channels) as 1 | 3;
  const outDir = resolve(String(values.out ?? '.vae'));
  await checkOutputFolder('--out', outDir);
  const runDir = values.name ? namedRunDir(outDir, String(values.name)) : await freeRunDir(outDir, folder ? basename(folder) : 'demo');
  const client = workerClient(values);
  try {
    const ready = await client.start();
    if (folder) await warnOfLabels(client, folder);
    view.line(`Training on ${folder ?? 'the built-in demo set'} with ${backendText(ready.backend)} → ${runDir}`);
    const { result, interrupted } = await runCancellable<'train'>(
      client,
      {
        type: 'train',
        runDir,
        name: basename(runDir),
        dataset: folder ? { kind: 'folder', path: folder } : { kind: 'demo' },
        model,
        training,
        preprocessing,
        iwaeSamples,
      },
      view,
    );
    return finishTraining(result, interrupted, view);
  } catch (err) {
    throw await withResumeCommand(err, runDir);
  } finally {
    await client.dispose();
  }
}

/** The extension's warning before training, when sub-folders will not be classes, on stderr; training goes on. */
async function warnOfLabels(client: EngineClient, folder: string): Promise<void> {
  // A folder that cannot be scanned is the training's to report, in its own words.
  const scan = await client.request<'scanLabels'>({ type: 'scanLabels', folder }).catch(() => null);
  const warning = scan && labelWarning(scan);
  if (!warning) return;
  const below =
    warning.below === undefined
      ? ''
      : `\nTo train on the folder below instead: latent-atlas train ${shellWord(join(folder, warning.below))}`;
  process.stderr.write(`latent-atlas: warning: ${warning.message}${below}\n`);
}

/** 0 when the run completed; after Ctrl-C 130, saying what the run kept and how to go on. */
function finishTraining(res: TrainResult, interrupted: boolean, view: ProgressView): number {
  const { runDir, manifest: m } = res;
  if (res.state === 'complete' && !interrupted) {
    view.line(`Run saved: ${runDir}`);
    return EXIT.ok;
  }
  const resume = `latent-atlas resume ${shellWord(runDir)}`;
  if (m.epochsCompleted >= m.training.epochs) {
    // The stop reached the engine after the last epoch's steps: that epoch was finished and saved.
    view.line(`Training stopped after its last epoch had finished: all ${m.epochsCompleted} epochs are saved in ${runDir}`);
    view.line(`Train it further with: ${resume} --epochs ${m.epochsCompleted + 10}`);
  } else if (m.checkpoint) {
    view.line(
      `Training cancelled after ${m.epochsCompleted} of ${m.training.epochs} epochs; the run keeps its last good checkpoint (epoch ${m.epochsCompleted}): ${runDir}`,
    );
    view.line(`Continue it with: ${resume}`);
  } else {
    view.line(`Training cancelled before its first epoch ended; no checkpoint was saved: ${runDir}`);
    view.line(`Start it again with: ${resume}`);
  }
  return EXIT.cancelled;
}

async function resumeRun(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, { epochs: { type: 'string' }, iwae: { type: 'string' } }, 1);
  const epochs = num(values, 'epochs', LIMITS.epochs);
  const iwaeSamples = num(values, 'iwae', LIMITS.iwaeSamples);
  const runDir = resolve(positionals[0]!);
  const client = workerClient(values);
  try {
    const { result, interrupted } = await runCancellable<'resume'>(
      client,
      { type: 'resume', runDir, ...(epochs !== undefined ? { epochs } : {}), ...(iwaeSamples !== undefined ? { iwaeSamples } : {}) },
      view,
    );
    return finishTraining(result, interrupted, view);
  } catch (err) {
    throw await withResumeCommand(err, runDir);
  } finally {
    await client.dispose();
  }
}

async function encode(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 2);
  const client = workerClient(values);
  try {
    const { result: enc } = await runCancellable<'encodeFolder'>(
      client,
      { type: 'encodeFolder', runDir: resolve(positionals[0]!), folder: resolve(positionals[1]!) },
      view,
    );
    view.line(
      `Encoded ${enc.files.length} images of ${enc.folder} (${enc.encoded} now, ${enc.reused} re-used, ${enc.skipped.length} skipped) ` +
        `into ${join(enc.runDir, 'encodings')}`,
    );
    const worst = worstReconstructed(enc, 5);
    if (worst) view.line(worst);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

/** The images the model reconstructs worst (highest −log p(x|z)), as lines for a person. */
function worstReconstructed(enc: Encoding, count: number): string | null {
  const terms = enc.terms;
  if (!terms || enc.files.length === 0) return null;
  const order = Array.from(enc.files.keys())
    .filter((i) => Number.isFinite(terms.reconstruction[i]!))
    .sort((a, b) => terms.reconstruction[b]! - terms.reconstruction[a]!)
    .slice(0, count);
  const rows = order.map((i) => {
    const rec = terms.reconstruction[i]!;
    const kl = terms.kl[i]!;
    return `  ${relative(enc.folder, enc.files[i]!)}  reconstruction ${rec.toFixed(1)}  KL ${kl.toFixed(1)}  −ELBO ${(rec + kl).toFixed(1)} nats`;
  });
  return [`Worst reconstructed (of ${enc.files.length}):`, ...rows].join('\n');
}

async function sample(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(
    args,
    { n: { type: 'string', short: 'n' }, out: { type: 'string' }, label: { type: 'string' }, seed: { type: 'string' } },
    1,
  );
  const count = num(values, 'n', SAMPLE_COUNT);
  if (count === undefined) throw new UsageError('sample needs -n N (how many images)');
  if (typeof values.out !== 'string') throw new UsageError('sample needs --out DIR (where the PNG files go)');
  const seed = num(values, 'seed', LIMITS.seed);
  const outDir = resolve(values.out);
  await checkOutputFolder('--out', outDir);
  const client = workerClient(values);
  try {
    // The worker samples and writes the PNG files itself: no pixels travel to this process.
    const { files } = await client.request<'writeSamples'>({
      type: 'writeSamples',
      runDir: resolve(positionals[0]!),
      count,
      mode: typeof values.label === 'string' ? { kind: 'label', label: values.label } : { kind: 'prior' },
      ...(seed !== undefined ? { seed } : {}),
      dir: outDir,
      stem: typeof values.label === 'string' ? `sample-${values.label}` : 'sample',
    });
    view.line(`Wrote ${files.length} images to ${outDir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function info(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  const runDir = resolve(positionals[0]!);
  const client = workerClient(values);
  try {
    // Damage read past (a missing checkpoint, a broken history line) arrives as warnings, on stderr.
    const run = await client.request<'loadRun'>({ type: 'loadRun', runDir }, view.onEvent);
    view.line(infoText({ ...run, runDir }).trimEnd());
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

async function demoData(args: string[], view: ProgressView): Promise<number> {
  const { values, positionals } = parse(args, {}, 1);
  const dir = resolve(positionals[0]!);
  await checkOutputFolder('demo-data', dir);
  const client = workerClient(values);
  try {
    const { count } = await client.request<'writeDemoFolder'>({ type: 'writeDemoFolder', dir });
    view.line(`Wrote ${count} demo images to ${dir}`);
    return EXIT.ok;
  } finally {
    await client.dispose();
  }
}

const COMMANDS: Record<string, (args: string[], view: ProgressView) => Promise<number>> = {
  train,
  resume: resumeRun,
  encode,
  sample,
  info,
  'demo-data': demoData,
  'export-onnx': exportOnnx,
  export: exportTable,
  neighbours,
  describe,
};

/** A disk that refused a write: reported by the engine, or met by this process itself. */
function isFileSystemFailure(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'file-system' || diskProblem(err, '') !== undefined;
}

export { EXIT };

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const view = new ProgressView(process.stdout, process.stderr);
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    (command ? process.stdout : process.stderr).write(USAGE);
    return command ? EXIT.ok : EXIT.usage;
  }
  const run = COMMANDS[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"`);
    return await run(rest, view);
  } catch (err) {
    view.clearBar();
    if (err instanceof UsageError) {
      process.stderr.write(`latent-atlas: ${err.message}\n${err.showUsage ? `\n${USAGE}` : ''}`);
      return EXIT.usage;
    }
    const e = err as { code?: string; message?: string };
    const expected = err instanceof EngineError || Boolean(e?.code);
    if (!expected) logDetails(`${new Date().toISOString()} ${(err as Error)?.stack ?? String(err)}`);
    // One line for a person; an unexpected error says where its details are.
    process.stderr.write(`latent-atlas: ${e?.message ?? String(err)}${expected ? '' : ` (details in ${DETAILS_LOG})`}\n`);
    if (isFileSystemFailure(err)) return EXIT.fileSystem;
    if (e?.code === 'no-images') return EXIT.noImages;
    if (e?.code === 'cancelled') return EXIT.cancelled;
    if (e?.code === 'bad-request' || e?.code === 'not-a-run') return EXIT.usage;
    return EXIT.failure;
  }
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
